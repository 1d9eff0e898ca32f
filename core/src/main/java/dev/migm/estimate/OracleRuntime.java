package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import dev.migm.engine.RuntimeEstimator;
import dev.migm.engine.RuntimeExpectation;
import dev.migm.workload.Truth;
import dev.migm.workload.WorkloadModel;

/**
 * {@code --estimate oracle}: every job's true duration and scaling, read through the simulator's
 * {@link Truth}. A reference only; no live system knows these.
 */
public final class OracleRuntime implements RuntimeEstimator {
    private final Truth truth;

    public OracleRuntime(Truth truth) {
        this.truth = truth;
    }

    @Override
    public RuntimeExpectation expect(JobSpec job) {
        WorkloadModel m = truth.of(job.id());
        return RuntimeExpectation.certain(m.durationS(), m.c(), m.sat(), "oracle");
    }
}
