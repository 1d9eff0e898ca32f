package dev.migm.engine;

/**
 * How an attempt ended: what a live node observes of it (exit status, memory seen, the job's own
 * checkpoint), never the world's accounting of the work it did.
 */
public sealed interface Outcome {
    /**
     * The job finished its work. What the executor's monitoring saw of its memory (NVML's per-process
     * used memory, sampled; never more than the instance holds): the highest and the first sample,
     * 0 when no sample was taken.
     */
    record Completed(long peakSampledMib, long firstSampledMib) implements Outcome {
    }

    /**
     * The job ran out of its instance's memory (CUDA OOM or its MIG signatures).
     *
     * @param usedMib    memory it was seen to hold when it failed (at most the instance's)
     * @param evidence   the message or rule that classified it
     * @param checkpoint its job's last checkpoint, as the job wrote it
     */
    record OutOfMemory(long usedMib, String evidence, Checkpoint checkpoint) implements Outcome {
    }

    /**
     * migm stopped the attempt (early restart, cancel, time limit); {@code checkpoint} is its job's
     * last, as the job wrote it (one that checkpoints writes one on the stop signal).
     */
    record Stopped(String why, Checkpoint checkpoint) implements Outcome {
    }

    /** The process failed for another reason. */
    record Crashed(String reason) implements Outcome {
    }

    /**
     * The job's command could not be started as its submitter: its program is not there or not
     * executable, or its working directory cannot be entered. A fault of the job, not of the node:
     * another attempt would fail the same way, so the job fails at once.
     */
    record CannotStart(String reason) implements Outcome {
    }
}
