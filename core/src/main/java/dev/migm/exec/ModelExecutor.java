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

/**
 * Runs attempts as their workload model says, in virtual time (models.md): start-up
 * ({@code startupS}, no progress, no dynamic power), then progress at the speed the slot gives
 * ({@link RuntimeModel#runtimeS}); memory follows the job's base-to-peak line and an attempt whose
 * memory exceeds its slot dies of OOM at that moment. A stopped attempt keeps the work up to its
 * last checkpoint.
 */
public final class ModelExecutor implements Executor {
    private final VirtualTime time;
    private final SimulatedGpuBackend backend;
    private final double startupS;
    private final Map<String, Running> running = new HashMap<>();

    private record Running(Attempt attempt, JobSpec spec, double runStartS, double workS, long generation, EventSink sink) {
    }

    private long generation;

    public ModelExecutor(VirtualTime time, SimulatedGpuBackend backend, double startupS) {
        this.time = time;
        this.backend = backend;
        this.startupS = startupS;
    }

    @Override
    public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
        int smFull = backend.gpus().get(attempt.slot().gpu()).sms();
        double workS = RuntimeModel.runtimeS(spec, attempt.slot().sms(), smFull);
        backend.attach(attempt.slot());
        long gen = ++generation;
        String key = attempt.jobId();
        double runStart = time.nowS() + startupS;
        running.put(key, new Running(attempt, spec, runStart, workS, gen, sink));
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
        time.at(exitS, () -> {
            if (!isCurrent(key, gen)) {
                return;
            }
            running.remove(key);
            backend.detach(attempt.slot(), key);
            Outcome outcome = dies
                    ? new Outcome.OutOfMemory(Math.round(RuntimeModel.memoryMibAt(spec, 1.0)),
                    "CUDA out of memory (model: memory passes " + attempt.slot().memoryMib() + " MiB)")
                    : new Outcome.Completed();
            sink.deliver(new EngineEvent.AttemptExited(key, attempt.number(), outcome));
        });
    }

    private boolean isCurrent(String key, long gen) {
        Running r = running.get(key);
        return r != null && r.generation() == gen;
    }

    /** Progress of a running attempt now, in [0,1]. */
    public double progress(String jobId) {
        Running r = running.get(jobId);
        if (r == null) return Double.NaN;
        double done = Math.max(0, time.nowS() - r.runStartS()) / r.workS();
        return Math.min(1.0, r.attempt().startProgress() + done);
    }

    @Override
    public void stop(Attempt attempt, String why) {
        Running r = running.remove(attempt.jobId());
        if (r == null || r.attempt().number() != attempt.number()) {
            return;
        }
        double progressNow = Math.min(1.0, attempt.startProgress()
                + Math.max(0, time.nowS() - r.runStartS()) / r.workS());
        double kept = Math.max(attempt.startProgress(), RuntimeModel.lastCheckpoint(r.spec(), progressNow));
        backend.detach(attempt.slot(), attempt.jobId());
        time.at(time.nowS(), () -> r.sink().deliver(new EngineEvent.AttemptExited(attempt.jobId(), attempt.number(),
                new Outcome.Stopped(why, kept))));
    }
}
