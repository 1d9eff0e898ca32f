package dev.migm.engine;

/**
 * Decides how much memory the engine plans for a job's attempts: the seam between the engine and
 * the estimators. The engine picks the tightest instance that holds {@link Need#mib()}.
 */
public interface MemoryPolicy {
    /**
     * The memory to plan for, where the number comes from, whether it is certain (the oracle's
     * true peak) rather than an estimate that may be wrong, and how the need may fall around it
     * (what history showed; {@link NeedSpread#NONE} when nothing did).
     */
    record Need(long mib, String source, boolean certain, NeedSpread spread) {
        public Need(long mib, String source) {
            this(mib, source, false, NeedSpread.NONE);
        }

        public Need(long mib, String source, boolean certain) {
            this(mib, source, certain, NeedSpread.NONE);
        }
    }

    /** Need of the first attempt. */
    Need initial(JobSpec job);

    /**
     * Need after attempt {@code attempt} ran out of memory on a slot of {@code slotMib} having been
     * seen to use {@code usedMib} (at most the slot).
     */
    Need afterOom(JobSpec job, int attempt, Need previous, long slotMib, long usedMib);

    /** Need after attempt {@code attempt} was restarted early, given the projected peak. */
    default Need afterProjection(JobSpec job, int attempt, Need previous, long projectedMib) {
        return new Need(Math.max(previous.mib(), projectedMib), "projection");
    }

    /**
     * Learns from completed attempt {@code attempt}: its observed peak, the memory it started with
     * (0 if not sampled) and its slot's memory (history). Keyed by job and attempt, so that hearing
     * of one attempt twice (a replay) counts it once.
     */
    default void learn(JobSpec job, int attempt, long observedPeakMib, long startMib, long slotMib) {
    }

    /**
     * The keys whose estimates changed since the last call (an application name, or {@code class:}
     * and a class name), so the engine can estimate their waiting jobs again; cleared by the call.
     */
    default java.util.Set<String> takeInvalidated() {
        return java.util.Set.of();
    }
}
