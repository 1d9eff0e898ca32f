package dev.migm.engine;

import java.util.Comparator;

/**
 * A scheduling policy: decides, whenever the engine's state changed, which waiting jobs run where
 * and how GPUs are repartitioned. Policies hold no job state of their own beyond caches; the same
 * policy object runs in the simulator and live.
 */
public interface SchedulingPolicy {
    /** The name the registry knows it by. */
    String name();

    /** Whether GPUs run in MIG mode under this policy (at start, for a policy that decides modes). */
    default boolean migEnabled() {
        return true;
    }

    /**
     * Whether the policy decides each GPU's MIG mode itself ({@link SchedulingContext#changeMigMode}):
     * then a GPU whose mode may change starts in the mode it has (a restarted node service finds a
     * GPU with MIG off and a job on it), not in {@link #migEnabled()}.
     */
    default boolean decidesMigModes() {
        return false;
    }

    /**
     * Whether, with nothing waiting, the engine may move a run that checkpoints to a larger instance
     * where it ends sooner ({@link TailGrowth}): for a policy that, given a single waiting job whose
     * scaling is known, places it where it finishes first. The paper's peers do neither.
     */
    default boolean movesRunsAtTheTail() {
        return false;
    }

    /** The order of the waiting queue. */
    default Comparator<QueuedJob> queueOrder() {
        return QueuedJob.ARRIVAL;
    }

    /** One scheduling round. */
    void schedule(SchedulingContext context);
}
