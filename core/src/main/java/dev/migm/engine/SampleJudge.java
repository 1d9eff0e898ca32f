package dev.migm.engine;

/**
 * Offered to an executor that knows an attempt's samples before they are taken (the simulator's
 * workload model), so that it need not send each as an event ({@link Executor#judgeAhead}).
 */
@FunctionalInterface
public interface SampleJudge {
    /**
     * Judges the attempt's sample number {@code sequence}, to be taken at {@code takenAtS}; only the
     * samples {@link EarlyRestart#keeps} keeps are offered, in order, and only until one returns true:
     * the early-restart trigger fires on it, and the executor then sends {@link EngineEvent.SampleFired}
     * at {@code takenAtS}, when the engine acts on it as on a sample taken then. Judging ahead changes
     * nothing the engine knows of the attempt before that time: the verdict is kept aside until its
     * sample is due.
     */
    boolean offer(long sequence, double takenAtS, long usedMib, java.util.Optional<ReportedProgress> reportedProgress);
}
