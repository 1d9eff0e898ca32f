package dev.migm.engine;

import java.util.OptionalLong;

/**
 * What an attempt's checkpoint says, as the job wrote it: the step it had reached, the job's total
 * steps where the job made that known (it printed its progress against a total, or declared one),
 * and how long before the attempt ended it was written. A checkpoint says the step, never the share
 * of the job's work: that becomes a share only with a known total, or, failing that, by the engine's
 * own reckoning from the time the attempt ran against the run time it expected
 * ({@link AttemptMonitor#keptShare}).
 *
 * @param step    the step the job had reached when it wrote the checkpoint (0: no checkpoint)
 * @param ofSteps the job's total steps, where it is known
 * @param ageS    seconds (modelled) between the checkpoint and the attempt's end; infinite when the
 *                checkpoint is older than the attempt (it was written by an earlier one)
 */
public record Checkpoint(long step, OptionalLong ofSteps, double ageS) {
    /** No checkpoint: the attempt kept nothing beyond where it started. */
    public static final Checkpoint NONE = new Checkpoint(0, OptionalLong.empty(), Double.POSITIVE_INFINITY);

    public Checkpoint {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0");
        if (ofSteps.isPresent() && ofSteps.getAsLong() < 1) throw new IllegalArgumentException("of_steps must be >= 1");
        if (!(ageS >= 0)) throw new IllegalArgumentException("age must be >= 0");
    }

    /**
     * The checkpoint a job wrote at {@code step} (0: none), against the total steps known of it: a
     * total below the step is not the job's total (a declaration or a printed bar of something else)
     * and is not taken.
     */
    public static Checkpoint written(long step, OptionalLong total, double ageS) {
        if (step <= 0) return NONE;
        return new Checkpoint(step, total.isPresent() && total.getAsLong() >= step ? total : OptionalLong.empty(), ageS);
    }

    /** Whether there is a checkpoint at all. */
    public boolean exists() {
        return step > 0;
    }
}
