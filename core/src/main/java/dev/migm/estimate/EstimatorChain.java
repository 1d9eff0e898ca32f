package dev.migm.estimate;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.MemoryPolicy;
import dev.migm.engine.NeedSpread;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The engine's memory policy built from estimators (paper: "dynamic memory estimation", per class
 * of workload; extended with history).
 *
 * <p>First attempt: every estimator that has something to say is asked. A confident history
 * ({@link #TRUSTED} or more) wins alone, since it is what the application really used (but it
 * replaces an analytic estimate of the job's own shape with less only after
 * {@link #ANALYTIC_OVERRIDE_RUNS} runs that all stayed below it); otherwise
 * the largest of the estimates is taken, because the analytic and declared ones tend to miss
 * memory rather than add it (declarations "often too low", weights without the KV cache). The need
 * is the estimate plus a safety {@link #margin}. With no estimate at all the job starts on the
 * smallest instance and the run-time projection and OOM restarts size it.
 *
 * <p>After an OOM on an instance of S MiB the need becomes at least S + 1 (so the next instance is
 * larger) and at least what the job was seen to use plus the margin; after an early restart it is
 * the projected peak plus the margin. Every attempt's outcome is recorded in the history.
 */
public final class EstimatorChain implements MemoryPolicy {
    /**
     * The most memory an estimate may say, 2^40 MiB (a declaration's bound, {@link JobSpec}); an
     * analytic estimate above it is a parameter out of range, not a need.
     */
    public static final long MAX_MIB = 1L << 40;

    /** The estimators that read only what the submitter declared, in the chain's order. */
    private static final List<MemoryEstimator> DECLARED = List.of(new ExpressionEstimator(), new LlmEstimator(),
            new TrainingEstimator(), new DeclaredEstimator());

    /**
     * What a job needs by what its submitter declared alone: the largest of the analytic estimates
     * (expression, llm, training) and the declared memory, before margin and history; empty when it
     * declares nothing. It runs the very estimators the chain runs on the job's first attempt, so it
     * is also the door's check (a job file, a trace row, a submit): a parameter they cannot use fails
     * here, with a {@link ParameterException} naming it, and never later on the engine's thread.
     */
    public static Optional<Estimate> declaredNeed(JobSpec job) {
        Estimate largest = null;
        for (MemoryEstimator e : DECLARED) {
            Optional<Estimate> est = e.estimate(job);
            if (est.isPresent() && (largest == null || est.get().mib() > largest.mib())) largest = est.get();
        }
        return Optional.ofNullable(largest);
    }

    /** The estimators that compute a need from the job's declared shape (not a bare declared figure). */
    static final java.util.Set<String> ANALYTIC = java.util.Set.of("expression", "llm", "training");

    /**
     * Runs of the same application whose peaks all fell below a declared analytic estimate (less its
     * margin) before history may replace it with less: a shape (an LLM's weights and KV cache, a
     * training's optimizer states) is what the job will hold at its worst, and a few quiet runs (short
     * prompts, a small batch) do not prove the next one will be as quiet. Three, as history itself
     * needs ({@link HistoryEstimator#MIN_OBSERVATIONS}); any run that reached the shape, or ran out of
     * memory, keeps the shape.
     */
    public static final int ANALYTIC_OVERRIDE_RUNS = 3;

    /** Whether the application's last {@link #ANALYTIC_OVERRIDE_RUNS} runs all peaked below {@code analyticMib / (1 + margin)}, none out of memory. */
    private boolean consistentlyBelow(String app, long analyticMib) {
        List<HistoryStore.Observation> obs = history.observations(app);
        int below = 0;
        for (int i = obs.size() - 1; i >= 0 && below < ANALYTIC_OVERRIDE_RUNS; i--) {
            HistoryStore.Observation o = obs.get(i);
            if (o.kind() == HistoryStore.Kind.OOM) return false;
            if (o.kind() != HistoryStore.Kind.COMPLETED) continue;
            if (Math.min(o.mib(), o.slotMib()) * (1 + margin) >= analyticMib) return false;
            below++;
        }
        return below >= ANALYTIC_OVERRIDE_RUNS;
    }

    /** History at or above this confidence is used alone. */
    public static final double TRUSTED = 0.7;

    /** Completed runs of a class needed before its growth factor is used. */
    public static final int GROWTH_MIN_RUNS = 3;

    private final List<MemoryEstimator> estimators;
    private final HistoryStore history;
    private final double margin;
    private final java.util.Set<String> invalidated = new java.util.LinkedHashSet<>();
    private final java.util.Map<JobClass, Double> publishedGrowth = new java.util.EnumMap<>(JobClass.class);

    public EstimatorChain(List<MemoryEstimator> estimators, HistoryStore history, double margin) {
        this.estimators = List.copyOf(estimators);
        this.history = history;
        this.margin = margin;
        this.byShapeOnly = this.estimators.stream().allMatch(e -> e instanceof HistoryEstimator
                || e instanceof ExpressionEstimator || e instanceof LlmEstimator || e instanceof TrainingEstimator
                || e instanceof DeclaredEstimator);
    }

    /**
     * Whether every estimator reads of a job only its application, class, declared memory and
     * parameters (and the history of its application): then jobs alike in those get the same
     * estimate from the same history, and the estimate made for one is the others' ({@link #initial}:
     * the waiting jobs of an application are estimated again at each of its ends, thousands at a
     * time in a long queue).
     */
    private final boolean byShapeOnly;

    /** What the built-in estimators read of a job. */
    private record Shape(String app, JobClass jobClass, java.util.OptionalLong declaredMib,
                         java.util.Map<String, String> params) {
    }

    /** An estimate with what it was made from: the history lists (same lists, same history) and the class growth. */
    private record InitialOf(Object[] from, double growth, Need need) {
    }

    private final java.util.Map<Shape, InitialOf> initials = new java.util.HashMap<>();
    /** Shapes kept at most, then forgotten at once: a daemon's memory stays bounded. */
    static final int MOST_SHAPES = 4096;

    /** The history lists an estimate of the job reads, in a fixed order (compared by identity). */
    private Object[] historyReadBy(JobSpec job) {
        Object[] from = new Object[estimators.size() + 1];
        from[0] = history.observations(job.app());
        for (int i = 0; i < estimators.size(); i++) {
            if (estimators.get(i) instanceof HistoryEstimator h) from[i + 1] = h.observations(job);
        }
        return from;
    }

    /**
     * The safety margin on every estimate: 5%, the allocator's slack over what the estimators count
     * (fragmentation of the caching allocator's 2 MiB and 20 MiB blocks, cuBLAS and cuDNN
     * workspaces); swept in BENCHMARKS.md.
     */
    public static final double DEFAULT_MARGIN = 0.05;

    /** The full chain: history, expression, llm, training, declared; 5% margin. */
    public static EstimatorChain defaults(HistoryStore history) {
        return defaults(history, DEFAULT_MARGIN, HistoryEstimator.QUANTILE);
    }

    /** The full chain with another margin and history quantile (sweeps). */
    public static EstimatorChain defaults(HistoryStore history, double margin, double quantile) {
        return new EstimatorChain(List.of(new HistoryEstimator(history, quantile), new ExpressionEstimator(),
                new LlmEstimator(), new TrainingEstimator(), new DeclaredEstimator()), history, margin);
    }

    /** Declarations only (then OOM restarts and projection). */
    public static EstimatorChain declaredOnly(HistoryStore history) {
        return new EstimatorChain(List.of(new DeclaredEstimator()), history, DEFAULT_MARGIN);
    }

    @Override
    public Need initial(JobSpec job) {
        if (job.declaredMib().isPresent() && "true".equals(job.params().get(JobSpec.MEMORY_EXACT))) {
            return new Need(job.declaredMib().getAsLong(), "declared, exact");
        }
        if (!byShapeOnly) return estimate(job);
        // A store hands out one unmodifiable list per application until its history changes
        // (HistoryStore): the same lists and growth give the same estimate.
        Shape shape = new Shape(job.app(), job.jobClass(), job.declaredMib(), job.params());
        Object[] from = historyReadBy(job);
        double growth = publishedGrowth.getOrDefault(job.jobClass(), 1.0);
        InitialOf known = initials.get(shape);
        if (known != null && known.growth() == growth && sameLists(known.from(), from)) return known.need();
        Need need = estimate(job);
        if (initials.size() >= MOST_SHAPES) initials.clear();
        initials.put(shape, new InitialOf(from, growth, need));
        return need;
    }

    private static boolean sameLists(Object[] a, Object[] b) {
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /** The estimate of {@link #initial}, made afresh. */
    private Need estimate(JobSpec job) {
        List<Estimate> all = new ArrayList<>();
        Optional<Estimate> trusted = Optional.empty();
        Optional<Estimate> analytic = Optional.empty();
        for (MemoryEstimator e : estimators) {
            Optional<Estimate> est = e.estimate(job);
            est.ifPresent(all::add);
            if (est.isPresent() && ANALYTIC.contains(e.name())
                    && (analytic.isEmpty() || est.get().mib() > analytic.get().mib())) {
                analytic = est;
            }
            if (trusted.isEmpty() && e instanceof HistoryEstimator) {
                trusted = est.filter(h -> h.confidence() >= TRUSTED);
            }
        }
        if (all.isEmpty()) {
            return new Need(0, "no estimate: smallest instance, sized by projection and OOM restarts");
        }
        if (trusted.isPresent() && analytic.isPresent() && trusted.get().mib() < analytic.get().mib()
                && !consistentlyBelow(job.app(), analytic.get().mib())) {
            // History says less than the job's own shape: it replaces the shape only by the rule.
            trusted = Optional.empty();
        }
        if (trusted.isPresent()) {
            return new Need(withMargin(trusted.get().mib()), trusted.get().source() + " +" + Math.round(margin * 100) + "%",
                    false, spread(job));
        }
        double growth = publishedGrowth.getOrDefault(job.jobClass(), 1.0);
        Estimate chosen = null;
        long best = -1;
        for (Estimate e : all) {
            long mib = e.lowerBound() ? Math.round(e.mib() * growth) : e.mib();
            if (mib > best) {
                best = mib;
                chosen = e;
            }
        }
        String grown = chosen.lowerBound() && growth > 1 ? " x" + growth + " (" + job.jobClass() + " growth from start to peak)" : "";
        return new Need(withMargin(best), chosen.source() + grown + " +" + Math.round(margin * 100) + "%", false,
                spread(job));
    }

    /**
     * How the job's need may fall, by its application's history (each need with the margin): what
     * the policy weighs an instance's risk with. Nothing when history has too few runs to estimate.
     */
    private NeedSpread spread(JobSpec job) {
        for (MemoryEstimator e : estimators) {
            if (e instanceof HistoryEstimator h) {
                // A store hands out one list per application until its history changes: the spread
                // made from the same lists is the same (each waiting job of an application is
                // estimated again whenever one of its runs ends: a million-job trace asks often).
                List<HistoryStore.Observation> from = h.observations(job);
                List<HistoryStore.Observation> starts = history.observations(job.app());
                SpreadOf known = spreads.get(job.app());
                if (known != null && known.from() == from && known.starts() == starts) return known.spread();
                NeedSpread spread = spread(h.needs(job), starts);
                spreads.put(job.app(), new SpreadOf(from, starts, spread));
                return spread;
            }
        }
        return NeedSpread.NONE;
    }

    private record SpreadOf(List<HistoryStore.Observation> from, List<HistoryStore.Observation> starts,
                            NeedSpread spread) {
    }

    private final java.util.Map<String, SpreadOf> spreads = new java.util.HashMap<>();

    private NeedSpread spread(long[] needs, List<HistoryStore.Observation> observations) {
        if (needs.length == 0) return NeedSpread.NONE;
        for (int i = 0; i < needs.length; i++) needs[i] = withMargin(needs[i]);
        long[] starts = observations.stream()
                .filter(o -> o.kind() == HistoryStore.Kind.COMPLETED && o.startMib() > 0)
                .mapToLong(HistoryStore.Observation::startMib).sorted().toArray();
        return new NeedSpread(needs, starts.length == 0 ? 0 : withMargin(starts[starts.length / 2]));
    }

    /**
     * The median ratio of peak to starting memory over a class's completed runs, rounded to 0.05
     * (at least 1), once {@link #GROWTH_MIN_RUNS} runs are known: how much a job of the class grows
     * beyond what it holds at the start (e.g. an LLM's KV cache over its weights).
     */
    double growth(JobClass jobClass) {
        List<HistoryStore.Observation> obs = history.growthObservations(jobClass);
        if (obs.size() < GROWTH_MIN_RUNS) return 1.0;
        // The store hands out one (unmodifiable) list per class until its history changes, and every
        // estimate asks: the growth of the same list is the one worked out last.
        GrowthOf known = growths.get(jobClass);
        if (known != null && known.from() == obs) return known.growth();
        double[] ratios = obs.stream().mapToDouble(o -> (double) o.mib() / o.startMib()).sorted().toArray();
        double median = ratios[ratios.length / 2];
        double growth = Math.max(1.0, Math.round(median * 20) / 20.0);
        growths.put(jobClass, new GrowthOf(obs, growth));
        return growth;
    }

    private record GrowthOf(List<HistoryStore.Observation> from, double growth) {
    }

    private final java.util.Map<JobClass, GrowthOf> growths = new java.util.EnumMap<>(JobClass.class);

    @Override
    public java.util.Set<String> takeInvalidated() {
        java.util.Set<String> out = java.util.Set.copyOf(invalidated);
        invalidated.clear();
        return out;
    }

    @Override
    public Need afterOom(JobSpec job, int attempt, Need previous, long slotMib, long usedMib) {
        history.record(job.app(), job.jobClass(), new HistoryStore.Observation(HistoryStore.Kind.OOM, usedMib, slotMib, 0,
                job.id(), attempt));
        invalidated.add(job.app());
        long need = Math.max(previous.mib(), Math.max(slotMib + 1, withMargin(usedMib)));
        return new Need(need, "after OOM on " + slotMib + " MiB (used " + usedMib + " MiB)");
    }

    @Override
    public Need afterProjection(JobSpec job, int attempt, Need previous, long projectedMib) {
        history.record(job.app(), job.jobClass(), new HistoryStore.Observation(HistoryStore.Kind.PROJECTED, projectedMib,
                0, 0, job.id(), attempt));
        invalidated.add(job.app());
        return new Need(Math.max(previous.mib(), withMargin(projectedMib)), "projected peak " + projectedMib + " MiB +"
                + Math.round(margin * 100) + "%");
    }

    @Override
    public void learn(JobSpec job, int attempt, long observedPeakMib, long startMib, long slotMib) {
        history.record(job.app(), job.jobClass(), new HistoryStore.Observation(HistoryStore.Kind.COMPLETED,
                observedPeakMib, slotMib, startMib, job.id(), attempt));
        invalidated.add(job.app());
        double g = growth(job.jobClass());
        if (g != publishedGrowth.getOrDefault(job.jobClass(), 1.0)) {
            publishedGrowth.put(job.jobClass(), g);
            invalidated.add("class:" + job.jobClass());
        }
    }

    private long withMargin(long mib) {
        return (long) Math.ceil(mib * (1 + margin));
    }
}
