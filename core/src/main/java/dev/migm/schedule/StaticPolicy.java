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
 * order, a job that waits does not block later jobs that fit elsewhere. A job whose first estimate
 * exceeds every instance of the layout tries the largest one; a job known to need more (its true
 * peak, or an OOM on the largest instance) is rejected with that reason, never dropped silently.
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
            if (!gpu.reconfiguring() && gpu.schedulable() && !gpu.state().layout().equals(goal)
                    && Planner.transition(gpu.state(), goal) instanceof Plan.Possible p) {
                ctx.reconfigure(gpu, p);
            }
        }
        for (QueuedJob job : ctx.waiting(WINDOW)) {
            long need = job.needMib();
            if (need > largest) {
                if (job.attempt() > 1 || job.needCertain()) {
                    ctx.reject(job, "needs " + need + " MiB; the static layout '" + layoutSpec
                            + "' has no instance larger than " + largest + " MiB");
                    continue;
                }
                // A first estimate is no proof: try the layout's largest instance; an OOM there ends it.
                need = largest;
            }
            var fit = PolicySupport.bestFitIdle(ctx, job, need);
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
