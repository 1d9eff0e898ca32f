package dev.migm.workload;

import dev.migm.engine.JobSpec;

/**
 * A job of a trace: what its submitter declared ({@link JobSpec}, all the engine gets) and the
 * workload model the simulated world follows ({@link WorkloadModel}, the truth).
 */
public record TraceJob(JobSpec spec, WorkloadModel model) {
    public TraceJob {
        if (spec.checkpoints() != model.checkpoints()) {
            throw new IllegalArgumentException("job " + spec.id() + ": declared checkpointing "
                    + spec.checkpoints() + " but its model " + (model.checkpoints() ? "checkpoints" : "does not"));
        }
    }

    public String id() {
        return spec.id();
    }

    /**
     * The same job, saying its progress where migm reads it every {@code everyS} seconds of its run
     * (0: at every sample), or not at all (a what-if about the workload).
     */
    public TraceJob withProgress(boolean reports, double everyS) {
        return new TraceJob(spec, model.withProgress(reports, everyS));
    }
}
