package dev.migm.exec;

import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.energy.PowerModel;
import dev.migm.engine.Attempt;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Executor;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.RuntimeModel;
import dev.migm.sim.VirtualTime;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs attempts as their workload model says, in virtual time (models.md): start-up
 * ({@code startupS}, no progress, no dynamic power), then progress at the speed the slot gives
 * ({@link RuntimeModel#runtimeS}); memory follows the job's base-to-peak line and an attempt whose
 * memory exceeds its slot dies of OOM at that moment, keeping the work of its last checkpoint.
 * {@link #stop} is the signal of an early restart or a cancel: a job that checkpoints
 * ({@code checkpoint_s > 0}) writes a checkpoint on the signal and keeps all its progress (the
 * convention of Slurm's requeue signal and of trainers that checkpoint on SIGTERM); one that does not
 * exits and keeps only what it had. The model's jobs exit well within any grace period.
 *
 * <p>When sampling is on, the executor reports the job's memory every {@link Sampling#periodS()}
 * seconds as NVML would ({@code nvmlDeviceGetComputeRunningProcesses}), with a seeded jitter of
 * {@link Sampling#jitter()} of the value and rounded up to the 2 MiB granularity of CUDA
 * allocations, so that projections face noise like on a real GPU.
 */
public final class ModelExecutor implements Executor {
    /** Memory sampling: on or off, period, relative jitter, seed. */
    public record Sampling(boolean enabled, double periodS, double jitter, long seed) {
        public static final Sampling OFF = new Sampling(false, 1.0, 0, 0);
        public static final Sampling DEFAULT = new Sampling(true, 1.0, 0.01, 42);
    }

    private final VirtualTime time;
    private final SimulatedGpuBackend backend;
    private final double startupS;
    private final Sampling sampling;
    private final Map<String, Running> running = new HashMap<>();
    private long generation;

    private record Running(Attempt attempt, JobSpec spec, double runStartS, double workS, long generation, EventSink sink) {
        double progressAt(double t) {
            return Math.min(1.0, attempt.startProgress() + Math.max(0, t - runStartS) / workS);
        }
    }

    public ModelExecutor(VirtualTime time, SimulatedGpuBackend backend, double startupS, Sampling sampling) {
        this.time = time;
        this.backend = backend;
        this.startupS = startupS;
        this.sampling = sampling;
    }

    @Override
    public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
        int smFull = backend.gpus().get(attempt.slot().gpu()).sms();
        double workS = RuntimeModel.runtimeS(spec, attempt.slot().sms(), smFull);
        backend.attach(attempt.slot());
        long gen = ++generation;
        String key = attempt.jobId();
        double runStart = time.nowS() + startupS;
        Running run = new Running(attempt, spec, runStart, workS, gen, sink);
        running.put(key, run);
        double start = attempt.startProgress();
        double oomAt = RuntimeModel.progressExceeding(spec, attempt.slot().memoryMib());
        boolean dies = !Double.isNaN(oomAt);
        double endProgress = dies ? Math.max(start, oomAt) : 1.0;
        double exitS = runStart + (endProgress - start) * workS;
        double share = PowerModel.dynamicShare(spec.activity(), spec.sat(), attempt.slot().sms(), smFull);
        time.at(runStart, () -> {
            if (isCurrent(key, gen)) {
                backend.setDynamic(attempt.slot().gpu(), key, share);
                sink.deliver(new EngineEvent.AttemptRunning(key, attempt.number()));
            }
        });
        if (sampling.enabled()) {
            SplittableRandom random = new SplittableRandom(sampling.seed() ^ key.hashCode() * 31L ^ attempt.number());
            scheduleSample(run, runStart + sampling.periodS(), exitS, random);
        }
        time.at(exitS, () -> {
            if (!isCurrent(key, gen)) {
                return;
            }
            running.remove(key);
            backend.detach(attempt.slot(), key);
            long reachedMib = Math.round(RuntimeModel.memoryMibAt(spec, endProgress));
            Outcome outcome = dies
                    ? new Outcome.OutOfMemory(reachedMib, "CUDA out of memory (model: " + reachedMib
                            + " MiB passes the instance's " + attempt.slot().memoryMib() + " MiB)",
                    endProgress, Math.max(start, RuntimeModel.lastCheckpoint(spec, endProgress)))
                    : new Outcome.Completed(spec.memPeakMib());
            sink.deliver(new EngineEvent.AttemptExited(key, attempt.number(), outcome));
        });
    }

    private void scheduleSample(Running run, double at, double exitS, SplittableRandom random) {
        if (at >= exitS) {
            return;
        }
        time.at(at, () -> {
            if (!isCurrent(run.attempt().jobId(), run.generation())) {
                return;
            }
            double progress = run.progressAt(time.nowS());
            double mib = RuntimeModel.memoryMibAt(run.spec(), progress);
            mib *= 1 + sampling.jitter() * (2 * random.nextDouble() - 1);
            long reported = (long) (Math.ceil(mib / 2.0) * 2);
            run.sink().deliver(new EngineEvent.MemorySample(run.attempt().jobId(), run.attempt().number(), progress,
                    reported));
            scheduleSample(run, at + sampling.periodS(), exitS, random);
        });
    }

    private boolean isCurrent(String key, long gen) {
        Running r = running.get(key);
        return r != null && r.generation() == gen;
    }

    @Override
    public void stop(Attempt attempt, String why) {
        Running r = running.get(attempt.jobId());
        if (r == null || r.attempt().number() != attempt.number()) {
            return;
        }
        running.remove(attempt.jobId());
        double reached = r.progressAt(time.nowS());
        double kept = r.spec().checkpointS() > 0 ? reached : attempt.startProgress();
        backend.detach(attempt.slot(), attempt.jobId());
        time.at(time.nowS(), () -> r.sink().deliver(new EngineEvent.AttemptExited(attempt.jobId(), attempt.number(),
                new Outcome.Stopped(why, reached, kept))));
    }
}
