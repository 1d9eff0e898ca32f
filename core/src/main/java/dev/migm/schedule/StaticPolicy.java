package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.Layout;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code static}: one fixed layout per GPU (what mig-parted or Slurm give a site), set once at the
 * start and never changed. Jobs go best-fit (smallest idle instance that holds them) in arrival
 * order, a job that waits does not block later jobs that fit elsewhere. A job no instance of the
 * layout can hold is rejected with that reason, never dropped silently.
 */
public final class StaticPolicy implements SchedulingPolicy {
    private static final int WINDOW = 512;
    private final String layoutSpec;
    private final Map<Integer, Layout> layouts = new HashMap<>();

    public StaticPolicy(String layoutSpec) {
        this.layoutSpec = layoutSpec;
    }

    @Override
    public String name() {
        return "static:" + layoutSpec;
    }

    @Override
    public void schedule(SchedulingContext ctx) {
        long largest = 0;
        for (GpuView gpu : ctx.gpus()) {
            Layout goal = layouts.computeIfAbsent(gpu.index(), i -> LayoutSpecs.resolve(gpu.model(), layoutSpec));
            largest = Math.max(largest, goal.instances().stream().mapToLong(i -> i.profile().memoryMib()).max().orElse(0));
            if (!gpu.reconfiguring() && !gpu.state().layout().equals(goal)
                    && Planner.transition(gpu.state(), goal) instanceof Plan.Possible p) {
                ctx.reconfigure(gpu, p);
            }
        }
        for (QueuedJob job : ctx.waiting(WINDOW)) {
            if (job.needMib() > largest) {
                ctx.reject(job, "needs " + job.needMib() + " MiB; the static layout '" + layoutSpec
                        + "' has no instance larger than " + largest + " MiB");
                continue;
            }
            var fit = PolicySupport.bestFitIdle(ctx, job);
            fit.ifPresent(f -> ctx.place(job, f.gpu(), PolicySupport.useFree(f.gpu(), f.instance())));
            if (noIdleLeft(ctx)) return;
        }
    }

    static boolean noIdleLeft(SchedulingContext ctx) {
        for (GpuView gpu : ctx.gpus()) {
            if (gpu.state().busy().size() < gpu.state().layout().instances().size()) return false;
        }
        return true;
    }

    /** For tests: the layout the policy keeps on a GPU. */
    List<Layout> layouts() {
        return List.copyOf(layouts.values());
    }
}
