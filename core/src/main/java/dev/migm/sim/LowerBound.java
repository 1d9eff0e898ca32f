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
    /** Golden-section steps: the interval shrinks by 0.618 each, to 1e-10 of [0,1] after 48. */
    private static final int SEARCH_STEPS = 48;

    private LowerBound() {
    }

    /**
     * Every job's options as flat arrays: job k's are {@code compute[start[k]..start[k+1])} and
     * {@code memory[...]}, only the Pareto-optimal ones (no other option of the job needs less of
     * both: the others never attain a minimum of {@code l a + (1 - l) b}), so that a million jobs
     * take a few tens of MB; and the latest shortest end.
     */
    private record Areas(double[] compute, double[] memory, int[] start, int jobs, double longestEnd) {
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

    private static Areas areas(List<TraceJob> jobs, List<GpuModel> gpus) {
        List<GpuModel> models = gpus.stream().distinct().toList();
        List<List<Profile>> plain = models.stream().map(GpuModel::plainProfiles).toList();
        double[] ca = new double[Math.max(16, jobs.size() * 3)];
        double[] ma = new double[ca.length];
        int[] start = new int[jobs.size() + 1];
        int used = 0;
        int k = 0;
        double longest = 0;
        JobOptions o = new JobOptions();
        for (TraceJob job : jobs) {
            o.clear();
            forEachOption(job.model(), models, plain, o);
            int n = o.count;
            if (n == 0) continue; // cannot run anywhere: no bound from it
            double[] a = o.compute;
            double[] b = o.memory;
            longest = Math.max(longest, job.spec().submitS() + o.shortestS);
            start[k] = used;
            for (int x = 0; x < n; x++) {
                boolean dominated = false;
                for (int y = 0; y < n && !dominated; y++) {
                    dominated = y != x && a[y] <= a[x] && b[y] <= b[x] && (a[y] < a[x] || b[y] < b[x] || y < x);
                }
                if (dominated) continue;
                if (used == ca.length) {
                    ca = java.util.Arrays.copyOf(ca, 2 * used);
                    ma = java.util.Arrays.copyOf(ma, ca.length);
                }
                ca[used] = a[x];
                ma[used++] = b[x];
            }
            k++;
        }
        start[k] = used;
        return new Areas(ca, ma, start, k, longest);
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

    public static double seconds(List<TraceJob> jobs, List<GpuModel> gpus) {
        Areas all = areas(jobs, gpus);
        return Math.max(all.longestEnd(), Math.max(dual(all, 1), dual(all, 0)) / gpus.size());
    }

    public static double lpSeconds(List<TraceJob> jobs, List<GpuModel> gpus) {
        Areas all = areas(jobs, gpus);
        double lo = 0;
        double hi = 1;
        final double phi = (Math.sqrt(5) - 1) / 2;
        double x1 = hi - phi * (hi - lo);
        double x2 = lo + phi * (hi - lo);
        double f1 = dual(all, x1);
        double f2 = dual(all, x2);
        for (int i = 0; i < SEARCH_STEPS; i++) {
            if (f1 < f2) {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + phi * (hi - lo);
                f2 = dual(all, x2);
            } else {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - phi * (hi - lo);
                f1 = dual(all, x1);
            }
        }
        double best = Math.max(Math.max(f1, f2), Math.max(dual(all, 0), dual(all, 1)));
        return Math.max(all.longestEnd(), best / gpus.size());
    }

    /** {@code sum_j min_p (l a_jp + (1 - l) b_jp)}: the dual function at {@code l}. */
    private static double dual(Areas all, double l) {
        double sum = 0;
        double[] a = all.compute();
        double[] b = all.memory();
        int[] start = all.start();
        for (int k = 0; k < all.jobs(); k++) {
            double best = Double.POSITIVE_INFINITY;
            for (int x = start[k]; x < start[k + 1]; x++) best = Math.min(best, l * a[x] + (1 - l) * b[x]);
            sum += best;
        }
        return sum;
    }
}
