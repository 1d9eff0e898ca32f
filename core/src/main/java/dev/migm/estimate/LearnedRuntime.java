package dev.migm.estimate;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.RuntimeEstimator;
import dev.migm.engine.RuntimeExpectation;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Run times as a live system can know them: from each application's finished runs, the
 * submitter's word, and priors.
 *
 * <p>Every completed attempt gives one observation: it ran {@code T} seconds on a slot of {@code SM}
 * SMs (start-up excluded), for a share {@code w} of the job's work, so the whole work would take
 * {@code T / w} there. An application's observations are summarised in models.md section 1's form,
 * {@code T(SM) = D * ((1 - c) + c * max(1, sat * SM_full / SM))}: with runs on at least two slot
 * sizes, {@code c} and {@code sat} are fitted (least squares on log times over a 0.05 grid) and
 * {@code D} follows, when the fit earns its two parameters against the class prior by the Bayesian
 * information criterion ({@code fitEarnsItsParameters}); otherwise, and with one slot size, the class
 * prior gives the scaling and the runs give {@code D} (their geometric mean). The result is
 * grounded: the engine may take the time elapsed as the job's progress.
 *
 * <p>Without history, a job's own expected run time ({@code expected_s}) gives {@code D}, also
 * grounded (the submitter may be wrong). With neither, {@code D} is the median of the class's learned
 * applications, or {@link #UNKNOWN_S}, and is not grounded: it orders the queue and nothing else.
 *
 * <p>Scaling priors are the measurements of models.md section 1, not fitted to any trace: ML, LLM and
 * other jobs take BERT-SQuAD inference on an A100 ({@code c = 0.6, sat = 1}), scientific codes GROMACS
 * on an A100-80GB ({@code c = 0.89, sat = 0.39}). Either prior makes the smallest instance that
 * holds a job's memory its cheapest in slice-time, which is the paper's "tightest instance" rule.
 */
public final class LearnedRuntime implements RuntimeEstimator {
    /**
     * The run time assumed for a job nobody knows anything about: one hour, the default time limit
     * of many Slurm partitions. It only orders the queue; it is never taken as progress.
     */
    public static final double UNKNOWN_S = 3600;

    /** Observations kept per application (the most recent). */
    public static final int LIMIT = 50;

    /**
     * The log spread of a declared run time: declared run times are often generous (Slurm users' time
     * limits), as short as half; half the declaration as the 5% quantile: {@code ln 2 / 1.645}.
     */
    static final double DECLARED_SPREAD = Math.log(2) / 1.645;

    /**
     * The least log spread assumed from fewer than {@link #FEW_RUNS} runs, however alike: a handful of
     * runs does not show an application's spread (the bundled apps' runs of one application span 2-10x;
     * a 10x span as the 5%-95% range: {@code ln 10 / (2 * 1.645)}).
     */
    static final double FEW_RUNS_SPREAD = Math.log(10) / (2 * 1.645);

    /** Runs of an application below this many show too little of its spread. */
    static final int FEW_RUNS = 5;

    /** The least log spread of any learned run time: runs repeat within some 5% at best. */
    static final double MIN_SPREAD = 0.05;

    /**
     * The log spread of a run time nobody knows (the class's median application, or
     * {@link #UNKNOWN_S}): the median run times of one class's applications in the bundled suites span
     * about two orders of magnitude; 100x as the 1%-99% range: {@code ln 100 / (2 * 2.326)}.
     */
    static final double UNKNOWN_SPREAD = Math.log(100) / (2 * 2.326);

    /** A class's default moves the class's waiting jobs when it changes by more than this share. */
    static final double CLASS_CHANGE = 0.10;

    private record Observation(double ratio, double wholeWorkS) {
    }

    private record Scaling(double c, double sat) {
    }

    private final Map<String, ArrayDeque<Observation>> byApp = new HashMap<>();
    private final Map<String, JobClass> classOfApp = new HashMap<>();
    private final Map<String, RuntimeExpectation> fitted = new HashMap<>();
    private final Map<JobClass, Double> classDefault = new EnumMap<>(JobClass.class);
    /**
     * Per class, the learned whole-GPU run time ({@code learned(app).wholeGpuS()}) of each of its
     * applications in ascending order, and per application the one it is listed with: the class's
     * median ({@link #classDefault}) without a sort over all of them at every run learned.
     */
    private final Map<JobClass, SortedDoubles> wholeByClass = new EnumMap<>(JobClass.class);
    private final Map<String, Double> wholeOfApp = new HashMap<>();
    private final Set<String> invalidated = new LinkedHashSet<>();

    /** An attempt that runs: its application's run time is at least what it has run so far. */
    private record Running(String app, JobClass jobClass, double ratio, double sinceS, double startShare) {
    }

    private final Map<String, Running> runningByJob = new HashMap<>();
    /**
     * Per application without finished runs, its running attempts (by job id) and the earliest time
     * one of them can move its bound ({@link #runningAtLeastS}) past the step: {@link #observe} looks
     * only at applications that are due, not at every running attempt each round.
     */
    private static final class Unlearned {
        final Map<String, Running> runs = new HashMap<>();
        /** The time of its newest due entry (the one with {@link #stamp}); infinite when it has none. */
        double dueS = Double.POSITIVE_INFINITY;
        long stamp;
    }

    /** When an application is due to be looked at again; a later stamp of its own makes it stale. */
    private record Due(double atS, String app, long stamp) {
    }

    private final Map<String, Unlearned> unlearned = new HashMap<>();
    private final java.util.PriorityQueue<Due> dues = new java.util.PriorityQueue<>(
            java.util.Comparator.comparingDouble(Due::atS));
    private long stamps;
    /**
     * Per application without finished runs: the longest whole-GPU work its running attempts have
     * shown so far, as last taken into its expectation (it moves in steps of {@link #CLASS_CHANGE},
     * so that an attempt running for hours re-estimates its waiting siblings a few dozen times).
     */
    private final Map<String, Double> runningAtLeastS = new HashMap<>();

    /** A class's scaling prior as {@code {c, sat}} (what replay turns a run's observed time back with). */
    public static double[] priorScaling(JobClass jobClass) {
        Scaling s = prior(jobClass);
        return new double[] {s.c(), s.sat()};
    }

    static Scaling prior(JobClass jobClass) {
        return jobClass == JobClass.SCIENTIFIC ? new Scaling(0.89, 0.39) : new Scaling(0.6, 1.0);
    }

    @Override
    public RuntimeExpectation expect(JobSpec job) {
        RuntimeExpectation learned = learned(job.app());
        if (job.expectedS().isPresent()) {
            double c = learned != null ? learned.c() : prior(job.jobClass()).c();
            double sat = learned != null ? learned.sat() : prior(job.jobClass()).sat();
            return new RuntimeExpectation(job.expectedS().getAsDouble(), c, sat, true, learned != null && learned.scalingKnown(),
                    DECLARED_SPREAD, "declared" + (learned != null ? ", scaling of " + learned.source() : ""));
        }
        if (learned != null) {
            return learned;
        }
        Scaling s = prior(job.jobClass());
        Double d = classDefault.get(job.jobClass());
        double guess = d == null ? UNKNOWN_S : d;
        String source = d == null ? "unknown (default " + (long) UNKNOWN_S + " s)" : "median of " + job.jobClass() + " apps";
        Double atLeast = runningAtLeastS.get(job.app());
        if (atLeast != null && atLeast > guess) {
            return new RuntimeExpectation(atLeast, s.c(), s.sat(), false, false, UNKNOWN_SPREAD,
                    "at least " + Math.round(atLeast) + " s (a run of " + job.app() + " still going)");
        }
        return new RuntimeExpectation(guess, s.c(), s.sat(), false, false, UNKNOWN_SPREAD, source);
    }

    @Override
    public void running(JobSpec job, int sms, int smFull, double sinceS, double startShare) {
        // Only attempts of applications nothing has finished of are kept: observe reads no other, and
        // on a node of thousands of GPUs it runs every round (a pass over every running attempt was
        // half of a 100,000-job simulation on 4,096 GPUs).
        if (sms < 1 || smFull < sms || !(startShare < 1) || byApp.containsKey(job.app())) return;
        notRunning(job);
        Running run = new Running(job.app(), job.jobClass(), (double) smFull / sms, sinceS, Math.max(0, startShare));
        runningByJob.put(job.id(), run);
        Unlearned u = unlearned.computeIfAbsent(job.app(), a -> new Unlearned());
        u.runs.put(job.id(), run);
        double due = dueS(run, runningAtLeastS.get(job.app()));
        if (due < u.dueS) {
            u.dueS = due;
            u.stamp = ++stamps;
            dues.add(new Due(due, job.app(), u.stamp));
        }
    }

    @Override
    public void notRunning(JobSpec job) {
        Running run = runningByJob.remove(job.id());
        if (run == null) return;
        Unlearned u = unlearned.get(run.app());
        if (u != null) {
            u.runs.remove(job.id());
            // Its due entry, if any, stays: looked at, it finds what is left (or nothing).
            if (u.runs.isEmpty()) unlearned.remove(run.app());
        }
    }

    /**
     * The earliest time {@code run} can show more whole-GPU work than {@code taken} moved by the step
     * (any time after its start when nothing is taken yet), a little early so that rounding never
     * makes it late: {@link #observe} then decides exactly, by the same arithmetic as always.
     */
    private static double dueS(Running run, Double taken) {
        double at = taken == null ? run.sinceS()
                : run.sinceS() + taken * (1 + CLASS_CHANGE) * factor(run.ratio(), prior(run.jobClass()))
                * (1 - run.startShare());
        return at - 1e-9 * Math.max(1, Math.abs(at));
    }

    private static double dueS(Unlearned u, Double taken) {
        double due = Double.POSITIVE_INFINITY;
        for (Running r : u.runs.values()) due = Math.min(due, dueS(r, taken));
        return due;
    }

    /**
     * A running attempt of an application nothing has finished of (and not declared) has run {@code
     * t} on a slot slowing it by {@code f} (the class prior's scaling) from share {@code s} of its work:
     * its whole work alone on a whole GPU takes at least {@code t / f / (1 - s)}. The application's
     * waiting jobs are expected to take that at least (a censored observation: the run time is
     * longer than the time seen, by how much nobody knows), so a batch's long applications are known
     * to be long while their first run still goes, and the longest-first order sees them.
     */
    @Override
    public void observe(double nowS) {
        java.util.List<Due> later = null;
        while (!dues.isEmpty() && dues.peek().atS() <= nowS) {
            Due due = dues.poll();
            Unlearned u = unlearned.get(due.app());
            if (u == null || u.stamp != due.stamp()) continue;
            boolean any = false;
            double longest = 0;
            for (Running r : u.runs.values()) {
                if (!(nowS > r.sinceS())) continue;
                double whole = (nowS - r.sinceS()) / factor(r.ratio(), prior(r.jobClass())) / (1 - r.startShare());
                longest = any ? Math.max(longest, whole) : whole;
                any = true;
            }
            Double taken = runningAtLeastS.get(due.app());
            if (any && (taken == null || longest > taken * (1 + CLASS_CHANGE))) {
                runningAtLeastS.put(due.app(), longest);
                invalidated.add(due.app());
                taken = longest;
            }
            u.stamp = ++stamps;
            u.dueS = dueS(u, taken);
            Due next = new Due(u.dueS, due.app(), u.stamp);
            if (next.atS() <= nowS) {
                // Due by the early margin but not yet moved: looked at again in a later round.
                if (later == null) later = new java.util.ArrayList<>();
                later.add(next);
            } else if (next.atS() < Double.POSITIVE_INFINITY) {
                dues.add(next);
            }
        }
        if (later != null) dues.addAll(later);
    }

    @Override
    public void learn(JobSpec job, int sms, int smFull, double runS, double workShare) {
        learn(job.app(), job.jobClass(), sms, smFull, runS, workShare);
    }

    /**
     * Learns one completed run of {@code app}: {@code runS} on a slot of {@code sms} of the GPU's
     * {@code smFull} SMs, doing {@code workShare} of the job's work (a journal's runs, replayed at a
     * node's start, come this way).
     */
    public void learn(String app, JobClass jobClass, int sms, int smFull, double runS, double workShare) {
        if (!(runS > 0) || !(workShare > 0.01) || sms < 1 || smFull < sms) {
            return;
        }
        Unlearned wasUnlearned = unlearned.remove(app);
        if (wasUnlearned != null) runningByJob.keySet().removeAll(wasUnlearned.runs.keySet());
        ArrayDeque<Observation> q = byApp.computeIfAbsent(app, a -> new ArrayDeque<>());
        q.addLast(new Observation((double) smFull / sms, runS / workShare));
        while (q.size() > LIMIT) q.removeFirst();
        JobClass wasClass = classOfApp.put(app, jobClass);
        runningAtLeastS.remove(app);
        fitted.remove(app);
        invalidated.add(app);
        // Only this application's fit changed: its place among its class's is moved, not all sorted again.
        double whole = learned(app).wholeGpuS();
        Double wasWhole = wholeOfApp.put(app, whole);
        if (wasWhole != null) wholeByClass.get(wasClass).remove(wasWhole);
        SortedDoubles ds = wholeByClass.computeIfAbsent(jobClass, c -> new SortedDoubles());
        ds.add(whole);
        double median = ds.at(ds.size() / 2);
        Double old = classDefault.put(jobClass, median);
        if (old == null || Math.abs(median / old - 1) > CLASS_CHANGE) {
            invalidated.add("class:" + jobClass);
        } else {
            classDefault.put(jobClass, old);
        }
    }

    @Override
    public Set<String> takeInvalidated() {
        Set<String> out = Set.copyOf(invalidated);
        invalidated.clear();
        return out;
    }

    private RuntimeExpectation learned(String app) {
        RuntimeExpectation e = fitted.get(app);
        if (e == null) {
            ArrayDeque<Observation> q = byApp.get(app);
            if (q == null || q.isEmpty()) return null;
            e = fit(app, q.toArray(Observation[]::new), prior(classOfApp.get(app)));
            fitted.put(app, e);
        }
        return e;
    }

    /**
     * Whether the fitted scaling explains the runs better than the class prior by more than its two
     * extra parameters can by chance: the Bayesian information criterion for Gaussian log errors,
     * {@code n ln(RSS_fit / RSS_prior) + 2 ln n < 0} (Schwarz 1978; both models fit {@code D}, the fit
     * adds {@code c} and {@code sat}). Runs of one application vary for reasons other than their slot
     * (inputs, steps), and on a few runs the grid finds a {@code c} and {@code sat} that fit that noise:
     * the converted Alibaba trace's pod shapes got {@code c = 0} (no gain from any slot) from 13 runs
     * spread over a factor of 20. With 3 runs the fit must halve the error, with 10 cut it to 0.63,
     * with 50 to 0.85.
     */
    static boolean fitEarnsItsParameters(double fitError, double priorError, int runs) {
        if (fitError <= 0) return true;
        if (!(priorError > 0)) return false;
        return runs * Math.log(fitError / priorError) + 2 * Math.log(runs) < 0;
    }

    /**
     * Fits {@code c} and {@code sat} on the grid and {@code D} for them. Observations on one slot size
     * share their slowdown, so each grid point costs one logarithm per slot size: the squared log
     * error of a group of {@code n} runs around {@code a} is its spread around its own mean {@code m}
     * plus {@code n * (m - a)^2}.
     */
    static RuntimeExpectation fit(String app, Observation[] obs, Scaling prior) {
        Groups g = Groups.of(obs);
        Scaling best = prior;
        boolean ownScaling = g.ratios.length >= 2 && obs.length >= 3;
        double[] logFactor = new double[g.ratios.length];
        if (ownScaling) {
            double[][] table = new double[g.ratios.length][];
            for (int k = 0; k < table.length; k++) table[k] = gridLogFactors(g.ratios[k]);
            double bestErr = Double.POSITIVE_INFINITY;
            for (int ci = 0; ci <= 20; ci++) {
                for (int si = 1; si <= 20; si++) {
                    int point = ci * 20 + si - 1;
                    for (int k = 0; k < table.length; k++) logFactor[k] = table[k][point];
                    double err = g.logError(logFactor);
                    if (err < bestErr - 1e-12) {
                        bestErr = err;
                        best = new Scaling(ci * 0.05, si * 0.05);
                    }
                }
            }
            double[] priorLogFactor = new double[g.ratios.length];
            for (int k = 0; k < priorLogFactor.length; k++) priorLogFactor[k] = Math.log(factor(g.ratios[k], prior));
            // The prior's values, still counted as measured: runs on two sizes or more do not refute it.
            if (!fitEarnsItsParameters(bestErr, g.logError(priorLogFactor), obs.length)) best = prior;
        }
        double logD = g.meanLogD(best, logFactor);
        // The runs' own spread around the fit (the square root of the mean squared log error), at
        // least what a few runs cannot rule out.
        double spread = Math.max(MIN_SPREAD, Math.sqrt(g.logError(logFactor) / obs.length));
        if (obs.length < FEW_RUNS) spread = Math.max(spread, FEW_RUNS_SPREAD);
        return new RuntimeExpectation(Math.exp(logD), best.c(), best.sat(), true, ownScaling, spread,
                "history of " + app + " (" + obs.length + " runs" + (ownScaling ? "" : ", class scaling") + ")");
    }

    /**
     * An application's observations grouped by slot size ({@code ratio}): per group the count, the mean
     * log of the whole-work time, and the spread around it.
     */
    private record Groups(double[] ratios, int[] counts, double[] meanLog, double spread, int total) {
        static Groups of(Observation[] obs) {
            double[] seen = new double[obs.length];
            int distinct = 0;
            for (Observation o : obs) {
                boolean known = false;
                for (int k = 0; k < distinct && !known; k++) known = seen[k] == o.ratio();
                if (!known) seen[distinct++] = o.ratio();
            }
            double[] ratios = Arrays.copyOf(seen, distinct);
            int[] counts = new int[ratios.length];
            double[] meanLog = new double[ratios.length];
            for (Observation o : obs) {
                int k = indexOf(ratios, o.ratio());
                counts[k]++;
                meanLog[k] += Math.log(o.wholeWorkS());
            }
            for (int k = 0; k < ratios.length; k++) meanLog[k] /= counts[k];
            double spread = 0;
            for (Observation o : obs) {
                double r = Math.log(o.wholeWorkS()) - meanLog[indexOf(ratios, o.ratio())];
                spread += r * r;
            }
            return new Groups(ratios, counts, meanLog, spread, obs.length);
        }

        private static int indexOf(double[] values, double v) {
            for (int k = 0; ; k++) {
                if (values[k] == v) return k;
            }
        }

        /** The mean over runs of {@code log(T / factor)}; fills {@code logFactor} for {@code s}. */
        double meanLogD(Scaling s, double[] logFactor) {
            for (int k = 0; k < ratios.length; k++) logFactor[k] = Math.log(factor(ratios[k], s));
            return meanLogD(logFactor);
        }

        /** The mean over runs of {@code log(T / factor)}, given each group's {@code log(factor)}. */
        double meanLogD(double[] logFactor) {
            double sum = 0;
            for (int k = 0; k < ratios.length; k++) sum += counts[k] * (meanLog[k] - logFactor[k]);
            return sum / total;
        }

        /**
         * The sum over runs of the squared log error of {@code T = D * factor} with the best {@code D},
         * given each group's {@code log(factor)}.
         */
        double logError(double[] logFactor) {
            double logD = meanLogD(logFactor);
            double err = spread;
            for (int k = 0; k < ratios.length; k++) {
                double r = meanLog[k] - logD - logFactor[k];
                err += counts[k] * r * r;
            }
            return err;
        }
    }

    /**
     * {@code log(factor)} of a slot-size ratio at every grid point ({@code c} index * 20 + {@code sat}
     * index - 1), computed once per ratio: ratios are the catalog's few SM ratios.
     */
    private static double[] gridLogFactors(double ratio) {
        return GRID_LOG_FACTORS.computeIfAbsent(ratio, r -> {
            double[] out = new double[21 * 20];
            for (int ci = 0; ci <= 20; ci++) {
                for (int si = 1; si <= 20; si++) out[ci * 20 + si - 1] = Math.log(factor(r, new Scaling(ci * 0.05, si * 0.05)));
            }
            return out;
        });
    }

    private static final Map<Double, double[]> GRID_LOG_FACTORS = new java.util.concurrent.ConcurrentHashMap<>();

    private static double factor(double ratio, Scaling s) {
        return (1 - s.c()) + s.c() * Math.max(1.0, s.sat() * ratio);
    }

    /** Doubles in ascending order ({@link Double#compare}'s), with duplicates; insertion and removal by search. */
    static final class SortedDoubles {
        private double[] values = new double[8];
        private int size;

        void add(double v) {
            int at = java.util.Arrays.binarySearch(values, 0, size, v);
            if (at < 0) at = -at - 1;
            if (size == values.length) values = java.util.Arrays.copyOf(values, 2 * size);
            System.arraycopy(values, at, values, at + 1, size - at);
            values[at] = v;
            size++;
        }

        /** Removes one occurrence of {@code v}; none when it is not held. */
        void remove(double v) {
            int at = java.util.Arrays.binarySearch(values, 0, size, v);
            if (at < 0) return;
            System.arraycopy(values, at + 1, values, at, size - at - 1);
            size--;
        }

        double at(int index) {
            java.util.Objects.checkIndex(index, size);
            return values[index];
        }

        int size() {
            return size;
        }
    }
}
