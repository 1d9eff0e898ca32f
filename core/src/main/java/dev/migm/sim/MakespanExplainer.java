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
    /**
     * The decomposition, node-seconds each; they sum to the makespan. {@code excessByReason} splits the
     * completed jobs' own profile excess ({@link JobExcess}) by its reason, {@code largestExcess} names
     * the jobs with the most.
     */
    public record Explanation(double idealS, double profileExcessS, double startupS, double failedAttemptsS,
                       double reconfigurationS, double drainS, double idleWaitingS, double idleNoWorkS,
                       Map<String, Double> excessByReason, List<JobExcess> largestExcess) {
        public Explanation {
            excessByReason = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(excessByReason));
            largestExcess = List.copyOf(largestExcess);
        }

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

    /**
     * Why a completed job held more compute than its least compute area (the simulator's word, from
     * the truth, after the run: nothing the engine saw). {@code ranOn} is the profile of its last
     * attempt ("whole" with MIG off), {@code cheapest} the profile of least compute area that holds
     * its true peak, {@code excessS} node-seconds, {@code reason} one of {@link #REASONS}.
     */
    public record JobExcess(String jobId, String ranOn, String cheapest, double excessS, String reason) {
    }

    /**
     * The reasons of a job's excess, with what each means: its memory slices came with more compute
     * than its cheapest profile has (on an A100, a 4g.20gb and a 3g.20gb both take 4 of 8 memory
     * slices; next to a 3g.20gb the seventh compute slice has no memory to go with it); the estimate
     * it was placed with was above its cheapest profile's memory; a larger or faster profile than its
     * cheapest by the policy's choice (right-size slack on estimated run times, the last job's fastest
     * placement, a move at a batch's tail); a whole GPU with MIG off; and, for any job in an instance
     * whose least compute area is the whole GPU's, the SMs MIG leaves out.
     */
    public static final Map<String, String> REASONS = reasons();

    private static Map<String, String> reasons() {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("memory_slices", "the compute that came with the memory slices it needed");
        m.put("estimate", "placed for more memory than its cheapest profile holds");
        m.put("placement", "a larger or faster profile than its cheapest, by the policy's choice");
        m.put("whole_gpu", "a whole GPU with MIG off");
        m.put("mig_sms", "MIG's instances have fewer SMs than the whole GPU (98 of 108 on an A100)");
        return java.util.Collections.unmodifiableMap(m);
    }

    /** How many of the jobs with the most excess an explanation names. */
    static final int LARGEST = 5;
    private final List<JobExcess> jobExcess = new java.util.ArrayList<>();
    private final Map<String, Double> excessByReason = new java.util.LinkedHashMap<>();

    /**
     * Counts a completed job's excess (slice-seconds by reason; the simulator computes it from the
     * truth); the job is named with its largest part's reason.
     */
    void jobExcess(String jobId, String ranOn, String cheapest, Map<String, Double> slicesByReason) {
        double total = 0;
        String main = null;
        for (var e : slicesByReason.entrySet()) {
            excessByReason.merge(e.getKey(), e.getValue() / nodeSlices, Double::sum);
            total += e.getValue();
            if (main == null || e.getValue() > slicesByReason.get(main)) main = e.getKey();
        }
        // Named when it is worth a line: a twentieth of a node-second and more.
        if (total / nodeSlices >= 0.05) jobExcess.add(new JobExcess(jobId, ranOn, cheapest, total / nodeSlices, main));
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
        Map<String, Double> byReason = new java.util.LinkedHashMap<>();
        for (String r : REASONS.keySet()) byReason.put(r, excessByReason.getOrDefault(r, 0.0));
        List<JobExcess> largest = jobExcess.stream()
                .sorted(java.util.Comparator.comparingDouble(JobExcess::excessS).reversed()).limit(LARGEST).toList();
        return new Explanation(idealSlices / nodeSlices, (excess + keptFromFailed) / nodeSlices,
                startupCompleted / nodeSlices, failedSlices / nodeSlices, reconfiguration / nodeSlices,
                drain / nodeSlices, idleWaiting / nodeSlices, idleNoWork / nodeSlices, byReason, largest);
    }
}
