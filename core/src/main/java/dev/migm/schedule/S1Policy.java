package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code s1}: the paper's scheme that minimises repartitioning calls (Saraha et al.,
 * arXiv:2508.18556, scheduling scheme 1). Jobs fill the current layout best-fit in arrival order;
 * only when no waiting job fits any idle instance is a GPU repartitioned, in one call: its idle
 * instances are dropped and, in arrival order, each waiting job's tightest profile is placed in the
 * free slices (keeping the largest free region) until no more fit. Busy instances stay.
 */
public final class S1Policy implements SchedulingPolicy {
    private static final int WINDOW = 256;

    @Override
    public String name() {
        return "s1";
    }

    @Override
    public void schedule(SchedulingContext ctx) {
        List<QueuedJob> window = ctx.waiting(WINDOW);
        List<QueuedJob> left = new ArrayList<>();
        for (QueuedJob job : window) {
            var fit = PolicySupport.bestFitIdle(ctx, job);
            if (fit.isPresent()) {
                ctx.place(job, fit.get().gpu(), PolicySupport.useFree(fit.get().gpu(), fit.get().instance()));
            } else {
                left.add(job);
            }
        }
        if (left.isEmpty()) {
            return;
        }
        for (GpuView gpu : ctx.gpus()) {
            if (gpu.reconfiguring() || !gpu.schedulable()) continue;
            Layout kept = Layout.empty(gpu.model());
            for (Instance busy : gpu.state().busy()) {
                kept = kept.with(busy);
            }
            Layout goal = kept;
            boolean placedAny = false;
            for (QueuedJob job : left) {
                Optional<Profile> p = gpu.model().tightestProfile(job.needMib());
                if (p.isEmpty()) continue;
                Optional<Instance> spot = bestSpot(goal, p.get());
                if (spot.isPresent()) {
                    goal = goal.with(spot.get());
                    placedAny = true;
                }
            }
            if (!placedAny || goal.equals(gpu.state().layout())) continue;
            if (Planner.transition(gpu.state(), goal) instanceof Plan.Possible plan && !plan.ops().isEmpty()) {
                ctx.reconfigure(gpu, plan);
                return;
            }
        }
    }

    /** Where an instance of the profile fits in the layout, keeping the largest free run, lowest start. */
    static Optional<Instance> bestSpot(Layout layout, Profile p) {
        Instance best = null;
        int bestRun = -1;
        for (int s : p.starts()) {
            Instance i = new Instance(p, s);
            if (!layout.canAdd(i)) continue;
            int run = Layout.largestFreeRun(layout.usedMask() | i.mask(), layout.gpu().memorySlices());
            if (run > bestRun) {
                best = i;
                bestRun = run;
            }
        }
        return Optional.ofNullable(best);
    }
}
