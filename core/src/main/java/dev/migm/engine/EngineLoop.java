package dev.migm.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The engine as an actor for live worlds: one thread owns the {@link Engine} and takes work from an
 * inbox; backends, executors, alarms and callers (the CLI, the API) only post. After each batch of
 * events the loop runs one scheduling round. Queries run on the owner thread too ({@link #ask}),
 * so they see a consistent state.
 *
 * <p>Time is monotonic ({@link System#nanoTime}), anchored at the wall clock when the loop starts,
 * so that records carry readable times and a clock step (NTP) moves no deadline. Alarms fire from
 * one timer thread and are posted to the inbox like any event.
 *
 * <p>An exception thrown while handling an event is a bug of the engine: the loop records it,
 * keeps running and reports it through {@link #errors}, so that one bad event does not stop a node.
 */
public final class EngineLoop implements AutoCloseable {
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final ScheduledExecutorService alarms;
    private final Thread thread;
    private final MonotonicTimers timers;
    private final List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Engine engine;
    private final double timeScale;
    private volatile boolean closed;

    /**
     * Monotonic time anchored at the wall clock, running {@code timeScale} modelled seconds per
     * second, with alarms posted to the loop.
     */
    private final class MonotonicTimers implements Timers {
        private final long anchorNanos = System.nanoTime();
        private final double anchorS;

        MonotonicTimers(double notBeforeS) {
            anchorS = Math.max(System.currentTimeMillis() / 1000.0, notBeforeS);
        }

        @Override
        public double nowS() {
            return anchorS + (System.nanoTime() - anchorNanos) / 1e9 * timeScale;
        }

        @Override
        public void at(double atS, EngineEvent event, EventSink sink) {
            long delayNanos = Math.max(0, (long) ((atS - nowS()) / timeScale * 1e9));
            if (closed) return;
            alarms.schedule(() -> sink.deliver(event), delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Builds the engine with the loop's timers and starts the owner thread.
     *
     * @param name   the owner thread's name
     * @param engine makes the engine from the loop's {@link Timers}
     */
    public EngineLoop(String name, Function<Timers, Engine> engine) {
        this(name, 1.0, engine);
    }

    /** As above, with time running {@code timeScale} modelled seconds per second (emulated worlds). */
    public EngineLoop(String name, double timeScale, Function<Timers, Engine> engine) {
        this(name, timeScale, 0, engine);
    }

    /**
     * As above, with the clock starting no earlier than {@code notBeforeS}: a node service restarted
     * with a time scale above 1 continues its journal's modelled time instead of going back.
     */
    public EngineLoop(String name, double timeScale, double notBeforeS, Function<Timers, Engine> engine) {
        if (!(timeScale > 0 && timeScale <= 1e6)) throw new IllegalArgumentException("time scale out of range");
        this.timeScale = timeScale;
        this.alarms = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name + "-alarms");
            t.setDaemon(true);
            return t;
        });
        this.timers = new MonotonicTimers(notBeforeS);
        this.engine = engine.apply(timers);
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        this.engine.confineTo(thread, this::post);
        this.thread.start();
    }

    /** Posts an event; safe from any thread. */
    public void post(EngineEvent event) {
        inbox.add(() -> engine.handle(event));
    }

    /** Runs {@code query} on the owner thread and completes with its answer. */
    public <T> CompletableFuture<T> ask(Function<Engine, T> query) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        inbox.add(() -> {
            try {
                answer.complete(query.apply(engine));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        return answer;
    }

    /** The loop's clock (monotonic, anchored at the wall clock). */
    public Timers timers() {
        return timers;
    }

    /** Exceptions thrown while handling events (bugs), oldest first. */
    public List<Throwable> errors() {
        return List.copyOf(errors);
    }

    private void run() {
        List<Runnable> batch = new ArrayList<>();
        while (!closed) {
            try {
                batch.add(inbox.take());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            inbox.drainTo(batch);
            for (Runnable work : batch) {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    errors.add(e);
                }
            }
            batch.clear();
            try {
                engine.schedule();
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
    }

    /** Stops the owner thread and the alarms; events still in the inbox are dropped. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        alarms.shutdownNow();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
