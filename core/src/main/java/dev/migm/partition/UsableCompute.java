package dev.migm.partition;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Profile;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many of a GPU's free compute slices some set of new instances could still use, given its free
 * memory slices: a free compute slice no instance can reach (every placement that would take it needs
 * memory that is gone) is stranded. On an A100, a 3g.20gb at slice 0 takes memory slices 0-3 and
 * three compute slices; the other four memory slices hold at most three compute slices' worth of
 * instances (a 3g.20gb at 4, a 2g.10gb and a 1g.10gb, or three 1g.5gb: no 1g.5gb starts at 7), so
 * the fourth free compute slice is stranded for as long as it runs: it costs what a 4g.20gb there
 * costs, and runs slower.
 *
 * <p>Read from the catalog's placements (MIG User Guide, "A100 MIG profiles" placement table): each
 * plain profile's memory slices and starts; counts per profile are not limited here (a bound on
 * compute, not a layout). Worked once per model and free state (at most 2^8 memory masks times 8
 * compute counts), then looked up; threads that race on a state work out the same answer.
 */
public final class UsableCompute {
    private static final Map<GpuModel, UsableCompute> BY_MODEL = new ConcurrentHashMap<>();

    private final GpuModel model;
    private final Profile[] profiles;
    /** Per (free memory mask, free compute): the most compute instances could take; -1 not yet worked. */
    private final byte[] most;

    /** The model's (one per model, kept). */
    public static UsableCompute of(GpuModel model) {
        return BY_MODEL.computeIfAbsent(model, UsableCompute::new);
    }

    private UsableCompute(GpuModel model) {
        this.model = model;
        this.profiles = model.plainProfiles().toArray(Profile[]::new);
        this.most = new byte[(1 << model.memorySlices()) * (model.computeSlices() + 1)];
        Arrays.fill(most, (byte) -1);
    }

    /**
     * The most compute slices new instances could take within {@code freeMemory} (a mask of the
     * model's memory slices) and {@code freeCompute} (at most the model's compute slices).
     */
    public int most(long freeMemory, int freeCompute) {
        int index = (int) freeMemory * (model.computeSlices() + 1) + freeCompute;
        if (most[index] >= 0) return most[index];
        int best = 0;
        for (Profile p : profiles) {
            if (p.computeSlices() > freeCompute) continue;
            long slices = (1L << p.memorySlices()) - 1;
            for (int start : p.starts()) {
                long mask = slices << start;
                if ((mask & freeMemory) != mask) continue;
                best = Math.max(best, p.computeSlices() + most(freeMemory & ~mask, freeCompute - p.computeSlices()));
                if (best == freeCompute) break;
            }
            if (best == freeCompute) break;
        }
        most[index] = (byte) best;
        return best;
    }

    /** The free compute slices no new instance could use. */
    public int stranded(long freeMemory, int freeCompute) {
        return freeCompute - most(freeMemory, freeCompute);
    }
}
