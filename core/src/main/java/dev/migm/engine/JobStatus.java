package dev.migm.engine;

import java.util.Optional;

/**
 * One job's state as values: what {@link JobTransitions} carries from record to record, what a
 * node's journal keeps in its row, and what {@link EngineState} holds per job.
 *
 * @param state       where it is in its life
 * @param attempts    attempts launched so far
 * @param needMib     the memory planned for its next or current attempt
 * @param needSource  where that number comes from
 * @param progress    work kept from earlier attempts (what the current or next attempt starts from)
 * @param slot        where its current attempt runs or will run, if placed ({@code gpuN:profile@start}
 *                    or {@code gpuN:whole})
 * @param lastReason  why it is where it is ("" when nothing went wrong; a job that ended done keeps
 *                    the reason of its last setback)
 */
public record JobStatus(JobState state, int attempts, long needMib, String needSource, double progress,
                        Optional<String> slot, String lastReason) {
    /** A job committed and not yet taken in by an engine. */
    public static final JobStatus SUBMITTED = new JobStatus(JobState.SUBMITTED, 0, 0, "", 0, Optional.empty(), "");
}
