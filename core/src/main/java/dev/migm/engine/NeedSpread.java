package dev.migm.engine;

import java.util.Arrays;

/**
 * How a job's memory need may fall, as far as a live node knows it: the needs its application's
 * earlier runs showed (completed runs' peaks, at most their instance; an OOM as more than its
 * instance; a projection as projected), each with the estimator's margin, sorted. The policy weighs
 * an instance by the chance that the job outgrows it ({@link #exceeds}); {@link #NONE} says nothing
 * (a declaration, an analytic shape, a retry sized by its own failure), and then only the point
 * estimate counts.
 *
 * @param sortedMib the needs, ascending
 * @param startMib  what the application's runs held when they started (the median of those sampled,
 *                  with the same margin), 0 when unknown: where between start and peak a run that
 *                  outgrows an instance crosses its limit ({@link #shareRunBefore})
 */
public record NeedSpread(long[] sortedMib, long startMib) {
    public static final NeedSpread NONE = new NeedSpread(new long[0], 0);

    /**
     * The share of its run an attempt that outgrows its instance is taken to have used when nothing
     * says how its memory grows: one half (it crosses the limit anywhere between start and end).
     */
    public static final double UNKNOWN_SHARE_BEFORE = 0.5;

    public NeedSpread {
        sortedMib = sortedMib.clone();
        Arrays.sort(sortedMib);
    }

    /**
     * The chance that the need is above {@code mib}: the share of the runs above it, with half a run
     * added on either side ({@code (k + 1/2) / (n + 1)}, the Jeffreys-style estimate of a proportion
     * from few runs), so that no instance is certain to hold a job because the last ten runs fitted;
     * 0 when nothing is known.
     */
    public double exceeds(long mib) {
        int n = sortedMib.length;
        if (n == 0) return 0;
        int atMost = upperBound(mib);
        return (n - atMost + 0.5) / (n + 1.0);
    }

    /** The number of needs at most {@code mib}. */
    private int upperBound(long mib) {
        int lo = 0;
        int hi = sortedMib.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sortedMib[mid] <= mib) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /**
     * The share of its run an attempt is expected to have used when it outgrows {@code mib}: memory
     * grows from the start to the peak with the run's progress (models.md section 2; an LLM's KV
     * cache, an optimizer's states), so a run that needs {@code x > mib} crosses {@code mib} at
     * {@code (mib - start) / (x - start)} of its run; averaged over the runs that needed more than
     * {@code mib}. A run that starts above {@code mib} dies at once (0), so a flat application's OOM
     * costs seconds, a growing one's most of the run. {@link #UNKNOWN_SHARE_BEFORE} without a start.
     */
    public double shareRunBefore(long mib) {
        if (startMib <= 0) return UNKNOWN_SHARE_BEFORE;
        double sum = 0;
        int count = 0;
        for (int i = sortedMib.length - 1; i >= 0 && sortedMib[i] > mib; i--) {
            long x = sortedMib[i];
            sum += x <= startMib ? 0 : Math.clamp((double) (mib - startMib) / (x - startMib), 0, 1);
            count++;
        }
        return count == 0 ? UNKNOWN_SHARE_BEFORE : sum / count;
    }

    public boolean known() {
        return sortedMib.length > 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NeedSpread s && startMib == s.startMib && Arrays.equals(sortedMib, s.sortedMib);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(sortedMib) + Long.hashCode(startMib);
    }

    @Override
    public String toString() {
        return "NeedSpread" + Arrays.toString(sortedMib) + " from " + startMib;
    }
}
