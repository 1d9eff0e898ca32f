package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A decision or transition of the engine, in the order it happened: what the {@link Journal} keeps.
 * Every change of a job's state, of a GPU's planned layout and of the engine's counters is one
 * record, emitted before the engine acts on it, so that {@link JournalReplay} rebuilds the same
 * {@link EngineState} from the records alone.
 */
public sealed interface EngineRecord {
    /** When it happened, on the engine's clock. */
    double atS();

    /** The engine started with these GPUs: their layouts and whether MIG is on. */
    record Started(double atS, java.util.List<Layout> layouts, java.util.List<Boolean> migEnabled)
            implements EngineRecord {
        public Started {
            layouts = java.util.List.copyOf(layouts);
            migEnabled = java.util.List.copyOf(migEnabled);
        }
    }

    /** A job was accepted. */
    record Submitted(double atS, JobSpec spec) implements EngineRecord {
    }

    /**
     * A job the node service held when it last stopped, handed to this engine from its durable
     * journal: {@code attempts} launched before (the last one still running when {@code running}, its
     * process adopted), else the job waits for its next attempt from {@code progress}.
     */
    record Recovered(double atS, JobSpec spec, java.util.List<Attempt> attempts, boolean running, long needMib,
                     String needSource, double progress, String lastReason) implements EngineRecord {
        public Recovered {
            attempts = java.util.List.copyOf(attempts);
        }
    }

    /** A submit was refused; nothing changed. */
    record SubmitRejected(double atS, JobSpec spec, String reason) implements EngineRecord {
    }

    /**
     * A job (re)entered the queue for an attempt with this estimate: on submission, after a failed
     * attempt, after a failed reconfiguration, or when its estimates changed.
     *
     * @param attempt    the attempt it waits for
     * @param needMib    the memory planned for
     * @param needSource where that number comes from
     * @param certain    whether it is the oracle's
     * @param progress   work kept from earlier attempts
     * @param runtime    the run-time expectation
     * @param lastReason why the job is where it is ("" when nothing went wrong)
     */
    record Queued(double atS, String jobId, int attempt, long needMib, String needSource, boolean certain,
                  double progress, RuntimeExpectation runtime, String lastReason) implements EngineRecord {
    }

    /**
     * The policy placed a job: on an idle instance, on one a reconfiguration will create (ticket), or
     * on a whole GPU.
     */
    record Placed(double atS, String jobId, int attempt, int gpu, Optional<Instance> instance,
                  Optional<Long> ticket) implements EngineRecord {
    }

    /** A reconfiguration was handed to the backend; the engine plans with {@code result} from now on. */
    record ReconfigurationPlanned(double atS, int gpu, long ticket, Layout base, Layout result, int operations,
                                  Optional<String> forJob) implements EngineRecord {
    }

    /** The backend applied it and the layout read back is {@code layout}. */
    record ReconfigurationApplied(double atS, int gpu, long ticket, Layout layout) implements EngineRecord {
    }

    /** It failed, timed out or the layout read back differs from the plan; {@code layout} is what the GPU has. */
    record ReconfigurationFailed(double atS, int gpu, long ticket, String reason, Layout layout) implements EngineRecord {
        /** How the reason of a plan given up for its time-out begins. */
        public static final String TIMED_OUT = "no answer from the GPU in ";

        /**
         * Whether the plan was given up for its time-out: the GPU may still carry it out and answer late
         * ({@link ReconfigurationAnsweredLate}), so what it would create may yet appear.
         */
        public boolean timedOut() {
            return reason.startsWith(TIMED_OUT);
        }
    }

    /**
     * A plan that had timed out ({@link ReconfigurationFailed}) answered after all, successfully or
     * with {@code failure}: what it created of {@code result} (made from {@code base}) and the GPU
     * still has is migm's; the GPU's layout is {@code layout}, which the engine {@code adopted} unless
     * another plan or a mode change was in flight there or the GPU is lost.
     */
    record ReconfigurationAnsweredLate(double atS, int gpu, long ticket, Layout base, Layout result,
                                       Optional<String> failure, Layout layout, boolean adopted) implements EngineRecord {
    }

    /**
     * The policy asked for a GPU's MIG mode to change ({@code enabled}: to on), on an idle GPU, for
     * {@code why}; nothing goes there until it ends.
     */
    record MigModeChangeRequested(double atS, int gpu, long ticket, boolean enabled, String why)
            implements EngineRecord {
    }

    /**
     * The mode change ended: MIG is {@code enabled} now (the requested mode, or on a failure the mode
     * the GPU kept) and the GPU's layout is {@code layout}.
     */
    record MigModeChangeEnded(double atS, int gpu, long ticket, boolean enabled, Optional<String> failure,
                              Layout layout) implements EngineRecord {
    }

    /**
     * The policy holds up to {@code computeSlices} of a GPU's free compute slices for a waiting job
     * ({@code jobId}) whose slices busy instances are draining (a reservation: only work expected to
     * end before it may use them); 0 and an empty id: it holds none there any more. Recorded when a
     * round changes what is held, for accounting ({@code --explain-makespan}'s drain) and display.
     */
    record SlicesHeld(double atS, int gpu, int computeSlices, String jobId) implements EngineRecord {
    }

    /**
     * An attempt's process was launched on a slot, from the share of its work the engine holds done
     * ({@code startProgress}) and, when the job wrote one, the step of the checkpoint it resumes from
     * (empty: none, or a record of a migm that did not say).
     */
    record AttemptLaunched(double atS, String jobId, int attempt, Slot slot, double startProgress,
                           OptionalLong checkpointStep) implements EngineRecord {
    }

    /** The process is up. */
    record AttemptRunning(double atS, String jobId, int attempt) implements EngineRecord {
    }

    /**
     * migm asked the attempt to stop (early restart, cancel, time-out, a move, a yield).
     *
     * @param forJob the waiting job the stop gives the attempt's slices to (a preemption at its
     *               checkpoint); empty for every other stop, and in records of a migm that did not say
     */
    record StopRequested(double atS, String jobId, int attempt, String why, boolean earlyRestart,
                         Optional<String> forJob) implements EngineRecord {
    }

    /** The attempt's process exited, classified. */
    record AttemptExited(double atS, String jobId, int attempt, Outcome outcome) implements EngineRecord {
    }

    /** What an attempt taught the estimators (history is keyed by job and attempt: a replay counts it once). */
    record Learned(double atS, String jobId, int attempt, String app, JobClass jobClass, String what, long mib,
                   long slotMib) implements EngineRecord {
    }

    /** A command could not be carried out (cancel of an unknown or ended job, drain of no GPU). */
    record CommandRefused(double atS, String command, String reason) implements EngineRecord {
    }

    /** Someone asked to cancel a job that is placed or running: its process is being stopped. */
    record CancelRequested(double atS, String jobId, String by) implements EngineRecord {
    }

    /** The job ended cancelled. */
    record Cancelled(double atS, String jobId, String reason) implements EngineRecord {
    }

    /** A GPU was drained ({@code drain}) or returned to service. */
    record GpuDrain(double atS, int gpu, boolean drain) implements EngineRecord {
    }

    /** A GPU was lost, or ({@code lost} false) answers again with {@code layout}. */
    record GpuHealth(double atS, int gpu, boolean lost, String reason, Layout layout) implements EngineRecord {
    }

    /** The job finished. */
    record Done(double atS, String jobId) implements EngineRecord {
    }

    /** The job ended without finishing, for this reason. */
    record Failed(double atS, String jobId, String reason) implements EngineRecord {
    }
}
