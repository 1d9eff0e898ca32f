package dev.migm.backend;

import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Watches that each GPU still answers ({@link LiveBackend#lostReason}: NVML's
 * {@code NVML_ERROR_GPU_IS_LOST}) and tells the engine when one stops ({@link EngineEvent.GpuLost}:
 * its attempts end and are requeued, nothing new goes there) and when it answers again
 * ({@link EngineEvent.GpuRecovered}). Every GPU is taken to answer when the monitor starts; a GPU
 * lost already is reported on the first poll. Its own thread.
 */
public final class HealthMonitor implements AutoCloseable {
    /** How often each GPU is asked, in milliseconds of wall time (NVML answers in microseconds). */
    public static final long PERIOD_MS = 250;

    private final LiveBackend backend;
    private final EventSink sink;
    private final boolean[] lost;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gpu-health");
        t.setDaemon(true);
        return t;
    });

    public HealthMonitor(LiveBackend backend, EventSink sink) {
        this.backend = backend;
        this.sink = sink;
        this.lost = new boolean[backend.gpus().size()];
        thread.scheduleWithFixedDelay(this::poll, 0, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    private void poll() {
        for (int g = 0; g < lost.length; g++) {
            Optional<String> reason;
            try {
                reason = backend.lostReason(g);
            } catch (RuntimeException e) {
                reason = Optional.of("the health check failed: " + e.getMessage());
            }
            if (reason.isPresent() != lost[g]) {
                lost[g] = reason.isPresent();
                sink.deliver(reason.isPresent() ? new EngineEvent.GpuLost(g, reason.get()) : new EngineEvent.GpuRecovered(g));
            }
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
