package dev.migm.exec;

import dev.migm.energy.PowerModel;
import dev.migm.engine.Attempt;
import dev.migm.engine.Checkpoint;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Executor;
import dev.migm.virtual.GpuActivity;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.ReportedProgress;
import dev.migm.virtual.VirtualTime;
import dev.migm.gpu.GpuModel;
import dev.migm.workload.RuntimeModel;
import dev.migm.workload.Truth;
import dev.migm.workload.WorkloadModel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;

/**
 * Plays each job as its workload model says, in virtual time (models.md): start-up ({@code startupS},
 * no progress, no dynamic power), then progress at the speed the slot gives
 * ({@link RuntimeModel#runtimeS}); memory follows the job's base-to-peak line and an attempt whose
 * memory exceeds its slot dies of OOM at that moment, keeping the work of its last checkpoint.
 * {@link #stop} is the signal of an early restart or a cancel: a job that checkpoints writes a
 * checkpoint on the signal and keeps all its progress (the convention of Slurm's requeue signal and
 * of trainers that checkpoint on SIGTERM); one that does not exits and keeps only what it had.
 *
 * <p>The world's own state stays here: the share of each job's work its checkpoints keep, from which
 * its next attempt starts (the engine's belief of it, {@link Attempt#startProgress}, is the engine's
 * and is never read here), and what each attempt did and lost, told only to a {@link WorkLedger}
 * (the simulator's accounting), never to the engine.
 *
 * <p>It reports only what a live node could see (the engine's contract): memory as NVML's per-process
 * used memory ({@code nvmlDeviceGetComputeRunningProcesses}), sampled every {@link Sampling#periodS()}
 * seconds of run time, rounded up to the 2 MiB granularity of CUDA allocations and never above the
 * instance's memory; an OOM's memory as the instance's limit at most; a completion's peak as the
 * highest sample; a checkpoint as the step the job wrote (one step per second of its work alone on a
 * whole GPU), with the total only for a job that reports its progress. Progress only from jobs whose
 * model says they report it, never otherwise. With sampling events on, each sample is an event with a seeded relative jitter
 * of {@link Sampling#jitter()}; with them off (fast runs), the same monitoring is summed up at exit.
 */
public final class ModelExecutor implements Executor {
    /**
     * Memory sampling: events on or off, period, relative jitter, seed, and {@code keptWindow}: when
     * positive, only the samples the early-restart trigger with that window keeps are sent as events
     * ({@link dev.migm.engine.EarlyRestart#keeps}; the others would change nothing), while the
     * first and highest sample an exit reports are those of sampling every period. {@code ahead}:
     * the samples are offered to the engine's judge when the attempt is running
     * ({@link Executor#judgeAhead}) instead of each being an event; the same samples, verdicts and
     * times, at the cost of a loop step instead of an event each.
     */
    public record Sampling(boolean enabled, double periodS, double jitter, long seed, int keptWindow, boolean ahead) {
        public static final Sampling OFF = new Sampling(false, 1.0, 0, 0, 0, false);
        public static final Sampling DEFAULT = new Sampling(true, 1.0, 0.01, 42, 0, true);

        public Sampling(boolean enabled, double periodS, double jitter, long seed) {
            this(enabled, periodS, jitter, seed, 0, true);
        }

        /** Only the samples a trigger of this window keeps. */
        public Sampling keptOnly(int window) {
            return new Sampling(enabled, periodS, jitter, seed, window, ahead);
        }

        /** Every sample an event at its time, none judged ahead (what a live sampler does). */
        public Sampling asEvents() {
            return new Sampling(enabled, periodS, jitter, seed, keptWindow, false);
        }
    }

    private final VirtualTime time;
    private final List<GpuModel> gpus;
    private final GpuActivity activity;
    private final Truth truth;
    private final double startupS;
    private final Sampling sampling;
    private final Map<String, Running> running = new HashMap<>();
    /** The share of each job's work its checkpoints keep (absent: none), the world's truth. */
    private final Map<String, Double> kept = new HashMap<>();
    private WorkLedger ledger = WorkLedger.NONE;

    /**
     * Where the world tells what an attempt that did not complete did: the share of its job's work
     * done when it started, when it ended, and what its checkpoints keep. The simulator's accounting
     * of lost work reads it; the engine never does.
     */
    public interface WorkLedger {
        WorkLedger NONE = (attempt, endS, started, reached, keptShare) -> { };

        void attemptEnded(Attempt attempt, double endS, double started, double reached, double keptShare);
    }

    /** Tells what each attempt that did not complete did to {@code ledger}. */
    public void keepLedger(WorkLedger ledger) {
        this.ledger = ledger;
    }

    /** Forgets an ended job's checkpoint (a streamed run keeps only live jobs). */
    public void forget(String jobId) {
        kept.remove(jobId);
    }

    private static final class Running {
        final Attempt attempt;
        final WorkloadModel model;
        /** The share of the job's work done when the attempt started (its checkpoint), the world's truth. */
        final double startProgress;
        final double runStartS;
        final double workS;
        final double exitS;
        final EventSink sink;
        long firstSampleMib;
        long peakSampleMib;
        /** Still the job's attempt in play (not exited, stopped or replaced): its alarms still count. */
        boolean current = true;

        Running(Attempt attempt, WorkloadModel model, double startProgress, double runStartS, double workS, double exitS,
                EventSink sink) {
            this.attempt = attempt;
            this.model = model;
            this.startProgress = startProgress;
            this.runStartS = runStartS;
            this.workS = workS;
            this.exitS = exitS;
            this.sink = sink;
        }

        double progressAt(double t) {
            return Math.min(1.0, startProgress + Math.max(0, t - runStartS) / workS);
        }
    }

    public ModelExecutor(VirtualTime time, List<GpuModel> gpus, GpuActivity activity, Truth truth, double startupS,
                         Sampling sampling) {
        this.time = time;
        this.gpus = List.copyOf(gpus);
        this.activity = activity;
        this.truth = truth;
        this.startupS = startupS;
        this.sampling = sampling;
    }

    @Override
    public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
        WorkloadModel model = truth.of(attempt.jobId());
        int smFull = gpus.get(attempt.slot().gpu()).sms();
        long slotMib = attempt.slot().memoryMib();
        double workS = RuntimeModel.runtimeS(model, attempt.slot().sms(), smFull);
        String key = attempt.jobId();
        activity.processStarted(attempt.slot(), key);
        double runStart = time.nowS() + startupS;
        double start = kept.getOrDefault(key, 0.0);
        double oomAt = RuntimeModel.progressExceeding(model, slotMib);
        boolean dies = !Double.isNaN(oomAt);
        double endProgress = dies ? Math.max(start, oomAt) : 1.0;
        double exitS = runStart + (endProgress - start) * workS;
        Running run = new Running(attempt, model, start, runStart, workS, exitS, sink);
        Running replaced = running.put(key, run);
        if (replaced != null) replaced.current = false;
        double share = PowerModel.dynamicShare(model.activity(), model.sat(), attempt.slot().sms(), smFull);
        time.at(runStart, () -> {
            if (run.current) {
                activity.processActivity(attempt.slot().gpu(), key, share);
                sink.deliver(new EngineEvent.AttemptRunning(key, attempt.number()));
            }
        });
        if (sampling.enabled()) {
            if (sampling.keptWindow() > 0) summarizeMonitoring(run);
            // Judged ahead, the first sample the engine would have seen is sample 0 as taken (with its
            // noise), as when it is sent as an event: the outcome reports that one.
            if (judgesAhead()) run.firstSampleMib = 0;
            if (!judgesAhead()) scheduleSample(run, 0, randomFor(attempt));
        } else {
            summarizeMonitoring(run);
        }
        time.at(exitS, () -> {
            if (!run.current) {
                return;
            }
            run.current = false;
            running.remove(key);
            activity.processExited(attempt.slot(), key);
            Outcome outcome;
            if (dies) {
                double keptShare = Math.max(start, RuntimeModel.lastCheckpoint(model, endProgress));
                // A checkpoint written during this attempt is as old as the work done since.
                double ageS = keptShare > start ? (endProgress - keptShare) * workS : Double.POSITIVE_INFINITY;
                kept.put(key, keptShare);
                ledger.attemptEnded(attempt, exitS, start, endProgress, keptShare);
                outcome = new Outcome.OutOfMemory(slotMib, "CUDA out of memory (model: the job needs more than the"
                        + " instance's " + slotMib + " MiB)", checkpoint(model, keptShare, ageS));
            } else {
                kept.remove(key);
                outcome = new Outcome.Completed(run.peakSampleMib, run.firstSampleMib);
            }
            sink.deliver(new EngineEvent.AttemptExited(key, attempt.number(), outcome));
        });
    }

    /**
     * The checkpoint a job keeping {@code share} of its work wrote, as the job writes it: the step
     * (one per second of its work alone on a whole GPU), the total only for a job that reports its
     * progress, and its age; none when nothing is kept.
     */
    static Checkpoint checkpoint(WorkloadModel model, double share, double ageS) {
        if (!(share > 0)) return Checkpoint.NONE;
        long steps = RuntimeModel.steps(model);
        return Checkpoint.written(Math.max(1, Math.round(share * steps)),
                model.reportsProgress() ? OptionalLong.of(steps) : OptionalLong.empty(), ageS);
    }

    /** What NVML reports for the job's process at a progress: 2 MiB granularity, at most the instance. */
    private static long reported(double mib, long slotMib) {
        return Math.min(slotMib, (long) (Math.ceil(mib / 2.0) * 2));
    }

    /**
     * Without sample events, the monitoring that samples every period is summed up: the first sample
     * and the highest (memory only grows, so the last before exit), both noise-free.
     */
    private void summarizeMonitoring(Running run) {
        double exitS = run.exitS;
        double first = run.runStartS + sampling.periodS();
        if (first >= exitS) {
            return;
        }
        long ticks = (long) Math.floor((exitS - run.runStartS) / sampling.periodS() - 1e-9);
        double last = run.runStartS + ticks * sampling.periodS();
        long slotMib = run.attempt.slot().memoryMib();
        run.firstSampleMib = reported(RuntimeModel.memoryMibAt(run.model, run.progressAt(first)), slotMib);
        run.peakSampleMib = reported(RuntimeModel.memoryMibAt(run.model, run.progressAt(last)), slotMib);
    }

    /** Samples are judged ahead: asked for, and only the kept ones of a known window to offer. */
    private boolean judgesAhead() {
        return sampling.enabled() && sampling.ahead() && sampling.keptWindow() > 0;
    }

    /** The seeded jitter of an attempt's samples: the same draws whether its samples are events or judged ahead. */
    private SplittableRandom randomFor(Attempt attempt) {
        return new SplittableRandom(sampling.seed() ^ attempt.jobId().hashCode() * 31L ^ attempt.number());
    }

    /** Sample number {@code sequence} (from 0) of the attempt, one period after the one before. */
    private void scheduleSample(Running run, long sequence, SplittableRandom random) {
        double at = run.runStartS + (sequence + 1) * sampling.periodS();
        if (at >= run.exitS) {
            return;
        }
        time.at(at, () -> {
            if (!run.current) {
                return;
            }
            long used = takeSample(run, at, random);
            run.sink.deliver(new EngineEvent.MemorySample(run.attempt.jobId(), run.attempt.number(), used,
                    reportedProgress(run, at), sequence));
            scheduleSample(run, nextSample(sequence), random);
        });
    }

    private long nextSample(long sequence) {
        return sampling.keptWindow() > 0
                ? dev.migm.engine.EarlyRestart.nextKept(sequence, sampling.keptWindow()) : sequence + 1;
    }

    /** What NVML would report for the attempt's process at {@code atS}, also kept as its first and highest sample. */
    private long takeSample(Running run, double atS, SplittableRandom random) {
        double mib = RuntimeModel.memoryMibAt(run.model, run.progressAt(atS));
        mib *= 1 + sampling.jitter() * (2 * random.nextDouble() - 1);
        long used = reported(mib, run.attempt.slot().memoryMib());
        if (run.firstSampleMib == 0) {
            run.firstSampleMib = used;
        }
        run.peakSampleMib = Math.max(run.peakSampleMib, used);
        return used;
    }

    /**
     * The progress a job that reports it last said by {@code atS}: its progress then, for one that
     * says it at every sample; for one that says it every {@code progressEveryS} of its run, what it
     * said at the last such time (from the run's start, when it says where it starts), as old as
     * the time since.
     */
    private static java.util.Optional<ReportedProgress> reportedProgress(Running run, double atS) {
        if (!run.model.reportsProgress()) return java.util.Optional.empty();
        double everyS = run.model.progressEveryS();
        if (everyS <= 0) return java.util.Optional.of(ReportedProgress.now(run.progressAt(atS)));
        double saidAtS = run.runStartS + Math.floor((atS - run.runStartS) / everyS + 1e-9) * everyS;
        return java.util.Optional.of(new ReportedProgress(run.progressAt(saidAtS), Math.max(0, atS - saidAtS)));
    }

    /**
     * Offers the attempt's samples, the same as {@link #scheduleSample} would send, to the judge
     * until it fires on one, and sends {@link EngineEvent.SampleFired} at that one's time if the
     * attempt is still in play then (a stop or exit before it leaves the rest untaken, as then).
     */
    @Override
    public void judgeAhead(Attempt attempt, dev.migm.engine.SampleJudge judge) {
        Running run = running.get(attempt.jobId());
        if (!judgesAhead() || run == null || run.attempt.number() != attempt.number() || !run.current) {
            return;
        }
        SplittableRandom random = randomFor(attempt);
        dev.migm.virtual.KeptSequence kept =
                new dev.migm.virtual.KeptSequence(sampling.keptWindow());
        while (true) {
            long sequence = kept.take();
            double at = run.runStartS + (sequence + 1) * sampling.periodS();
            if (at >= run.exitS) {
                return;
            }
            long used = takeSample(run, at, random);
            if (judge.offer(sequence, at, used, reportedProgress(run, at))) {
                time.at(at, () -> {
                    if (run.current) {
                        run.sink.deliver(new EngineEvent.SampleFired(attempt.jobId(), attempt.number()));
                    }
                });
                return;
            }
        }
    }

    @Override
    public void stop(Attempt attempt, String why) {
        Running r = running.get(attempt.jobId());
        if (r == null || r.attempt.number() != attempt.number()) {
            return;
        }
        running.remove(attempt.jobId());
        r.current = false;
        double reached = r.progressAt(time.nowS());
        // One that checkpoints writes one on the signal; one that does not keeps what it had.
        double keptShare = r.model.checkpoints() ? reached : r.startProgress;
        double ageS = r.model.checkpoints() ? 0 : Double.POSITIVE_INFINITY;
        kept.put(attempt.jobId(), keptShare);
        ledger.attemptEnded(attempt, time.nowS(), r.startProgress, reached, keptShare);
        activity.processExited(attempt.slot(), attempt.jobId());
        Checkpoint checkpoint = checkpoint(r.model, keptShare, ageS);
        time.at(time.nowS(), () -> r.sink.deliver(new EngineEvent.AttemptExited(attempt.jobId(), attempt.number(),
                new Outcome.Stopped(why, checkpoint))));
    }
}
