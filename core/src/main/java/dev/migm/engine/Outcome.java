package dev.migm.engine;

/** How an attempt ended. */
public sealed interface Outcome {
    /** The job finished its work; {@code peakMib} is the most memory it was seen to hold (0 if unknown). */
    record Completed(long peakMib) implements Outcome {
    }

    /**
     * The job ran out of its instance's memory (CUDA OOM or its MIG signatures).
     *
     * @param usedMib             memory it held or tried to reach when it failed (a lower bound of its need)
     * @param evidence            the message or rule that classified it
     * @param reachedProgress     progress when it failed
     * @param checkpointedProgress progress its last checkpoint kept
     */
    record OutOfMemory(long usedMib, String evidence, double reachedProgress, double checkpointedProgress)
            implements Outcome {
    }

    /** migm stopped the attempt (early restart, cancel); progress is what it had checkpointed. */
    record Stopped(String why, double reachedProgress, double checkpointedProgress) implements Outcome {
    }

    /** The process failed for another reason. */
    record Crashed(String reason) implements Outcome {
    }
}
