package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.Profile;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.Optional;

/**
 * {@code s2}: the paper's scheme that reconfigures the GPU for the next job in the queue (Saraha et
 * al., arXiv:2508.18556, scheduling scheme 2). Strictly in arrival order: the head job gets exactly
 * its tightest profile, by using an idle instance of it or through the planner's fission or fusion
 * on the GPU where that costs the fewest operations, as soon as busy neighbours allow. While the
 * head cannot be placed, no later job starts (no backfilling).
 */
public final class S2Policy implements SchedulingPolicy {
    @Override
    public String name() {
        return "s2";
    }

    @Override
    public void schedule(SchedulingContext ctx) {
        while (ctx.waitingCount() > 0) {
            QueuedJob head = ctx.waiting(1).getFirst();
            GpuView bestGpu = null;
            Plan.Possible best = null;
            for (GpuView gpu : ctx.gpus()) {
                if (!gpu.schedulable()) continue;
                Optional<Profile> p = PolicySupport.tightest(gpu.model(), head.needMib());
                if (p.isEmpty()) continue;
                if (Planner.planFor(gpu.state(), p.get()) instanceof Plan.Possible plan
                        && (plan.ops().isEmpty() || !gpu.reconfiguring())
                        && (best == null || plan.operationCount() < best.operationCount()
                        || (plan.operationCount() == best.operationCount()
                        && plan.result().largestFreeRun() > best.result().largestFreeRun()))) {
                    best = plan;
                    bestGpu = gpu;
                }
            }
            if (best == null) {
                return;
            }
            ctx.place(head, bestGpu, best);
        }
    }
}
