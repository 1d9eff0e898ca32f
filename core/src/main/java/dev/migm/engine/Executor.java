package dev.migm.engine;

/**
 * Runs attempts: real processes live, the workload model in the simulator. Reports
 * {@link EngineEvent.AttemptRunning}, {@link EngineEvent.MemorySample} (or, judged ahead,
 * {@link EngineEvent.SampleFired}) and {@link EngineEvent.AttemptExited} through the sink.
 */
public interface Executor {
    void launch(Attempt attempt, JobSpec spec, EventSink sink);

    /** Asks a running attempt to stop (signal, then kill after a grace period). */
    void stop(Attempt attempt, String why);

    /**
     * Called when an attempt is running: an executor that knows the memory samples the attempt will
     * report before they are taken (the simulator's workload model) may offer them, in order, to
     * {@code judge} now instead of sending each as a {@link EngineEvent.MemorySample}, and then sends
     * {@link EngineEvent.SampleFired} at the time of the one the judge fires on (if it is still
     * running then). The judge's verdict on a sample rests only on that sample and the ones before
     * it, so the engine acts at the same time, on the same knowledge, as with every sample sent
     * when taken: the samples are computed early, not known early. Live executors cannot, and
     * send samples as they take them.
     */
    default void judgeAhead(Attempt attempt, SampleJudge judge) {
    }
}
