package dev.migm.engine;

import java.util.Set;

/**
 * Says how long a job is expected to run on each slot: the run-time seam beside {@link MemoryPolicy}.
 * Policies size instances and order queues by it, the engine turns a job's elapsed time into its
 * progress with it, and reservations expect running jobs to end by it.
 */
public interface RuntimeEstimator {
    /** The expectation for a job's next attempt. */
    RuntimeExpectation expect(JobSpec job);

    /**
     * Learns from a completed attempt that ran {@code runS} seconds (start-up excluded) on a slot of
     * {@code sms} SMs of a GPU with {@code smFull}, doing {@code workShare} of the job's work (less
     * than 1 when it resumed from a checkpoint).
     */
    default void learn(JobSpec job, int sms, int smFull, double runS, double workShare) {
    }

    /**
     * An attempt of {@code job} runs since {@code sinceS} on a slot of {@code sms} SMs of a GPU with
     * {@code smFull}, from {@code startShare} of its work: while it runs, the time it has run is a
     * lower bound on its application's run time (a censored observation).
     */
    default void running(JobSpec job, int sms, int smFull, double sinceS, double startShare) {
    }

    /** The attempt of {@code job} said {@link #running} to be running has ended (any way). */
    default void notRunning(JobSpec job) {
    }

    /**
     * The time is {@code nowS}: the lower bounds of running attempts are brought up to it (an
     * application whose expectation they raise is invalidated, see {@link #takeInvalidated}).
     */
    default void observe(double nowS) {
    }

    /**
     * The keys whose expectations changed since the last call (an application name, or {@code class:}
     * and a class name, as {@link MemoryPolicy#takeInvalidated}); cleared by the call.
     */
    default Set<String> takeInvalidated() {
        return Set.of();
    }
}
