package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Profile;
import dev.migm.gpu.Layout;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Breaking a drain at checkpoints. A blocked head waits for the busy instances over its reserved
 * slices to end; the slices of those that end first, and the free ones, idle until the last does
 * (the drain: 805 node-seconds of the llm batch's 24,203 with true memory, BENCHMARKS.md section 26).
 * A run that checkpoints on the stop signal loses nothing of its work when stopped: only the start-up
 * its next attempt pays again. So the head may take its slices now, and the runs resume later, when
 * that costs less chip time than the drain.
 *
 * <p>The cost model, in compute-slice-seconds. A placement of one of the head's right-sized profiles
 * whose slices {@code c_0} are free and whose busy instances {@code i} hold {@code c_i} slices until
 * their expected release {@code e_i} (given their age: {@link GpuView#releaseGivenAgeS}) idles, held,
 * until the last release {@code T = max e_i}:
 * <pre>
 *   drain = c_0 (T - now) + sum_i c_i (T - e_i)
 * </pre>
 * (an over-count where short jobs backfill those slices). Holding costs the least drain over the
 * head's placements (it takes whichever frees first; one fully covered by a single run costs
 * nothing). Stopping every run over a placement, each {@link GpuView#preemptible}, costs
 * {@code sum_i c_i s}, with {@code s} the start-up a stopped run pays again
 * ({@link SchedulingContext#startupS}); the cheapest such placement is taken when the drain is at
 * least {@link #MARGIN} times its cost (the drain rests on expected releases, the cost is certain),
 * and only if each stopped run can move at once to free slices elsewhere on the node (its own
 * profile: a migration), or, for a head that needs a GPU's largest instance, wait for it (they fitted
 * together before and fit together after). A run stopped to wait for any other head came back where
 * it split the GPU for others (BENCHMARKS.md section 26). Only all the runs over a placement are
 * stopped: with one left, the stopped runs' slices would idle until it ends, and the next round after
 * it ends looks again.
 *
 * <p>Stops are bounded: a run yields at most once, a job runs were stopped for yields to nobody, and a
 * job that yielded stops nobody ({@link SchedulingContext#mayPreemptFor}). The slices stopped for are
 * pledged to the head, and each moved run's destination to it, so that no other job takes them while
 * they wait (a stopped run that sorts before the head in the queue would otherwise take its slices
 * straight back).
 */
final class DrainBreaker {
    /**
     * How many times the stops' cost the drain must be. A stop costs its run one start-up (seconds,
     * models.md section 4); the drain it saves is what the blockers' expected releases say (hundreds
     * to thousands of slice-seconds in the bundled batches). A factor of 2 asks the saving to survive
     * release times half as long as expected. Swept on 18 generated batches it was not chosen on
     * (BENCHMARKS.md section 26): 1, 2 and 8 gave identical schedules; drains and stops differ by
     * orders of magnitude.
     */
    static final double MARGIN = 2;

    /** Slices promised to waiting jobs (a head, and the runs moved for it), by job id. */
    private final Map<String, Pledge> pledges = new LinkedHashMap<>();

    /** Slices promised to a job: the instance it is to run on. */
    record Pledge(int gpu, Instance target) {
    }

    /** A busy instance over a placement: its job, when it is expected to free, its slices, whether it may yield. */
    record Blocker(Instance instance, String jobId, double releaseS, int slices, boolean preemptible) {
    }

    /**
     * A placement whose blockers are all stopped, where each goes ({@code moves}, by job id; a blocker
     * without one waits for the head), and what the stops cost (slice-seconds).
     */
    record Choice(int gpu, Instance target, List<Blocker> blockers, Map<String, Pledge> moves, double costS) {
    }

    /** Whether some slices are pledged (then {@link #blocks} may tell GPUs of one state apart). */
    boolean pledging() {
        return !pledges.isEmpty();
    }

    /** Whether placing {@code job} by {@code plan} on GPU {@code gpu} takes slices pledged to another job. */
    boolean blocks(int gpu, Plan.Possible plan, QueuedJob job) {
        if (pledges.isEmpty()) return false;
        for (var e : pledges.entrySet()) {
            Pledge p = e.getValue();
            if (p.gpu() == gpu && !e.getKey().equals(job.id()) && MigmPolicy.touches(plan, p.target().mask())) return true;
        }
        return false;
    }

    /** The slices of a GPU pledged to jobs other than {@code jobId} (0: none). */
    long pledgedToOthers(int gpu, String jobId) {
        if (pledges.isEmpty()) return 0;
        long mask = 0;
        for (var e : pledges.entrySet()) {
            if (e.getValue().gpu() == gpu && !e.getKey().equals(jobId)) mask |= e.getValue().target().mask();
        }
        return mask;
    }

    /** Keeps only the pledges of jobs still in the policy's window of the queue. */
    void keepWaiting(List<QueuedJob> window) {
        if (pledges.isEmpty()) return;
        Set<String> ids = new HashSet<>();
        for (QueuedJob q : window) ids.add(q.id());
        pledges.keySet().retainAll(ids);
    }

    /** The job was placed: its pledge, if any, is spent. */
    void placed(QueuedJob job) {
        if (!pledges.isEmpty()) pledges.remove(job.id());
    }

    /**
     * Places each waiting job on its pledged slices where they are free now (the runs stopped there
     * have exited); returns whether it placed any.
     */
    boolean placePledged(SchedulingContext ctx, List<? extends GpuView> gpus, List<QueuedJob> window) {
        if (pledges.isEmpty()) return false;
        boolean placed = false;
        for (QueuedJob job : window) {
            Pledge p = pledges.get(job.id());
            if (p == null) continue;
            GpuView gpu = gpus.get(p.gpu());
            if (!gpu.migEnabled() || !gpu.schedulable() || gpu.changingMigMode()) continue;
            if (Planner.planFor(gpu.state(), p.target().profile(), p.target().mask()) instanceof Plan.Possible plan
                    && (plan.ops().isEmpty() || !gpu.reconfiguring())) {
                ctx.place(job, gpu, plan);
                pledges.remove(job.id());
                placed = true;
            }
        }
        return placed;
    }

    /**
     * Considers stopping runs for a blocked head that may take any placement of its {@code candidates}
     * profiles (the right-sized ones): holding costs the least drain among them (it takes the one
     * that frees first; one whose slices stay busy until it frees costs nothing), stopping costs the
     * least among the placements whose runs may all yield and either all move at once to free slices
     * elsewhere, or, for a head {@code mayDefer} allows on the GPU's model (one that needs its largest
     * instance: the runs stopped fitted together before and fit together after it), wait for it.
     * Stops them when the drain is at least {@link #MARGIN} times the cost, pledges the slices, and
     * returns the placement the head then takes; null to keep the drain.
     */
    Choice consider(SchedulingContext ctx, List<? extends GpuView> gpus, QueuedJob head,
                    Function<GpuModel, List<Profile>> candidates, Predicate<GpuModel> mayDefer) {
        if (!ctx.mayPreemptFor(head)) return null;
        double now = ctx.nowS();
        double s = ctx.startupS();
        // Per GPU, its busy instances, read once: a round on a busy node comes with most events.
        List<List<Blocker>> busyOn = busyByGpu(gpus, now);
        if (busyOn.stream().noneMatch(busy -> busy != null && busy.stream().anyMatch(Blocker::preemptible))) {
            return null;
        }
        Map<GpuModel, List<Profile>> profiles = new java.util.IdentityHashMap<>();
        double drain = Double.POSITIVE_INFINITY;
        for (GpuView gpu : gpus) {
            List<Blocker> busy = busyOn.get(gpu.index());
            if (busy == null) continue;
            for (Profile p : profiles.computeIfAbsent(gpu.model(), candidates)) {
                for (int start : p.starts()) {
                    Instance target = new Instance(p, start);
                    List<Blocker> bs = over(busy, target);
                    drain = Math.min(drain, drain(now, target, bs));
                }
            }
        }
        // The least a stop can cost is one slice's start-up.
        if (!(drain >= MARGIN * s) || drain == Double.POSITIVE_INFINITY) return null;
        Choice best = null;
        for (GpuView gpu : gpus) {
            List<Blocker> busy = busyOn.get(gpu.index());
            if (busy == null || busy.stream().noneMatch(Blocker::preemptible)) continue;
            long pledged = pledgedToOthers(gpu.index(), head.id());
            for (Profile p : profiles.get(gpu.model())) {
                placements:
                for (int start : p.starts()) {
                    Instance target = new Instance(p, start);
                    if ((target.mask() & pledged) != 0) continue;
                    List<Blocker> bs = over(busy, target);
                    if (bs.isEmpty()) continue;
                    double cost = 0;
                    for (Blocker b : bs) {
                        if (!b.preemptible()) continue placements;
                        cost += b.slices() * s;
                    }
                    if (drain < MARGIN * cost || (best != null && cost >= best.costS())) continue;
                    Map<String, Pledge> moves = moves(gpus, gpu, target, bs);
                    if (moves == null && !mayDefer.test(gpu.model())) continue;
                    best = new Choice(gpu.index(), target, bs, moves == null ? Map.of() : moves, cost);
                }
            }
        }
        if (best == null) return null;
        GpuView gpu = gpus.get(best.gpu());
        for (Blocker b : best.blockers()) {
            Pledge to = best.moves().get(b.jobId());
            String why = String.format(Locale.ROOT, "%s waits for %s, which would idle %.0f slice-seconds in a"
                            + " drain; stopping %d run(s) at their checkpoint costs %.0f; %s", head.id(), best.target(),
                    drain, best.blockers().size(), best.costS(),
                    to == null ? "it resumes after" : "it resumes on gpu" + to.gpu() + " " + to.target());
            ctx.preempt(gpu, b.instance(), head, why);
            if (to != null) pledges.put(b.jobId(), to);
        }
        pledges.put(head.id(), new Pledge(best.gpu(), best.target()));
        return best;
    }

    /** Each usable GPU's busy instances (null for one that is not usable). */
    private static List<List<Blocker>> busyByGpu(List<? extends GpuView> gpus, double now) {
        List<List<Blocker>> out = new ArrayList<>(gpus.size());
        for (GpuView gpu : gpus) {
            if (!usable(gpu)) {
                out.add(null);
                continue;
            }
            List<Blocker> busy = new ArrayList<>();
            var state = gpu.state();
            for (Instance i : state.layout().instances()) {
                if (state.isBusy(i)) busy.add(new Blocker(i, gpu.occupant(i).orElse(""), Math.max(now, gpu.releaseGivenAgeS(i)),
                        i.profile().computeSlices(), gpu.preemptible(i)));
            }
            out.add(busy);
        }
        return out;
    }

    /** The busy instances that overlap {@code target}. */
    private static List<Blocker> over(List<Blocker> busy, Instance target) {
        List<Blocker> out = new ArrayList<>(2);
        for (Blocker b : busy) if ((b.instance().mask() & target.mask()) != 0) out.add(b);
        return out;
    }

    private static boolean usable(GpuView gpu) {
        return gpu.migEnabled() && gpu.schedulable() && !gpu.changingMigMode();
    }

    /**
     * Where each blocker could run at once, on the instance of its own profile, if the head took
     * {@code target}: in slices free then on the head's GPU, or on another GPU, outside slices
     * pledged to others; null when one of them could not.
     */
    private Map<String, Pledge> moves(List<? extends GpuView> gpus, GpuView headGpu, Instance target,
                                      List<Blocker> blockers) {
        Map<Integer, GpuState> states = new HashMap<>();
        GpuState now = headGpu.state();
        Layout layout = now.layout();
        Set<Instance> busy = new HashSet<>(now.busy());
        for (Instance i : now.layout().instances()) {
            if (i.overlaps(target)) {
                layout = layout.without(i);
                busy.remove(i);
            }
        }
        try {
            layout = layout.with(target);
        } catch (IllegalArgumentException e) {
            return null;
        }
        busy.add(target);
        states.put(headGpu.index(), new GpuState(layout, busy));
        List<Blocker> largestFirst = new ArrayList<>(blockers);
        largestFirst.sort(Comparator.comparingInt((Blocker b) -> -b.instance().profile().memorySlices()));
        Map<String, Pledge> out = new HashMap<>();
        for (Blocker b : largestFirst) {
            Pledge found = null;
            for (int k = -1; k < gpus.size() && found == null; k++) {
                GpuView g = k < 0 ? headGpu : gpus.get(k);
                if (k >= 0 && g == headGpu || !usable(g) || (g != headGpu && g.reconfiguring())) continue;
                GpuState st = states.computeIfAbsent(g.index(), i -> g.state());
                if (!Planner.mayBePossible(st, b.instance().profile())) continue;
                long within = ~pledgedToOthers(g.index(), b.jobId());
                if (Planner.planFor(st, b.instance().profile(), within) instanceof Plan.Possible plan) {
                    Instance dest = plan.target().orElseThrow();
                    Set<Instance> taken = new HashSet<>(st.busy());
                    taken.add(dest);
                    states.put(g.index(), new GpuState(plan.result(), taken));
                    found = new Pledge(g.index(), dest);
                }
            }
            if (found == null) return null;
            out.put(b.jobId(), found);
        }
        return out;
    }

    /** The drain of the class comment for holding {@code target} until its blockers' last release. */
    static double drain(double now, Instance target, List<Blocker> blockers) {
        double t = now;
        int busy = 0;
        double busyArea = 0;
        for (Blocker b : blockers) {
            t = Math.max(t, b.releaseS());
            busy += b.slices();
            busyArea += b.slices() * (b.releaseS() - now);
        }
        return drainS(now, t, target.profile().computeSlices(), busy, busyArea);
    }

    /**
     * Idle slice-seconds of holding a placement of {@code targetSlices} compute slices until
     * {@code freeAtS}, while busy instances of {@code busySlices} slices over it have {@code busyArea}
     * slice-seconds left to run: {@code c_0 (T - now) + sum_i c_i (T - e_i)} of the class comment,
     * as {@code max(targetSlices, busySlices) (T - now) - busyArea}.
     */
    static double drainS(double now, double freeAtS, int targetSlices, int busySlices, double busyArea) {
        return Math.max(targetSlices, busySlices) * (freeAtS - now) - busyArea;
    }
}
