package dev.migm.sim;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Profile;
import dev.migm.workload.RuntimeModel;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.List;

/**
 * The limits no schedule can beat (models.md section 6), for a node of one or more GPUs. A job may
 * run on any plain profile of any of the node's GPUs whose memory holds its peak, or on a whole GPU
 * with MIG off (all its SMs and memory: compute and memory share 1); {@code a_jp} and {@code b_jp}
 * are its compute and memory areas there, {@code T_j(p) * g_p / G} and {@code T_j(p) * m_p / M},
 * and N is the number of GPUs (each supplies one unit of normalised compute and memory a second).
 * Start-up costs are not counted.
 * <ul>
 *   <li>{@link #seconds}, models.md's bound: {@code max( max_j (submit_j + min_p T_j(p)),
 *   sum_j min_p a_jp / N, sum_j min_p b_jp / N )}: compute and memory minima taken separately.</li>
 *   <li>{@link #lpSeconds}, the LP relaxation over both budgets at once: each job split over its
 *   profiles in any fractions {@code x_jp} (summing to 1), the least C with {@code sum x a <= N C} and
 *   {@code sum x b <= N C}. By LP duality it is {@code max over l in [0,1] of sum_j min_p (l a_jp +
 *   (1 - l) b_jp) / N}, a concave function of l maximised by golden-section search; never below
 *   {@link #seconds} (l = 0 and l = 1 are its two area terms) and tighter when the jobs that save
 *   compute cost memory and the other way round.</li>
 * </ul>
 */
public final class LowerBound {
    /** Bins of {@code l} for the dual's slope changes: the bound is exact at 65,537 points of [0,1]. */
    static final int BINS = 1 << 16;

    private LowerBound() {
    }

    /** One place a job can run: its run time there and the share of its GPU's slices it takes. */
    @FunctionalInterface
    private interface Option {
        void accept(double runtimeS, double computeShare, double memoryShare, int computeSlices);
    }

    /**
     * The places a job can run on the node: each distinct model's whole GPU with MIG off (all of it)
     * when it holds the job's peak, and each plain profile that holds it.
     */
    private static void forEachOption(WorkloadModel j, List<GpuModel> models, List<List<Profile>> plain, Option out) {
        for (int m = 0; m < models.size(); m++) {
            GpuModel g = models.get(m);
            if (g.memoryMib() >= j.memPeakMib()) {
                out.accept(RuntimeModel.runtimeS(j, g.sms(), g.sms()), 1, 1, g.computeSlices());
            }
            for (Profile p : plain.get(m)) {
                if (p.memoryMib() < j.memPeakMib()) continue;
                out.accept(RuntimeModel.runtimeS(j, p.sms(), g.sms()), (double) p.computeSlices() / g.computeSlices(),
                        (double) p.memorySlices() / g.memorySlices(), p.computeSlices());
            }
        }
    }

    /** One job's options as compute and memory areas, refilled for each job. */
    private static final class JobOptions implements Option {
        double[] compute = new double[64];
        double[] memory = new double[64];
        int count;
        double shortestS;

        void clear() {
            count = 0;
            shortestS = Double.POSITIVE_INFINITY;
        }

        @Override
        public void accept(double runtimeS, double computeShare, double memoryShare, int computeSlices) {
            if (count == compute.length) {
                compute = java.util.Arrays.copyOf(compute, 2 * count);
                memory = java.util.Arrays.copyOf(memory, 2 * count);
            }
            shortestS = Math.min(shortestS, runtimeS);
            compute[count] = runtimeS * computeShare;
            memory[count++] = runtimeS * memoryShare;
        }
    }

    /**
     * Both bounds over jobs given one at a time (a trace's arrivals): constant memory however many.
     * Owned by one run.
     */
    public static final class Accumulator {
        private final List<GpuModel> models;
        private final List<List<Profile>> plain;
        private final int gpuCount;
        private final JobOptions options = new JobOptions();
        private final double[] slopeDrop = new double[BINS];
        private final double[] slopeDropTimesL = new double[BINS];
        private double longestEnd;
        private double valueAt0;
        private double slopeAt0;

        public Accumulator(List<GpuModel> gpus) {
            this.models = gpus.stream().distinct().toList();
            this.plain = models.stream().map(GpuModel::plainProfiles).toList();
            this.gpuCount = gpus.size();
        }

        /** Adds a job: its options' lower envelope {@code min_p (b_p + l (a_p - b_p))} over [0,1]. */
        public void add(WorkloadModel job, double submitS) {
            options.clear();
            forEachOption(job, models, plain, options);
            int n = options.count;
            if (n == 0) return; // cannot run anywhere: no bound from it
            double[] a = options.compute;
            double[] b = options.memory;
            longestEnd = Math.max(longestEnd, submitS + options.shortestS);
            int line = 0;
            for (int x = 1; x < n; x++) {
                double slopeX = a[x] - b[x];
                double slopeLine = a[line] - b[line];
                if (b[x] < b[line] || (b[x] == b[line] && slopeX < slopeLine)) line = x;
            }
            valueAt0 += b[line];
            slopeAt0 += a[line] - b[line];
            double at = 0;
            while (true) {
                double slope = a[line] - b[line];
                int next = -1;
                double nextAt = 1;
                for (int x = 0; x < n; x++) {
                    double slopeX = a[x] - b[x];
                    if (slopeX >= slope) continue;
                    // Where line x meets the current one, at or after the current point.
                    double meet = Math.max(at, (b[x] - b[line]) / (slope - slopeX));
                    if (meet < nextAt || (meet == nextAt && next >= 0 && slopeX < a[next] - b[next])) {
                        next = x;
                        nextAt = meet;
                    }
                }
                if (next < 0) break;
                double drop = slope - (a[next] - b[next]);
                int bin = Math.min(BINS - 1, (int) (nextAt * BINS));
                slopeDrop[bin] += drop;
                slopeDropTimesL[bin] += drop * nextAt;
                line = next;
                at = nextAt;
            }
        }

        /** models.md's bound: compute and memory minima taken separately. */
        public double seconds() {
            return Math.max(longestEnd, Math.max(valueAtOne(), valueAt0) / gpuCount);
        }

        /** The LP relaxation's bound: the dual's largest value over the bin edges. */
        public double lpSeconds() {
            double best = valueAt0;
            double drops = 0;
            double dropsTimesL = 0;
            for (int edge = 1; edge <= BINS; edge++) {
                drops += slopeDrop[edge - 1];
                dropsTimesL += slopeDropTimesL[edge - 1];
                double l = (double) edge / BINS;
                best = Math.max(best, valueAt0 + slopeAt0 * l - (drops * l - dropsTimesL));
            }
            return Math.max(longestEnd, best / gpuCount);
        }

        /** The dual at l = 1: every slope change counted, {@code sum_j min_p a_jp}. */
        private double valueAtOne() {
            double drops = 0;
            double dropsTimesL = 0;
            for (int k = 0; k < BINS; k++) {
                drops += slopeDrop[k];
                dropsTimesL += slopeDropTimesL[k];
            }
            return valueAt0 + slopeAt0 - (drops - dropsTimesL);
        }
    }

    /**
     * A job's least compute area on the node in compute-slice-seconds: {@code min_p T(p) g_p} over
     * the profiles that hold its peak and the whole GPU with MIG off ({@code T * G}); infinite when
     * nothing holds it.
     */
    static double leastComputeSlices(WorkloadModel j, List<GpuModel> gpus) {
        List<GpuModel> models = gpus.stream().distinct().toList();
        double[] best = {Double.POSITIVE_INFINITY};
        forEachOption(j, models, models.stream().map(GpuModel::plainProfiles).toList(),
                (t, computeShare, memoryShare, slices) -> best[0] = Math.min(best[0], t * slices));
        return best[0];
    }

    /**
     * The plain profile of {@code model} whose compute area {@code T_j(p) g_p} is least among those
     * that hold the job's true peak (the term {@link #leastComputeSlices} counts), or null when none does.
     */
    static Profile leastComputeProfile(WorkloadModel j, GpuModel model) {
        Profile best = null;
        double bestArea = Double.POSITIVE_INFINITY;
        for (Profile p : model.plainProfiles()) {
            if (p.memoryMib() < j.memPeakMib()) continue;
            double area = RuntimeModel.runtimeS(j, p.sms(), model.sms()) * p.computeSlices();
            if (area < bestArea) {
                best = p;
                bestArea = area;
            }
        }
        return best;
    }

    public static double seconds(List<TraceJob> jobs, List<GpuModel> gpus) {
        return of(jobs, gpus).seconds();
    }

    public static double lpSeconds(List<TraceJob> jobs, List<GpuModel> gpus) {
        return of(jobs, gpus).lpSeconds();
    }

    private static Accumulator of(List<TraceJob> jobs, List<GpuModel> gpus) {
        Accumulator all = new Accumulator(gpus);
        for (TraceJob j : jobs) all.add(j.model(), j.spec().submitS());
        return all;
    }
}
