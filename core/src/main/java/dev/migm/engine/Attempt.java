package dev.migm.engine;

/**
 * One run of a job on one slot. A job has attempts 1, 2, ... (a new one after an OOM, an early
 * restart or a failed launch).
 *
 * @param jobId         the job
 * @param number        1 for the first attempt
 * @param slot          where it runs
 * @param launchS       when its process was launched
 * @param startProgress share of the job's work already done when it starts (from a checkpoint), in [0,1)
 */
public record Attempt(String jobId, int number, Slot slot, double launchS, double startProgress) {
}
