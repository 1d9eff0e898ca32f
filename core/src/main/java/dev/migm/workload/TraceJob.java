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

    /** The same job, writing its progress where migm reads it or not (a what-if about the workload). */
    public TraceJob withReportsProgress(boolean reports) {
        WorkloadModel m = model;
        return new TraceJob(spec, new WorkloadModel(m.durationS(), m.c(), m.sat(), m.memBaseMib(), m.memPeakMib(),
                m.activity(), m.checkpointS(), reports));
    }
}
