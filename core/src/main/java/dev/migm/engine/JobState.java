package dev.migm.engine;

import java.util.Locale;

/**
 * Where a job is in its life. The moves between them are one table, {@link JobTransitions}: the
 * engine, the journal's rows and the replay of a journal all take a job from state to state through
 * it, so that they cannot disagree.
 *
 * <pre>
 * SUBMITTED --Submitted--> QUEUED --Placed(ticket)--> PLACING --AttemptLaunched--> STARTING
 *                            ^  \--Placed--> STARTING --AttemptRunning--> RUNNING
 *                            |                                              |
 *                            +--Queued (OOM, early restart, crash, failed plan)--+--Done--> DONE
 * any state that has not ended --Failed--> FAILED, --Cancelled--> CANCELLED
 * </pre>
 *
 * {@code SUBMITTED} is a job committed to a node's journal that its engine has not taken in yet.
 */
public enum JobState {
    SUBMITTED, QUEUED, PLACING, STARTING, RUNNING, DONE, FAILED, CANCELLED;

    /** Whether the job's life is over. */
    public boolean ended() {
        return this == DONE || this == FAILED || this == CANCELLED;
    }

    /** As the journal's rows, the API and the reports write it: the name in lower case. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The state a {@link #label} names. */
    public static JobState ofLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
