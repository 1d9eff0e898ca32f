package dev.migm.engine;

/** Observes job transitions (journal, metrics, reports). Called on the engine's thread. */
public interface EngineListener {
    default void attemptLaunched(JobView job, Attempt attempt) {
    }

    default void attemptEnded(JobView job, Attempt attempt, Outcome outcome, double nowS) {
    }

    default void jobEnded(JobView job) {
    }

    /** A submit was refused (a duplicate id); nothing of the engine changed. */
    default void submitRejected(JobSpec spec, String reason) {
    }
}
