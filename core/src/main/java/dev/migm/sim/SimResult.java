package dev.migm.sim;

import dev.migm.report.Report.Metric;
import java.util.List;

/**
 * The outcome of simulating one trace under one policy, in named parts: what was run, how the jobs
 * came out, what the engine counted, the accounting the simulator's truth allows (work lost, false
 * early restarts), the bounds, and the ratios to a baseline run. Ratios compare with a baseline run
 * (the first policy named): {@code speedup} = baseline makespan / makespan, {@code throughput_ratio} =
 * throughput / baseline throughput, {@code energy_ratio} = baseline energy / energy (above 1 means
 * less energy, as the paper reports its savings).
 *
 * @param failures    every job that did not complete, with its reason, in submit order
 * @param perJob      a row per job (with {@code --per-job}; empty otherwise)
 * @param explanation the makespan split ({@code --explain-makespan}; null otherwise)
 * @param timeline    the run's timeline for a report ({@code --timeline}; null otherwise)
 */
public record SimResult(Run run, Outcomes outcomes, Counts counts, Accounting accounting, Bounds bounds, Ratios ratios,
                        List<Failure> failures, List<JobRow> perJob, MakespanExplainer.Explanation explanation,
                        dev.migm.report.Timeline.Run timeline) {
    public SimResult {
        failures = List.copyOf(failures);
    }

    /** What was run: the trace, the policy, the node, the estimates, early restart, how many jobs. */
    public record Run(String trace, String policy, String gpus, String estimate, boolean earlyRestart, int jobs) {
    }

    /**
     * How the jobs came out: completed and not, the makespan, throughput and energy, mean job
     * completion time, the 95th percentile of waits (of all jobs, and of those that need a GPU's
     * largest instance or a whole GPU).
     */
    public record Outcomes(int completed, int failed, double makespanS, double throughputJobsPerH, double energyJ,
                           double meanJctS, double p95WaitS, double wholeGpuP95WaitS) {
    }

    /**
     * What the engine counted.
     *
     * @param preemptions runs stopped at their checkpoint to give their slices to a waiting job
     */
    public record Counts(long reconfigurations, long migModeChanges, long restarts, long oomKills, long earlyRestarts,
                         long preemptions) {
    }

    /**
     * What only the simulator can say, knowing the truth: early restarts of jobs that would have fit,
     * GPU time lost to attempts that did not complete, first attempts that fit, how much larger than
     * the peak the instance was, the share of the node's compute slices held.
     */
    public record Accounting(long falseEarlyRestarts, double wastedGpuS, double firstFitRate, double overprovision,
                             double busySliceShare) {
    }

    /** The makespan's lower bounds ({@link LowerBound}): by compute alone and by the LP over profiles. */
    public record Bounds(double lowerBoundS, double lpBoundS) {
    }

    /** Ratios to the baseline run; {@link #NONE} before a baseline is set, or when the runs are not comparable. */
    public record Ratios(double speedup, double throughputRatio, double energyRatio) {
        public static final Ratios NONE = new Ratios(Double.NaN, Double.NaN, Double.NaN);
    }

    /** A job that did not complete, and why. */
    public record Failure(String id, String reason) {
        @Override
        public String toString() {
            return id + ": " + reason;
        }
    }

    /** At most this many failures are listed with their reasons in a JSON row ({@code failed} counts all). */
    public static final int LISTED_FAILURES = 100;

    /**
     * Ratios to the baseline run. A run that did not finish every job, or whose baseline did not, gets
     * no ratio (its makespan and energy cover less work): the ratios are undefined, not flattering.
     */
    public SimResult withBaseline(SimResult base) {
        boolean comparable = failed() == 0 && base.failed() == 0 && makespanS() > 0 && base.makespanS() > 0;
        Ratios r = comparable ? new Ratios(base.makespanS() / makespanS(),
                throughputJobsPerH() / base.throughputJobsPerH(), base.energyJ() / energyJ()) : Ratios.NONE;
        return new SimResult(run, outcomes, counts, accounting, bounds, r, failures, perJob, explanation, timeline);
    }

    /** The failures of a JSON row: {@code {id, reason}}, at most {@link #LISTED_FAILURES}. */
    public List<java.util.Map<String, String>> failureList() {
        return failures.stream().limit(LISTED_FAILURES).map(f -> {
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            m.put("id", f.id());
            m.put("reason", f.reason());
            return m;
        }).toList();
    }

    // The figures by name, as the metrics and callers read them.

    public String trace() {
        return run.trace();
    }

    public String policy() {
        return run.policy();
    }

    public String gpus() {
        return run.gpus();
    }

    public String estimate() {
        return run.estimate();
    }

    public boolean earlyRestart() {
        return run.earlyRestart();
    }

    public int jobs() {
        return run.jobs();
    }

    public int completed() {
        return outcomes.completed();
    }

    public int failed() {
        return outcomes.failed();
    }

    public double makespanS() {
        return outcomes.makespanS();
    }

    public double throughputJobsPerH() {
        return outcomes.throughputJobsPerH();
    }

    public double energyJ() {
        return outcomes.energyJ();
    }

    public double meanJctS() {
        return outcomes.meanJctS();
    }

    public double p95WaitS() {
        return outcomes.p95WaitS();
    }

    public double wholeGpuP95WaitS() {
        return outcomes.wholeGpuP95WaitS();
    }

    public long reconfigurations() {
        return counts.reconfigurations();
    }

    public long migModeChanges() {
        return counts.migModeChanges();
    }

    public long restarts() {
        return counts.restarts();
    }

    public long oomKills() {
        return counts.oomKills();
    }

    public long earlyRestarts() {
        return counts.earlyRestarts();
    }

    public long preemptions() {
        return counts.preemptions();
    }

    public long falseEarlyRestarts() {
        return accounting.falseEarlyRestarts();
    }

    public double wastedGpuS() {
        return accounting.wastedGpuS();
    }

    public double firstFitRate() {
        return accounting.firstFitRate();
    }

    public double overprovision() {
        return accounting.overprovision();
    }

    public double busySliceShare() {
        return accounting.busySliceShare();
    }

    public double lowerBoundS() {
        return bounds.lowerBoundS();
    }

    public double lpBoundS() {
        return bounds.lpBoundS();
    }

    public double speedup() {
        return ratios.speedup();
    }

    public double throughputRatio() {
        return ratios.throughputRatio();
    }

    public double energyRatio() {
        return ratios.energyRatio();
    }

    /** One job's outcome, for {@code --per-job} reports. */
    public record JobRow(String trace, String policy, String id, String app, String state, int attempts, String slot,
                         long slotMib, long peakMib, double submitS, double firstLaunchS, double endS, long needMib,
                         String needSource, String reason, double energyJ, String energyModel) {
        public static final List<Metric<JobRow>> METRICS = List.of(
                Metric.of("trace", JobRow::trace), Metric.of("policy", JobRow::policy),
                Metric.of("id", JobRow::id), Metric.of("app", JobRow::app), Metric.of("state", JobRow::state),
                Metric.of("attempts", JobRow::attempts), Metric.of("slot", JobRow::slot),
                Metric.of("slot_mib", JobRow::slotMib), Metric.of("peak_mib", JobRow::peakMib),
                Metric.number("submit_s", JobRow::submitS, 3), Metric.number("first_launch_s", JobRow::firstLaunchS, 3),
                Metric.number("end_s", JobRow::endS, 3), Metric.of("need_mib", JobRow::needMib),
                Metric.of("need_source", JobRow::needSource), Metric.of("reason", JobRow::reason),
                Metric.number("energy_j", JobRow::energyJ, 0), Metric.of("energy_model", JobRow::energyModel));
    }

    /**
     * The metrics of a run, in order (the {@code migm.simulate/v1} row). Tables show the ones people
     * compare by default (policy, completed and unfinished, makespan, mean JCT, p95 wait, OOMs, early
     * restarts, speed-up, energy ratio) and all with {@code --wide}; JSON adds each unfinished job's reason.
     */
    public static final List<Metric<SimResult>> METRICS = List.of(
            Metric.of("trace", SimResult::trace),
            Metric.of("policy", SimResult::policy),
            Metric.<SimResult>of("node", SimResult::gpus).wide(),
            Metric.<SimResult>of("estimate", SimResult::estimate).wide(),
            Metric.<SimResult>of("early_restart", r -> r.earlyRestart() ? "on" : "off").wide(),
            Metric.<SimResult>of("jobs", SimResult::jobs).wide(),
            Metric.of("completed", SimResult::completed),
            Metric.of("unfinished", SimResult::failed),
            Metric.number("makespan_s", SimResult::makespanS, 0),
            Metric.<SimResult>number("throughput_jobs_per_h", SimResult::throughputJobsPerH, 2).wide(),
            Metric.<SimResult>number("energy_j", SimResult::energyJ, 0).wide(),
            Metric.number("mean_jct_s", SimResult::meanJctS, 0),
            Metric.number("p95_wait_s", SimResult::p95WaitS, 0),
            Metric.<SimResult>number("whole_gpu_p95_wait_s", SimResult::wholeGpuP95WaitS, 0).wide(),
            Metric.<SimResult>of("reconfigurations", SimResult::reconfigurations).wide(),
            Metric.<SimResult>of("mig_mode_changes", SimResult::migModeChanges).wide(),
            Metric.<SimResult>of("restarts", SimResult::restarts).wide(),
            Metric.of("oom_kills", SimResult::oomKills),
            Metric.of("early_restarts", SimResult::earlyRestarts),
            Metric.<SimResult>of("false_early_restarts", SimResult::falseEarlyRestarts).wide(),
            Metric.<SimResult>of("preemptions", SimResult::preemptions).wide(),
            Metric.<SimResult>number("wasted_gpu_s", SimResult::wastedGpuS, 0).wide(),
            Metric.<SimResult>number("first_fit_rate", SimResult::firstFitRate, 3).wide(),
            Metric.<SimResult>number("overprovision", SimResult::overprovision, 3).wide(),
            Metric.<SimResult>number("busy_slice_share", SimResult::busySliceShare, 3).wide(),
            Metric.<SimResult>number("lower_bound_s", SimResult::lowerBoundS, 0).wide(),
            Metric.<SimResult>number("lp_bound_s", SimResult::lpBoundS, 0).wide(),
            Metric.number("speedup", SimResult::speedup, 3),
            Metric.<SimResult>number("throughput_ratio", SimResult::throughputRatio, 3).wide(),
            Metric.number("energy_ratio", SimResult::energyRatio, 3),
            Metric.<SimResult>of("failures", SimResult::failureList).jsonOnly());
}
