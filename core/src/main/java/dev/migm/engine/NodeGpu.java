package dev.migm.engine;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.partition.GpuState;
import java.util.HashMap;
import java.util.Map;

/**
 * One GPU of the node as the engine holds it: its model, MIG mode and layout as planned, who occupies
 * which instance, what a plan in flight creates, and whether it drains, is lost or changes its mode.
 * The policies see it as a {@link GpuView}; only the engine's rooms change it, on its thread.
 */
final class NodeGpu implements GpuView {
    private final Clock clock;
    final int index;
    final GpuModel model;
    boolean migEnabled;
    /** Whether the policy may change the mode here (the backend's word, fixed at start). */
    final boolean modeChangeable;
    final double modeChangeS;
    /** The ticket of the mode change in flight; 0 when none. */
    long modeTicket;
    boolean migBeforeChange;
    final Map<Instance, Job> occupants = new HashMap<>();
    /** Instances the in-flight plan creates: not usable until it finishes. */
    final java.util.Set<Instance> creating = new java.util.HashSet<>();
    Layout layout;
    boolean reconfiguring;
    boolean draining;
    boolean lost;
    Job wholeGpuJob;
    long version;
    /** The node's set of GPUs changed since its policy last took it ({@link NodeGpus#takeChanged}). */
    private final java.util.BitSet changes;
    private long stateVersion = -1;
    private GpuState state;

    NodeGpu(Clock clock, int index, GpuModel model, boolean migEnabled, Layout layout, boolean modeChangeable,
            double modeChangeS, java.util.BitSet changes) {
        this.clock = clock;
        this.changes = changes;
        this.modeChangeS = modeChangeS;
        this.index = index;
        this.model = model;
        this.migEnabled = migEnabled;
        this.modeChangeable = modeChangeable;
        this.layout = layout;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public GpuModel model() {
        return model;
    }

    @Override
    public boolean migEnabled() {
        return migEnabled;
    }

    @Override
    public GpuState state() {
        if (stateVersion != version || state == null) {
            java.util.Set<Instance> busy = new java.util.HashSet<>(occupants.keySet());
            busy.addAll(creating);
            state = new GpuState(layout, busy);
            stateVersion = version;
        }
        return state;
    }

    @Override
    public boolean reconfiguring() {
        return reconfiguring;
    }

    @Override
    public boolean schedulable() {
        return !draining && !lost;
    }

    String status() {
        return lost ? "lost" : draining ? "draining" : modeTicket != 0 ? "mode-change" : "ok";
    }

    @Override
    public boolean migModeChangeable() {
        return modeChangeable;
    }

    @Override
    public boolean idle() {
        return occupants.isEmpty() && creating.isEmpty() && wholeGpuJob == null && !reconfiguring;
    }

    @Override
    public double migModeChangeS() {
        return modeChangeS;
    }

    @Override
    public boolean changingMigMode() {
        return modeTicket != 0;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public double expectedReleaseS(Instance instance) {
        Job j = occupants.get(instance);
        return j == null ? Double.NEGATIVE_INFINITY : j.expectedEndS;
    }

    @Override
    public double releaseGivenAgeS(Instance instance) {
        Job j = occupants.get(instance);
        return j == null ? Double.NEGATIVE_INFINITY : expectedEnd(j);
    }

    /**
     * When the job's attempt is expected to end: as expected at its launch, or, for a run that has
     * outlived that, its median time left given its age ({@link AttemptMonitor#remainingS}); a run
     * past its expected end is not about to end (a drain held on that belief idles until it does).
     * The new estimate stands until it passes in turn, as the launch's did (one estimate per period,
     * not one per look: a policy may look at every instance of every GPU each round).
     */
    private double expectedEnd(Job j) {
        double now = clock.nowS();
        if (j.expectedEndS > now || j.monitor == null || Double.isNaN(j.monitor.runningSinceS)) return j.expectedEndS;
        if (j.endGivenAgeS > now) return j.endGivenAgeS;
        double end = now + j.monitor.remainingS(now - j.monitor.runningSinceS);
        j.endGivenAgeS = end;
        return end;
    }

    @Override
    public java.util.Optional<String> occupant(Instance instance) {
        Job j = occupants.get(instance);
        return j == null ? java.util.Optional.empty() : java.util.Optional.of(j.spec.id());
    }

    @Override
    public boolean preemptible(Instance instance) {
        Job j = occupants.get(instance);
        return j != null && j.current != null && j.state() == JobState.RUNNING && !j.stopRequested && !j.yielded && !j.yieldedTo
                && j.cancelledBy == null && j.spec.checkpoints();
    }

    @Override
    public boolean wholeGpuBusy() {
        return wholeGpuJob != null;
    }

    @Override
    public double wholeGpuReleaseS() {
        return wholeGpuJob == null ? Double.NEGATIVE_INFINITY : wholeGpuJob.expectedEndS;
    }

    /**
     * What a policy sees of this GPU changed (its mode, layout, occupants, a plan or mode change in
     * flight, a drain, a loss): every room that changes one of these calls this once it has, so that
     * the version moves ({@link GpuView#version}) and the GPU is among the node's changed ones.
     */
    void changed() {
        version++;
        changes.set(index);
    }

    /**
     * The job now holds the slot (its instance, or the whole GPU). A recovered attempt whose instance
     * is gone holds nothing: its exit is reported next.
     */
    void occupy(Slot slot, Job job) {
        slot.instance().ifPresentOrElse(i -> {
            if (layout.instances().contains(i)) occupants.put(i, job);
        }, () -> wholeGpuJob = job);
        changed();
    }

    /** The slot is free again (its attempt ended). */
    void release(Slot slot) {
        slot.instance().ifPresentOrElse(occupants::remove, () -> wholeGpuJob = null);
        changed();
    }
}
