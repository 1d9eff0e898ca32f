package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import dev.migm.engine.MemoryPolicy;
import dev.migm.workload.Truth;

/**
 * {@code --estimate oracle}: plans every job with its true peak, read through the simulator's
 * {@link Truth} (models.md section 2). A reference that no live system can reach, for measuring
 * how much the honest estimators lose.
 */
public final class OracleMemory implements MemoryPolicy {
    private final Truth truth;

    public OracleMemory(Truth truth) {
        this.truth = truth;
    }

    @Override
    public Need initial(JobSpec job) {
        return new Need(truth.of(job.id()).memPeakMib(), "oracle (true peak)", true);
    }

    @Override
    public Need afterOom(JobSpec job, int attempt, Need previous, long slotMib, long usedMib) {
        return new Need(Math.max(truth.of(job.id()).memPeakMib(), slotMib + 1), "oracle after OOM", true);
    }
}
