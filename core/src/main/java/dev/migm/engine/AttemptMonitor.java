package dev.migm.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.OptionalDouble;

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
    /** The earliest plausible end of the attempt, as a share of {@link #expectedWorkS}. */
    private final double shortestEndFraction;
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
                   double expectedWorkS, double shortestEndFraction) {
        this.trigger = trigger;
        this.slotMib = slotMib;
        this.largestSlotMib = largestSlotMib;
        this.startProgress = startProgress;
        this.grounded = grounded;
        this.expectedWorkS = expectedWorkS;
        this.shortestEndFraction = shortestEndFraction;
    }

    /**
     * What the engine watches of the attempt {@code queued} starts on {@code slot} of a GPU of
     * {@code model}: its working time there, from where it starts, and the earliest share of it at
     * which it may end.
     */
    static AttemptMonitor of(QueuedJob queued, dev.migm.gpu.GpuModel model, Slot slot, EarlyRestart trigger,
                             long largestSlotMib) {
        RuntimeExpectation expected = queued.runtime();
        double expectedWorkS = expected.onSlotS(slot.sms(), model.sms()) * (1 - queued.progress());
        // Without the job's own report the run may end early: as soon as shortShare of its expected
        // time, and with an unmeasured scaling as if the slot did not slow it at all. The trigger
        // projects to that end, so a generous expectation cannot fake steep growth.
        double slowdown = expected.onSlotS(slot.sms(), model.sms()) / expected.wholeGpuS();
        double shortestEnd = expected.shortShare() / (expected.scalingKnown() ? 1 : slowdown);
        return new AttemptMonitor(trigger, slot.memoryMib(), largestSlotMib, queued.progress(), expected.grounded(),
                expectedWorkS, shortestEnd);
    }

    /** The trigger's samples of one attempt and their running sums. */
    private static final class Window {
        final ArrayDeque<MemoryProjection.Sample> samples = new ArrayDeque<>();
        MemoryProjection.Sums sums = new MemoryProjection.Sums();
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
    long judge(double takenAtS, long usedMib, OptionalDouble reportedProgress) {
        return verdict(window, takenAtS, keepPeak(usedMib), reportedProgress);
    }

    /**
     * Judges a sample before its time, in the window of such samples: whether the trigger fires on
     * it (its verdict is then kept for {@link EngineEvent.SampleFired}). Reads only the samples judged
     * before it and what was fixed when the attempt started, so the verdict is the one the sample
     * would get when taken; nothing the engine knows of the attempt changes.
     */
    boolean judgeAhead(double takenAtS, long usedMib, OptionalDouble reportedProgress) {
        if (firedAheadMib > 0) return false;
        if (ahead == null) ahead = new Window();
        firedAheadMib = verdict(ahead, takenAtS, Math.min(usedMib, slotMib), reportedProgress);
        return firedAheadMib > 0;
    }

    private long verdict(Window w, double takenAtS, long used, OptionalDouble reportedProgress) {
        if (!trigger.enabled() || Double.isNaN(runningSinceS)) {
            return 0;
        }
        double x = attemptFraction(reportedProgress, takenAtS);
        if (Double.isNaN(x)) {
            return 0;
        }
        double shortestEnd = reportedProgress.isPresent() ? 1.0 : shortestEndFraction;
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
        return trigger.verdict(w.samples, w.sums, slotMib, shortestEnd)
                .map(projected -> Math.min(largestSlotMib, projected)).orElse(0L);
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
     * How far the attempt is through its work, as a share of the attempt (0 at its start, 1 at its
     * expected end): the job's own report when it gives one, otherwise its running time over the
     * expected running time, but only when that expectation rests on something (declared, learned);
     * NaN when nothing a live system knows says how far it is.
     */
    private double attemptFraction(OptionalDouble reported, double atS) {
        if (reported.isPresent()) {
            return (reported.getAsDouble() - startProgress) / (1 - startProgress);
        }
        if (!grounded) {
            return Double.NaN;
        }
        return (atS - runningSinceS) / expectedWorkS;
    }
}
