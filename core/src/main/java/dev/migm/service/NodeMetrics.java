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
 * dashboards that join on them work unchanged; an instance's occupancy also names its job, the job's
 * user and its Slurm job ({@code job}, {@code user}, {@code hpc_job}: DCGM-exporter's HPC job
 * mapping). Energy adds up in one scrape: per GPU, idle plus attributed energy is the board's since
 * the daemon started, and the per-job counters ({@code migm_job_energy_joules_total}, kept
 * {@link #JOB_SERIES_RETENTION_S} after the job ends, so that the series stay bounded by the jobs of
 * the last hour) sum to the attributed energy of the jobs they show.
 *
 * <p>Fed three ways: the engine's records as they are journaled ({@link #observe}, engine thread:
 * reconfiguration latency, estimator error, ended jobs), the energy tick ({@link #energyTick}: board
 * power and energy, energy attributed to instances), and at each scrape a view of the engine and the
 * GPUs taken then ({@link Source}).
 */
public final class NodeMetrics {
    /** What a scrape reads of the engine, taken on its thread in one go. */
    public record EngineView(Map<JobState, Integer> jobsByState, Map<Slot, String> occupants, List<String> gpuStatus,
                             long reconfigurations, long restarts, long oomKills, long earlyRestarts,
                             long migModeChanges, long preemptions) {
    }

    /** What a scrape reads of the GPUs. */
    public record GpuView(String uuid, GpuModel model, boolean migEnabled, Map<Instance, Integer> instanceIds) {
    }

    /** Who a job is, as the per-job series label it: its id, its submitter, its Slurm job id ("" if none). */
    public record JobLabels(String job, String user, String hpcJob) {
        static final JobLabels NONE = new JobLabels("", "", "");
    }

    /** The daemon's side of a scrape. */
    public interface Source {
        EngineView engine();

        List<GpuView> gpus();

        /** The labels of a job the engine holds or held (read from the journal). */
        JobLabels jobLabels(String jobId);
    }

    /** A share of one energy tick: the board energy attributed to a job's attempt on a slot. */
    public record Share(Slot slot, String jobId, double joules) {
    }

    /**
     * How long a job's energy series stays after the job ended, seconds. A series must outlive its
     * last increment by a few scrapes for {@code increase()} to see it (Prometheus scrapes every 15 to
     * 60 s), and an hour also covers a dashboard's "last hour" panel; it bounds the per-job series to
     * the jobs open or ended in the last hour.
     */
    static final double JOB_SERIES_RETENTION_S = 3600;

    /**
     * Buckets of the estimate / observed peak ratio: 1 is exact, below 1 an estimate that would
     * have run out of memory, above 1 memory held for nothing (1.05 is the chain's own margin).
     */
    static final double[] ESTIMATE_RATIO_BUCKETS = {0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 5};

    /** Buckets of a reconfiguration's seconds from plan to answer: NVML's 0.1-0.3 s per instance up to a GPU reset. */
    static final double[] RECONFIGURATION_BUCKETS = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final java.util.function.DoubleSupplier wallClock;
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
    private final double[] attributedJ;
    /** Attributed energy by job and GPU, and when each ended job ended (wall clock, s); energyLock. */
    private final Map<JobOnGpu, Double> jobJoules = new HashMap<>();
    private final Map<String, Double> jobEndedAt = new HashMap<>();
    /** The labels of jobs with series (read once from the source). */
    private final Map<String, JobLabels> jobLabels = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Scrape scrape;

    private record JobOnGpu(String jobId, int gpu) {
    }

    /**
     * One scrape's reading of the source and of the energy figures, taken in one go so that the
     * scrape's energy series add up (an energy tick between two callbacks would not).
     */
    private record Scrape(EngineView engine, List<GpuView> gpus, double[] boardWatts, double[] boardJoules,
                          double[] idleJ, double[] attributedJ, Map<Slot, Double> instanceJoules,
                          Map<JobOnGpu, Double> jobJoules) {
    }

    public NodeMetrics(Source source, int gpus) {
        this(source, gpus, () -> System.currentTimeMillis() / 1000.0);
    }

    /** With the wall clock the per-job series' retention is measured on (seconds). */
    NodeMetrics(Source source, int gpus, java.util.function.DoubleSupplier wallClock) {
        this.wallClock = wallClock;
        this.source = source;
        this.boardWatts = new double[gpus];
        this.boardJoules = new double[gpus];
        this.idleJ = new double[gpus];
        this.attributedJ = new double[gpus];
        java.util.Arrays.fill(boardWatts, Double.NaN);
        java.util.Arrays.fill(boardJoules, Double.NaN);
        String[] gpuLabels = {"gpu", "UUID", "modelName"};
        String[] instanceLabels = {"gpu", "UUID", "modelName", "GPU_I_ID", "GPU_I_PROFILE"};
        String[] occupancyLabels = {"gpu", "UUID", "modelName", "GPU_I_ID", "GPU_I_PROFILE", "job", "user", "hpc_job"};
        String[] jobLabelNames = {"gpu", "UUID", "modelName", "job", "user", "hpc_job"};
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
                .labelNames(gpuLabels).callback(cb -> eachKnown(scrape.boardWatts(), cb::call)).register(registry);
        CounterWithCallback.builder().name("migm_gpu_energy_joules")
                .help("board energy counter since the driver loaded (nvmlDeviceGetTotalEnergyConsumption)")
                .labelNames(gpuLabels).callback(cb -> eachKnown(scrape.boardJoules(), cb::call)).register(registry);
        CounterWithCallback.builder().name("migm_gpu_idle_energy_joules")
                .help("board energy while no attempt held an instance on the GPU, since the daemon started:"
                        + " with the instances' attributed energy, all of the board's")
                .labelNames(gpuLabels).callback(cb -> eachKnown(scrape.idleJ(), cb::call)).register(registry);
        CounterWithCallback.builder().name("migm_gpu_attributed_energy_joules")
                .help("board energy attributed to the attempts on the GPU's instances since the daemon started"
                        + " (model: " + NodeService.ENERGY_MODEL + "): with the idle energy, all of the board's;"
                        + " it outlives the instances")
                .labelNames(gpuLabels).callback(cb -> eachKnown(scrape.attributedJ(), cb::call)).register(registry);
        GaugeWithCallback.builder().name("migm_instance_occupied")
                .help("one series per MIG instance: 1 while an attempt runs on it, with its job, user and Slurm job"
                        + " (hpc_job); 0 while it is idle, with those labels empty")
                .labelNames(occupancyLabels).callback(cb -> eachInstance((slot, labels) -> {
                    String job = scrape.engine().occupants().get(slot);
                    JobLabels who = job == null ? JobLabels.NONE : labels(job);
                    cb.call(job == null ? 0 : 1, labels[0], labels[1], labels[2], labels[3], labels[4], who.job(),
                            who.user(), who.hpcJob());
                })).register(registry);
        CounterWithCallback.builder().name("migm_instance_energy_joules")
                .help("board energy attributed to the attempts on the instance since the daemon started"
                        + " (model: " + NodeService.ENERGY_MODEL + ")")
                .labelNames(instanceLabels).callback(cb -> eachInstance((slot, labels) ->
                        cb.call(scrape.instanceJoules().getOrDefault(slot, 0.0), labels))).register(registry);
        CounterWithCallback.builder().name("migm_job_energy_joules")
                .help("board energy attributed to a job's attempts on the GPU (model: " + NodeService.ENERGY_MODEL
                        + "); a series stays " + (int) JOB_SERIES_RETENTION_S + " s after its job ended")
                .labelNames(jobLabelNames).callback(cb -> {
                    List<GpuView> views = scrape.gpus();
                    scrape.jobJoules().forEach((key, j) -> {
                        if (key.gpu() >= views.size()) return;
                        GpuView v = views.get(key.gpu());
                        JobLabels who = labels(key.jobId());
                        cb.call(j, Integer.toString(key.gpu()), v.uuid(), v.model().name(), who.job(), who.user(),
                                who.hpcJob());
                    });
                }).register(registry);
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
        counter("migm_preemptions", "runs stopped at their checkpoint to give their slices to a waiting job",
                v -> v.preemptions());
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
    private void eachKnown(double[] values, ValueCall call) {
        eachGpu((g, v, labels) -> {
            double value = g < values.length ? values[g] : Double.NaN;
            if (!Double.isNaN(value)) call.call(value, labels);
        });
    }

    private JobLabels labels(String jobId) {
        return jobLabels.computeIfAbsent(jobId, source::jobLabels);
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
        synchronized (energyLock) {
            jobEndedAt.put(jobId, wallS());
        }
    }

    /** When ended jobs' series were last forgotten (energyLock). */
    private double lastForgetS = Double.NEGATIVE_INFINITY;

    /** Forgets the series of jobs that ended more than {@link #JOB_SERIES_RETENTION_S} ago (holding energyLock). */
    private void forgetEndedJobs() {
        lastForgetS = wallS();
        double forgetBefore = lastForgetS - JOB_SERIES_RETENTION_S;
        java.util.Set<String> gone = new java.util.HashSet<>();
        jobEndedAt.entrySet().removeIf(e -> e.getValue() < forgetBefore && gone.add(e.getKey()));
        if (gone.isEmpty()) return;
        jobJoules.keySet().removeIf(k -> gone.contains(k.jobId()));
        gone.forEach(jobLabels::remove);
    }

    private double wallS() {
        return wallClock.getAsDouble();
    }

    /**
     * One energy tick: each GPU's board counter (NaN where it cannot say) over {@code dtS} seconds
     * since the last, and the board energy attributed to the attempts' instances in it.
     */
    public void energyTick(double[] counterJoules, double[] idleJoules, double dtS, List<Share> attributed) {
        synchronized (energyLock) {
            for (int g = 0; g < idleJoules.length && g < idleJ.length; g++) idleJ[g] += idleJoules[g];
            for (int g = 0; g < counterJoules.length && g < boardJoules.length; g++) {
                if (!Double.isNaN(boardJoules[g]) && !Double.isNaN(counterJoules[g]) && dtS > 0) {
                    boardWatts[g] = Math.max(0, counterJoules[g] - boardJoules[g]) / dtS;
                }
                boardJoules[g] = counterJoules[g];
            }
            // Also here, so that a daemon nobody scrapes does not keep every job it ever ended.
            if (wallS() - lastForgetS >= 60) forgetEndedJobs();
            for (Share share : attributed) {
                int g = share.slot().gpu();
                instanceJoules.merge(share.slot(), share.joules(), Double::sum);
                if (g < attributedJ.length) attributedJ[g] += share.joules();
                jobJoules.merge(new JobOnGpu(share.jobId(), g), share.joules(), Double::sum);
            }
        }
    }

    /** Writes the exposition (Prometheus text format 0.0.4) of a scrape taken now. */
    public synchronized void write(OutputStream out) throws IOException {
        EngineView engine = source.engine();
        List<GpuView> gpus = source.gpus();
        synchronized (energyLock) {
            forgetEndedJobs();
            scrape = new Scrape(engine, gpus, boardWatts.clone(), boardJoules.clone(), idleJ.clone(), attributedJ.clone(),
                    Map.copyOf(instanceJoules), Map.copyOf(jobJoules));
        }
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
