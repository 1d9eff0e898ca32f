package dev.migm.engine;

/** How an attempt ended. */
public sealed interface Outcome {
    /** The job finished its work. */
    record Completed() implements Outcome {
    }

    /** The job ran out of its instance's memory (CUDA OOM or its MIG signatures). */
    record OutOfMemory(long usedMib, String evidence) implements Outcome {
    }

    /** migm stopped the attempt (early restart, cancel); progress is what it had checkpointed. */
    record Stopped(String why, double checkpointedProgress) implements Outcome {
    }

    /** The process failed for another reason. */
    record Crashed(String reason) implements Outcome {
    }
}
