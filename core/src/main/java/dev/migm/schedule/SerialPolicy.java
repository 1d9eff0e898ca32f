package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import java.util.List;

/**
 * {@code serial}: MIG disabled, one job at a time on each whole GPU, in arrival order. The paper's
 * baseline ("running the batch without MIG management").
 */
public final class SerialPolicy implements SchedulingPolicy {
    @Override
    public String name() {
        return "serial";
    }

    @Override
    public boolean migEnabled() {
        return false;
    }

    @Override
    public void schedule(SchedulingContext ctx) {
        for (GpuView gpu : ctx.gpus()) {
            if (gpu.wholeGpuBusy()) continue;
            List<QueuedJob> next = ctx.waiting(1);
            if (next.isEmpty()) return;
            ctx.placeWholeGpu(next.getFirst(), gpu);
        }
    }
}
