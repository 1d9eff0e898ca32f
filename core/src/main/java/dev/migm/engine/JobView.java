package dev.migm.engine;

import java.util.List;
import java.util.Optional;

/**
 * A snapshot of a job for reports and listeners.
 *
 * @param heldSliceSeconds compute slices times seconds its attempts held
 * @param ooms             attempts that ended out of memory
 */
public record JobView(JobSpec spec, JobState state, List<Attempt> attempts, double firstLaunchS, double endS,
                      double heldSliceSeconds, int ooms, String lastReason, long needMib, String needSource) {
    public JobView {
        attempts = List.copyOf(attempts);
    }

    /** The attempt that holds an instance now (the job is starting or running), if any. */
    public Optional<Attempt> holding() {
        return (state == JobState.STARTING || state == JobState.RUNNING) && !attempts.isEmpty()
                ? Optional.of(attempts.getLast()) : Optional.empty();
    }
}
