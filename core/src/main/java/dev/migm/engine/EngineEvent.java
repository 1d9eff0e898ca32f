package dev.migm.engine;

import java.util.Optional;

/** What happens to the engine. Delivered one at a time, in time order, on the engine's thread. */
public sealed interface EngineEvent {
    /**
     * Someone asks to cancel a job. A queued job ends cancelled at once; a placed or running one
     * is stopped and ends cancelled when its process exits (done, if it finished first). A job
     * that already ended, or an unknown id, is a refused command.
     */
    record CancelJob(String jobId, String by) implements EngineEvent {
    }

    /** An admin drains a GPU (no new work; running jobs finish) or returns it to service. */
    record DrainGpu(int gpu, boolean drain) implements EngineEvent {
    }

    /**
     * A GPU stopped answering ({@code NVML_ERROR_GPU_IS_LOST}): the attempts on it end as crashes and
     * their jobs are requeued elsewhere from their checkpoints; nothing goes there until it is back.
     */
    record GpuLost(int gpu, String reason) implements EngineEvent {
    }

    /** A lost GPU answers again; its layout is read back. */
    record GpuRecovered(int gpu) implements EngineEvent {
    }

    /** A time the policy asked to be woken at (a reservation's deadline) has come. */
    record Wake() implements EngineEvent {
    }

    /**
     * The driver's input holds no more jobs: {@code migm run}'s file (and the simulator's trace, which
     * stands for one) has had its last job submitted, the one submitted at {@code lastSubmitS} (its
     * spec's submit time). Knowledge a run has and a node service never has: the daemon does not send
     * it.
     */
    record InputClosed(double lastSubmitS) implements EngineEvent {
    }

    /** A reconfiguration's time-out expired (ignored when it answered already). */
    record ReconfigurationTimedOut(int gpu, long ticket) implements EngineEvent {
    }

    /** A launch's time-out expired (ignored when the process was reported up or gone already). */
    record LaunchTimedOut(String jobId, int attempt) implements EngineEvent {
    }

    /** An attempt's time limit ({@link JobSpec.Limits#timeLimitS}) expired (ignored when it ended already). */
    record TimeLimitReached(String jobId, int attempt) implements EngineEvent {
    }

    /** A job arrived. A job whose id the engine already holds is rejected, not an error of the loop. */
    record JobSubmitted(JobSpec spec) implements EngineEvent {
    }

    /**
     * A MIG mode change the engine asked for ended ({@link GpuBackend#changeMigMode}); {@code failure}
     * is empty on success, and the GPU then has MIG {@code enabled} and no instances.
     */
    record MigModeChanged(int gpu, long ticket, Optional<String> failure) implements EngineEvent {
    }

    /** A reconfiguration the engine asked for ended; {@code failure} is empty on success. */
    record ReconfigurationFinished(int gpu, long ticket, Optional<String> failure) implements EngineEvent {
    }

    /** An attempt's process is up (CUDA context created) and makes progress. */
    record AttemptRunning(String jobId, int attempt) implements EngineEvent {
    }

    /** An attempt's process exited. */
    record AttemptExited(String jobId, int attempt, Outcome outcome) implements EngineEvent {
    }

    /**
     * A memory sample of a running attempt (for the run-time projection): the memory NVML reports
     * for its process (never more than its instance holds) and, if the job reports it, its own
     * progress as it last said it, with how long ago (what it printed, or the progress file migm
     * names to every job); empty otherwise, and then the engine knows only the time elapsed. {@code sequence} numbers the attempt's samples from 0; the
     * early-restart trigger keeps those {@link EarlyRestart#keeps} says, so a sampler may
     * leave out the others (the simulator does: they would change nothing).
     */
    record MemorySample(String jobId, int attempt, long usedMib, java.util.Optional<ReportedProgress> reportedProgress,
                        long sequence) implements EngineEvent {
    }

    /**
     * The sample of a running attempt that an executor judged ahead of its time
     * ({@link SampleJudge}) and on which the early-restart trigger fired is taken now: the
     * engine stops the attempt as it would on that sample delivered as a {@link MemorySample}.
     */
    record SampleFired(String jobId, int attempt) implements EngineEvent {
    }
}
