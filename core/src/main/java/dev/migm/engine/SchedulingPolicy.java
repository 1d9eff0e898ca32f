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

    /** Whether GPUs run in MIG mode under this policy. */
    default boolean migEnabled() {
        return true;
    }

    /** The order of the waiting queue. */
    default Comparator<QueuedJob> queueOrder() {
        return QueuedJob.ARRIVAL;
    }

    /** One scheduling round. */
    void schedule(SchedulingContext context);
}
