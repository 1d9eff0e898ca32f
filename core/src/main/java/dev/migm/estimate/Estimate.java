package dev.migm.estimate;

/**
 * A memory estimate: how much a job will need at its peak, where the number comes from, how far
 * to trust it (0 = a guess, 1 = measured on this very job), and whether it is known to leave out
 * memory that grows during the run (e.g. LLM weights without the KV cache).
 */
public record Estimate(long mib, String source, double confidence, boolean lowerBound) {
    /** An estimate of the whole need (not known to leave anything out). */
    public Estimate(long mib, String source, double confidence) {
        this(mib, source, confidence, false);
    }

    public Estimate {
        if (mib < 0) throw new IllegalArgumentException("estimate must be >= 0 MiB");
        if (!(confidence >= 0 && confidence <= 1)) throw new IllegalArgumentException("confidence must be in [0,1]");
    }
}
