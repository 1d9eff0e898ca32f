package dev.migm.engine;

import java.util.Optional;

/**
 * When to stop an attempt whose projected peak will not fit its instance.
 *
 * @param enabled     whether early restart is on
 * @param minSamples  samples needed before the projection is trusted
 * @param window      how many samples the projection uses at least: an attempt keeps one to two
 *                    windows, spread over its whole run (older ones thinned as it grows)
 * @param minSpan     progress the samples must span (a slope over a sliver of progress is noise)
 * @param z           how many standard errors the projection must clear the instance by
 * @param noiseFloor  the least relative noise assumed in samples (allocator granularity and
 *                    reporting noise), so that a few quiet samples do not look certain
 */
public record EarlyRestart(boolean enabled, int minSamples, int window, double minSpan, double z,
                           double noiseFloor) {
    public static final EarlyRestart DEFAULT = new EarlyRestart(true, 10, 60, 0.02, 4.0, 0.01);
    public static final EarlyRestart OFF = new EarlyRestart(false, 10, 60, 0.02, 4.0, 0.01);

    /**
     * Whether the trigger keeps an attempt's sample number {@code sequence} (from 0): all of the
     * first two windows, then every second one up to four windows, every fourth up to eight,
     * and so on, so that the samples kept stay between one and two windows spread over the
     * whole attempt once older ones are thinned ({@link AttemptMonitor#decimate}). A pure function of the
     * number, so that a sampler can send only these.
     */
    public static boolean keeps(long sequence, int window) {
        long twoWindows = 2L * window;
        if (sequence < twoWindows) return sequence >= 0;
        return (sequence & (stride(sequence, twoWindows) - 1)) == 0;
    }

    /**
     * The stride kept at sample number {@code sequence} (at least {@code twoWindows}): 2^(k+1) on
     * [2W 2^k, 2W 2^(k+1)), that is for floor(sequence / 2W) in [2^k, 2^(k+1)).
     */
    private static long stride(long sequence, long twoWindows) {
        return Long.highestOneBit(sequence / twoWindows) << 1;
    }

    /**
     * The first sample number after {@code sequence} that {@link #keeps} keeps, in constant time
     * (a sampler that sends only these skips the others without counting through them). Each
     * stretch of equal stride starts at {@code 2 W 2^k}, a multiple of its stride {@code 2^(k+1)}
     * and so of the stride before it: the next multiple of the current stride is kept.
     */
    public static long nextKept(long sequence, int window) {
        long next = Math.max(0, sequence + 1);
        long twoWindows = 2L * window;
        if (next < twoWindows) return next;
        long stride = stride(next, twoWindows);
        return (next + stride - 1) & -stride;
    }

    /**
     * The trigger, pure: given an attempt's recent samples (progress as a share of the attempt,
     * memory as reported), the instance's memory and the earliest plausible end of the run (as
     * that share), the projected peak to restart with if the job must be stopped now. It fires
     * only when (1) even the conservative bound of the window's line at that end clears the
     * instance, and (2) the growth is sustained: extended with the smaller of the median
     * pairwise slopes (Theil-Sen) of the window's two halves, the line still clears it. Without
     * (2), a burst of temporary buffers or a pause in growth tilts a least-squares line fitted
     * across it, and jobs that fit are stopped. The trigger assumes growth goes on at its rate
     * to the end (the paper's projection): a job whose growth stops well before its end can be
     * stopped although it would have fitted. The peak it returns is the line's value at the
     * expected end (at least the bound).
     */
    public Optional<Long> verdict(java.util.Collection<MemoryProjection.Sample> samples, long slotMib,
                                  double shortestEnd) {
        return verdict(samples, MemoryProjection.Sums.of(samples), slotMib, shortestEnd);
    }

    /** The same, with the samples' running sums kept alongside them (constant time unless it may fire). */
    public Optional<Long> verdict(java.util.Collection<MemoryProjection.Sample> samples, MemoryProjection.Sums sums,
                                  long slotMib, double shortestEnd) {
        if (sums.count() < minSamples) {
            return Optional.empty();
        }
        double last = sums.maxProgress();
        if (last - sums.minProgress() < minSpan) {
            return Optional.empty();
        }
        // The bound lies below the line (z >= 0): a line that fits the instance settles it
        // without the error terms, as it does for nearly every sample.
        double line = MemoryProjection.lineAt(sums, shortestEnd);
        if (Double.isNaN(line) || (z >= 0 && line <= slotMib)) {
            return Optional.empty();
        }
        Optional<MemoryProjection.Result> bound = MemoryProjection.project(sums, shortestEnd, z, noiseFloor);
        if (bound.isEmpty() || bound.get().lowerMib() <= slotMib) {
            return Optional.empty();
        }
        java.util.List<MemoryProjection.Sample> all = java.util.List.copyOf(samples);
        int half = all.size() / 2;
        double sustained = Math.min(MemoryProjection.medianSlope(all.subList(0, half)),
                MemoryProjection.medianSlope(all.subList(half, all.size())));
        double lineAtLast = MemoryProjection.project(sums, last, z, noiseFloor).orElseThrow().projectedMib();
        if (lineAtLast + Math.max(0, sustained) * (shortestEnd - last) <= slotMib) {
            return Optional.empty();
        }
        double central = MemoryProjection.project(sums, 1.0, z, noiseFloor).orElseThrow().projectedMib();
        return Optional.of(Math.round(Math.max(central, bound.get().projectedMib())));
    }
}
