package dev.migm.sim;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Profile;
import dev.migm.workload.RuntimeModel;
import dev.migm.workload.TraceJob;
import java.util.List;

/**
 * The limit no schedule can beat (models.md section 6), for a node of one or more GPUs:
 * <pre>
 * LB = max( max_j (submit_j + min_p T_j(p)),
 *           sum_j min_p (g_p / G) * T_j(p) / N,
 *           sum_j min_p (m_p / M) * T_j(p) / N )
 * </pre>
 * where p ranges over the plain profiles of any of the node's GPUs whose memory holds job j's peak,
 * g_p and m_p are the profile's compute and memory slices, G and M its GPU's, and N the number of
 * GPUs. For one GPU and a batch at time 0 this is exactly models.md's formula; with N GPUs every GPU
 * supplies one unit of normalised compute and memory per second. Start-up costs are not counted.
 */
public final class LowerBound {
    private LowerBound() {
    }

    public static double seconds(List<TraceJob> jobs, List<GpuModel> gpus) {
        double longest = 0;
        double compute = 0;
        double memory = 0;
        List<List<Profile>> plain = gpus.stream().distinct().map(GpuModel::plainProfiles).toList();
        List<GpuModel> models = gpus.stream().distinct().toList();
        for (TraceJob job : jobs) {
            var j = job.model();
            double bestT = Double.POSITIVE_INFINITY;
            double bestG = Double.POSITIVE_INFINITY;
            double bestM = Double.POSITIVE_INFINITY;
            for (int m = 0; m < models.size(); m++) {
                GpuModel g = models.get(m);
                for (Profile p : plain.get(m)) {
                    if (p.memoryMib() < j.memPeakMib()) continue;
                    double t = RuntimeModel.runtimeS(j, p.sms(), g.sms());
                    bestT = Math.min(bestT, t);
                    bestG = Math.min(bestG, t * p.computeSlices() / g.computeSlices());
                    bestM = Math.min(bestM, t * p.memorySlices() / g.memorySlices());
                }
            }
            if (Double.isInfinite(bestT)) continue; // cannot run anywhere: no bound from it
            longest = Math.max(longest, job.spec().submitS() + bestT);
            compute += bestG;
            memory += bestM;
        }
        int n = gpus.size();
        return Math.max(longest, Math.max(compute / n, memory / n));
    }
}
