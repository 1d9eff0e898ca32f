package dev.migm.gpu;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A legal set of placed GPU instances on one GPU model. Legal means (mig-hardware.md section 1):
 * every instance starts where its profile allows, no two instances share a memory slice, compute
 * slices add up to at most the GPU's, and no profile exceeds its instance count. The constructor
 * refuses anything else, so a {@code Layout} value is always legal. Instances are kept sorted by start.
 */
public record Layout(GpuModel gpu, List<Instance> instances) {

    public Layout {
        List<Instance> sorted = new ArrayList<>(instances);
        sorted.sort(Comparator.naturalOrder());
        instances = List.copyOf(sorted);
        List<String> problems = violations(gpu, instances);
        if (!problems.isEmpty()) {
            // One line of bounded length whatever the input: each problem once, at most the first few.
            List<String> distinct = problems.stream().distinct().toList();
            String shown = distinct.size() <= SHOWN_PROBLEMS ? String.join("; ", distinct)
                    : String.join("; ", distinct.subList(0, SHOWN_PROBLEMS)) + "; and " + (distinct.size() - SHOWN_PROBLEMS)
                    + " more";
            String layout = instances.size() <= SHOWN_INSTANCES ? render(instances)
                    : render(instances.subList(0, SHOWN_INSTANCES)) + ",... (" + instances.size() + " instances)";
            throw new InvalidInputException("illegal layout " + layout + " on " + gpu.name() + ": " + shown);
        }
    }

    /** How much of an illegal layout its refusal shows (a legal one has at most 8 instances). */
    private static final int SHOWN_INSTANCES = 8;
    private static final int SHOWN_PROBLEMS = 3;

    public static Layout empty(GpuModel gpu) {
        return new Layout(gpu, List.of());
    }

    /** Every rule a set of instances breaks on this GPU; empty when the set is a legal layout. */
    public static List<String> violations(GpuModel gpu, List<Instance> instances) {
        List<String> problems = new ArrayList<>();
        long used = 0;
        int compute = 0;
        for (Instance i : instances) {
            if (!gpu.profiles().contains(i.profile())) {
                problems.add("profile " + i.profile() + " is not one of " + gpu.name() + "'s");
                continue;
            }
            if ((used & i.mask()) != 0) {
                problems.add(i + " overlaps another instance's memory slices");
            }
            used |= i.mask();
            compute += i.profile().computeSlices();
        }
        if (compute > gpu.computeSlices()) {
            problems.add("instances take " + compute + " compute slices, the GPU has " + gpu.computeSlices());
        }
        for (Profile p : gpu.profiles()) {
            long n = instances.stream().filter(i -> i.profile().equals(p)).count();
            if (n > p.maxCount()) {
                problems.add(n + " instances of " + p + ", at most " + p.maxCount() + " allowed");
            }
        }
        return problems;
    }

    /** Parses {@code 1g.5gb@0,3g.20gb@4}; see {@link #parseMarked} for the busy-marked form. */
    public static Layout parse(GpuModel gpu, String text) {
        MarkedLayout marked = parseMarked(gpu, text);
        if (!marked.marked().isEmpty()) {
            throw new InvalidInputException("layout " + TextFiles.quote(text) + ": '*' marks are not allowed here");
        }
        return marked.layout();
    }

    /**
     * Parses a comma-separated list of {@code profile@start}, each optionally followed by {@code *}
     * (e.g. a busy instance): {@code "1g.5gb@0,2g.10gb@2*,3g.20gb@4"}. {@code -} is the empty layout;
     * an empty string or an empty item between commas is an error.
     */
    public static MarkedLayout parseMarked(GpuModel gpu, String text) {
        String trimmed = text == null ? "" : text.trim();
        List<Instance> instances = new ArrayList<>();
        Set<Instance> marked = new LinkedHashSet<>();
        if (trimmed.isEmpty()) {
            throw new InvalidInputException("empty layout: expected instances like 3g.20gb@0,3g.20gb@4, or - for a GPU"
                    + " without instances");
        }
        if (!trimmed.equals("-")) {
            for (String raw : trimmed.split(",", -1)) {
                String part = raw.trim();
                if (part.isEmpty()) {
                    throw new InvalidInputException("layout " + TextFiles.quote(text)
                            + ": an empty instance between commas (expected e.g. 3g.20gb@0,3g.20gb@4)");
                }
                boolean star = part.endsWith("*");
                if (star) {
                    part = part.substring(0, part.length() - 1).trim();
                }
                int at = part.indexOf('@');
                if (at < 0) {
                    throw new InvalidInputException("layout " + TextFiles.quote(text) + ": instance "
                            + TextFiles.quote(raw.trim()) + " lacks '@start' (expected e.g. 3g.20gb@4)");
                }
                Profile profile = gpu.profile(part.substring(0, at));
                int start;
                try {
                    start = Integer.parseInt(part.substring(at + 1).trim());
                } catch (NumberFormatException e) {
                    throw new InvalidInputException("layout " + TextFiles.quote(text) + ": instance "
                            + TextFiles.quote(raw.trim()) + " has a non-numeric start (expected e.g. 3g.20gb@4)");
                }
                Instance instance = new Instance(profile, start);
                instances.add(instance);
                if (star) {
                    marked.add(instance);
                }
            }
        }
        return new MarkedLayout(new Layout(gpu, instances), marked);
    }

    /** A layout with some instances marked (by a trailing {@code *} in its text form). */
    public record MarkedLayout(Layout layout, Set<Instance> marked) {
        public MarkedLayout {
            marked = Set.copyOf(marked);
        }
    }

    /** Occupied memory slices as a bit mask. */
    public long usedMask() {
        long m = 0;
        for (Instance i : instances) {
            m |= i.mask();
        }
        return m;
    }

    public int usedComputeSlices() {
        int c = 0;
        for (Instance i : instances) {
            c += i.profile().computeSlices();
        }
        return c;
    }

    public int count(Profile p) {
        int n = 0;
        for (Instance i : instances) {
            if (i.profile().equals(p)) n++;
        }
        return n;
    }

    public boolean contains(Instance instance) {
        return instances.contains(instance);
    }

    /** Whether adding the instance keeps this layout legal. */
    public boolean canAdd(Instance candidate) {
        return (usedMask() & candidate.mask()) == 0
                && usedComputeSlices() + candidate.profile().computeSlices() <= gpu.computeSlices()
                && count(candidate.profile()) < candidate.profile().maxCount()
                && gpu.profiles().contains(candidate.profile());
    }

    public Layout with(Instance added) {
        List<Instance> next = new ArrayList<>(instances);
        next.add(added);
        return new Layout(gpu, next);
    }

    public Layout without(Instance removed) {
        List<Instance> next = new ArrayList<>(instances);
        if (!next.remove(removed)) {
            throw new IllegalArgumentException(removed + " is not in " + this);
        }
        return new Layout(gpu, next);
    }

    /** The longest run of contiguous memory slices that no instance occupies. */
    public int largestFreeRun() {
        return largestFreeRun(usedMask(), gpu.memorySlices());
    }

    /** The longest run of zero bits among the low {@code slices} bits of a slice mask. */
    public static int largestFreeRun(long usedMask, int slices) {
        int best = 0;
        int run = 0;
        for (int s = 0; s < slices; s++) {
            if ((usedMask & (1L << s)) == 0) {
                run++;
                best = Math.max(best, run);
            } else {
                run = 0;
            }
        }
        return best;
    }

    /** Set view of the instances, for comparisons that ignore order. */
    public Set<Instance> instanceSet() {
        return new HashSet<>(instances);
    }

    static String render(List<Instance> instances) {
        return String.join(",", instances.stream().map(Instance::toString).toList());
    }

    /** The text form accepted by {@link #parse}, e.g. {@code 1g.5gb@0,3g.20gb@4}; empty layout is "-". */
    @Override
    public String toString() {
        return instances.isEmpty() ? "-" : render(instances);
    }
}
