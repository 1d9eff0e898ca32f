package dev.migm.workload;

/**
 * How long a job's work takes on a slot, and how much memory it holds at a point of its progress
 * (models.md sections 1 and 2): the simulated world's physics, applied to a {@link WorkloadModel}.
 */
public final class RuntimeModel {
    private RuntimeModel() {
    }

    /**
     * {@code T(p) = duration * ((1 - c) + c * max(1, sat * SM_full / SM(p)))}: the job's whole work on
     * a slot with {@code sms} SMs of a GPU with {@code smFull}.
     */
    public static double runtimeS(WorkloadModel job, int sms, int smFull) {
        return job.durationS() * slowdown(job.c(), job.sat(), sms, smFull);
    }

    /** The factor {@code (1 - c) + c * max(1, sat * SM_full / SM)} of models.md section 1. */
    public static double slowdown(double c, double sat, int sms, int smFull) {
        return (1 - c) + c * Math.max(1.0, sat * smFull / sms);
    }

    /** Memory held at a progress in [0,1]: base plus linear growth to the peak at the end. */
    public static double memoryMibAt(WorkloadModel job, double progress) {
        return job.memBaseMib() + (job.memPeakMib() - job.memBaseMib()) * progress;
    }

    /**
     * The progress at which memory first exceeds {@code limitMib}, or NaN when it never does. A job
     * whose base already exceeds the limit fails at progress 0.
     */
    public static double progressExceeding(WorkloadModel job, long limitMib) {
        if (job.memPeakMib() <= limitMib) {
            return Double.NaN;
        }
        if (job.memBaseMib() > limitMib) {
            return 0.0;
        }
        return (double) (limitMib - job.memBaseMib()) / (job.memPeakMib() - job.memBaseMib());
    }

    /**
     * A job's total steps in the modelled world, what its checkpoints count and its printed progress
     * shows: one per second of its work alone on a whole GPU (at least one).
     */
    public static long steps(WorkloadModel job) {
        return Math.max(1, Math.round(job.durationS()));
    }

    /** The last checkpoint at or before {@code progress}, as progress; 0 when the job does not checkpoint. */
    public static double lastCheckpoint(WorkloadModel job, double progress) {
        if (job.checkpointS() <= 0) {
            return 0.0;
        }
        double interval = job.checkpointS() / job.durationS();
        double k = Math.floor(progress / interval + 1e-9);
        return Math.min(progress, k * interval);
    }
}
