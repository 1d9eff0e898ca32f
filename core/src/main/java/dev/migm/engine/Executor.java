package dev.migm.engine;

/**
 * Runs attempts: real processes live, the workload model in the simulator. Reports
 * {@link EngineEvent.AttemptRunning}, {@link EngineEvent.MemorySample} and
 * {@link EngineEvent.AttemptExited} through the sink.
 */
public interface Executor {
    void launch(Attempt attempt, JobSpec spec, EventSink sink);

    /** Asks a running attempt to stop (signal, then kill after a grace period). */
    void stop(Attempt attempt, String why);
}
