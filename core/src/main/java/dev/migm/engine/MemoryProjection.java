package dev.migm.engine;

import java.util.Collection;
import java.util.Optional;

/**
 * The run-time projection of a job's peak memory (paper: "time-series profiling": sample the job's
 * memory during its run and project its future peak). A least-squares line through the recent
 * samples of (progress, used MiB) is extended to progress 1. The projection also gives a
 * conservative lower bound, {@code projected - z * se}, with {@code se} the standard error of the
 * line's value at progress 1; early restart fires only when even that bound exceeds the instance,
 * which keeps sampling noise (allocator granularity, jitter) from causing false alarms.
 */
public final class MemoryProjection {
    private MemoryProjection() {
    }

    /** One memory sample. */
    public record Sample(double progress, long usedMib) {
    }

    /**
     * A projection.
     *
     * @param projectedMib the line's value at progress 1
     * @param lowerMib     the conservative bound, {@code projected - z * se}
     * @param samples      how many samples it rests on
     */
    public record Result(double projectedMib, double lowerMib, int samples) {
    }

    /**
     * Projects the peak at progress 1; empty with fewer than 3 samples or no spread in progress.
     * {@code noiseFloor} is the least residual noise assumed, relative to the mean sample.
     */
    public static Optional<Result> project(Collection<Sample> samples, double z, double noiseFloor) {
        return project(samples, 1.0, z, noiseFloor);
    }

    /**
     * The median of the slopes between every pair of samples (Theil-Sen): robust to a minority of
     * outlying samples (bursts); 0 with fewer than 2 samples or no spread.
     */
    public static double medianSlope(java.util.List<Sample> samples) {
        int n = samples.size();
        double[] slopes = new double[n * (n - 1) / 2];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double dx = samples.get(j).progress() - samples.get(i).progress();
                if (dx > 1e-12) {
                    slopes[k++] = (samples.get(j).usedMib() - samples.get(i).usedMib()) / dx;
                }
            }
        }
        if (k == 0) return 0;
        java.util.Arrays.sort(slopes, 0, k);
        return k % 2 == 1 ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
    }

    /** Projects the line's value at {@code at} (the end of the run, in the samples' progress units). */
    public static Optional<Result> project(Collection<Sample> samples, double at, double z, double noiseFloor) {
        int n = samples.size();
        if (n < 3) return Optional.empty();
        double sp = 0;
        double sy = 0;
        for (Sample s : samples) {
            sp += s.progress();
            sy += s.usedMib();
        }
        double mp = sp / n;
        double my = sy / n;
        double sxx = 0;
        double sxy = 0;
        for (Sample s : samples) {
            double dp = s.progress() - mp;
            sxx += dp * dp;
            sxy += dp * (s.usedMib() - my);
        }
        if (sxx <= 1e-15) return Optional.empty();
        double slope = sxy / sxx;
        double intercept = my - slope * mp;
        double rss = 0;
        for (Sample s : samples) {
            double r = s.usedMib() - (intercept + slope * s.progress());
            rss += r * r;
        }
        double sigma = Math.max(Math.sqrt(rss / Math.max(1, n - 2)), noiseFloor * my);
        double projected = intercept + slope * at;
        double se = sigma * Math.sqrt(1.0 / n + (at - mp) * (at - mp) / sxx);
        return Optional.of(new Result(projected, projected - z * se, n));
    }
}
