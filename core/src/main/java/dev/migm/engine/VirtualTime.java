package dev.migm.engine;

import dev.migm.engine.Clock;
import java.util.PriorityQueue;

/**
 * The simulator's clock and event queue: actions run in time order, ties in the order they were
 * scheduled, so a run is deterministic. Time only moves when the driver takes the next action.
 */
public final class VirtualTime implements Timers {
    private record Timed(double timeS, long seq, Runnable action) implements Comparable<Timed> {
        @Override
        public int compareTo(Timed o) {
            int c = Double.compare(timeS, o.timeS);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Timed> queue = new PriorityQueue<>();
    private double now;
    private long seq;

    @Override
    public double nowS() {
        return now;
    }

    /** Runs {@code action} at {@code timeS} (not before now). */
    public void at(double timeS, Runnable action) {
        if (timeS < now) {
            throw new IllegalArgumentException("cannot schedule in the past: " + timeS + " < " + now);
        }
        queue.add(new Timed(timeS, seq++, action));
    }

    /**
     * Runs {@code action} at {@code timeS} before every action {@link #at} scheduled for the same
     * time, whenever that was scheduled; such actions run among themselves by {@code order}. A trace's
     * arrivals, fed one at a time, run as if all had been scheduled before the run began.
     */
    public void arrival(double timeS, long order, Runnable action) {
        if (timeS < now) {
            throw new IllegalArgumentException("cannot schedule in the past: " + timeS + " < " + now);
        }
        queue.add(new Timed(timeS, Long.MIN_VALUE + order, action));
    }

    @Override
    public void at(double atS, EngineEvent event, EventSink sink) {
        at(Math.max(atS, now), () -> sink.deliver(event));
    }

    public void after(double delayS, Runnable action) {
        at(now + delayS, action);
    }

    public boolean isEmpty() {
        return queue.isEmpty();
    }

    /** The time of the next action; infinity when none. */
    public double nextTimeS() {
        Timed t = queue.peek();
        return t == null ? Double.POSITIVE_INFINITY : t.timeS();
    }

    /** Runs every action due at the next time step; returns false when nothing was left. */
    public boolean runNextStep() {
        Timed first = queue.poll();
        if (first == null) {
            return false;
        }
        now = first.timeS();
        first.action().run();
        while (!queue.isEmpty() && queue.peek().timeS() == now) {
            queue.poll().action().run();
        }
        return true;
    }
}
