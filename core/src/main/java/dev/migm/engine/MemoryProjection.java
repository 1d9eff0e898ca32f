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
        return project(Sums.of(samples), at, z, noiseFloor);
    }

    /** The same from a window's running sums: constant time, however many samples. */
    public static Optional<Result> project(Sums sums, double at, double z, double noiseFloor) {
        Fit f = Fit.of(sums);
        if (f == null) return Optional.empty();
        double projected = f.at(at);
        double se = f.sigma(noiseFloor) * Math.sqrt(1.0 / f.n + (at - sums.p0 - f.mp) * (at - sums.p0 - f.mp) / f.sxx);
        return Optional.of(new Result(projected, projected - z * se, f.n));
    }

    /**
     * The least-squares slope less {@code z} of its standard errors (the residual spread, at least
     * {@code noiseFloor} of the mean memory, over the square root of the samples' spread in
     * progress): a growth the samples show beyond their noise; NaN with fewer than three samples.
     */
    public static double slopeLower(Sums sums, double z, double noiseFloor) {
        Fit f = Fit.of(sums);
        return f == null ? Double.NaN : f.slope - z * f.sigma(noiseFloor) / Math.sqrt(f.sxx);
    }

    /**
     * The least-squares line's value at {@code at}: {@link Result#projectedMib()} of
     * {@link #project}, to the last bit, without the error terms; NaN where that is empty.
     */
    public static double lineAt(Sums sums, double at) {
        Fit f = Fit.of(sums);
        return f == null ? Double.NaN : f.at(at);
    }

    /** A window's least-squares line: means, spreads and slope (relative to its first sample). */
    private record Fit(Sums sums, int n, double mp, double my, double sxx, double sxy, double slope) {
        /** The line of at least three samples spread in progress; null otherwise. */
        static Fit of(Sums sums) {
            int n = sums.n;
            if (n < 3) return null;
            double mp = sums.sp / n;
            double my = sums.sy / n;
            double sxx = sums.spp - n * mp * mp;
            if (sxx <= 1e-15) return null;
            double sxy = sums.spy - n * mp * my;
            return new Fit(sums, n, mp, my, sxx, sxy, sxy / sxx);
        }

        double at(double progress) {
            return sums.y0 + my + slope * (progress - (sums.p0 + mp));
        }

        /** The residuals' standard deviation, at least {@code noiseFloor} of the mean memory. */
        double sigma(double noiseFloor) {
            double rss = Math.max(0, sums.syy - n * my * my - slope * sxy);
            return Math.max(Math.sqrt(rss / Math.max(1, n - 2)), noiseFloor * (sums.y0 + my));
        }
    }

    /**
     * Running sums of a window of samples, taken relative to its first sample (so that large
     * memory figures do not cancel out), and its progress range: what a least-squares line and the
     * trigger's span test need, updated in constant time per sample. Owned by one attempt.
     */
    public static final class Sums {
        private double p0;
        private double y0;
        private int n;
        private double sp;
        private double sy;
        private double spp;
        private double spy;
        private double syy;
        private double minProgress = Double.POSITIVE_INFINITY;
        private double maxProgress = Double.NEGATIVE_INFINITY;

        public static Sums of(Collection<Sample> samples) {
            Sums sums = new Sums();
            samples.forEach(sums::add);
            return sums;
        }

        public void add(Sample s) {
            if (n == 0) {
                p0 = s.progress();
                y0 = s.usedMib();
            }
            double p = s.progress() - p0;
            double y = s.usedMib() - y0;
            n++;
            sp += p;
            sy += y;
            spp += p * p;
            spy += p * y;
            syy += y * y;
            minProgress = Math.min(minProgress, s.progress());
            maxProgress = Math.max(maxProgress, s.progress());
        }

        public int count() {
            return n;
        }

        public double minProgress() {
            return minProgress;
        }

        public double maxProgress() {
            return maxProgress;
        }
    }
}
