package dev.migm.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Optional;

/**
 * What the engine watches of one running attempt: the memory it was seen to use (its first and
 * highest sample, capped at its instance), and the early-restart trigger's window of samples, with
 * what the attempt was expected to take when it started. It sees samples only in the order they are
 * taken, each when it is taken: no later value can enter what the engine knows of the attempt.
 *
 * <p>An executor that can compute samples before their time (the simulator's model,
 * {@link Executor#judgeAhead}) has them judged in a window of their own ({@link #judgeAhead}): only
 * the verdict is kept, and it is acted on when its sample is due ({@link EngineEvent.SampleFired});
 * the attempt's observed memory is not touched by samples not yet taken.
 */
final class AttemptMonitor {
    private final EarlyRestart trigger;
    /** The memory of the attempt's slot: what a sample can show at most. */
    private final long slotMib;
    /** The largest slot of the node: an attempt there is never restarted early, and no need goes above it. */
    private final long largestSlotMib;
    /** Share of the job's work done when the attempt started. */
    private final double startProgress;
    /** Whether the job's run-time expectation rests on something a live node knows (declared, learned). */
    private final boolean grounded;
    /** The attempt's expected running time, start-up excluded. */
    final double expectedWorkS;
    /** Its running time in distribution: median {@link #expectedWorkS}, the expectation's log spread. */
    private final LogNormal runTime;
    /** What a restart pays before work resumes (start-up). */
    private final double startupS;
    /** Whether a stop keeps the attempt's work: its job checkpoints (and so on the stop signal). */
    private final boolean keepsWorkOnStop;
    /** When the attempt's process came up (NaN while it starts). */
    double runningSinceS = Double.NaN;
    /** The highest memory a sample of the attempt showed, and its first (0: none yet). */
    long observedPeakMib;
    long startMib;
    private final Window window = new Window();
    /** The window of samples judged ahead of their time (null until some are). */
    private Window ahead;
    /** The projected peak of a sample judged ahead that fires the trigger when it is due (0: none). */
    long firedAheadMib;

    AttemptMonitor(EarlyRestart trigger, long slotMib, long largestSlotMib, double startProgress, boolean grounded,
                   double expectedWorkS, double logSpread, double startupS, boolean keepsWorkOnStop) {
        this.trigger = trigger;
        this.slotMib = slotMib;
        this.largestSlotMib = largestSlotMib;
        this.startProgress = startProgress;
        this.grounded = grounded;
        this.expectedWorkS = expectedWorkS;
        this.runTime = new LogNormal(Math.max(1e-3, expectedWorkS), logSpread);
        this.startupS = startupS;
        this.keepsWorkOnStop = keepsWorkOnStop;
    }

    /**
     * What the engine watches of the attempt {@code queued} starts on {@code slot} of a GPU of
     * {@code model}: its working time there from where it starts, and how uncertain that is (the
     * expectation's log spread; an unmeasured scaling adds the slot's slowdown to it: the slot may
     * not slow the job at all).
     */
    static AttemptMonitor of(QueuedJob queued, dev.migm.gpu.GpuModel model, Slot slot, EarlyRestart trigger,
                             long largestSlotMib, double startupS) {
        RuntimeExpectation expected = queued.runtime();
        double expectedWorkS = expected.onSlotS(slot.sms(), model.sms()) * (1 - queued.progress());
        double slowdown = expected.onSlotS(slot.sms(), model.sms()) / expected.wholeGpuS();
        double spread = expected.scalingKnown() ? expected.logSpread()
                : Math.hypot(expected.logSpread(), Math.log(slowdown) / 2);
        return new AttemptMonitor(trigger, slot.memoryMib(), largestSlotMib, queued.progress(), expected.grounded(),
                expectedWorkS, spread, startupS, queued.spec().checkpoints());
    }

    /** The survival below which a run has outlived what its run-time distribution describes. */
    static final double OUTLIVED = LogNormal.OUTLIVED;

    /**
     * The attempt's expected time left at age {@code ageS} (seconds since its process came up): the
     * median of its run time given that it runs now; a run past the {@code 1 - }{@link #OUTLIVED}
     * quantile of that distribution has outlived what it describes, and its age is the median of what
     * is left (a scale-free prior for a run of unknown length).
     */
    double remainingS(double ageS) {
        if (runTime.survival(ageS) < OUTLIVED) return ageS;
        return Math.max(0, runTime.endQuantile(ageS, 0.5) - ageS);
    }

    /** The trigger's samples of one attempt and their running sums. */
    private static final class Window {
        final ArrayDeque<MemoryProjection.Sample> samples = new ArrayDeque<>();
        MemoryProjection.Sums sums = new MemoryProjection.Sums();
        /** Whether its samples are against the job's reported progress (else against running time). */
        boolean byProgress;
        /** The share the job last said and when (engine seconds); NaN: none yet. */
        double lastShare = Double.NaN;
        double lastSaidAtS = Double.NaN;
        /** Its rate of progress between the last two shares it said (per second); NaN: not yet known. */
        double rate = Double.NaN;

        /**
         * The job's share at {@code takenAtS}: as said, when said then; else the last share said,
         * carried forward at the rate between the last two it said (a job that prints every minute
         * is a minute further on than its last line by then); NaN while a stale share has no rate
         * to carry it (its first line), which pairs with no memory sample.
         */
        double shareAt(double takenAtS, ReportedProgress said) {
            double saidAtS = takenAtS - said.ageS();
            if (Double.isNaN(lastShare) || said.share() > lastShare) {
                if (!Double.isNaN(lastShare) && saidAtS > lastSaidAtS) {
                    rate = (said.share() - lastShare) / (saidAtS - lastSaidAtS);
                }
                lastShare = said.share();
                lastSaidAtS = saidAtS;
            }
            if (said.ageS() == 0) return said.share();
            if (Double.isNaN(rate)) return Double.NaN;
            return Math.min(1, lastShare + rate * (takenAtS - lastSaidAtS));
        }
    }

    /** Counts a sample into the attempt's first and highest memory; the sample as the instance holds it. */
    long keepPeak(long usedMib) {
        long used = Math.min(usedMib, slotMib);
        observedPeakMib = Math.max(observedPeakMib, used);
        if (startMib == 0) {
            startMib = used;
        }
        return used;
    }

    /**
     * Takes one memory sample the trigger keeps ({@link EarlyRestart#keeps}), taken now at
     * {@code takenAtS}, into the attempt's peak and the trigger's window; the projected peak to
     * restart with when the trigger fires on it, 0 otherwise.
     */
    long judge(double takenAtS, long usedMib, Optional<ReportedProgress> reportedProgress) {
        return verdict(window, takenAtS, keepPeak(usedMib), reportedProgress);
    }

    /**
     * Judges a sample before its time, in the window of such samples: whether the trigger fires on
     * it (its verdict is then kept for {@link EngineEvent.SampleFired}). Reads only the samples judged
     * before it and what was fixed when the attempt started, so the verdict is the one the sample
     * would get when taken; nothing the engine knows of the attempt changes.
     */
    boolean judgeAhead(double takenAtS, long usedMib, Optional<ReportedProgress> reportedProgress) {
        if (firedAheadMib > 0) return false;
        if (ahead == null) ahead = new Window();
        firedAheadMib = verdict(ahead, takenAtS, Math.min(usedMib, slotMib), reportedProgress);
        return firedAheadMib > 0;
    }

    /**
     * A sample into the window, and the trigger's verdict on it: with the job's own progress, the
     * line against progress projected to the job's end ({@link EarlyRestart#verdict}); without it,
     * the line against running time and the run time in distribution
     * ({@link EarlyRestart#verdictByTime}). A window holds one kind: a job whose first report comes
     * after some samples (one that prints its progress once its model is loaded) starts a window
     * against progress then, and the samples against time before it are dropped.
     */
    private long verdict(Window w, double takenAtS, long used, Optional<ReportedProgress> reportedProgress) {
        if (!trigger.enabled() || Double.isNaN(runningSinceS)) {
            return 0;
        }
        if (reportedProgress.isPresent() && !w.byProgress) {
            w.samples.clear();
            w.sums = new MemoryProjection.Sums();
            w.byProgress = true;
        } else if (reportedProgress.isEmpty() && (w.byProgress || !grounded)) {
            // A report missing from one sample: its progress is not time. And time says little of a
            // run whose expected length rests on nothing of its own (a class's median, a default):
            // on the held-back traces judging those too made five times the false restarts for no
            // shorter makespan (BENCHMARKS.md section 22).
            return 0;
        }
        double x;
        if (reportedProgress.isPresent()) {
            double share = w.shareAt(takenAtS, reportedProgress.get());
            if (Double.isNaN(share)) return 0;
            x = attemptFraction(share);
        } else {
            x = takenAtS - runningSinceS;
        }
        MemoryProjection.Sample sample = new MemoryProjection.Sample(x, used);
        w.samples.addLast(sample);
        w.sums.add(sample);
        if (w.samples.size() >= 2 * trigger.window()) {
            decimate(w.samples);
            w.sums = MemoryProjection.Sums.of(w.samples);
        }
        if (slotMib >= largestSlotMib) {
            return 0;
        }
        java.util.Optional<Long> projected = reportedProgress.isPresent()
                ? trigger.verdict(w.samples, w.sums, slotMib, 1.0)
                : trigger.verdictByTime(w.samples, w.sums, slotMib, x, runTime, startupS, keepsWorkOnStop);
        return projected.map(p -> Math.min(largestSlotMib, p)).orElse(0L);
    }

    /**
     * Halves an attempt's samples, keeping the newest and every second one before it: with new
     * samples kept at a stride that doubles as the attempt ages ({@link EarlyRestart#keeps}), an
     * attempt keeps between one and two windows of samples spread evenly over its whole run, however
     * long it runs (a window of the last samples alone spans too little of a long run's progress for
     * the trigger's minimum span: 60 one-second samples are 2% of only 50 minutes).
     */
    static void decimate(ArrayDeque<MemoryProjection.Sample> samples) {
        ArrayList<MemoryProjection.Sample> all = new ArrayList<>(samples);
        samples.clear();
        for (int i = (all.size() - 1) % 2; i < all.size(); i += 2) samples.addLast(all.get(i));
    }

    /**
     * The most of the job's work a reckoned (not counted) checkpoint is taken to keep: a reckoning by
     * time that says the work is done while the job still ran is wrong by at least the rest.
     */
    static final double MOST_RECKONED = 0.95;

    /**
     * The share of the job's work kept for the next attempt, by what its checkpoint says: counted
     * ({@code step / ofSteps}) where the job made its total known; otherwise reckoned from the time
     * the attempt ran before the checkpoint against the running time expected of it, when that
     * expectation rests on something (declared, learned), at most {@link #MOST_RECKONED}; otherwise
     * (or with no checkpoint written during this attempt) where the attempt started: nothing is
     * assumed kept that nothing says was.
     *
     * @param endS when the attempt ended (the checkpoint's age counts back from it)
     */
    double keptShare(Checkpoint checkpoint, double endS) {
        if (!checkpoint.exists()) return startProgress;
        if (checkpoint.ofSteps().isPresent()) {
            return Math.max(startProgress, Math.min(1.0, (double) checkpoint.step() / checkpoint.ofSteps().getAsLong()));
        }
        double writtenS = endS - checkpoint.ageS();
        if (!grounded || Double.isNaN(runningSinceS) || !(writtenS > runningSinceS)) return startProgress;
        double ofAttempt = Math.min(1.0, (writtenS - runningSinceS) / expectedWorkS);
        return Math.max(startProgress, Math.min(MOST_RECKONED, startProgress + (1 - startProgress) * ofAttempt));
    }

    /** How far the attempt is through its work by the job's own report, as a share of the attempt (0 at its start, 1 at its end). */
    private double attemptFraction(double share) {
        return (share - startProgress) / (1 - startProgress);
    }
}
