package dev.migm.service;

import dev.migm.engine.JobState;
import dev.migm.engine.JobView;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.Slot;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The node's Prometheus metrics ({@code GET /metrics} on the daemon's loopback HTTP view), built with
 * the Prometheus Java client. Per GPU the labels are DCGM-exporter's ({@code gpu}, {@code UUID},
 * {@code modelName}), per MIG instance also {@code GPU_I_ID} and {@code GPU_I_PROFILE}, so that
 * dashboards that join on them work unchanged. Job-level series stay out (one per job would grow
 * without bound): per-job figures are in the API ({@code migm show}).
 *
 * <p>Fed three ways: the engine's records as they are journaled ({@link #observe}, engine thread:
 * reconfiguration latency, estimator error, ended jobs), the energy tick ({@link #energyTick}: board
 * power and energy, energy attributed to instances), and at each scrape a view of the engine and the
 * GPUs taken then ({@link Source}).
 */
public final class NodeMetrics {
    /** What a scrape reads of the engine, taken on its thread in one go. */
    public record EngineView(Map<JobState, Integer> jobsByState, Set<Slot> occupied, List<String> gpuStatus,
                             long reconfigurations, long restarts, long oomKills, long earlyRestarts,
                             long migModeChanges) {
    }

    /** What a scrape reads of the GPUs. */
    public record GpuView(String uuid, GpuModel model, boolean migEnabled, Map<Instance, Integer> instanceIds) {
    }

    /** The daemon's side of a scrape. */
    public interface Source {
        EngineView engine();

        List<GpuView> gpus();
    }

    /**
     * Buckets of the estimate / observed peak ratio: 1 is exact, below 1 an estimate that would
     * have run out of memory, above 1 memory held for nothing (1.05 is the chain's own margin).
     */
    static final double[] ESTIMATE_RATIO_BUCKETS = {0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 5};

    /** Buckets of a reconfiguration's seconds from plan to answer: NVML's 0.1-0.3 s per instance up to a GPU reset. */
    static final double[] RECONFIGURATION_BUCKETS = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Source source;
    private final Counter jobsEnded;
    private final Histogram reconfigurationSeconds;
    private final Histogram estimateRatio;
    /** When each reconfiguration in flight was planned, by ticket (engine thread). */
    private final Map<Long, Double> plannedAt = new HashMap<>();
    /** The need each waiting or running job was queued with, for the estimator error (engine thread). */
    private final Map<String, Long> needs = new HashMap<>();
    /** Board power, energy counter and attributed instance energy, from the energy tick. */
    private final Object energyLock = new Object();
    private double[] boardWatts;
    private double[] boardJoules;
    private final Map<Slot, Double> instanceJoules = new HashMap<>();
    private final double[] idleJ;
    private volatile Scrape scrape;

    /** One scrape's reading of the source, shared by the callbacks of that scrape. */
    private record Scrape(EngineView engine, List<GpuView> gpus) {
    }

    public NodeMetrics(Source source, int gpus) {
        this.source = source;
        this.boardWatts = new double[gpus];
        this.boardJoules = new double[gpus];
        this.idleJ = new double[gpus];
        java.util.Arrays.fill(boardWatts, Double.NaN);
        java.util.Arrays.fill(boardJoules, Double.NaN);
        String[] gpuLabels = {"gpu", "UUID", "modelName"};
        String[] instanceLabels = {"gpu", "UUID", "modelName", "GPU_I_ID", "GPU_I_PROFILE"};
        GaugeWithCallback.builder().name("migm_gpu_mig_mode").help("1 when MIG is on, 0 when the GPU runs whole")
                .labelNames(gpuLabels).callback(cb -> eachGpu((g, v, labels) -> cb.call(v.migEnabled() ? 1 : 0, labels)))
                .register(registry);
        GaugeWithCallback.builder().name("migm_gpu_schedulable")
                .help("1 when migm places work on the GPU, 0 when it is drained or lost").labelNames(gpuLabels)
                .callback(cb -> eachGpu((g, v, labels) -> cb.call(status(g).equals("ok") ? 1 : 0, labels)))
                .register(registry);
        GaugeWithCallback.builder().name("migm_gpu_lost")
                .help("1 when the GPU stopped answering (NVML_ERROR_GPU_IS_LOST)").labelNames(gpuLabels)
                .callback(cb -> eachGpu((g, v, labels) -> cb.call(status(g).startsWith("lost") ? 1 : 0, labels)))
                .register(registry);
        GaugeWithCallback.builder().name("migm_gpu_power_watts")
                .help("board power over the last energy tick (nvmlDeviceGetTotalEnergyConsumption per second)")
                .labelNames(gpuLabels).callback(cb -> eachKnown(() -> boardWatts, cb::call)).register(registry);
        CounterWithCallback.builder().name("migm_gpu_energy_joules")
                .help("board energy counter since the driver loaded (nvmlDeviceGetTotalEnergyConsumption)")
                .labelNames(gpuLabels).callback(cb -> eachKnown(() -> boardJoules, cb::call)).register(registry);
        CounterWithCallback.builder().name("migm_gpu_idle_energy_joules")
                .help("board energy while no attempt held an instance on the GPU, since the daemon started:"
                        + " with the instances' attributed energy, all of the board's")
                .labelNames(gpuLabels).callback(cb -> eachKnown(() -> idleJ, cb::call)).register(registry);
        GaugeWithCallback.builder().name("migm_instance_occupied")
                .help("one series per MIG instance: 1 while an attempt runs on it, 0 while it is idle")
                .labelNames(instanceLabels).callback(cb -> eachInstance((slot, labels) ->
                        cb.call(scrape.engine().occupied().contains(slot) ? 1 : 0, labels))).register(registry);
        CounterWithCallback.builder().name("migm_instance_energy_joules")
                .help("board energy attributed to the attempts on the instance since the daemon started"
                        + " (model: " + NodeService.ENERGY_MODEL + ")")
                .labelNames(instanceLabels).callback(cb -> eachInstance((slot, labels) -> {
                    double j;
                    synchronized (energyLock) {
                        j = instanceJoules.getOrDefault(slot, 0.0);
                    }
                    cb.call(j, labels);
                })).register(registry);
        GaugeWithCallback.builder().name("migm_jobs").help("jobs the engine holds, by state").labelNames("state")
                .callback(cb -> {
                    for (JobState s : List.of(JobState.QUEUED, JobState.PLACING, JobState.STARTING,
                            JobState.RUNNING)) {
                        cb.call(scrape.engine().jobsByState().getOrDefault(s, 0), s.name().toLowerCase(java.util.Locale.ROOT));
                    }
                }).register(registry);
        jobsEnded = Counter.builder().name("migm_jobs_ended").help("jobs ended since the daemon started, by how")
                .labelNames("state").register(registry);
        for (String s : List.of("done", "failed", "cancelled")) jobsEnded.labelValues(s);
        counter("migm_oom_kills", "attempts ended by running out of memory", v -> v.oomKills());
        counter("migm_early_restarts", "attempts stopped early because their projected peak did not fit",
                v -> v.earlyRestarts());
        counter("migm_restarts", "attempts started again after one that did not complete", v -> v.restarts());
        counter("migm_reconfigurations", "plans that created or destroyed MIG instances", v -> v.reconfigurations());
        counter("migm_mig_mode_changes", "MIG mode changes of whole GPUs", v -> v.migModeChanges());
        reconfigurationSeconds = Histogram.builder().name("migm_reconfiguration_duration_seconds")
                .help("seconds from a reconfiguration's plan to the GPU's answer").classicOnly()
                .classicUpperBounds(RECONFIGURATION_BUCKETS).register(registry);
        estimateRatio = Histogram.builder().name("migm_estimate_ratio")
                .help("a completed attempt's memory estimate over its observed peak (1: exact; below 1: too small)")
                .classicOnly().classicUpperBounds(ESTIMATE_RATIO_BUCKETS).register(registry);
    }

    private interface GpuCall {
        void call(int gpu, GpuView view, String[] labels);
    }

    private interface InstanceCall {
        void call(Slot slot, String[] labels);
    }

    private void counter(String name, String help, java.util.function.ToLongFunction<EngineView> value) {
        CounterWithCallback.builder().name(name).help(help + " since the daemon started")
                .callback(cb -> cb.call(value.applyAsLong(scrape.engine()))).register(registry);
    }

    private String status(int gpu) {
        List<String> status = scrape.engine().gpuStatus();
        return gpu < status.size() ? status.get(gpu) : "ok";
    }

    private interface ValueCall {
        void call(double value, String... labels);
    }

    /** Each GPU's value of an energy-tick figure, where the GPU could say it (NaN: left out). */
    private void eachKnown(java.util.function.Supplier<double[]> figure, ValueCall call) {
        eachGpu((g, v, labels) -> {
            double value;
            synchronized (energyLock) {
                double[] values = figure.get();
                value = g < values.length ? values[g] : Double.NaN;
            }
            if (!Double.isNaN(value)) call.call(value, labels);
        });
    }

    private void eachGpu(GpuCall call) {
        List<GpuView> gpus = scrape.gpus();
        for (int g = 0; g < gpus.size(); g++) {
            call.call(g, gpus.get(g), new String[] {Integer.toString(g), gpus.get(g).uuid(), gpus.get(g).model().name()});
        }
    }

    private void eachInstance(InstanceCall call) {
        eachGpu((g, v, labels) -> v.instanceIds().forEach((instance, id) -> call.call(Slot.of(g, instance),
                new String[] {labels[0], labels[1], labels[2], Integer.toString(id), instance.profile().name().toString()})));
    }

    /** Takes the engine's records in as they are journaled (the engine's thread). */
    public void observe(EngineRecord record) {
        switch (record) {
            case EngineRecord.ReconfigurationPlanned p -> plannedAt.put(p.ticket(), p.atS());
            case EngineRecord.ReconfigurationApplied a -> answered(a.ticket(), a.atS());
            case EngineRecord.ReconfigurationFailed f -> answered(f.ticket(), f.atS());
            case EngineRecord.Queued q -> needs.put(q.jobId(), q.needMib());
            case EngineRecord.Learned l when l.what().equals("completed") && l.mib() > 0 -> {
                Long need = needs.get(l.jobId());
                if (need != null && need > 0) estimateRatio.observe((double) need / l.mib());
            }
            case EngineRecord.Done d -> ended(d.jobId(), "done");
            case EngineRecord.Failed f -> ended(f.jobId(), "failed");
            case EngineRecord.Cancelled c -> ended(c.jobId(), "cancelled");
            default -> {
            }
        }
    }

    private void answered(long ticket, double atS) {
        Double planned = plannedAt.remove(ticket);
        if (planned != null) reconfigurationSeconds.observe(Math.max(0, atS - planned));
    }

    private void ended(String jobId, String how) {
        needs.remove(jobId);
        jobsEnded.labelValues(how).inc();
    }

    /**
     * One energy tick: each GPU's board counter (NaN where it cannot say) over {@code dtS} seconds
     * since the last, and the board energy attributed to the attempts' instances in it.
     */
    public void energyTick(double[] counterJoules, double[] idleJoules, double dtS, Map<Slot, Double> attributed) {
        synchronized (energyLock) {
            for (int g = 0; g < idleJoules.length && g < idleJ.length; g++) idleJ[g] += idleJoules[g];
            for (int g = 0; g < counterJoules.length && g < boardJoules.length; g++) {
                if (!Double.isNaN(boardJoules[g]) && !Double.isNaN(counterJoules[g]) && dtS > 0) {
                    boardWatts[g] = Math.max(0, counterJoules[g] - boardJoules[g]) / dtS;
                }
                boardJoules[g] = counterJoules[g];
            }
            attributed.forEach((slot, j) -> instanceJoules.merge(slot, j, Double::sum));
        }
    }

    /** Writes the exposition (Prometheus text format 0.0.4) of a scrape taken now. */
    public synchronized void write(OutputStream out) throws IOException {
        scrape = new Scrape(source.engine(), source.gpus());
        PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** Jobs by state, for a view taken on the engine's thread. */
    public static Map<JobState, Integer> countByState(java.util.Collection<JobView> jobs) {
        Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
        for (JobView j : jobs) counts.merge(j.state(), 1, Integer::sum);
        return counts;
    }
}
