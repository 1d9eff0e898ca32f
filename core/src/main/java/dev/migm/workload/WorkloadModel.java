package dev.migm.workload;

/**
 * How a simulated job really behaves (models.md sections 1-5): the truth the simulated world follows
 * and that no live scheduler could know. Policies, estimators and the engine never see it; only the
 * model executor (which plays the job) and the oracle estimators (through {@link Truth}) do.
 *
 * @param durationS       run time alone on the whole GPU with MIG disabled
 * @param c               share of the work that scales with SMs (Amdahl), in [0,1]
 * @param sat             share of the whole GPU's SMs beyond which the job stops speeding up, in (0,1]
 * @param memBaseMib      memory held from the start (CUDA context included)
 * @param memPeakMib      memory at the end (grows linearly with progress from base)
 * @param activity        power activity factor in [0,1]
 * @param checkpointS     checkpoint interval in full-GPU seconds of work; 0 = not checkpointable
 * @param reportsProgress whether the job says its progress where migm reads it (what it prints, or the
 *                        progress file migm names to every job); a job that does not is known only by its
 *                        elapsed time
 * @param progressEveryS  how often a job that says its progress says it: seconds of its run between
 *                        one line and the next (0: at least as often as migm samples it, so every sample
 *                        reads its progress of that moment)
 */
public record WorkloadModel(double durationS, double c, double sat, long memBaseMib, long memPeakMib, double activity,
                            double checkpointS, boolean reportsProgress, double progressEveryS) {
    /** Longest run a model may describe: 10 years of work, so a simulation always ends. */
    public static final double MAX_DURATION_S = 10 * 365.25 * 86400;

    public WorkloadModel {
        if (!(durationS > 0 && durationS <= MAX_DURATION_S)) {
            throw new IllegalArgumentException("duration_s must be in (0, " + (long) MAX_DURATION_S + "]");
        }
        if (!(c >= 0 && c <= 1)) throw new IllegalArgumentException("c must be in [0,1]");
        if (!(sat > 0 && sat <= 1)) throw new IllegalArgumentException("sat must be in (0,1]");
        if (memBaseMib < 0 || memPeakMib < memBaseMib) {
            throw new IllegalArgumentException("need 0 <= mem_base_mib <= mem_peak_mib");
        }
        if (!(activity >= 0 && activity <= 1)) throw new IllegalArgumentException("activity must be in [0,1]");
        if (!(checkpointS >= 0 && checkpointS <= MAX_DURATION_S)) {
            throw new IllegalArgumentException("checkpoint_s must be in [0, " + (long) MAX_DURATION_S + "]");
        }
        if (!(progressEveryS >= 0 && progressEveryS <= MAX_DURATION_S)) {
            throw new IllegalArgumentException("progress_every_s must be in [0, " + (long) MAX_DURATION_S + "]");
        }
        if (progressEveryS > 0 && !reportsProgress) {
            throw new IllegalArgumentException("progress_every_s must be 0 or empty for a job that does not"
                    + " report its progress (reports_progress 0)");
        }
    }

    /** A job that says its progress at least as often as migm samples it, or not at all. */
    public WorkloadModel(double durationS, double c, double sat, long memBaseMib, long memPeakMib, double activity,
                         double checkpointS, boolean reportsProgress) {
        this(durationS, c, sat, memBaseMib, memPeakMib, activity, checkpointS, reportsProgress, 0);
    }

    /** The same job, saying its progress every {@code everyS} seconds of its run, or (false) not at all. */
    public WorkloadModel withProgress(boolean reports, double everyS) {
        return new WorkloadModel(durationS, c, sat, memBaseMib, memPeakMib, activity, checkpointS, reports,
                reports ? everyS : 0);
    }

    public boolean checkpoints() {
        return checkpointS > 0;
    }
}
