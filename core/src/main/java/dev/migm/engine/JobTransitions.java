package dev.migm.engine;

import dev.migm.gpu.Instance;
import java.util.Optional;

/**
 * The job state machine, defined once: how each {@link EngineRecord} about a job moves it from one
 * {@link JobStatus} to the next. The engine applies it to its jobs as it journals each record, the
 * node's journal to its rows ({@code NodeJournal}), and {@link JournalReplay} to a journal's records:
 * three holders of a job's state, one table, so that the live engine, the durable journal and a
 * replay agree record by record ({@code StateMachineTest} drives random runs through all three).
 * Records that are not about a job's state ({@link EngineRecord.Learned}, a stop asked for) leave it
 * as it was.
 */
public final class JobTransitions {
    private JobTransitions() {
    }

    /** The job a record is about, or null (records about GPUs or the node). */
    public static String jobOf(EngineRecord r) {
        return switch (r) {
            case EngineRecord.Submitted s -> s.spec().id();
            case EngineRecord.Recovered s -> s.spec().id();
            case EngineRecord.SubmitRejected s -> s.spec().id();
            case EngineRecord.Queued q -> q.jobId();
            case EngineRecord.Placed p -> p.jobId();
            case EngineRecord.AttemptLaunched l -> l.jobId();
            case EngineRecord.AttemptRunning a -> a.jobId();
            case EngineRecord.StopRequested s -> s.jobId();
            case EngineRecord.AttemptExited x -> x.jobId();
            case EngineRecord.Learned l -> l.jobId();
            case EngineRecord.CancelRequested c -> c.jobId();
            case EngineRecord.Cancelled c -> c.jobId();
            case EngineRecord.Done d -> d.jobId();
            case EngineRecord.Failed f -> f.jobId();
            case EngineRecord.ReconfigurationPlanned p -> p.forJob().orElse(null);
            default -> null;
        };
    }

    /** Whether the record moves its job's state (the others only inform). */
    public static boolean moves(EngineRecord r) {
        return switch (r) {
            case EngineRecord.Submitted _, EngineRecord.Recovered _, EngineRecord.Queued _, EngineRecord.Placed _,
                 EngineRecord.AttemptLaunched _, EngineRecord.AttemptRunning _, EngineRecord.AttemptExited _,
                 EngineRecord.Done _, EngineRecord.Cancelled _, EngineRecord.Failed _ -> true;
            default -> false;
        };
    }

    /** The job's status after {@code r}, a record about it, from {@code before}. */
    public static JobStatus apply(JobStatus before, EngineRecord r) {
        JobStatus s = before;
        return switch (r) {
            // Taken in by the engine: waiting, nothing planned yet (its Queued record follows).
            case EngineRecord.Submitted x -> s.state() == JobState.SUBMITTED
                    ? new JobStatus(JobState.QUEUED, 0, 0, "", 0, Optional.empty(), "") : s;
            case EngineRecord.Recovered x -> new JobStatus(x.running() ? JobState.RUNNING : JobState.QUEUED,
                    x.attempts().size(), x.needMib(), x.needSource(), x.progress(),
                    x.running() ? Optional.of(x.attempts().getLast().slot().toString()) : Optional.empty(),
                    x.lastReason());
            case EngineRecord.Queued q -> new JobStatus(JobState.QUEUED, s.attempts(), q.needMib(), q.needSource(),
                    q.progress(), Optional.empty(), q.lastReason());
            case EngineRecord.Placed p -> new JobStatus(p.ticket().isPresent() ? JobState.PLACING : JobState.STARTING,
                    s.attempts(), s.needMib(), s.needSource(), s.progress(),
                    Optional.of("gpu" + p.gpu() + ":" + p.instance().map(Instance::toString).orElse("whole")),
                    s.lastReason());
            case EngineRecord.AttemptLaunched l -> new JobStatus(JobState.STARTING, l.attempt(), s.needMib(),
                    s.needSource(), s.progress(), Optional.of(l.slot().toString()), s.lastReason());
            case EngineRecord.AttemptRunning a -> new JobStatus(JobState.RUNNING, s.attempts(), s.needMib(),
                    s.needSource(), s.progress(), s.slot(), s.lastReason());
            // The attempt is over; what follows (Queued, Done, Failed, Cancelled) says where the job goes.
            case EngineRecord.AttemptExited x -> new JobStatus(s.state(), s.attempts(), s.needMib(), s.needSource(),
                    s.progress(), Optional.empty(), s.lastReason());
            case EngineRecord.Done d -> new JobStatus(JobState.DONE, s.attempts(), s.needMib(), s.needSource(),
                    s.progress(), Optional.empty(), s.lastReason());
            case EngineRecord.Failed f -> new JobStatus(JobState.FAILED, s.attempts(), s.needMib(), s.needSource(),
                    s.progress(), Optional.empty(), f.reason());
            case EngineRecord.Cancelled c -> new JobStatus(JobState.CANCELLED, s.attempts(), s.needMib(),
                    s.needSource(), s.progress(), Optional.empty(), c.reason());
            default -> s;
        };
    }
}
