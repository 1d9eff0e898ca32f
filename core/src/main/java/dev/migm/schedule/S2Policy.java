package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.Refusal;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.Profile;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.List;
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
                Optional<Profile> p = gpu.model().tightestProfile(head.needMib());
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
                refuseInOrder(ctx, head);
                return;
            }
            ctx.place(head, bestGpu, best);
        }
    }

    /** How many jobs behind a blocked head are told why they wait (a round's cost stays bounded). */
    private static final int TOLD_BEHIND = 64;

    /**
     * The head waits for its tightest instance (asked: that instance's memory; free: the largest
     * instance any GPU could make now); those behind it wait for the head (no backfilling).
     */
    private static void refuseInOrder(SchedulingContext ctx, QueuedJob head) {
        Profile tightest = null;
        long largestNow = 0;
        for (GpuView gpu : ctx.gpus()) {
            if (!gpu.schedulable()) continue;
            Optional<Profile> p = gpu.model().tightestProfile(head.needMib());
            if (p.isPresent() && (tightest == null || p.get().memoryMib() < tightest.memoryMib())) tightest = p.get();
            for (Profile q : gpu.model().plainProfiles()) {
                if (q.memoryMib() > largestNow && Planner.planFor(gpu.state(), q) instanceof Plan.Possible plan
                        && (plan.ops().isEmpty() || !gpu.reconfiguring())) {
                    largestNow = q.memoryMib();
                }
            }
        }
        ctx.refuse(head, new Refusal(Refusal.Resource.MEMORY_MIB, tightest == null ? head.needMib() : tightest.memoryMib(),
                largestNow, tightest == null ? "first in line: no instance of this node holds it"
                : "first in line: its tightest instance (" + tightest.name() + ") cannot be made now"));
        String behind = "behind " + head.id() + " (s2 starts jobs strictly in arrival order)";
        List<QueuedJob> waiting = ctx.waiting(TOLD_BEHIND + 1);
        for (int i = 1; i < waiting.size(); i++) {
            ctx.refuse(waiting.get(i), new Refusal(Refusal.Resource.QUEUE_ORDER, i, 0, behind));
        }
    }
}
