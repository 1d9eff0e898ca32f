package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import java.util.Optional;

/** {@code declared}: what the job spec or trace declares (may be wrong, often too low). */
public final class DeclaredEstimator implements MemoryEstimator {
    /** Declarations are often too low (trace README: 30% of ML declare "often too low"). */
    public static final double CONFIDENCE = 0.5;

    @Override
    public String name() {
        return "declared";
    }

    @Override
    public Optional<Estimate> estimate(JobSpec job) {
        return job.declaredMib().isPresent()
                ? Optional.of(new Estimate(job.declaredMib().getAsLong(), "declared", CONFIDENCE))
                : Optional.empty();
    }
}
