package dev.migm.engine;

import java.util.Optional;

/**
 * When to stop an attempt whose projected peak will not fit its instance.
 *
 * @param enabled     whether early restart is on
 * @param minSamples  samples needed before the projection is trusted
 * @param window      how many samples the projection uses at least: an attempt keeps one to two
 *                    windows, spread over its whole run (older ones thinned as it grows)
 * @param minSpan     progress the samples must span (a slope over a sliver of progress is noise)
 * @param z           how many standard errors the projection must clear the instance by
 * @param noiseFloor  the least relative noise assumed in samples (allocator granularity and
 *                    reporting noise), so that a few quiet samples do not look certain
 * @param confidence  without the job's progress, the least chance that it still runs when its memory
 *                    reaches the instance's for it to be stopped early ({@link #CONFIDENCE})
 */
public record EarlyRestart(boolean enabled, int minSamples, int window, double minSpan, double z,
                           double noiseFloor, double confidence) {
    public static final EarlyRestart DEFAULT = new EarlyRestart(true, 10, 60, 0.02, 4.0, 0.01, EarlyRestart.CONFIDENCE);
    public static final EarlyRestart OFF = new EarlyRestart(false, 10, 60, 0.02, 4.0, 0.01, EarlyRestart.CONFIDENCE);

    /**
     * Whether the trigger keeps an attempt's sample number {@code sequence} (from 0): all of the
     * first two windows, then every second one up to four windows, every fourth up to eight,
     * and so on, so that the samples kept stay between one and two windows spread over the
     * whole attempt once older ones are thinned ({@link AttemptMonitor#decimate}). A pure function of the
     * number, so that a sampler can send only these.
     */
    public static boolean keeps(long sequence, int window) {
        long twoWindows = 2L * window;
        if (sequence < twoWindows) return sequence >= 0;
        return (sequence & (stride(sequence, twoWindows) - 1)) == 0;
    }

    /**
     * The stride kept at sample number {@code sequence} (at least {@code twoWindows}): 2^(k+1) on
     * [2W 2^k, 2W 2^(k+1)), that is for floor(sequence / 2W) in [2^k, 2^(k+1)).
     */
    private static long stride(long sequence, long twoWindows) {
        return Long.highestOneBit(sequence / twoWindows) << 1;
    }

    /**
     * The first sample number after {@code sequence} that {@link #keeps} keeps, in constant time
     * (a sampler that sends only these skips the others without counting through them). Each
     * stretch of equal stride starts at {@code 2 W 2^k}, a multiple of its stride {@code 2^(k+1)}
     * and so of the stride before it: the next multiple of the current stride is kept.
     */
    public static long nextKept(long sequence, int window) {
        long next = Math.max(0, sequence + 1);
        long twoWindows = 2L * window;
        if (next < twoWindows) return next;
        long stride = stride(next, twoWindows);
        return (next + stride - 1) & -stride;
    }

    /**
     * The trigger, pure: given an attempt's recent samples (progress as a share of the attempt,
     * memory as reported), the instance's memory and the earliest plausible end of the run (as
     * that share), the projected peak to restart with if the job must be stopped now. It fires
     * only when (1) even the conservative bound of the window's line at that end clears the
     * instance, and (2) the growth is sustained: extended with the {@link #sustainedSlope} (the
     * smaller of the median pairwise slopes of the window's two halves and of the least-squares
     * slope less its standard errors), the line still clears it. Without
     * (2), a burst of temporary buffers or a pause in growth tilts a least-squares line fitted
     * across it, and jobs that fit are stopped. The trigger assumes growth goes on at its rate
     * to the end (the paper's projection): a job whose growth stops well before its end can be
     * stopped although it would have fitted. The peak it returns is the line's value at the
     * expected end (at least the bound).
     */
    public Optional<Long> verdict(java.util.Collection<MemoryProjection.Sample> samples, long slotMib,
                                  double shortestEnd) {
        return verdict(samples, MemoryProjection.Sums.of(samples), slotMib, shortestEnd);
    }

    /** The same, with the samples' running sums kept alongside them (constant time unless it may fire). */
    public Optional<Long> verdict(java.util.Collection<MemoryProjection.Sample> samples, MemoryProjection.Sums sums,
                                  long slotMib, double shortestEnd) {
        if (sums.count() < minSamples) {
            return Optional.empty();
        }
        double last = sums.maxProgress();
        if (last - sums.minProgress() < minSpan) {
            return Optional.empty();
        }
        // The bound lies below the line (z >= 0): a line that fits the instance settles it
        // without the error terms, as it does for nearly every sample.
        double line = MemoryProjection.lineAt(sums, shortestEnd);
        if (Double.isNaN(line) || (z >= 0 && line <= slotMib)) {
            return Optional.empty();
        }
        Optional<MemoryProjection.Result> bound = MemoryProjection.project(sums, shortestEnd, z, noiseFloor);
        if (bound.isEmpty() || bound.get().lowerMib() <= slotMib) {
            return Optional.empty();
        }
        double sustained = sustainedSlope(samples, sums);
        double lineAtLast = MemoryProjection.project(sums, last, z, noiseFloor).orElseThrow().projectedMib();
        if (lineAtLast + Math.max(0, sustained) * (shortestEnd - last) <= slotMib) {
            return Optional.empty();
        }
        double central = MemoryProjection.project(sums, 1.0, z, noiseFloor).orElseThrow().projectedMib();
        return Optional.of(Math.round(Math.max(central, bound.get().projectedMib())));
    }

    /**
     * The growth both triggers trust: the smaller of the Theil-Sen slopes of the window's two halves
     * (a burst or a pause does not pass for growth) and of the least-squares slope less {@code z}
     * standard errors (a short window's noise does not either: with the oracle's tight instances,
     * noise read as growth restarted 15-33 jobs a suite that fit, BENCHMARKS.md section 22).
     */
    private double sustainedSlope(java.util.Collection<MemoryProjection.Sample> samples, MemoryProjection.Sums sums) {
        java.util.List<MemoryProjection.Sample> all = java.util.List.copyOf(samples);
        int half = all.size() / 2;
        return Math.min(Math.min(MemoryProjection.medianSlope(all.subList(0, half)),
                MemoryProjection.medianSlope(all.subList(half, all.size()))),
                MemoryProjection.slopeLower(sums, z, noiseFloor));
    }

    /** The least span of time, in seconds, an attempt's samples must cover before a time trend is trusted. */
    static final double MIN_SPAN_S = 10;

    /**
     * The least chance that the job still runs when its memory reaches the instance's for it to be
     * stopped early: a restart it would not have needed is one in twenty at most, the false-alarm
     * budget of 5% of jobs. Swept on the held-back traces (not the bundled suites; {@code simulate
     * --tune confidence=P}, BENCHMARKS.md sections 6 and 22).
     */
    static final double CONFIDENCE = 0.95;

    /**
     * The quantile of the attempt's end its restart is sized for (the peak the line reaches by then):
     * the median, given that it runs now. Sized larger, every restart buys its whole rest an instance
     * it may not need; sized smaller, a run that goes on longer is caught again by the same rule.
     */
    static final double SIZED_FOR = 0.5;

    /**
     * At most this many times the instance, when the run time is a guess ({@link #UNCERTAIN_SPREAD}):
     * twice, less the estimators' 5% margin, so that the restart's need stays within twice the instance.
     */
    static final double MOST_GROWTH = 2 / 1.05;

    /**
     * A run time at least this uncertain (log spread) sizes a restart at most twice the instance: the
     * line projected to a guessed end would buy the largest instance for any growth, and doubling is
     * the rule of online search when the horizon is unknown (its total cost stays within a constant
     * factor of knowing it). Below it (declared, or a few runs learned) the projection is used whole.
     */
    static final double UNCERTAIN_SPREAD = 0.75;

    /**
     * The trigger without the job's own progress: memory against elapsed time, and the run time as a
     * distribution. Derivation (slice-seconds of this attempt's instance; {@code t} now, {@code S} the
     * start-up a restart pays again):
     *
     * <ul>
     *   <li>The sustained growth ({@link #sustainedSlope}) carries the conservative level now
     *       (the least-squares line's value at {@code t} less {@code z} standard errors) to the
     *       instance's memory at {@code t_hit}: the OOM, if the job still runs then.</li>
     *   <li>It still runs then with probability {@code P = P(T > t_hit | T > t)}, {@code T} the
     *       attempt's running time, log-normal around the expected one with the expectation's log
     *       spread ({@link RuntimeExpectation#logSpread}).</li>
     *   <li>Restarting now loses the work of this attempt ({@code t}, or nothing for a job that
     *       checkpoints on the stop signal) and {@code S}, whether or not the OOM would have come; and
     *       if it would not have (probability {@code 1 - P}), the rest of the run goes on an instance
     *       {@code k} times larger (the projected peak over the instance's memory) that it did not
     *       need: {@code (k - 1)} instance-seconds per second of a rest taken as half the way to
     *       {@code t_hit}.</li>
     *   <li>Waiting loses, with probability {@code P}, {@code S} and the attempt's work up to the OOM
     *       that no checkpoint keeps: all of it ({@code t_hit}), or for a job that checkpoints, whose
     *       periodic checkpoints the engine does not see, half.</li>
     *   <li>So restart now when {@code lost now + S + (1 - P) (k - 1) (t_hit - t) / 2 < P (lost at the
     *       OOM + S)}, and {@code P} is at least {@link #confidence} ({@link #CONFIDENCE}). The rule is checked at every kept
     *       sample: a job far from its limit, or likely to end first, waits and is judged again.</li>
     * </ul>
     *
     * The peak to restart with is the line's value at the attempt's {@link #SIZED_FOR} quantile end
     * given that it runs now (at most {@link #MOST_GROWTH} times the instance when the run time is a
     * guess, {@link #UNCERTAIN_SPREAD}), and more than the instance.
     *
     * @param samples         the window's samples: seconds since the attempt's process came up, MiB
     * @param sums            their running sums
     * @param slotMib         the instance's memory
     * @param nowS            seconds since the attempt's process came up
     * @param runTime         the attempt's running time, in distribution
     * @param startupS        what a restart pays before work resumes
     * @param keepsWorkOnStop whether a stop keeps the attempt's work (its job checkpoints on the signal)
     */
    public Optional<Long> verdictByTime(java.util.Collection<MemoryProjection.Sample> samples,
                                        MemoryProjection.Sums sums, long slotMib, double nowS, LogNormal runTime,
                                        double startupS, boolean keepsWorkOnStop) {
        if (sums.count() < minSamples) return Optional.empty();
        double span = sums.maxProgress() - sums.minProgress();
        if (span < Math.max(MIN_SPAN_S, minSpan * runTime.medianS())) return Optional.empty();
        // The sustained slope is at most the least-squares bound (it is their minimum), so the limit is
        // reached no sooner than that bound says; with the chance of running until then below the
        // confidence asked, the Theil-Sen slopes (a sort of every pair of samples) cannot change the
        // verdict and are not computed: most samples of most runs stop here.
        double upper = MemoryProjection.slopeLower(sums, z, noiseFloor);
        if (!(upper > 0)) return Optional.empty();
        Optional<MemoryProjection.Result> now = MemoryProjection.project(sums, nowS, z, noiseFloor);
        if (now.isEmpty()) return Optional.empty();
        double level = now.get().lowerMib();
        if (runTime.stillRunning(nowS, nowS + Math.max(0, slotMib - level) / upper) < confidence) {
            return Optional.empty();
        }
        double sustained = sustainedSlope(samples, sums);
        if (!(sustained > 0)) return Optional.empty();
        double hitS = nowS + Math.max(0, slotMib - level) / sustained;
        double stillRunning = runTime.stillRunning(nowS, hitS);
        double peak = MemoryProjection.lineAt(sums, Math.max(runTime.endQuantile(nowS, SIZED_FOR), hitS));
        if (runTime.sigma() >= UNCERTAIN_SPREAD) peak = Math.min(peak, MOST_GROWTH * slotMib);
        peak = Math.max(slotMib + 1, peak);
        double larger = peak / slotMib;
        double restartNow = (keepsWorkOnStop ? 0 : nowS) + startupS
                + (1 - stillRunning) * (larger - 1) * (hitS - nowS) / 2;
        double wait = stillRunning * ((keepsWorkOnStop ? hitS / 2 : hitS) + startupS);
        if (stillRunning < confidence || !(restartNow < wait)) return Optional.empty();
        return Optional.of(Math.round(peak));
    }
}
