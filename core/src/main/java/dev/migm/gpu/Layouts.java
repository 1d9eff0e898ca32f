package dev.migm.gpu;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Enumerates the legal layouts of a GPU model. A layout is found once: the search walks the memory
 * slices in order and at each slice either leaves it empty or starts an instance there, so each
 * set of instances is produced exactly once. A100 and H100 have a few hundred legal layouts, so
 * enumeration is cheap and planners may search it exhaustively.
 */
public final class Layouts {
    private Layouts() {
    }

    /**
     * Every legal layout, the empty one included. Variant profiles ({@code +me} and the like) take part
     * only when {@code withVariants} is set.
     */
    public static List<Layout> all(GpuModel gpu, boolean withVariants) {
        List<Profile> profiles = withVariants ? gpu.profiles() : gpu.plainProfiles();
        List<List<Instance>> found = new ArrayList<>();
        walk(gpu, profiles, 0, 0L, 0, new int[profiles.size()], new ArrayList<>(), found);
        return found.stream().map(instances -> new Layout(gpu, instances)).toList();
    }

    /** The legal layouts to which no instance of any considered profile can be added. */
    public static List<Layout> maximal(GpuModel gpu, boolean withVariants) {
        List<Profile> profiles = withVariants ? gpu.profiles() : gpu.plainProfiles();
        return all(gpu, withVariants).stream().filter(l -> isMaximal(l, profiles)).toList();
    }

    /** Whether no instance of any of the profiles can be added to the layout. */
    public static boolean isMaximal(Layout layout, List<Profile> profiles) {
        for (Profile p : profiles) {
            for (int s : p.starts()) {
                if (layout.canAdd(new Instance(p, s))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * A legal layout with exactly the given number of instances per profile, if one exists. Among
     * several, the one that keeps the largest contiguous free region wins, then the one with the
     * lowest starts. Used to place a count-only config (mig-parted's {@code mig-devices}).
     */
    public static Optional<Layout> placeCounts(GpuModel gpu, Map<Profile, Integer> counts) {
        boolean variants = counts.keySet().stream().anyMatch(p -> p.name().variant());
        return all(gpu, variants).stream()
                .filter(l -> counts.entrySet().stream().allMatch(e -> l.count(e.getKey()) == e.getValue())
                        && l.instances().size() == counts.values().stream().mapToInt(Integer::intValue).sum())
                .min(Comparator.comparingInt((Layout l) -> -l.largestFreeRun())
                        .thenComparing(Layout::toString));
    }

    private static void walk(GpuModel gpu, List<Profile> profiles, int slice, long used, int compute, int[] counts,
                             List<Instance> current, List<List<Instance>> out) {
        if (slice >= gpu.memorySlices()) {
            out.add(List.copyOf(current));
            return;
        }
        if ((used & (1L << slice)) != 0) {
            walk(gpu, profiles, slice + 1, used, compute, counts, current, out);
            return;
        }
        walk(gpu, profiles, slice + 1, used, compute, counts, current, out);
        for (int k = 0; k < profiles.size(); k++) {
            Profile p = profiles.get(k);
            if (!p.allowsStart(slice) || counts[k] >= p.maxCount()
                    || compute + p.computeSlices() > gpu.computeSlices()) {
                continue;
            }
            Instance instance = new Instance(p, slice);
            if ((used & instance.mask()) != 0) {
                continue;
            }
            counts[k]++;
            current.add(instance);
            walk(gpu, profiles, slice + 1, used | instance.mask(), compute + p.computeSlices(), counts, current, out);
            current.removeLast();
            counts[k]--;
        }
    }
}
