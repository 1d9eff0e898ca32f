package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * {@code history}: what earlier runs of the same application really needed, as a quantile.
 *
 * <p>Robust to allocator caching (models.md section 2: PyTorch reserves more than it uses and
 * grows with the memory it is given; JAX preallocates 75-95%): a completed run on an instance of
 * {@code S} MiB proves that run needed at most {@code S}, so each completed run counts as
 * {@code min(observed peak, S)}, never more than the instance that held it. A run that ran out of
 * memory on {@code S} MiB counts as {@code S + 1} (it needed more); one stopped early counts as the
 * peak its trigger projected (its completion counts again). Confidence grows with the number of
 * completed runs.
 */
public final class HistoryEstimator implements MemoryEstimator {
    /**
     * The default quantile of past needs taken as the estimate: the median. Sizing too small is
     * cheap here (an OOM at start-up costs seconds, growth is caught by the projection), sizing too
     * large wastes slices for the whole run, and one application's runs vary widely (bundled traces:
     * bert-finetune peaks from 9 to 20 GiB), so a high quantile over-provisions most runs.
     */
    public static final double QUANTILE = 0.5;

    /** Fewer observations than this say nothing (one outlier must not size every later run). */
    public static final int MIN_OBSERVATIONS = 3;

    private final HistoryStore store;
    private final double quantile;

    public HistoryEstimator(HistoryStore store) {
        this(store, QUANTILE);
    }

    public HistoryEstimator(HistoryStore store, double quantile) {
        this.store = store;
        this.quantile = quantile;
    }

    @Override
    public String name() {
        return "history";
    }

    /** The last estimate per application, with the observation list it came from. */
    private record Cached(List<HistoryStore.Observation> from, Optional<Estimate> estimate, long[] needs) {
    }

    private final java.util.Map<String, Cached> cache = new java.util.HashMap<>();

    /**
     * The quantile of the application's observations; the same list object (a store hands out one
     * until the application's history changes) gives the estimate already computed from it.
     */
    @Override
    public Optional<Estimate> estimate(JobSpec job) {
        List<HistoryStore.Observation> obs = store.observations(job.app());
        Cached known = cache.get(job.app());
        if (known != null && known.from() == obs) return known.estimate();
        long[] needs = needs(obs);
        Optional<Estimate> fresh = quantile(job, obs, needs);
        cache.put(job.app(), new Cached(obs, fresh, fresh.isPresent() ? needs : new long[0]));
        return fresh;
    }

    /** What the needs of {@link #needs} come from: the store's observations of the job's application. */
    public List<HistoryStore.Observation> observations(JobSpec job) {
        return store.observations(job.app());
    }

    /**
     * The needs the application's runs showed, ascending, as {@link #estimate} counts them; empty
     * while they are too few to give an estimate.
     */
    public long[] needs(JobSpec job) {
        estimate(job);
        return cache.get(job.app()).needs().clone();
    }

    private static long[] needs(List<HistoryStore.Observation> obs) {
        long[] needs = new long[obs.size()];
        int n = 0;
        for (HistoryStore.Observation o : obs) {
            switch (o.kind()) {
                case COMPLETED -> needs[n++] = Math.min(o.mib(), o.slotMib());
                case OOM -> needs[n++] = Math.max(o.mib(), o.slotMib() + 1);
                // A projection is what one run's own memory, against its progress or its grounded run
                // time, said it would reach: a sibling waiting meanwhile should not start where it
                // did (BENCHMARKS.md section 23: the llm traces' first waves).
                case PROJECTED -> needs[n++] = o.mib();
            }
        }
        needs = Arrays.copyOf(needs, n);
        Arrays.sort(needs);
        return needs;
    }

    private Optional<Estimate> quantile(JobSpec job, List<HistoryStore.Observation> obs, long[] needs) {
        if (needs.length < MIN_OBSERVATIONS) return Optional.empty();
        long completed = obs.stream().filter(o -> o.kind() == HistoryStore.Kind.COMPLETED).count();
        long q = needs[Math.min(needs.length - 1, (int) Math.ceil(quantile * needs.length) - 1)];
        double confidence = Math.min(0.9, 0.3 + 0.15 * completed);
        return Optional.of(new Estimate(q, "history of " + job.app() + " (p" + Math.round(quantile * 100) + " of "
                + obs.size() + " runs)", confidence));
    }
}
