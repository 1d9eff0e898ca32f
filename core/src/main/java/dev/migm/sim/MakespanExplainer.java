package dev.migm.sim;

import dev.migm.engine.JobView;
import dev.migm.engine.EngineListener;
import dev.migm.engine.Attempt;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.Journal;
import dev.migm.engine.Outcome;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a run's makespan goes beyond the compute bound ({@code simulate --explain-makespan}). The
 * node's compute-slice-seconds over the makespan ({@code makespan * sum of G}) split exactly into:
 * <ul>
 *   <li>{@code ideal}: each completed job's least compute area, {@code min_p T_j(p) g_p} (MIG off:
 *   all G slices) - the compute term of the lower bound;</li>
 *   <li>{@code profile_excess}: what the completed attempts held beyond that, start-up excluded: a
 *   costlier profile than the job's cheapest, or a slower one;</li>
 *   <li>{@code startup}: completed attempts' start-up (models.md section 4);</li>
 *   <li>{@code failed_attempts}: attempts that did not complete: their start-up and the work they
 *   lost (work kept by a checkpoint counts as the job's);</li>
 *   <li>{@code reconfiguration}: slices being created (from a plan to its answer), and whole GPUs
 *   changing MIG mode;</li>
 *   <li>{@code drain}: free slices held for a blocked job while busy instances drain the slices it
 *   waits for (the policy's reservation, {@link EngineRecord.SlicesHeld}: up to the reserved
 *   instance's compute slices on that GPU);</li>
 *   <li>{@code idle_waiting}: the other free slices while jobs waited: placement rules (no legal
 *   placement in them for any waiting job) and estimates that asked for more;</li>
 *   <li>{@code idle_no_work}: free slices while nothing waited (the batch's tail, gaps between
 *   arrivals).</li>
 * </ul>
 * Each is reported in node-seconds (slice-seconds over the node's slices), so that they add up to
 * the makespan. It reads the engine's records and attempts: nothing the engine does depends on it.
 */
public final class MakespanExplainer implements Journal, EngineListener {
    /** The decomposition, node-seconds each; they sum to the makespan. */
    public record Explanation(double idealS, double profileExcessS, double startupS, double failedAttemptsS,
                       double reconfigurationS, double drainS, double idleWaitingS, double idleNoWorkS) {
        public double totalS() {
            return idealS + profileExcessS + startupS + failedAttemptsS + reconfigurationS + drainS + idleWaitingS
                    + idleNoWorkS;
        }

        /** The categories in the order they are shown: JSON key, table column, node-seconds. */
        public List<Part> parts() {
            return List.of(new Part("ideal_s", "ideal", idealS), new Part("profile_excess_s", "excess", profileExcessS),
                    new Part("startup_s", "startup", startupS), new Part("failed_attempts_s", "failed", failedAttemptsS),
                    new Part("reconfiguration_s", "reconfig", reconfigurationS), new Part("drain_s", "drain", drainS),
                    new Part("idle_waiting_s", "idle_wait", idleWaitingS), new Part("idle_no_work_s", "idle_none", idleNoWorkS));
        }
    }

    /** One category of an {@link Explanation}. */
    public record Part(String key, String column, double seconds) {
    }

    private final Journal inner;
    private final List<GpuModel> gpus;
    private final double nodeSlices;
    private final double startupS;
    private final Set<String> waiting = new HashSet<>();
    /** Compute slices each reconfiguration in flight is creating, by ticket. */
    private final Map<Long, Double> creating = new HashMap<>();
    /** GPUs whose MIG mode is changing. */
    private final Set<Integer> changingMode = new HashSet<>();
    /** The GPU of each reconfiguration in flight, by ticket. */
    private final Map<Long, Integer> creatingOn = new HashMap<>();
    /** Per GPU: compute slices its attempts hold, slices blocked by reconfiguration, slices held for a drain. */
    private final double[] heldOn;
    private final double[] blockedOn;
    private final int[] drainHeldOn;
    private double drain;
    private double lastS;
    private double held;
    private double blocked;
    private double heldCompleted;
    private double startupCompleted;
    private double idleWaiting;
    private double idleNoWork;
    private double reconfiguration;

    MakespanExplainer(Journal inner, List<GpuModel> gpus, double startupS) {
        this.inner = inner;
        this.gpus = List.copyOf(gpus);
        this.nodeSlices = gpus.stream().mapToInt(GpuModel::computeSlices).sum();
        this.startupS = startupS;
        this.heldOn = new double[gpus.size()];
        this.blockedOn = new double[gpus.size()];
        this.drainHeldOn = new int[gpus.size()];
    }

    private void advance(double nowS) {
        double dt = nowS - lastS;
        if (dt <= 0) return;
        double free = Math.max(0, nodeSlices - held - blocked);
        if (waiting.isEmpty()) {
            idleNoWork += free * dt;
        } else {
            double draining = 0;
            for (int g = 0; g < drainHeldOn.length; g++) {
                if (drainHeldOn[g] == 0) continue;
                double freeOn = Math.max(0, gpus.get(g).computeSlices() - heldOn[g] - blockedOn[g]);
                draining += Math.min(freeOn, drainHeldOn[g]);
            }
            drain += draining * dt;
            idleWaiting += (free - draining) * dt;
        }
        reconfiguration += blocked * dt;
        lastS = nowS;
    }

    @Override
    public void append(EngineRecord record) {
        advance(record.atS());
        switch (record) {
            case EngineRecord.Queued q -> waiting.add(q.jobId());
            case EngineRecord.Placed p -> waiting.remove(p.jobId());
            case EngineRecord.Failed f -> waiting.remove(f.jobId());
            case EngineRecord.Cancelled c -> waiting.remove(c.jobId());
            case EngineRecord.ReconfigurationPlanned p -> {
                double slices = 0;
                for (Instance i : p.result().instances()) {
                    if (!p.base().contains(i)) slices += i.profile().computeSlices();
                }
                creating.put(p.ticket(), slices);
                creatingOn.put(p.ticket(), p.gpu());
                blocked += slices;
                blockedOn[p.gpu()] += slices;
            }
            case EngineRecord.ReconfigurationApplied a -> unblock(a.ticket());
            case EngineRecord.ReconfigurationFailed f -> unblock(f.ticket());
            case EngineRecord.MigModeChangeRequested m -> {
                if (changingMode.add(m.gpu())) {
                    blocked += gpus.get(m.gpu()).computeSlices();
                    blockedOn[m.gpu()] += gpus.get(m.gpu()).computeSlices();
                }
            }
            case EngineRecord.MigModeChangeEnded m -> {
                if (changingMode.remove(m.gpu())) {
                    blocked -= gpus.get(m.gpu()).computeSlices();
                    blockedOn[m.gpu()] -= gpus.get(m.gpu()).computeSlices();
                }
            }
            case EngineRecord.SlicesHeld h -> drainHeldOn[h.gpu()] = h.computeSlices();
            default -> {
            }
        }
        inner.append(record);
    }

    private void unblock(long ticket) {
        Double slices = creating.remove(ticket);
        if (slices != null) {
            blocked -= slices;
            blockedOn[creatingOn.remove(ticket)] -= slices;
        }
    }

    @Override
    public void attemptLaunched(JobView job, Attempt attempt) {
        advance(attempt.launchS());
        held += attempt.slot().computeSlices();
        heldOn[attempt.slot().gpu()] += attempt.slot().computeSlices();
    }

    @Override
    public void attemptEnded(JobView job, Attempt attempt, Outcome outcome, double nowS) {
        advance(nowS);
        held -= attempt.slot().computeSlices();
        heldOn[attempt.slot().gpu()] -= attempt.slot().computeSlices();
        if (outcome instanceof Outcome.Completed) {
            heldCompleted += (nowS - attempt.launchS()) * attempt.slot().computeSlices();
            startupCompleted += Math.min(startupS, nowS - attempt.launchS()) * attempt.slot().computeSlices();
        }
    }

    /**
     * @param makespanS    the run's makespan
     * @param idealSlices  completed jobs' least compute areas, slice-seconds
     * @param failedSlices slice-seconds of attempts that did not complete (start-up and lost work)
     */
    Explanation explain(double makespanS, double idealSlices, double failedSlices) {
        advance(makespanS);
        // Work kept from failed attempts was held by them, not lost: it belongs to the job's work.
        double excess = heldCompleted - startupCompleted - idealSlices;
        double heldAll = nodeSlices * makespanS - drain - idleWaiting - idleNoWork - reconfiguration;
        double keptFromFailed = heldAll - heldCompleted - failedSlices;
        return new Explanation(idealSlices / nodeSlices, (excess + keptFromFailed) / nodeSlices,
                startupCompleted / nodeSlices, failedSlices / nodeSlices, reconfiguration / nodeSlices,
                drain / nodeSlices, idleWaiting / nodeSlices, idleNoWork / nodeSlices);
    }
}
