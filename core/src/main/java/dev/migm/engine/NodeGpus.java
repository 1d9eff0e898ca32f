package dev.migm.engine;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node's GPUs as the engine holds them: each GPU's mode, layout and occupants
 * ({@link NodeGpu}), the plans and mode changes in flight with their tickets, and what the GPUs'
 * answers change of them. The jobs those answers concern are the engine's to move; this room says
 * which (a plan's job to launch or requeue, the attempts a lost GPU ends).
 */
final class NodeGpus {
    /** How a plan's time-out begins its failure's reason. */
    static final String TIMED_OUT = EngineRecord.ReconfigurationFailed.TIMED_OUT;

    final List<NodeGpu> list = new ArrayList<>();
    /** Plans handed to the backend and not answered, by ticket. */
    final Map<Long, PendingPlan> pending = new HashMap<>();
    /** Plans given up (timed out, or their GPU lost), by ticket, until their late answer comes (if ever). */
    private final Map<Long, PendingPlan> timedOut = new HashMap<>();
    /**
     * The largest memory any slot of the node offers in the modes it starts with: needs are capped
     * at it and early restart does not fire there. A policy that turns MIG off later offers a whole
     * GPU's memory too, but a need above the largest instance is still capped: a job whose true peak
     * lies between the two may fail on the instance where a MIG-off GPU would have held it.
     */
    final long largestSlotMib;
    long nextTicket = 1;
    /** The GPUs changed ({@link NodeGpu#changed}) since the policy last took them; at first, all. */
    private final java.util.BitSet changed = new java.util.BitSet();
    long reconfigurations;
    long migModeChanges;
    private final EngineMoves engine;
    private final Clock clock;
    private final GpuBackend backend;

    /** The GPUs the backend has, in the modes the policy starts them in (set on the backend where the policy does not decide). */
    NodeGpus(EngineMoves engine, Clock clock, GpuBackend backend, SchedulingPolicy policy) {
        this.engine = engine;
        this.clock = clock;
        this.backend = backend;
        List<GpuModel> models = backend.gpus();
        for (int i = 0; i < models.size(); i++) {
            boolean keep = policy.decidesMigModes() && backend.canChangeMigMode(i);
            boolean mig = keep ? backend.migEnabledNow(i) : policy.migEnabled();
            if (!keep) backend.setMigEnabled(i, mig);
            list.add(new NodeGpu(clock, i, models.get(i), mig, backend.layout(i), backend.canChangeMigMode(i),
                    backend.canChangeMigMode(i) ? backend.migModeChangeS(i) : Double.POSITIVE_INFINITY, changed));
        }
        changed.set(0, list.size());
        long largest = 0;
        for (NodeGpu g : list) {
            largest = Math.max(largest, g.migEnabled ? g.model.largestProfile().memoryMib() : g.model.memoryMib());
        }
        this.largestSlotMib = largest;
    }

    /** The GPUs changed since the last call (at the first, all), in a set the caller owns. */
    java.util.BitSet takeChanged() {
        java.util.BitSet taken = (java.util.BitSet) changed.clone();
        changed.clear();
        return taken;
    }

    NodeGpu get(int gpu) {
        return list.get(gpu);
    }

    int size() {
        return list.size();
    }

    /** A plan's answer as the GPU side settled it: the plan, and why it failed (empty: applied). */
    record Answer(PendingPlan plan, Optional<String> failure) {
    }

    /**
     * A reconfiguration answered (or timed out). On success the layout is read back and compared
     * with the plan's: a GPU that someone else changed is a conflict, handled as a failure. On
     * failure the GPU takes the layout the backend reports and keeps only the occupants whose
     * instances still exist. Null for an answer already handled (one after its time-out, which is
     * recorded with what it did: {@link #answeredLate}).
     */
    Answer answered(EngineEvent.ReconfigurationFinished r, GpuBackend backend) {
        NodeGpu gpu = list.get(r.gpu());
        PendingPlan p = pending.remove(r.ticket());
        if (p == null) {
            answeredLate(r, backend);
            return null;
        }
        if (r.failure().isPresent() && r.failure().get().startsWith(TIMED_OUT)) {
            // The GPU may still carry the plan out: its answer is awaited to know what it created.
            timedOut.put(r.ticket(), p);
        }
        gpu.reconfiguring = false;
        gpu.creating.clear();
        gpu.changed();
        Optional<String> failure = r.failure();
        // A lost GPU is not read (it does not answer): what it has is taken to be what it had before
        // the plan, not what the plan would have made.
        Layout actual = gpu.lost ? p.base() : backend.layout(r.gpu());
        if (failure.isEmpty() && !actual.equals(gpu.layout)) {
            failure = Optional.of("the GPU's layout is " + actual + ", the plan made " + gpu.layout
                    + " (changed by someone else?)");
        }
        double now = clock.nowS();
        if (failure.isPresent()) {
            engine.record(new EngineRecord.ReconfigurationFailed(now, r.gpu(), r.ticket(), failure.get(), actual));
            if (p.target() != null) {
                gpu.occupants.remove(p.target());
            }
            gpu.layout = actual;
            gpu.occupants.keySet().retainAll(gpu.layout.instances());
        } else {
            engine.record(new EngineRecord.ReconfigurationApplied(now, r.gpu(), r.ticket(), actual));
        }
        return new Answer(p, failure);
    }

    /**
     * A plan given up (it timed out, or its GPU was lost) answered after all. The GPU may have carried it out meanwhile: what it
     * created is migm's (the journal keeps it as such, so that a restart destroys it when idle rather
     * than taking it for another tool's), and the engine adopts what the GPU has now, unless another
     * plan is in flight there (whose read-back will see it).
     */
    private void answeredLate(EngineEvent.ReconfigurationFinished r, GpuBackend backend) {
        PendingPlan late = timedOut.remove(r.ticket());
        if (late == null) return;
        NodeGpu gpu = list.get(r.gpu());
        Layout actual = gpu.lost ? gpu.layout : backend.layout(r.gpu());
        boolean adopt = !gpu.reconfiguring && !gpu.lost && gpu.modeTicket == 0 && !actual.equals(gpu.layout);
        engine.record(new EngineRecord.ReconfigurationAnsweredLate(clock.nowS(), r.gpu(), r.ticket(), late.base(),
                late.result(), r.failure(), actual, adopt));
        if (adopt) {
            gpu.layout = actual;
            gpu.occupants.keySet().retainAll(actual.instances());
            gpu.changed();
        }
    }

    /**
     * A mode change ended. On success the GPU has the requested mode and no instances; on a failure
     * it reads back what the GPU has (the mode it kept: the one it had before, and its layout),
     * journals why, and the GPU takes work again either way.
     */
    void modeChangeEnded(EngineEvent.MigModeChanged m, GpuBackend backend) {
        NodeGpu gpu = list.get(m.gpu());
        if (gpu.modeTicket != m.ticket() || m.ticket() == 0) {
            return; // answered after its time-out: already handled as a failure
        }
        gpu.modeTicket = 0;
        gpu.changed();
        if (m.failure().isPresent()) {
            gpu.migEnabled = gpu.migBeforeChange;
        }
        gpu.layout = gpu.lost ? Layout.empty(gpu.model) : backend.layout(m.gpu());
        engine.record(new EngineRecord.MigModeChangeEnded(clock.nowS(), m.gpu(), m.ticket(), gpu.migEnabled,
                m.failure(), gpu.layout));
    }

    /** An admin drains a GPU or returns it to service; a GPU the node does not have is a refused command. */
    void drain(EngineEvent.DrainGpu d) {
        double now = clock.nowS();
        if (d.gpu() < 0 || d.gpu() >= list.size()) {
            engine.record(new EngineRecord.CommandRefused(now, "drain gpu" + d.gpu(),
                    "no such GPU (the node has " + list.size() + ")"));
            return;
        }
        engine.record(new EngineRecord.GpuDrain(now, d.gpu(), d.drain()));
        NodeGpu gpu = list.get(d.gpu());
        gpu.draining = d.drain();
        gpu.changed();
    }

    /** A lost GPU answers again: its layout is read back, and the occupants of instances gone are dropped. */
    void recovered(EngineEvent.GpuRecovered r, GpuBackend backend) {
        NodeGpu gpu = list.get(r.gpu());
        if (!gpu.lost) {
            return;
        }
        Layout actual = backend.layout(r.gpu());
        engine.record(new EngineRecord.GpuHealth(clock.nowS(), r.gpu(), false, "answers again", actual));
        gpu.lost = false;
        gpu.layout = actual;
        gpu.occupants.keySet().retainAll(actual.instances());
        gpu.changed();
    }

    /**
     * Marks a GPU lost (false when it was already): the engine then fails its mode change and plans
     * in flight, and ends the attempts on it.
     */
    boolean markLost(EngineEvent.GpuLost l) {
        NodeGpu gpu = list.get(l.gpu());
        if (gpu.lost) {
            return false;
        }
        engine.record(new EngineRecord.GpuHealth(clock.nowS(), l.gpu(), true, l.reason(), gpu.layout));
        gpu.lost = true;
        gpu.changed();
        return true;
    }

    /**
     * A GPU stopped answering: plans in flight there fail, its attempts end as crashes (their jobs
     * are requeued from where their last attempt started; a checkpoint the job wrote is what a
     * resumed attempt reads), and nothing new goes there until it answers again.
     */
    void lost(EngineEvent.GpuLost l, Executor executor) {
        if (!markLost(l)) {
            return;
        }
        NodeGpu gpu = get(l.gpu());
        if (gpu.modeTicket != 0) {
            modeChangeEnded(new EngineEvent.MigModeChanged(gpu.index, gpu.modeTicket,
                    Optional.of("GPU lost: " + l.reason())), backend);
        }
        for (long ticket : pendingOn(gpu.index)) {
            PendingPlan plan = pending.get(ticket);
            reconfigured(new EngineEvent.ReconfigurationFinished(gpu.index, ticket, Optional.of("GPU lost: " + l.reason())));
            // The GPU may still answer the plan (with what it did, or why it refused): like a plan's
            // time-out, its loss does not make the answer news to no one.
            timedOut.put(ticket, plan);
        }
        for (Job job : occupantsOf(gpu)) {
            if (job.current != null) {
                Attempt a = job.current;
                executor.stop(a, "GPU lost");
                engine.exited(new EngineEvent.AttemptExited(job.spec.id(), a.number(),
                        new Outcome.Crashed("GPU lost: " + l.reason())));
            }
        }
    }

    /**
     * A plan answered: its job (if any) is launched on the instance made for it, or, when the plan
     * failed (or the node stops, or the job was cancelled meanwhile), goes back to the queue or ends.
     */
    void reconfigured(EngineEvent.ReconfigurationFinished r) {
        Answer a = answered(r, backend);
        if (a == null || a.plan().job() == null) return;
        Job job = a.plan().job();
        NodeGpu gpu = get(r.gpu());
        if (a.failure().isPresent()) {
            if (job.cancelledBy != null) {
                engine.cancelled(job, "cancelled by " + job.cancelledBy);
                return;
            }
            job.lastReason = "reconfiguration failed: " + a.failure().get();
            engine.requeue(job);
        } else if (job.cancelledBy != null) {
            gpu.occupants.remove(a.plan().target());
            engine.cancelled(job, "cancelled by " + job.cancelledBy);
        } else if (engine.stopping()) {
            gpu.occupants.remove(a.plan().target());
            job.lastReason = "migm stopped before it started";
            engine.requeue(job);
        } else {
            engine.launch(job, gpu, Slot.of(gpu.index, a.plan().target()));
        }
    }

    /** The tickets of the plans in flight on a GPU. */
    List<Long> pendingOn(int gpu) {
        List<Long> out = new ArrayList<>();
        for (var e : List.copyOf(pending.entrySet())) {
            if (e.getValue().gpu() == gpu) out.add(e.getKey());
        }
        return out;
    }

    /** The jobs whose attempts hold an instance (or the whole GPU) there. */
    static List<Job> occupantsOf(NodeGpu gpu) {
        List<Job> victims = new ArrayList<>(gpu.occupants.values());
        if (gpu.wholeGpuJob != null) {
            victims.add(gpu.wholeGpuJob);
        }
        return victims;
    }

    /** The GPUs' layouts, modes and status, for a snapshot. */
    List<Layout> layouts() {
        return list.stream().map(g -> g.layout).toList();
    }

    List<Boolean> migModes() {
        return list.stream().map(g -> g.migEnabled).toList();
    }

    List<String> statuses() {
        return list.stream().map(NodeGpu::status).toList();
    }
}
