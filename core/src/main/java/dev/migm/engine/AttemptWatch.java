package dev.migm.engine;

/**
 * What the engine does with what a running attempt shows and with its limits: its process reported
 * up (the monitor starts, and an executor that can has its samples judged ahead), its memory samples
 * (the early-restart trigger of its {@link AttemptMonitor}), the job's time limit and the launch
 * time-out. Each stop it decides is journaled ({@link EngineRecord.StopRequested}) before the
 * executor is asked; the attempt's exit then comes back as any exit does.
 */
final class AttemptWatch {
    private final EngineMoves engine;
    private final Clock clock;
    private final Executor executor;
    private final EngineSettings settings;
    /** Attempts stopped because their projected peak did not fit their instance. */
    long earlyRestarts;
    /** Attempts stopped at their checkpoint to give their slices to a waiting job. */
    long preemptions;

    AttemptWatch(EngineMoves engine, Clock clock, Executor executor, EngineSettings settings) {
        this.engine = engine;
        this.clock = clock;
        this.executor = executor;
        this.settings = settings;
    }

    /** The job's current attempt, if it is the one numbered; null otherwise (an answer that came late). */
    private Job current(String jobId, int attempt) {
        Job job = engine.job(jobId);
        return job == null || job.current == null || job.current.number() != attempt ? null : job;
    }

    /** An attempt's process is up: it runs, and an executor that can may have its samples judged ahead. */
    void running(EngineEvent.AttemptRunning r) {
        Job job = current(r.jobId(), r.attempt());
        if (job == null || job.state() != JobState.STARTING) {
            return;
        }
        engine.record(new EngineRecord.AttemptRunning(clock.nowS(), r.jobId(), r.attempt()));
        AttemptMonitor monitor = job.monitor;
        monitor.runningSinceS = clock.nowS();
        Attempt attempt = job.current;
        executor.judgeAhead(attempt, (sequence, takenAtS, usedMib, progress) ->
                job.current == attempt && monitor.judgeAhead(takenAtS, usedMib, progress));
    }

    void sampled(EngineEvent.MemorySample m) {
        Job job = current(m.jobId(), m.attempt());
        if (job == null || job.stopRequested) {
            return;
        }
        if (!EarlyRestart.keeps(m.sequence(), settings.earlyRestart().window())) {
            // Not one the trigger keeps: only the attempt's first and highest memory count.
            job.monitor.keepPeak(m.usedMib());
            return;
        }
        long projected = job.monitor.judge(clock.nowS(), m.usedMib(), m.reportedProgress());
        if (projected > 0) restartEarly(job, projected);
    }

    void sampleFired(EngineEvent.SampleFired f) {
        Job job = current(f.jobId(), f.attempt());
        if (job == null || job.stopRequested || job.monitor.firedAheadMib == 0) {
            return;
        }
        restartEarly(job, job.monitor.firedAheadMib);
    }

    void timeLimitReached(EngineEvent.TimeLimitReached t) {
        Job job = current(t.jobId(), t.attempt());
        if (job != null && !job.timedOut) {
            job.timedOut = true;
            job.stopRequested = true;
            stop(job, timeLimitText(job) + " reached", false);
        }
    }

    void launchTimedOut(EngineEvent.LaunchTimedOut t) {
        Job job = current(t.jobId(), t.attempt());
        if (job != null && job.state() == JobState.STARTING) {
            String why = "the process was not reported up in " + settings.launchTimeoutS() + " s";
            stop(job, why, false);
            engine.exited(new EngineEvent.AttemptExited(t.jobId(), t.attempt(), new Outcome.Crashed(why)));
        }
    }

    /** Stops the current attempt, whose projected peak does not fit its instance, to restart it with that peak. */
    private void restartEarly(Job job, long projectedMib) {
        long slotMib = job.current.slot().memoryMib();
        job.stopRequested = true;
        job.projectedMib = projectedMib;
        earlyRestarts++;
        stop(job, "early restart: projected peak " + projectedMib + " MiB > " + slotMib + " MiB of "
                + job.current.slot(), true);
    }

    /** Stops the current attempt to move it to a larger instance ({@link TailGrowth}); it resumes from its checkpoint. */
    void grow(Job job, String why) {
        job.stopRequested = true;
        stop(job, "moved to a larger instance: " + why, false);
    }

    /**
     * Stops the current attempt at its checkpoint so that {@code forJobId}, waiting, gets its slices
     * (the policy's decision, {@link SchedulingContext#preempt}); the job resumes from that checkpoint.
     */
    void yieldTo(Job job, String forJobId, String why) {
        job.stopRequested = true;
        job.yielded = true;
        Job to = engine.job(forJobId);
        if (to != null) to.yieldedTo = true;
        preemptions++;
        record(job, "stopped at its checkpoint for " + forJobId + ": " + why, false, java.util.Optional.of(forJobId));
    }

    /** Journals that the job's current attempt is to stop, then asks the executor to stop it. */
    private void stop(Job job, String why, boolean earlyRestart) {
        record(job, why, earlyRestart, java.util.Optional.empty());
    }

    private void record(Job job, String why, boolean earlyRestart, java.util.Optional<String> forJob) {
        engine.record(new EngineRecord.StopRequested(clock.nowS(), job.spec.id(), job.current.number(), why, earlyRestart,
                forJob));
        executor.stop(job.current, why);
    }

    static String timeLimitText(Job job) {
        return String.format(java.util.Locale.ROOT, "time limit of %.0f s", job.spec.limits().timeLimitS().orElseThrow());
    }
}
