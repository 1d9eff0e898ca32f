package dev.migm.sim;

import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.engine.Attempt;
import dev.migm.engine.Engine;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.JobSpec;
import dev.migm.engine.MemoryPolicy;
import dev.migm.engine.Outcome;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.exec.ModelExecutor;
import dev.migm.gpu.GpuModel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The discrete-event simulator: runs the {@link Engine} with a virtual clock, the simulated GPU
 * backend and the model executor on a trace. Everything else (policies, planner, restart logic) is
 * the code the live runtime runs. Deterministic: the same trace and options give the same numbers.
 */
public final class Simulator {
    /**
     * Simulation options.
     *
     * @param gpus     the node's GPUs
     * @param memory   makes the memory policy of a run (a fresh one per run: history starts empty)
     * @param latency  reconfiguration latencies
     * @param engine   engine settings (start-up, attempts, early restart)
     * @param sampling memory sampling of the model executor (on when early restart is on)
     * @param progress progress reports
     */
    public record Options(List<GpuModel> gpus, Supplier<MemoryPolicy> memory, SimulatedGpuBackend.Latency latency,
                          Engine.Settings engine, ModelExecutor.Sampling sampling, Progress progress) {
        /** Oracle memory (the true peak), no early restart, no sampling: the engine issue's setting. */
        public static Options of(List<GpuModel> gpus) {
            return new Options(gpus, () -> MemoryPolicy.ORACLE, SimulatedGpuBackend.Latency.DEFAULT,
                    Engine.Settings.DEFAULT.withEarlyRestart(Engine.EarlyRestart.OFF), ModelExecutor.Sampling.OFF,
                    Progress.NONE);
        }

        public Options withMemory(Supplier<MemoryPolicy> m) {
            return new Options(gpus, m, latency, engine, sampling, progress);
        }

        /** Early restart on (with default trigger and memory sampling) or off. */
        public Options withEarlyRestart(boolean on) {
            return new Options(gpus, memory, latency,
                    engine.withEarlyRestart(on ? Engine.EarlyRestart.DEFAULT : Engine.EarlyRestart.OFF),
                    on ? ModelExecutor.Sampling.DEFAULT : ModelExecutor.Sampling.OFF, progress);
        }

        public Options withProgress(Progress p) {
            return new Options(gpus, memory, latency, engine, sampling, p);
        }
    }

    /** Receives progress (jobs ended out of all) now and then. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (policy, done, total, nowS) -> { };

        void update(String policy, int done, int total, double nowS);
    }

    private Simulator() {
    }

    public static SimResult run(String traceName, List<JobSpec> jobs, SchedulingPolicy policy, Options options) {
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, options.gpus(), options.latency());
        ModelExecutor executor = new ModelExecutor(time, backend, options.engine().startupS(), options.sampling());
        Engine engine = new Engine(time, backend, executor, policy, options.memory().get(), options.engine());
        Stats stats = new Stats(options.engine().startupS());
        engine.addListener(stats);
        for (JobSpec j : jobs) {
            time.at(j.submitS(), () -> engine.handle(new EngineEvent.JobSubmitted(j)));
        }
        int total = jobs.size();
        long steps = 0;
        while (time.runNextStep()) {
            engine.schedule();
            if ((++steps & 0x3FF) == 0) {
                options.progress().update(policy.name(), stats.ended, total, time.nowS());
            }
        }
        engine.failWaiting("never placed: ");
        options.progress().update(policy.name(), stats.ended, total, time.nowS());
        return summarize(traceName, jobs, policy, options, engine, backend, stats);
    }

    private static SimResult summarize(String trace, List<JobSpec> jobs, SchedulingPolicy policy, Options options,
                                       Engine engine, SimulatedGpuBackend backend, Stats stats) {
        double makespan = 0;
        int completed = 0;
        double jctSum = 0;
        List<Double> waits = new ArrayList<>();
        double heldSlices = 0;
        int firstFit = 0;
        double overprovision = 0;
        List<String> failures = new ArrayList<>();
        List<SimResult.JobRow> perJob = new ArrayList<>();
        for (Engine.JobView j : engine.jobs()) {
            var last = j.attempts().isEmpty() ? null : j.attempts().getLast();
            perJob.add(new SimResult.JobRow(trace, policy.name(), j.spec().id(), j.spec().app(),
                    j.state().name().toLowerCase(java.util.Locale.ROOT), j.attempts().size(),
                    last == null ? "" : last.slot().toString(), last == null ? 0 : last.slot().memoryMib(),
                    j.spec().memPeakMib(), j.spec().submitS(), j.firstLaunchS(), j.endS(), j.needMib(), j.needSource(),
                    j.lastReason()));
            heldSlices += j.heldSliceSeconds();
            if (!Double.isNaN(j.firstLaunchS())) {
                waits.add(j.firstLaunchS() - j.spec().submitS());
            }
            if (j.state() == Engine.State.DONE) {
                completed++;
                makespan = Math.max(makespan, j.endS());
                jctSum += j.endS() - j.spec().submitS();
                if (j.attempts().size() == 1) firstFit++;
                long slotMib = j.attempts().getLast().slot().memoryMib();
                overprovision += (double) slotMib / Math.max(1, j.spec().memPeakMib());
            } else {
                failures.add(j.spec().id() + ": " + j.lastReason());
            }
        }
        double energy = backend.energyJoules();
        int computeSlices = options.gpus().stream().mapToInt(GpuModel::computeSlices).sum();
        double[] w = waits.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double p95 = w.length == 0 ? Double.NaN : w[Math.min(w.length - 1, (int) Math.ceil(0.95 * w.length) - 1)];
        String gpus = describe(options.gpus());
        return new SimResult(trace, policy.name(), gpus, jobs.size(), completed, jobs.size() - completed, makespan,
                makespan > 0 ? completed / makespan * 3600 : 0, energy, completed > 0 ? jctSum / completed : Double.NaN,
                p95, engine.reconfigurations(), engine.restarts(), engine.oomKills(), engine.earlyRestarts(),
                stats.falseEarlyRestarts, stats.wastedSliceS,
                completed > 0 ? (double) firstFit / completed : Double.NaN,
                completed > 0 ? overprovision / completed : Double.NaN,
                makespan > 0 ? heldSlices / (computeSlices * makespan) : 0,
                LowerBound.seconds(jobs, options.gpus()), 1, 1, 1, failures, perJob);
    }

    static String describe(List<GpuModel> gpus) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < gpus.size()) {
            int k = i;
            while (k < gpus.size() && gpus.get(k).equals(gpus.get(i))) k++;
            if (!sb.isEmpty()) sb.append('+');
            sb.append(k - i).append('x').append(gpus.get(i).name());
            i = k;
        }
        return sb.toString();
    }

    /**
     * Counts ended jobs (progress line), the work lost by attempts that did not complete and the
     * early restarts that were not needed (the simulator knows each job's true peak).
     */
    private static final class Stats implements Engine.EngineListener {
        private final double startupS;
        int ended;
        long falseEarlyRestarts;
        double wastedSliceS;

        Stats(double startupS) {
            this.startupS = startupS;
        }

        @Override
        public void jobEnded(Engine.JobView job) {
            ended++;
        }

        @Override
        public void attemptEnded(Engine.JobView job, Attempt attempt, Outcome outcome, double nowS) {
            double reached;
            double kept;
            switch (outcome) {
                case Outcome.Completed c -> {
                    return;
                }
                case Outcome.OutOfMemory o -> {
                    reached = o.reachedProgress();
                    kept = o.checkpointedProgress();
                }
                case Outcome.Stopped s -> {
                    reached = s.reachedProgress();
                    kept = s.checkpointedProgress();
                    if (s.why().startsWith("early restart") && job.spec().memPeakMib() <= attempt.slot().memoryMib()) {
                        falseEarlyRestarts++;
                    }
                }
                case Outcome.Crashed c -> {
                    reached = attempt.startProgress();
                    kept = attempt.startProgress();
                }
            }
            double held = nowS - attempt.launchS();
            double running = Math.max(0, held - startupS);
            double gained = reached - attempt.startProgress();
            double lostRunning = gained > 1e-12 ? running * (reached - kept) / gained : running;
            wastedSliceS += (Math.min(held, startupS) + lostRunning) * attempt.slot().computeSlices();
        }
    }
}
