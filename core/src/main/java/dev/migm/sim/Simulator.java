package dev.migm.sim;

import dev.migm.engine.JobState;
import dev.migm.engine.JobView;
import dev.migm.engine.EngineListener;
import dev.migm.engine.EngineSettings;
import dev.migm.engine.EarlyRestart;
import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.engine.Attempt;
import dev.migm.engine.Engine;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.MemoryPolicy;
import dev.migm.engine.Outcome;
import dev.migm.engine.RuntimeEstimator;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.virtual.VirtualTime;
import dev.migm.estimate.LearnedRuntime;
import dev.migm.estimate.OracleMemory;
import dev.migm.estimate.OracleRuntime;
import dev.migm.exec.ModelExecutor;
import dev.migm.engine.Slot;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Profile;
import dev.migm.workload.WorkloadModel;
import dev.migm.workload.TraceJob;
import dev.migm.workload.Truth;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The discrete-event simulator: runs the {@link Engine} with a virtual clock, the simulated GPU
 * backend and the model executor on a trace. Everything else (policies, planner, estimators,
 * restart logic) is the code the live runtime runs. Deterministic: the same trace and options give
 * the same numbers.
 *
 * <p>The engine gets each job's {@link dev.migm.engine.JobSpec} only. The trace's workload models
 * (the truth) go to the model executor, which plays the jobs, to the oracle estimators when
 * {@link Estimation#ORACLE} is chosen, and to the accounting of this class (lost work, false early
 * restarts, the lower bound), which judges a run after the fact and decides nothing.
 */
public final class Simulator {
    /**
     * How the engine estimates memory and run time: by the oracle (the truth, a reference no live
     * system reaches) or honestly (a memory policy, and run times learned from finished runs).
     */
    public record Estimation(String name, Function<Truth, MemoryPolicy> memory, Function<Truth, RuntimeEstimator> runtime) {
        public static final Estimation ORACLE = new Estimation("oracle", OracleMemory::new, OracleRuntime::new);
        /**
         * True peaks, but run times learned as a live system would: a reference that splits the
         * oracle's lead into what knowing memory and what knowing run times is worth.
         */
        public static final Estimation ORACLE_MEMORY = new Estimation("oracle-memory", OracleMemory::new,
                truth -> new LearnedRuntime());

        /** What a live system could do: the given memory policy, run times from history and declarations. */
        public static Estimation honest(String name, Supplier<MemoryPolicy> memory) {
            return new Estimation(name, truth -> memory.get(), truth -> new LearnedRuntime());
        }
    }

    /**
     * Simulation options.
     *
     * @param gpus     the node's GPUs
     * @param estimation makes the estimators of a run (fresh ones per run: history starts empty)
     * @param latency  reconfiguration latencies
     * @param engine   engine settings (start-up, attempts, early restart)
     * @param sampling memory sampling of the model executor (on when early restart is on)
     * @param progress progress reports
     * @param explain  whether to decompose the makespan ({@link SimResult#explanation()})
     * @param perJob   whether to build a row per job ({@link SimResult#perJob()}; empty otherwise: a
     *                 million rows nobody asked for cost a million objects)
     * @param timeline whether to record the run's timeline for the report ({@link SimResult#timeline()})
     */
    public record Options(List<GpuModel> gpus, Estimation estimation, SimulatedGpuBackend.Latency latency,
                          EngineSettings engine, ModelExecutor.Sampling sampling, Progress progress, boolean explain,
                          boolean perJob, boolean timeline) {
        /** The oracle's estimates, no early restart, no sample events: the reference setting. */
        public static Options of(List<GpuModel> gpus) {
            return new Options(gpus, Estimation.ORACLE, SimulatedGpuBackend.Latency.DEFAULT,
                    EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF), ModelExecutor.Sampling.OFF,
                    Progress.NONE, false, true, false);
        }

        public Options withEstimation(Estimation e) {
            return new Options(gpus, e, latency, engine, sampling, progress, explain, perJob, timeline);
        }

        /** Honest estimation with this memory policy (see {@link Estimation#honest}). */
        public Options withMemory(Supplier<MemoryPolicy> m) {
            return withEstimation(Estimation.honest("custom", m));
        }

        /** Early restart on (with default trigger and memory sample events) or off. */
        public Options withEarlyRestart(boolean on) {
            return withEarlyRestart(on ? EarlyRestart.DEFAULT : EarlyRestart.OFF);
        }

        /** This early-restart trigger, with memory sample events when it is enabled. */
        public Options withEarlyRestart(EarlyRestart trigger) {
            return new Options(gpus, estimation, latency, engine.withEarlyRestart(trigger),
                    trigger.enabled() ? ModelExecutor.Sampling.DEFAULT : ModelExecutor.Sampling.OFF, progress, explain, perJob, timeline);
        }

        public Options withSampling(ModelExecutor.Sampling s) {
            return new Options(gpus, estimation, latency, engine, s, progress, explain, perJob, timeline);
        }

        public Options withProgress(Progress p) {
            return new Options(gpus, estimation, latency, engine, sampling, p, explain, perJob, timeline);
        }

        /**
         * MIG mode changes taking {@code seconds} each (models.md section 4 terms), or none at all
         * with {@code Double.POSITIVE_INFINITY} (every GPU keeps the mode the policy starts with).
         */
        public Options withMigModeChangeS(double seconds) {
            return new Options(gpus, estimation, new SimulatedGpuBackend.Latency(latency.createS(), latency.destroyS(),
                    seconds), engine, sampling, progress, explain, perJob, timeline);
        }

        /** With the makespan decomposed ({@code simulate --explain-makespan}). */
        public Options withExplanation(boolean on) {
            return new Options(gpus, estimation, latency, engine, sampling, progress, on, perJob, timeline);
        }

        /** With or without a row per job. */
        public Options withPerJob(boolean on) {
            return new Options(gpus, estimation, latency, engine, sampling, progress, explain, on, timeline);
        }

        /** With a timeline of the run for the report ({@link SimResult#timeline()}; needs the per-job rows, which it turns on). */
        public Options withTimeline(boolean on) {
            return new Options(gpus, estimation, latency, engine, sampling, progress, explain, perJob || on, on);
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

    public static SimResult run(String traceName, List<TraceJob> jobs, SchedulingPolicy policy, Options options) {
        return run(traceName, Workload.of(jobs), policy, options, List.of());
    }

    public static SimResult run(String traceName, Workload jobs, SchedulingPolicy policy, Options options) {
        return run(traceName, jobs, policy, options, List.of());
    }

    /** A run with extra listeners on the engine (tests, reports). */
    public static SimResult run(String traceName, List<TraceJob> jobs, SchedulingPolicy policy, Options options,
                                List<EngineListener> listeners) {
        return run(traceName, Workload.of(jobs), policy, options, listeners);
    }

    /** A run with extra listeners on the engine (tests, reports). */
    public static SimResult run(String traceName, Workload jobs, SchedulingPolicy policy, Options options,
                                List<EngineListener> listeners) {
        return run(traceName, jobs, policy, options, listeners, dev.migm.engine.Journal.NONE, Double.POSITIVE_INFINITY,
                null);
    }

    public static SimResult run(String traceName, List<TraceJob> jobs, SchedulingPolicy policy, Options options,
                                List<EngineListener> listeners, dev.migm.engine.Journal journal, double stopAtS,
                                java.util.function.Consumer<dev.migm.engine.EngineState> stopped) {
        return run(traceName, Workload.of(jobs), policy, options, listeners, journal, stopAtS, stopped);
    }

    /**
     * The general form: extra listeners, a journal for the engine's records, and a stop time. A run
     * stopped before its end hands the engine's {@link dev.migm.engine.EngineState} at that time to
     * {@code stopped} (tests of replay) and reports what it got to.
     *
     * <p>Jobs arrive one at a time from the workload, each scheduled when the one before it arrives
     * (as if all had been scheduled at the start: {@link VirtualTime#arrival}). A job that ended is
     * counted into the run's figures and, unless per-job rows or a stop time ask for the engine's
     * whole memory, forgotten by the engine and the truth: a run holds only live jobs.
     */
    public static SimResult run(String traceName, Workload jobs, SchedulingPolicy policy, Options options,
                                List<EngineListener> listeners, dev.migm.engine.Journal journal, double stopAtS,
                                java.util.function.Consumer<dev.migm.engine.EngineState> stopped) {
        Truth truth = Truth.streaming();
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, options.gpus(), options.latency());
        // Per-job energy only with per-job rows: a million jobs' figures nobody asked for are not kept.
        dev.migm.energy.ChipShareAttribution attribution = options.perJob() ? new dev.migm.energy.ChipShareAttribution() : null;
        if (attribution != null) backend.attributeTo(attribution);
        dev.migm.report.Timeline.Recorder timeline = options.timeline()
                ? new dev.migm.report.Timeline.Recorder(options.gpus()) : null;
        if (timeline != null) {
            backend.onPower(timeline::power);
            dev.migm.engine.Journal inner = journal;
            journal = record -> {
                inner.append(record);
                timeline.append(record);
            };
        }
        // Only the samples the trigger keeps are events: the others would change nothing.
        ModelExecutor executor = new ModelExecutor(time, options.gpus(), backend, truth, options.engine().startupS(),
                options.sampling().keptOnly(options.engine().earlyRestart().window()));
        MakespanExplainer explainer = options.explain()
                ? new MakespanExplainer(journal, options.gpus(), options.engine().startupS()) : null;
        Engine engine = new Engine(time, explainer != null ? explainer : journal, backend, executor, policy,
                options.estimation().memory().apply(truth),
                options.estimation().runtime().apply(truth), options.engine());
        Stats stats = new Stats(options, truth, explainer);
        engine.addListener(stats);
        executor.keepLedger(stats);
        if (explainer != null) engine.addListener(explainer);
        listeners.forEach(engine::addListener);
        boolean keepEnded = options.perJob() || stopAtS < Double.POSITIVE_INFINITY;
        engine.addListener(new EngineListener() {
            @Override
            public void jobEnded(JobView job) {
                truth.forget(job.spec().id());
                executor.forget(job.spec().id());
                if (!keepEnded) engine.forget(job.spec().id());
            }
        });
        LowerBound.Accumulator bound = new LowerBound.Accumulator(options.gpus());
        int total = jobs.size();
        try (java.util.stream.Stream<TraceJob> stream = jobs.arrivals()) {
            Arrivals arrivals = new Arrivals(stream.iterator(), time, engine, truth, bound);
            arrivals.scheduleNext();
            long steps = 0;
            // Until every job ended; alarms still pending then (time-outs of attempts that answered)
            // would only add idle time.
            while (stats.ended < total) {
                if (time.nextTimeS() > stopAtS) {
                    stopped.accept(engine.snapshot());
                    arrivals.countTheRestInTheBound();
                    return summarize(traceName, total, policy, options, engine, backend, stats, bound, explainer, attribution, timeline, false);
                }
                if (!time.runNextStep()) {
                    break;
                }
                engine.schedule();
                if ((++steps & 0x3FF) == 0) {
                    options.progress().update(policy.name(), stats.ended, total, time.nowS());
                }
            }
            arrivals.countTheRestInTheBound();
        }
        engine.failWaiting("never placed: ");
        options.progress().update(policy.name(), stats.ended, total, time.nowS());
        return summarize(traceName, total, policy, options, engine, backend, stats, bound, explainer, attribution, timeline, true);
    }

    /** Feeds a workload's jobs to the engine one at a time, each at its submit time. */
    private static final class Arrivals {
        private final java.util.Iterator<TraceJob> jobs;
        private final VirtualTime time;
        private final Engine engine;
        private final Truth truth;
        private final LowerBound.Accumulator bound;
        private long order;
        /** The submit time of the last job scheduled (negative infinity before any). */
        private double lastSubmitS = Double.NEGATIVE_INFINITY;

        Arrivals(java.util.Iterator<TraceJob> jobs, VirtualTime time, Engine engine, Truth truth,
                 LowerBound.Accumulator bound) {
            this.jobs = jobs;
            this.time = time;
            this.engine = engine;
            this.truth = truth;
            this.bound = bound;
        }

        void scheduleNext() {
            if (!jobs.hasNext()) {
                // The trace stands for migm run's file: once its last job is in, the run knows no more come.
                engine.handle(new EngineEvent.InputClosed(lastSubmitS));
                return;
            }
            TraceJob job = jobs.next();
            lastSubmitS = job.spec().submitS();
            bound.add(job.model(), job.spec().submitS());
            time.arrival(job.spec().submitS(), order++, () -> {
                truth.admit(job);
                engine.handle(new EngineEvent.JobSubmitted(job.spec()));
                scheduleNext();
            });
        }

        /** The jobs that never arrived (a stopped run) still count in the bounds. */
        void countTheRestInTheBound() {
            jobs.forEachRemaining(j -> bound.add(j.model(), j.spec().submitS()));
        }
    }

    private static SimResult summarize(String trace, int total, SchedulingPolicy policy, Options options,
                                       Engine engine, SimulatedGpuBackend backend, Stats stats,
                                       LowerBound.Accumulator bound, MakespanExplainer explainer,
                                       dev.migm.energy.ChipShareAttribution attribution,
                                       dev.migm.report.Timeline.Recorder timeline, boolean complete) {
        List<SimResult.JobRow> perJob = new ArrayList<>();
        double energy = backend.energyJoules();
        // Jobs the engine still holds: every job with per-job rows or a stop time, else none that ended.
        // Those not ended (a stopped run) count as they stand; the run is over, so into the same figures.
        for (JobView j : engine.jobs()) {
            var last = j.attempts().isEmpty() ? null : j.attempts().getLast();
            if (options.perJob()) perJob.add(new SimResult.JobRow(trace, policy.name(), j.spec().id(), j.spec().app(),
                    j.state().name().toLowerCase(java.util.Locale.ROOT), j.attempts().size(),
                    last == null ? "" : last.slot().toString(), last == null ? 0 : last.slot().memoryMib(),
                    stats.truePeakMib.getOrDefault(j.spec().id(), 0L), j.spec().submitS(), j.firstLaunchS(), j.endS(),
                    j.needMib(), j.needSource(), j.lastReason(),
                    attribution == null ? Double.NaN : attribution.joules(j.spec().id()),
                    dev.migm.energy.ChipShareAttribution.NAME));
            if (Stats.ended(j)) continue;
            if (complete) {
                throw new IllegalStateException("job " + j.spec().id() + " ended the simulation " + j.state());
            }
            stats.heldSlices += j.heldSliceSeconds();
            stats.addWait(j, stats.truth.of(j.spec().id()).memPeakMib());
        }
        int completed = stats.completed;
        double makespan = stats.makespan;
        int computeSlices = options.gpus().stream().mapToInt(GpuModel::computeSlices).sum();
        double p95 = stats.waits.p95();
        String gpus = describe(options.gpus());
        SimResult.Run run = new SimResult.Run(trace, policy.name(), gpus, options.estimation().name(),
                options.engine().earlyRestart().enabled(), total);
        SimResult.Outcomes outcomes = new SimResult.Outcomes(completed, stats.failed, makespan,
                makespan > 0 ? completed / makespan * 3600 : 0, energy, completed > 0 ? stats.jctSum / completed : Double.NaN,
                p95, stats.wholeGpuWaits.p95());
        var counted = engine.counters();
        SimResult.Counts counts = new SimResult.Counts(counted.reconfigurations(), counted.migModeChanges(),
                counted.restarts(), counted.oomKills(), counted.earlyRestarts(), counted.preemptions());
        SimResult.Accounting accounting = new SimResult.Accounting(stats.falseEarlyRestarts, stats.wastedSliceS,
                completed > 0 ? (double) stats.firstFit / completed : Double.NaN,
                completed > 0 ? stats.overprovision / completed : Double.NaN,
                makespan > 0 ? stats.heldSlices / (computeSlices * makespan) : 0);
        return new SimResult(run, outcomes, counts, accounting, new SimResult.Bounds(bound.seconds(), bound.lpSeconds()),
                SimResult.Ratios.NONE, stats.failures.stream()
                        .sorted(java.util.Comparator.comparingDouble(Unfinished::submitS).thenComparing(Unfinished::id))
                        .map(f -> new SimResult.Failure(f.id(), f.reason())).toList(),
                perJob, explainer == null ? null : explainer.explain(makespan, stats.idealSlices, stats.wastedSliceS),
                timeline == null ? null : timeline.build(trace, policy.name(), "simulated", 0, makespan,
                        perJob.stream().map(r -> new dev.migm.report.Timeline.JobLine(r.id(), r.id(), "", r.state(),
                                r.attempts(), r.slot(), r.needMib(), r.needSource(), r.peakMib(), r.energyJ())).toList(),
                        dev.migm.energy.ChipShareAttribution.NAME).withFigures(makespan, energy));
    }

    private record Unfinished(double submitS, String id, String reason) {
    }

    /** A growable list of doubles (a wait per job: 80 MB for ten million, not 200 boxed). */
    private static final class DoubleList {
        private double[] values = new double[1024];
        private int size;

        void add(double v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, 2 * size);
            values[size++] = v;
        }

        /** The 95th percentile (nearest rank); NaN when empty. */
        double p95() {
            if (size == 0) return Double.NaN;
            double[] w = java.util.Arrays.copyOf(values, size);
            java.util.Arrays.sort(w);
            return w[Math.min(w.length - 1, (int) Math.ceil(0.95 * w.length) - 1)];
        }
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
     * The run's figures, counted as jobs end (so that ended jobs need not be kept): outcomes, waits,
     * run times, the work lost by attempts that did not complete and the early restarts that were not
     * needed (the simulator knows each job's true peak).
     */
    private static final class Stats implements EngineListener, ModelExecutor.WorkLedger {
        private final double startupS;
        private final Truth truth;
        private final List<GpuModel> gpus;
        private final boolean explain;
        private final boolean perJob;
        /**
         * More memory than any instance but a GPU's largest holds: what the trace's "whole-GPU jobs"
         * are (more than half of Alibaba's pods), whose waits a packer most easily stretches.
         */
        private final long wholeGpuAboveMib;
        int ended;
        int completed;
        int failed;
        double makespan;
        double jctSum;
        int firstFit;
        double overprovision;
        double heldSlices;
        double idealSlices;
        /** Told each completed job's own excess when the makespan is explained; null otherwise. */
        private final MakespanExplainer explainer;
        /** With an explanation: the share of each job's work its checkpoints kept so far (the truth). */
        private final java.util.Map<String, Double> keptOf = new java.util.HashMap<>();
        /** Failed jobs as (submit time, id, "id: reason"): listed in submit order. */
        final List<Unfinished> failures = new ArrayList<>();
        final DoubleList waits = new DoubleList();
        /** Waits of the jobs that need a GPU's largest instance or a whole GPU ({@link #needsWholeGpu}). */
        final DoubleList wholeGpuWaits = new DoubleList();
        /** True peaks of ended jobs, for per-job rows only. */
        final java.util.Map<String, Long> truePeakMib = new java.util.HashMap<>();
        long falseEarlyRestarts;
        double wastedSliceS;

        Stats(Options options, Truth truth, MakespanExplainer explainer) {
            this.startupS = options.engine().startupS();
            this.truth = truth;
            this.gpus = options.gpus();
            this.explain = explainer != null;
            this.explainer = explainer;
            this.perJob = options.perJob();
            this.wholeGpuAboveMib = options.gpus().stream().mapToLong(GpuModel::secondLargestMemoryMib).max().orElse(0);
        }

        /**
         * The job's own profile excess ({@link MakespanExplainer.JobExcess}): its last attempt's
         * compute held past its start-up, less the share of its least compute area that attempt had
         * left to do (the work the earlier attempts' checkpoints truly kept).
         */
        private void excessOf(JobView j, WorkloadModel model) {
            Attempt last = j.attempts().getLast();
            Slot slot = last.slot();
            GpuModel gpu = gpus.get(slot.gpu());
            Double kept = keptOf.remove(j.spec().id());
            double left = 1 - (kept == null ? 0 : kept);
            double held = Math.max(0, j.endS() - last.launchS() - startupS) * slot.computeSlices();
            double ideal = left * LowerBound.leastComputeSlices(model, List.of(gpu));
            Profile cheapest = LowerBound.leastComputeProfile(model, gpu);
            java.util.Map<String, Double> parts = new java.util.LinkedHashMap<>();
            if (slot.instance().isEmpty() || cheapest == null) {
                parts.put("whole_gpu", held - ideal);
                explainer.jobExcess(j.spec().id(), slot.instance().isEmpty() ? "whole" : slot.toString(),
                        cheapest == null ? "whole" : cheapest.name().toString(), parts);
                return;
            }
            Profile ranOn = slot.instance().get().profile();
            double plainIdeal = left * dev.migm.workload.RuntimeModel.runtimeS(model, cheapest.sms(), gpu.sms())
                    * cheapest.computeSlices();
            String reason;
            if (j.needMib() > cheapest.memoryMib()) {
                reason = "estimate";
            } else if (ranOn.memorySlices() == cheapest.memorySlices() && ranOn.computeSlices() > cheapest.computeSlices()) {
                reason = "memory_slices";
            } else {
                reason = "placement";
            }
            parts.put(reason, held - plainIdeal);
            parts.put("mig_sms", plainIdeal - ideal);
            explainer.jobExcess(j.spec().id(), ranOn.name().toString(), cheapest.name().toString(), parts);
        }

        boolean needsWholeGpu(long truePeakMib) {
            return truePeakMib > wholeGpuAboveMib;
        }

        void addWait(JobView j, long truePeakMib) {
            if (Double.isNaN(j.firstLaunchS())) return;
            double wait = j.firstLaunchS() - j.spec().submitS();
            waits.add(wait);
            if (needsWholeGpu(truePeakMib)) wholeGpuWaits.add(wait);
        }

        static boolean ended(JobView j) {
            return j.state() == JobState.DONE || j.state() == JobState.FAILED
                    || j.state() == JobState.CANCELLED;
        }

        @Override
        public void jobEnded(JobView j) {
            ended++;
            var model = truth.of(j.spec().id());
            if (perJob) truePeakMib.put(j.spec().id(), model.memPeakMib());
            heldSlices += j.heldSliceSeconds();
            addWait(j, model.memPeakMib());
            if (j.state() == JobState.DONE) {
                completed++;
                if (explain) {
                    idealSlices += LowerBound.leastComputeSlices(model, gpus);
                    excessOf(j, model);
                }
                makespan = Math.max(makespan, j.endS());
                jctSum += j.endS() - j.spec().submitS();
                if (j.attempts().size() == 1) firstFit++;
                long slotMib = j.attempts().getLast().slot().memoryMib();
                overprovision += (double) slotMib / Math.max(1, model.memPeakMib());
            } else {
                failed++;
                failures.add(new Unfinished(j.spec().submitS(), j.spec().id(), String.valueOf(j.lastReason())));
            }
        }

        @Override
        public void attemptEnded(JobView job, Attempt attempt, Outcome outcome, double nowS) {
            if (outcome instanceof Outcome.Stopped s && s.why().startsWith("early restart")
                    && truth.of(job.spec().id()).memPeakMib() <= attempt.slot().memoryMib()) {
                falseEarlyRestarts++;
            }
        }

        /**
         * The world's account of an attempt that did not complete (from the model executor, never the
         * engine): its start-up, and the running time whose work its checkpoints do not keep, on its slices.
         */
        @Override
        public void attemptEnded(Attempt attempt, double endS, double started, double reached, double keptShare) {
            double held = endS - attempt.launchS();
            double running = Math.max(0, held - startupS);
            double gained = reached - started;
            double lostRunning = gained > 1e-12 ? running * (reached - keptShare) / gained : running;
            wastedSliceS += (Math.min(held, startupS) + lostRunning) * attempt.slot().computeSlices();
            if (explain) keptOf.put(attempt.jobId(), keptShare);
        }
    }
}
