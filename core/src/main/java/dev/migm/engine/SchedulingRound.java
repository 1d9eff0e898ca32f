package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link SchedulingPolicy} sees and does in a round: the engine's side of
 * {@link SchedulingContext}. Every action is checked against the GPUs' real occupancy before
 * anything changes (a refused placement changes nothing), then journaled, then carried out: a plan
 * is handed to the backend with its time-out, a placement launches the job's attempt through the
 * engine. It also keeps what the policy holds for blocked jobs (reservations), journaled when a
 * round changes it.
 */
final class SchedulingRound implements SchedulingContext {
    private final EngineMoves engine;
    private final Timers clock;
    private final GpuBackend backend;
    private final EngineSettings settings;
    private final NodeGpus gpus;
    private final WaitingQueue queue;
    /** What the policy holds per GPU (a reservation's slices), as of the last round and in this one. */
    private final Map<Integer, Hold> held = new HashMap<>();
    private final Map<Integer, Hold> heldThisRound = new HashMap<>();

    /**
     * The reasons the policy gives in this round, and those it gave in the last round it ran (the two
     * pairs of lists trade places after each round), by job id only once someone asks: a round costs
     * two appends per reason, nothing more.
     */
    private List<QueuedJob> saidOf = new ArrayList<>();
    private List<Refusal> said = new ArrayList<>();
    private List<QueuedJob> lastSaidOf = new ArrayList<>();
    private List<Refusal> lastSaid = new ArrayList<>();
    private Map<String, Refusal> lastSaidById;

    private record Hold(int computeSlices, String jobId) {
    }

    SchedulingRound(EngineMoves engine, Timers clock, GpuBackend backend, EngineSettings settings, NodeGpus gpus,
                    WaitingQueue queue) {
        this.engine = engine;
        this.clock = clock;
        this.backend = backend;
        this.settings = settings;
        this.gpus = gpus;
        this.queue = queue;
    }

    /** Runs the policy once over the waiting jobs, then journals what it holds if that changed. */
    void run(SchedulingPolicy policy) {
        heldThisRound.clear();
        if (!queue.waiting.isEmpty()) {
            saidOf.clear();
            said.clear();
            policy.schedule(this);
            List<QueuedJob> jobs = lastSaidOf;
            List<Refusal> reasons = lastSaid;
            lastSaidOf = saidOf;
            lastSaid = said;
            saidOf = jobs;
            said = reasons;
            lastSaidById = null;
        }
        journalHolds();
    }

    /** Journals where this round's holds differ from the last round's. */
    private void journalHolds() {
        if (heldThisRound.equals(held)) return;
        double now = clock.nowS();
        for (var e : held.entrySet()) {
            if (!heldThisRound.containsKey(e.getKey())) {
                engine.record(new EngineRecord.SlicesHeld(now, e.getKey(), 0, ""));
            }
        }
        for (var e : heldThisRound.entrySet()) {
            if (!e.getValue().equals(held.get(e.getKey()))) {
                engine.record(new EngineRecord.SlicesHeld(now, e.getKey(), e.getValue().computeSlices(),
                        e.getValue().jobId()));
            }
        }
        held.clear();
        held.putAll(heldThisRound);
    }

    @Override
    public double nowS() {
        return clock.nowS();
    }

    @Override
    public double startupS() {
        return settings.startupS();
    }

    @Override
    public List<? extends GpuView> gpus() {
        return gpus.list;
    }

    @Override
    public java.util.BitSet takeChangedGpus() {
        return gpus.takeChanged();
    }

    @Override
    public List<QueuedJob> waiting(int limit) {
        List<QueuedJob> out = new ArrayList<>(Math.min(limit, queue.waiting.size()));
        for (QueuedJob q : queue.waiting) {
            if (out.size() >= limit) break;
            out.add(q);
        }
        return out;
    }

    @Override
    public boolean batchAllIn() {
        return engine.batchAllIn();
    }

    @Override
    public int waitingCount() {
        return queue.waiting.size();
    }

    @Override
    public double expectedRuntimeS(QueuedJob job, GpuView gpu, int sms) {
        return engine.expectedRuntime(job, (NodeGpu) gpu, sms);
    }

    @Override
    public void place(QueuedJob queued, GpuView view, Plan.Possible plan) {
        // Every check comes before the job leaves the queue: a refused placement changes nothing.
        NodeGpu gpu = (NodeGpu) view;
        if (!queue.waiting.contains(queued)) {
            throw new IllegalStateException(queued.id() + " is not waiting");
        }
        checkSchedulable(gpu);
        Instance target = plan.target().orElseThrow(() -> new IllegalArgumentException("plan without target"));
        if (!gpu.migEnabled) {
            throw new IllegalStateException("gpu" + gpu.index + " has MIG disabled");
        }
        // A first attempt may go below its estimate (policies may try a smaller instance: an
        // estimate is no proof); a retry after an OOM may not.
        if (target.profile().memoryMib() < queued.needMib() && queued.attempt() > 1) {
            throw new IllegalStateException(queued.id() + " needs " + queued.needMib() + " MiB, " + target + " holds "
                    + target.profile().memoryMib());
        }
        if (plan.ops().isEmpty()) {
            if (!gpu.layout.contains(target) || gpu.occupants.containsKey(target) || gpu.creating.contains(target)) {
                throw new IllegalStateException("gpu" + gpu.index + ": " + target + " is not an idle instance");
            }
            Job job = engine.takeWaiting(queued);
            engine.record(new EngineRecord.Placed(nowS(), job.spec.id(), queued.attempt(), gpu.index,
                    Optional.of(target), Optional.empty()));
            engine.launch(job, gpu, Slot.of(gpu.index, target));
            return;
        }
        Layout result = checkPlan(gpu, plan);
        apply(gpu, plan, result, engine.takeWaiting(queued), target);
    }

    @Override
    public void placeWholeGpu(QueuedJob queued, GpuView view) {
        NodeGpu gpu = (NodeGpu) view;
        checkSchedulable(gpu);
        if (gpu.migEnabled || gpu.wholeGpuJob != null) {
            throw new IllegalStateException("gpu" + gpu.index + " is not a free whole GPU");
        }
        Job job = engine.takeWaiting(queued);
        engine.record(new EngineRecord.Placed(nowS(), job.spec.id(), queued.attempt(), gpu.index,
                Optional.empty(), Optional.empty()));
        engine.launch(job, gpu, Slot.wholeGpu(gpu.index, gpu.model));
    }

    @Override
    public void changeMigMode(GpuView view, boolean enabled, String why) {
        NodeGpu gpu = (NodeGpu) view;
        checkSchedulable(gpu);
        if (!gpu.modeChangeable) {
            throw new IllegalStateException("gpu" + gpu.index + ": MIG mode changes are not allowed here");
        }
        if (gpu.migEnabled == enabled || gpu.modeTicket != 0) {
            throw new IllegalStateException("gpu" + gpu.index + " already has MIG " + (enabled ? "on" : "off")
                    + " or is changing it");
        }
        if (!gpu.occupants.isEmpty() || gpu.wholeGpuJob != null || gpu.reconfiguring) {
            throw new IllegalStateException("gpu" + gpu.index + " is not idle; MIG mode changes need an idle GPU");
        }
        long ticket = gpus.nextTicket++;
        engine.record(new EngineRecord.MigModeChangeRequested(nowS(), gpu.index, ticket, enabled, why));
        gpus.migModeChanges++;
        gpu.migBeforeChange = gpu.migEnabled;
        gpu.migEnabled = enabled;
        gpu.modeTicket = ticket;
        gpu.layout = Layout.empty(gpu.model);
        gpu.changed();
        clock.at(nowS() + settings.migModeChangeTimeoutS(),
                new EngineEvent.ReconfigurationTimedOut(gpu.index, ticket), engine.sink());
        try {
            backend.changeMigMode(gpu.index, enabled, ticket, engine.sink());
        } catch (RuntimeException e) {
            clock.at(nowS(), new EngineEvent.MigModeChanged(gpu.index, ticket,
                    Optional.of("the backend refused: " + e.getMessage())), engine.sink());
        }
    }

    @Override
    public void reconfigure(GpuView view, Plan.Possible plan) {
        if (!plan.ops().isEmpty()) {
            NodeGpu gpu = (NodeGpu) view;
            checkSchedulable(gpu);
            apply(gpu, plan, checkPlan(gpu, plan), null, null);
        }
    }

    @Override
    public void preempt(GpuView view, Instance instance, QueuedJob forJob, String why) {
        NodeGpu gpu = (NodeGpu) view;
        if (!gpu.preemptible(instance)) {
            throw new IllegalStateException("gpu" + gpu.index + ": " + instance + " holds no run that may yield now");
        }
        if (!queue.waiting.contains(forJob) || !mayPreemptFor(forJob)) {
            throw new IllegalStateException(forJob.id() + " is not waiting or yielded itself");
        }
        engine.preempt(gpu.occupants.get(instance), forJob.id(), why);
    }

    @Override
    public boolean mayPreemptFor(QueuedJob job) {
        Job j = engine.job(job.id());
        return j != null && !j.yielded;
    }

    @Override
    public void reject(QueuedJob queued, String reason) {
        engine.fail(engine.takeWaiting(queued), reason);
    }

    @Override
    public void wakeAt(double atS) {
        engine.wakeAt(atS);
    }

    @Override
    public void hold(GpuView gpu, int computeSlices, QueuedJob job) {
        if (computeSlices > 0) heldThisRound.put(gpu.index(), new Hold(computeSlices, job.id()));
    }

    @Override
    public void refuse(QueuedJob queued, Refusal refusal) {
        saidOf.add(queued);
        said.add(refusal);
    }

    /** What the policy's last round said of why this job waits, or null (it said nothing of it). */
    Refusal refusalOf(String jobId) {
        if (lastSaidById == null) {
            lastSaidById = new HashMap<>();
            for (int i = 0; i < lastSaid.size(); i++) lastSaidById.put(lastSaidOf.get(i).id(), lastSaid.get(i));
        }
        return lastSaidById.get(jobId);
    }

    private static void checkSchedulable(NodeGpu gpu) {
        if (!gpu.schedulable()) {
            throw new IllegalStateException("gpu" + gpu.index + " is " + (gpu.lost ? "lost" : "draining"));
        }
        if (gpu.modeTicket != 0) {
            throw new IllegalStateException("gpu" + gpu.index + " is changing its MIG mode");
        }
    }

    /** The layout a plan leads to, after checking it against the GPU's real occupancy; changes nothing. */
    private static Layout checkPlan(NodeGpu gpu, Plan.Possible plan) {
        if (gpu.reconfiguring) {
            throw new IllegalStateException("gpu" + gpu.index + " is already reconfiguring");
        }
        if (!plan.base().equals(gpu.layout)) {
            throw new IllegalStateException("plan made for " + plan.base() + ", gpu" + gpu.index + " has " + gpu.layout);
        }
        Layout layout = gpu.layout;
        for (PlanOp op : plan.ops()) {
            switch (op) {
                case PlanOp.Destroy d -> {
                    if (gpu.occupants.containsKey(d.instance())) {
                        throw new IllegalStateException("plan destroys busy " + d.instance() + " on gpu" + gpu.index);
                    }
                    layout = layout.without(d.instance());
                }
                case PlanOp.Create c -> layout = layout.with(c.instance());
            }
        }
        return layout;
    }

    /** Hands a checked plan to the backend; the job (if any) waits for it in PLACING. */
    private void apply(NodeGpu gpu, Plan.Possible plan, Layout layout, Job job, Instance target) {
        for (PlanOp op : plan.ops()) {
            if (op instanceof PlanOp.Create c) {
                gpu.creating.add(c.instance());
            }
        }
        Layout base = gpu.layout;
        gpu.layout = layout;
        gpu.reconfiguring = true;
        gpu.changed();
        gpus.reconfigurations++;
        long ticket = gpus.nextTicket++;
        engine.record(new EngineRecord.ReconfigurationPlanned(nowS(), gpu.index, ticket, base, layout,
                plan.operationCount(), job == null ? Optional.empty() : Optional.of(job.spec.id())));
        if (job != null) {
            engine.record(new EngineRecord.Placed(nowS(), job.spec.id(), job.queued.attempt(), gpu.index,
                    Optional.of(target), Optional.of(ticket)));
        }
        gpus.pending.put(ticket, new PendingPlan(gpu.index, job, target, base, layout));
        if (job != null) {
            gpu.creating.remove(target);
            gpu.occupants.put(target, job);
            // expected to start after the reconfiguration (a fraction of a second per operation)
            job.expectedEndS = nowS() + plan.operationCount() * 0.15
                    + engine.expectedRuntime(job.queued, gpu, target.profile().sms());
        }
        clock.at(nowS() + settings.reconfigureTimeoutS(),
                new EngineEvent.ReconfigurationTimedOut(gpu.index, ticket), engine.sink());
        try {
            backend.apply(gpu.index, plan, ticket, engine.sink());
        } catch (RuntimeException e) {
            clock.at(nowS(), new EngineEvent.ReconfigurationFinished(gpu.index, ticket,
                    Optional.of("the backend refused the plan: " + e.getMessage())), engine.sink());
        }
    }
}
