package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.gpu.Instance;
import dev.migm.partition.Plan;
import java.util.List;
import java.util.Optional;

/** Helpers shared by policies. */
final class PolicySupport {
    private PolicySupport() {
    }

    /** A zero-operation plan that uses an existing idle instance. */
    static Plan.Possible useFree(GpuView gpu, Instance instance) {
        return new Plan.Possible(gpu.state().layout(), Plan.Kind.USE_FREE, List.of(), Optional.of(instance),
                gpu.state().layout());
    }

    /**
     * Best-fit over idle instances of every GPU: the idle instance with the least memory that holds
     * the job, ties to fewer compute slices, then lower GPU index and start.
     */
    static Optional<Placement> bestFitIdle(SchedulingContext ctx, QueuedJob job) {
        return bestFitIdle(ctx, job, job.needMib());
    }

    /** Best fit for {@code needMib} (which may be less than the job's estimate, see {@link StaticPolicy}). */
    static Optional<Placement> bestFitIdle(SchedulingContext ctx, QueuedJob job, long needMib) {
        Placement best = null;
        for (GpuView gpu : ctx.gpus()) {
            if (!gpu.migEnabled() || !gpu.schedulable()) continue;
            for (Instance i : gpu.state().layout().instances()) {
                if (gpu.state().isBusy(i) || i.profile().memoryMib() < needMib) continue;
                if (best == null || i.profile().memoryMib() < best.instance().profile().memoryMib()
                        || (i.profile().memoryMib() == best.instance().profile().memoryMib()
                        && i.profile().computeSlices() < best.instance().profile().computeSlices())) {
                    best = new Placement(gpu, i);
                }
            }
        }
        return Optional.ofNullable(best);
    }

    record Placement(GpuView gpu, Instance instance) {
    }
}
