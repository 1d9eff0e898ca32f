package dev.migm.engine;

import java.util.Comparator;

/**
 * A waiting job as policies see it.
 *
 * @param spec          the job
 * @param needMib       the memory the engine plans for (estimate plus margin)
 * @param needCertain   whether {@code needMib} is known for certain (the simulator's true peak)
 * @param seq           arrival sequence number (ties in submit time keep trace order)
 * @param attempt       number of the attempt it waits for (1 = first)
 * @param progress      work already done and kept (checkpoint), in [0,1)
 * @param estimateNote  where {@code needMib} comes from, for people
 * @param queuedS       when it (re)entered the queue
 * @param runtime       how long its whole work is expected to take (the {@link RuntimeEstimator}'s word)
 * @param needSpread    how its need may fall around {@code needMib} ({@link NeedSpread#NONE}: unknown)
 */
public record QueuedJob(JobSpec spec, long needMib, boolean needCertain, long seq, int attempt, double progress, String estimateNote,
                        double queuedS, RuntimeExpectation runtime, NeedSpread needSpread) {
    /** First come, first served. */
    public static final Comparator<QueuedJob> ARRIVAL = Comparator.comparingDouble((QueuedJob q) -> q.spec().submitS())
            .thenComparingLong(QueuedJob::seq);

    public String id() {
        return spec.id();
    }

    /** Expected seconds of the work left, alone on a whole GPU. */
    public double remainingWholeGpuS() {
        return runtime.wholeGpuS() * (1 - progress);
    }
}
