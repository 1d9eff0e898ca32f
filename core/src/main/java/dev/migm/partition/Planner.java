package dev.migm.partition;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Layouts;
import dev.migm.gpu.Profile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Pure planning of MIG reconfigurations: no side effects, no clock, no backend.
 *
 * <p>{@link #planFor} finds the cheapest way to get an idle instance of a wanted profile without
 * touching a busy instance, in the order of the paper's partition management (Saraha et al.,
 * arXiv:2508.18556, "partition fusion and fission"): use an idle instance of that profile; else
 * create one in unoccupied slices; else <em>fission</em> (destroy an idle larger instance and
 * create the wanted one in its slices); else <em>fusion</em> (destroy idle smaller neighbours to
 * make room). All of these are one search: for every legal placement of the wanted profile, the
 * instances overlapping it must go (so none may be busy), plus, when the compute-slice or count
 * limit still forbids it, the fewest further idle instances. Candidates are ranked by
 * <ol>
 *   <li>fewest operations,</li>
 *   <li>largest contiguous run of unoccupied memory slices left (so later large jobs still fit),</li>
 *   <li>lowest start.</li>
 * </ol>
 *
 * <p>{@link #transition} plans layout A to layout B with the fewest operations (every instance of
 * A not in B destroyed, every instance of B not in A created), refusing when B drops a busy instance.
 */
public final class Planner {
    private Planner() {
    }

    /** The cheapest plan that yields an idle instance of {@code wanted}, or why there is none. */
    public static Plan planFor(GpuState state, Profile wanted) {
        return planFor(state, wanted, -1L);
    }

    /**
     * The cheapest plan that yields an idle instance of {@code wanted} inside the memory slices of
     * {@code within} (a bit mask; -1: anywhere), or why there is none: for a placement promised to a
     * job, or one that must stay out of slices promised to others.
     */
    public static Plan planFor(GpuState state, Profile wanted, long within) {
        Layout layout = state.layout();
        GpuModel gpu = layout.gpu();
        if (!gpu.profiles().contains(wanted)) {
            return new Plan.Impossible(gpu.name() + " has no profile " + wanted, Set.of());
        }
        List<Instance> instances = layout.instances();
        for (Instance i : instances) {
            if (i.profile().equals(wanted) && !state.isBusy(i) && (i.mask() & ~within) == 0) {
                return new Plan.Possible(layout, Plan.Kind.USE_FREE, List.of(), Optional.of(i), layout);
            }
        }
        long used = layout.usedMask();
        Candidate best = null;
        Set<Instance> blockers = new LinkedHashSet<>();
        List<String> why = new ArrayList<>();
        for (int start : wanted.starts()) {
            Instance target = new Instance(wanted, start);
            if ((target.mask() & ~within) != 0) continue;
            List<Instance> overlapping = new ArrayList<>();
            List<Instance> others = new ArrayList<>();
            boolean blocked = false;
            for (Instance i : instances) {
                if (i.overlaps(target)) {
                    overlapping.add(i);
                    if (state.isBusy(i)) {
                        blockers.add(i);
                        blocked = true;
                    }
                } else {
                    others.add(i);
                }
            }
            if (blocked) {
                why.add("start " + start + " holds busy " + join(overlapping.stream().filter(state::isBusy).toList()));
                continue;
            }
            List<Instance> idleOthers = others.stream().filter(i -> !state.isBusy(i)).toList();
            List<Instance> extra = fewestExtraDestroys(gpu, others, idleOthers, target);
            if (extra == null) {
                why.add("start " + start + ": " + limitReason(gpu, others, target, state));
                others.stream().filter(state::isBusy).forEach(blockers::add);
                continue;
            }
            List<Instance> destroyed = new ArrayList<>(overlapping);
            destroyed.addAll(extra);
            long destroyedMask = 0;
            for (Instance d : destroyed) {
                destroyedMask |= d.mask();
            }
            long resultMask = (used & ~destroyedMask) | target.mask();
            Candidate c = new Candidate(target, destroyed, destroyed.size() + 1,
                    Layout.largestFreeRun(resultMask, gpu.memorySlices()));
            if (best == null || c.betterThan(best)) {
                best = c;
            }
        }
        if (best == null) {
            return new Plan.Impossible("no placement of " + wanted + " on " + gpu.name() + " can be freed: "
                    + String.join("; ", why), blockers);
        }
        return best.toPlan(layout);
    }

    /**
     * A quick necessary condition for {@link #planFor} to succeed: some legal placement of the
     * profile holds no busy instance. When false, {@code planFor} is certainly impossible.
     */
    public static boolean mayBePossible(GpuState state, Profile wanted) {
        long busy = 0;
        for (Instance b : state.busy()) {
            busy |= b.mask();
        }
        long size = (1L << wanted.memorySlices()) - 1;
        for (int start : wanted.starts()) {
            if ((busy & (size << start)) == 0) {
                return true;
            }
        }
        return false;
    }

    /** The fewest operations that turn the state's layout into {@code goal}, keeping busy instances. */
    public static Plan transition(GpuState state, Layout goal) {
        Layout from = state.layout();
        if (!from.gpu().equals(goal.gpu())) {
            return new Plan.Impossible("layouts are for different GPUs: " + from.gpu() + " and " + goal.gpu(), Set.of());
        }
        Set<Instance> dropped = new LinkedHashSet<>();
        for (Instance b : state.busy()) {
            if (!goal.contains(b)) {
                dropped.add(b);
            }
        }
        if (!dropped.isEmpty()) {
            return new Plan.Impossible("layout " + goal + " drops busy " + join(List.copyOf(dropped)), dropped);
        }
        List<PlanOp> ops = new ArrayList<>();
        for (Instance i : from.instances()) {
            if (!goal.contains(i)) {
                ops.add(new PlanOp.Destroy(i));
            }
        }
        for (Instance i : goal.instances()) {
            if (!from.contains(i)) {
                ops.add(new PlanOp.Create(i));
            }
        }
        return new Plan.Possible(from, Plan.Kind.TRANSITION, ops, Optional.empty(), goal);
    }

    /**
     * The fewest operations that give the GPU exactly {@code counts} instances per profile (placed
     * anywhere legal), keeping busy instances; ties go to the larger free region, then the lower layout.
     */
    public static Plan transitionToCounts(GpuState state, Map<Profile, Integer> counts) {
        GpuModel gpu = state.gpu();
        boolean variants = counts.keySet().stream().anyMatch(p -> p.name().variant())
                || state.layout().instances().stream().anyMatch(i -> i.profile().name().variant());
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        Optional<Layout> goal = Layouts.all(gpu, variants).stream()
                .filter(l -> l.instances().size() == total
                        && counts.entrySet().stream().allMatch(e -> l.count(e.getKey()) == e.getValue())
                        && l.instanceSet().containsAll(state.busy()))
                .min(Comparator.comparingInt((Layout l) -> symmetricDifference(state.layout(), l))
                        .thenComparingInt(l -> -l.largestFreeRun())
                        .thenComparing(Layout::toString));
        if (goal.isEmpty()) {
            return new Plan.Impossible("no legal layout of " + gpu.name() + " holds " + counts
                    + " while keeping busy " + join(List.copyOf(state.busy())), state.busy());
        }
        return transition(state, goal.get());
    }

    private static int symmetricDifference(Layout a, Layout b) {
        Set<Instance> x = new HashSet<>(a.instances());
        int n = 0;
        for (Instance i : b.instances()) {
            if (!x.remove(i)) n++;
        }
        return n + x.size();
    }

    /**
     * The smallest set of idle instances whose removal lets {@code target} join {@code others}
     * (compute-slice and count limits), empty when it already can, null when no set works.
     */
    private static List<Instance> fewestExtraDestroys(GpuModel gpu, List<Instance> others, List<Instance> idle,
                                                      Instance target) {
        if (fits(gpu, others, target)) {
            return List.of();
        }
        int n = idle.size();
        List<Instance> bestSet = null;
        for (int size = 1; size <= n && bestSet == null; size++) {
            for (long subset = 0; subset < (1L << n); subset++) {
                if (Long.bitCount(subset) != size) {
                    continue;
                }
                List<Instance> chosen = new ArrayList<>();
                for (int k = 0; k < n; k++) {
                    if ((subset & (1L << k)) != 0) {
                        chosen.add(idle.get(k));
                    }
                }
                List<Instance> rest = new ArrayList<>(others);
                rest.removeAll(chosen);
                if (fits(gpu, rest, target)) {
                    bestSet = chosen;
                    break;
                }
            }
        }
        return bestSet;
    }

    private static boolean fits(GpuModel gpu, List<Instance> instances, Instance target) {
        int compute = target.profile().computeSlices();
        int sameProfile = 1;
        for (Instance i : instances) {
            compute += i.profile().computeSlices();
            if (i.profile().equals(target.profile())) sameProfile++;
        }
        return compute <= gpu.computeSlices() && sameProfile <= target.profile().maxCount();
    }

    private static String limitReason(GpuModel gpu, List<Instance> others, Instance target, GpuState state) {
        int busyCompute = target.profile().computeSlices();
        int busySame = 1;
        for (Instance i : others) {
            if (state.isBusy(i)) {
                busyCompute += i.profile().computeSlices();
                if (i.profile().equals(target.profile())) busySame++;
            }
        }
        if (busySame > target.profile().maxCount()) {
            return (busySame - 1) + " busy " + target.profile() + " already (at most " + target.profile().maxCount() + ")";
        }
        return "busy instances hold " + (busyCompute - target.profile().computeSlices()) + " of "
                + gpu.computeSlices() + " compute slices";
    }

    private static String join(List<Instance> instances) {
        return String.join(",", instances.stream().map(Instance::toString).toList());
    }

    private record Candidate(Instance target, List<Instance> destroyed, int ops, int freeRun) {
        boolean betterThan(Candidate o) {
            if (ops != o.ops) return ops < o.ops;
            if (freeRun != o.freeRun) return freeRun > o.freeRun;
            return target.start() < o.target.start();
        }

        Plan.Possible toPlan(Layout layout) {
            List<PlanOp> ops = new ArrayList<>();
            List<Instance> sortedDestroyed = new ArrayList<>(destroyed);
            sortedDestroyed.sort(Comparator.naturalOrder());
            List<Instance> remaining = new ArrayList<>(layout.instances());
            for (Instance d : sortedDestroyed) {
                ops.add(new PlanOp.Destroy(d));
                remaining.remove(d);
            }
            ops.add(new PlanOp.Create(target));
            remaining.add(target);
            Layout result = new Layout(layout.gpu(), remaining);
            return new Plan.Possible(layout, kind(), ops, Optional.of(target), result);
        }

        private Plan.Kind kind() {
            if (destroyed.isEmpty()) {
                return Plan.Kind.CREATE;
            }
            int wantedSlices = target.profile().memorySlices();
            if (destroyed.size() == 1 && destroyed.getFirst().profile().memorySlices() > wantedSlices
                    && (destroyed.getFirst().mask() & target.mask()) == target.mask()) {
                return Plan.Kind.FISSION;
            }
            boolean allSmaller = destroyed.stream().allMatch(d -> d.profile().memorySlices() < wantedSlices
                    || (d.profile().memorySlices() == wantedSlices && d.profile().computeSlices() < target.profile().computeSlices()));
            return allSmaller ? Plan.Kind.FUSION : Plan.Kind.REPACK;
        }
    }
}
