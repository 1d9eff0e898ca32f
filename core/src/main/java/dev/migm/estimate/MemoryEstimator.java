package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import java.util.Optional;

/** One way to estimate a job's peak memory before it runs. Empty when it has nothing to say. */
public interface MemoryEstimator {
    String name();

    Optional<Estimate> estimate(JobSpec job);
}
