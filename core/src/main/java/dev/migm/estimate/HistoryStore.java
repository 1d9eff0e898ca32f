package dev.migm.estimate;

import dev.migm.engine.JobClass;
import java.util.List;

/**
 * What earlier attempts of each application used: the {@code history} estimator's memory. The
 * in-memory store serves the simulator and tests; the durable journal keeps it across restarts.
 */
public interface HistoryStore {
    /** How an observation came about. */
    enum Kind {
        /** The attempt completed; {@code mib} is its observed peak. */
        COMPLETED,
        /** The attempt ran out of memory; the need was above {@code mib}. */
        OOM,
        /** The attempt was stopped early; its projected peak was {@code mib}. */
        PROJECTED
    }

    /**
     * One observation of an application.
     *
     * @param kind    what happened
     * @param mib     observed peak (completed), the memory it failed at (OOM) or the projected peak
     * @param slotMib the instance's memory
     * @param startMib memory at the start of the run (first sample), 0 if unknown
     * @param jobId    the job it was observed on ("" when not known: tests, imports)
     * @param attempt  the attempt it was observed on (0 when not known)
     */
    record Observation(Kind kind, long mib, long slotMib, long startMib, String jobId, int attempt) {
        public Observation(Kind kind, long mib, long slotMib) {
            this(kind, mib, slotMib, 0, "", 0);
        }
    }

    /**
     * Records an observation. One that carries a job and an attempt is recorded once: a second
     * observation of the same job and attempt (a replayed journal) is ignored.
     */
    void record(String app, JobClass jobClass, Observation observation);

    /**
     * The most recent completed observations with a known start of every application of a class,
     * unmodifiable: a store may hand out the same list until the class's history changes (callers
     * may keep what they worked out from a list with it).
     */
    List<Observation> growthObservations(JobClass jobClass);

    /**
     * The most recent observations of an application, oldest first (at most a bounded number), as an
     * immutable list: the same object until the application's history changes, or a new one each
     * call (readers may cache what they derive from a list by its identity).
     */
    List<Observation> observations(String app);
}
