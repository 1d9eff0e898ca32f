package dev.migm.virtual;

import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Timers;

/**
 * The simulator's clock and event queue: actions run in time order, ties in the order they were
 * scheduled, so a run is deterministic. Time only moves when the driver takes the next action.
 *
 * <p>The queue is a binary heap over parallel arrays (time, order, action): a long simulation
 * schedules an action per memory sample, hundreds of millions in all, and a heap of objects pays an
 * allocation and a comparison call for each.
 */
public final class VirtualTime implements Timers {
    private double[] times = new double[1024];
    private long[] orders = new long[1024];
    private Runnable[] actions = new Runnable[1024];
    private int size;
    private double now;
    private long seq;

    @Override
    public double nowS() {
        return now;
    }

    /** Runs {@code action} at {@code timeS} (not before now). */
    public void at(double timeS, Runnable action) {
        if (!(timeS >= now)) {
            throw new IllegalArgumentException("cannot schedule in the past: " + timeS + " < " + now);
        }
        push(timeS, seq++, action);
    }

    /**
     * Runs {@code action} at {@code timeS} before every action {@link #at} scheduled for the same
     * time, whenever that was scheduled; such actions run among themselves by {@code order}. A trace's
     * arrivals, fed one at a time, run as if all had been scheduled before the run began.
     */
    public void arrival(double timeS, long order, Runnable action) {
        if (!(timeS >= now)) {
            throw new IllegalArgumentException("cannot schedule in the past: " + timeS + " < " + now);
        }
        push(timeS, Long.MIN_VALUE + order, action);
    }

    @Override
    public void at(double atS, EngineEvent event, EventSink sink) {
        at(Math.max(atS, now), () -> sink.deliver(event));
    }

    public void after(double delayS, Runnable action) {
        at(now + delayS, action);
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** The time of the next action; infinity when none. */
    public double nextTimeS() {
        return size == 0 ? Double.POSITIVE_INFINITY : times[0];
    }

    /** Runs every action due at the next time step; returns false when nothing was left. */
    public boolean runNextStep() {
        if (size == 0) {
            return false;
        }
        now = times[0];
        pop().run();
        while (size > 0 && times[0] == now) {
            pop().run();
        }
        return true;
    }

    /** Whether entry {@code a} comes before entry {@code b}: earlier time, then lower order. */
    private boolean before(int a, int b) {
        return times[a] < times[b] || (times[a] == times[b] && orders[a] < orders[b]);
    }

    private void push(double timeS, long order, Runnable action) {
        if (size == times.length) {
            int grown = 2 * size;
            times = java.util.Arrays.copyOf(times, grown);
            orders = java.util.Arrays.copyOf(orders, grown);
            actions = java.util.Arrays.copyOf(actions, grown);
        }
        int i = size++;
        times[i] = timeS;
        orders[i] = order;
        actions[i] = action;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(i, parent)) break;
            swap(i, parent);
            i = parent;
        }
    }

    private Runnable pop() {
        Runnable first = actions[0];
        int last = --size;
        times[0] = times[last];
        orders[0] = orders[last];
        actions[0] = actions[last];
        actions[last] = null;
        int i = 0;
        while (true) {
            int left = 2 * i + 1;
            if (left >= size) break;
            int child = left + 1 < size && before(left + 1, left) ? left + 1 : left;
            if (!before(child, i)) break;
            swap(i, child);
            i = child;
        }
        return first;
    }

    private void swap(int a, int b) {
        double t = times[a];
        times[a] = times[b];
        times[b] = t;
        long o = orders[a];
        orders[a] = orders[b];
        orders[b] = o;
        Runnable r = actions[a];
        actions[a] = actions[b];
        actions[b] = r;
    }
}
