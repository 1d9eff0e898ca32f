package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.Refusal;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import java.util.List;

/**
 * {@code serial}: MIG disabled, one job at a time on each whole GPU, in arrival order. The paper's
 * baseline ("running the batch without MIG management"). On a node of several models the head job
 * takes a free GPU whose memory holds its need (the smallest such), and waits for one when none is
 * free; a need above every GPU goes to the largest.
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
        long largest = 0;
        for (GpuView gpu : ctx.gpus()) {
            largest = Math.max(largest, gpu.model().memoryMib());
        }
        while (true) {
            List<QueuedJob> next = ctx.waiting(1);
            if (next.isEmpty()) return;
            long need = Math.min(next.getFirst().needMib(), largest);
            GpuView best = null;
            for (GpuView gpu : ctx.gpus()) {
                if (gpu.wholeGpuBusy() || !gpu.schedulable() || gpu.model().memoryMib() < need) continue;
                if (best == null || gpu.model().memoryMib() < best.model().memoryMib()) best = gpu;
            }
            if (best == null) {
                ctx.refuse(next.getFirst(), new Refusal(Refusal.Resource.WHOLE_GPU, 1, 0, "first in line: every GPU"
                        + " that holds it runs a job (serial runs one job per GPU, in arrival order)"));
                return;
            }
            ctx.placeWholeGpu(next.getFirst(), best);
        }
    }
}
