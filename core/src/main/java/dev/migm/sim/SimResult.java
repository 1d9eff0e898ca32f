package dev.migm.sim;

import dev.migm.report.Report.Metric;
import java.util.List;

/**
 * The outcome of simulating one trace under one policy. Ratios compare with a baseline run (the
 * first policy named): {@code speedup} = baseline makespan / makespan, {@code throughput_ratio} =
 * throughput / baseline throughput, {@code energy_ratio} = baseline energy / energy (above 1 means
 * less energy, as the paper reports its savings).
 */
public record SimResult(String trace, String policy, String gpus, int jobs, int completed, int failed,
                        double makespanS, double throughputJobsPerH, double energyJ, double meanJctS, double p95WaitS,
                        long reconfigurations, long restarts, long oomKills, long earlyRestarts,
                        long falseEarlyRestarts, double wastedGpuS, double firstFitRate, double overprovision,
                        double busySliceShare, double lowerBoundS, double speedup, double throughputRatio,
                        double energyRatio, List<String> failures, List<JobRow> perJob) {

    public SimResult withBaseline(SimResult base) {
        return new SimResult(trace, policy, gpus, jobs, completed, failed, makespanS, throughputJobsPerH, energyJ,
                meanJctS, p95WaitS, reconfigurations, restarts, oomKills, earlyRestarts, falseEarlyRestarts,
                wastedGpuS, firstFitRate, overprovision, busySliceShare, lowerBoundS,
                base.makespanS / makespanS, throughputJobsPerH / base.throughputJobsPerH, base.energyJ / energyJ,
                failures, perJob);
    }

    /** One job's outcome, for {@code --per-job} reports. */
    public record JobRow(String trace, String policy, String id, String app, String state, int attempts, String slot,
                         long slotMib, long peakMib, double submitS, double firstLaunchS, double endS, long needMib,
                         String needSource, String reason) {
        public static final List<Metric<JobRow>> METRICS = List.of(
                new Metric<>("trace", JobRow::trace), new Metric<>("policy", JobRow::policy),
                new Metric<>("id", JobRow::id), new Metric<>("app", JobRow::app), new Metric<>("state", JobRow::state),
                new Metric<>("attempts", JobRow::attempts), new Metric<>("slot", JobRow::slot),
                new Metric<>("slot_mib", JobRow::slotMib), new Metric<>("peak_mib", JobRow::peakMib),
                new Metric<>("submit_s", JobRow::submitS), new Metric<>("first_launch_s", JobRow::firstLaunchS),
                new Metric<>("end_s", JobRow::endS), new Metric<>("need_mib", JobRow::needMib),
                new Metric<>("need_source", JobRow::needSource), new Metric<>("reason", JobRow::reason));
    }

    /** The metrics every report shows, in order. */
    public static final List<Metric<SimResult>> METRICS = List.of(
            new Metric<>("trace", SimResult::trace),
            new Metric<>("policy", SimResult::policy),
            new Metric<>("jobs", SimResult::jobs),
            new Metric<>("completed", SimResult::completed),
            new Metric<>("makespan_s", SimResult::makespanS),
            new Metric<>("throughput_jobs_per_h", SimResult::throughputJobsPerH),
            new Metric<>("energy_j", SimResult::energyJ),
            new Metric<>("mean_jct_s", SimResult::meanJctS),
            new Metric<>("p95_wait_s", SimResult::p95WaitS),
            new Metric<>("reconfigurations", SimResult::reconfigurations),
            new Metric<>("restarts", SimResult::restarts),
            new Metric<>("oom_kills", SimResult::oomKills),
            new Metric<>("early_restarts", SimResult::earlyRestarts),
            new Metric<>("false_early_restarts", SimResult::falseEarlyRestarts),
            new Metric<>("wasted_gpu_s", SimResult::wastedGpuS),
            new Metric<>("first_fit_rate", SimResult::firstFitRate),
            new Metric<>("overprovision", SimResult::overprovision),
            new Metric<>("busy_slice_share", SimResult::busySliceShare),
            new Metric<>("lower_bound_s", SimResult::lowerBoundS),
            new Metric<>("speedup", SimResult::speedup),
            new Metric<>("throughput_ratio", SimResult::throughputRatio),
            new Metric<>("energy_ratio", SimResult::energyRatio));
}
