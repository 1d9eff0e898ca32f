package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Profile;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.ArrayList;
import java.util.List;

/**
 * Why a waiting job does not run now, from what the node's GPUs could offer it: the largest instance
 * that could exist now without touching a busy one, and the busy instances (with their jobs) that
 * stand in the way of one large enough. Depends on the need and the GPUs, not on the job.
 */
final class WaitReasons {
    private WaitReasons() {
    }

    /** The capacity side of a wait: what could be had now, what blocks more, and one line for people. */
    record Reason(long largestNowMib, List<String> blockers, String message) {
        /** The line for people: the policy's own reason first, where it gave one, then the capacity side. */
        String message(Refusal refusal) {
            return refusal == null ? message : refusal.why() + "; " + message;
        }
    }

    /**
     * Why a waiting job does not run now, with the policy's own reason from its last round (null: it
     * gave none); empty for a job that is not waiting (or unknown).
     */
    static java.util.Optional<Unplaceable> explain(Job job, List<NodeGpu> gpus, Refusal refusal) {
        if (job == null || job.state() != JobState.QUEUED) {
            return java.util.Optional.empty();
        }
        Reason r = of(gpus, job.need.mib(), job.need.source(), refusal != null);
        return java.util.Optional.of(new Unplaceable(job.spec.id(), job.need.mib(), r.largestNowMib(), r.blockers(),
                refusal, r.message(refusal)));
    }

    /** Each waiting job's reason, the capacity side worked out once per distinct need. */
    static java.util.Map<String, String> of(java.util.Collection<String> jobIds,
                                            java.util.function.Function<String, Job> jobs, List<NodeGpu> gpus,
                                            java.util.function.Function<String, Refusal> refusals) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        java.util.Map<String, Reason> byNeed = new java.util.HashMap<>();
        for (String id : jobIds) {
            Job job = jobs.apply(id);
            if (job == null || job.state() != JobState.QUEUED) continue;
            Refusal refusal = refusals.apply(id);
            boolean said = refusal != null;
            String key = job.need.mib() + "|" + job.need.source() + "|" + said;
            out.put(id, byNeed.computeIfAbsent(key, k -> of(gpus, job.need.mib(), job.need.source(), said))
                    .message(refusal));
        }
        return out;
    }

    /**
     * The capacity side of a wait. When it fits somewhere and the policy gave no reason of its own
     * ({@code policySaid} false), the line says that the policy holds it back (a job past the window
     * a policy looks at, or a policy that gives no reasons).
     */
    static Reason of(List<NodeGpu> gpus, long need, String needSource, boolean policySaid) {
        long largestNow = 0;
        List<String> blockers = new ArrayList<>();
        for (NodeGpu gpu : gpus) {
            if (!gpu.schedulable()) {
                blockers.add("gpu" + gpu.index + " (" + gpu.status() + ")");
                continue;
            }
            if (!gpu.migEnabled) {
                if (gpu.wholeGpuJob == null) {
                    largestNow = Math.max(largestNow, gpu.model.memoryMib());
                } else {
                    blockers.add("gpu" + gpu.index + ":whole (" + gpu.wholeGpuJob.spec.id() + ")");
                }
                continue;
            }
            GpuState state = gpu.state();
            for (Profile p : gpu.model.plainProfiles()) {
                Plan plan = Planner.planFor(state, p);
                if (plan instanceof Plan.Possible) {
                    largestNow = Math.max(largestNow, p.memoryMib());
                } else if (p.memoryMib() >= need && plan instanceof Plan.Impossible no) {
                    for (Instance b : no.blockers()) {
                        Job holder = gpu.occupants.get(b);
                        String s = "gpu" + gpu.index + ":" + b + (holder == null ? "" : " (" + holder.spec.id() + ")");
                        if (!blockers.contains(s)) blockers.add(s);
                    }
                }
            }
        }
        String message = "needs " + need + " MiB (" + needSource + "); the largest instance that could exist now"
                + " holds " + largestNow + " MiB"
                + (blockers.isEmpty() ? "" : "; blocked by busy " + String.join(", ", blockers))
                + (largestNow >= need && !policySaid ? "; it fits, but the policy holds it back (queue order or a reservation)"
                : "");
        return new Reason(largestNow, blockers, message);
    }

    /**
     * The most memory each GPU can give one job: its largest instance with MIG on, the whole GPU with
     * MIG off or where the policy may turn MIG off (the backend allows it and the policy decides
     * modes).
     */
    static List<Long> largestSlotsMib(List<NodeGpu> gpus, boolean policyDecidesModes) {
        List<Long> out = new ArrayList<>();
        for (NodeGpu g : gpus) {
            boolean wholePossible = !g.migEnabled || g.modeChangeable && policyDecidesModes;
            out.add(wholePossible ? g.model.memoryMib() : g.model.largestProfile().memoryMib());
        }
        return out;
    }
}
