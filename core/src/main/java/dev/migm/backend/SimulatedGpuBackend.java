package dev.migm.backend;

import dev.migm.energy.ChipShareAttribution;
import dev.migm.energy.PowerModel;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.virtual.GpuActivity;
import dev.migm.engine.GpuBackend;
import dev.migm.engine.Slot;
import dev.migm.virtual.VirtualTime;
import dev.migm.gpu.GpuModel;
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
 * MIG GPUs in virtual time. Applies plans with the reconfiguration latencies of models.md section 4
 * (create 130 ms and destroy 150 ms per instance by default), refuses to destroy an instance that a
 * process uses (NVML's {@code NVML_ERROR_IN_USE}), and integrates board power with
 * {@link PowerModel} to give energy the way {@code nvmlDeviceGetTotalEnergyConsumption} would.
 */
public final class SimulatedGpuBackend implements GpuBackend, GpuActivity {
    /**
     * Reconfiguration latencies in seconds: per instance created and destroyed (models.md section 4),
     * and per MIG mode change. A mode change defaults to 30 s: what NVIDIA's mig-manager waits around
     * one (mig-hardware.md section 3.7); on Ampere it also needs a GPU reset, which no public
     * measurement times, so a site sets its own figure ({@code simulate --tune mig_mode_change_s=S}).
     */
    public record Latency(double createS, double destroyS, double migModeChangeS) {
        private static final double DEFAULT_MODE_CHANGE_S = 30;
        public static final Latency DEFAULT = new Latency(0.130, 0.150, DEFAULT_MODE_CHANGE_S);

        public Latency(double createS, double destroyS) {
            this(createS, destroyS, DEFAULT_MODE_CHANGE_S);
        }

        /** Whether MIG modes change at all (an infinite change time: never). */
        public boolean changesModes() {
            return Double.isFinite(migModeChangeS);
        }
    }

    private final VirtualTime time;
    private final List<GpuModel> models;
    private final Latency latency;
    private final List<Board> boards = new ArrayList<>();

    public SimulatedGpuBackend(VirtualTime time, List<GpuModel> models, Latency latency) {
        this.time = time;
        this.models = List.copyOf(models);
        this.latency = latency;
        for (GpuModel m : models) {
            boards.add(new Board(m));
        }
    }

    private static final class Board {
        final GpuModel model;
        Layout layout;
        boolean migEnabled = true;
        boolean changingMode;
        final Map<Instance, Integer> processes = new HashMap<>();
        int wholeGpuProcesses;
        final Map<Object, Double> dynamicShares = new HashMap<>();
        /** The attempts holding an instance on the board: compute slices and dynamic share, for attribution. */
        final Map<Object, ChipShareAttribution.Holder> holders = new java.util.LinkedHashMap<>();
        double dynamicSum;
        double energyJ;
        double lastS;
        ChipShareAttribution attribution;

        Board(GpuModel model) {
            this.model = model;
            this.layout = Layout.empty(model);
        }

        double watts() {
            return PowerModel.boardWatts(model.idleWatts(), model.maxWatts(), dynamicSum);
        }

        void advance(double now) {
            double joules = watts() * (now - lastS);
            energyJ += joules;
            if (attribution != null) attribution.interval(model, joules, holders.values());
            lastS = now;
        }
    }

    @Override
    public List<GpuModel> gpus() {
        return models;
    }

    @Override
    public Layout layout(int gpu) {
        return boards.get(gpu).layout;
    }

    @Override
    public void setMigEnabled(int gpu, boolean enabled) {
        Board b = boards.get(gpu);
        if (!b.processes.isEmpty() || b.wholeGpuProcesses > 0) {
            throw new IllegalStateException("gpu" + gpu + " is in use; MIG mode changes need an idle GPU");
        }
        b.layout = Layout.empty(b.model);
        b.migEnabled = enabled;
    }

    @Override
    public boolean canChangeMigMode(int gpu) {
        return latency.changesModes();
    }

    @Override
    public double migModeChangeS(int gpu) {
        return latency.migModeChangeS();
    }

    @Override
    public boolean migEnabledNow(int gpu) {
        return boards.get(gpu).migEnabled;
    }

    @Override
    public void changeMigMode(int gpu, boolean enabled, long ticket, EventSink sink) {
        Board b = boards.get(gpu);
        if (!b.processes.isEmpty() || b.wholeGpuProcesses > 0 || b.changingMode) {
            time.at(time.nowS(), () -> sink.deliver(new EngineEvent.MigModeChanged(gpu, ticket,
                    Optional.of("NVML_ERROR_IN_USE: the GPU is not idle"))));
            return;
        }
        b.changingMode = true;
        // Instances go first (each destroy timed as any), then the mode and its reset.
        double duration = b.layout.instances().size() * latency.destroyS() + latency.migModeChangeS();
        b.layout = Layout.empty(b.model);
        time.after(duration, () -> {
            b.changingMode = false;
            b.migEnabled = enabled;
            sink.deliver(new EngineEvent.MigModeChanged(gpu, ticket, Optional.empty()));
        });
    }

    @Override
    public void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink) {
        Board b = boards.get(gpu);
        if (!plan.base().equals(b.layout)) {
            time.at(time.nowS(), () -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket,
                    Optional.of("conflict: the plan was made for " + plan.base() + ", the GPU has " + b.layout))));
            return;
        }
        double duration = 0;
        for (PlanOp op : plan.ops()) {
            if (op instanceof PlanOp.Destroy d && b.processes.getOrDefault(d.instance(), 0) > 0) {
                time.at(time.nowS(), () -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket,
                        Optional.of("NVML_ERROR_IN_USE: destroy " + d.instance() + " while a process uses it"))));
                return;
            }
            duration += op instanceof PlanOp.Create ? latency.createS() : latency.destroyS();
        }
        Layout result;
        try {
            Layout l = b.layout;
            for (PlanOp op : plan.ops()) {
                l = op instanceof PlanOp.Create c ? l.with(c.instance()) : l.without(op.instance());
            }
            result = l;
        } catch (RuntimeException e) {
            time.at(time.nowS(), () -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket,
                    Optional.of("NVML_ERROR_INSUFFICIENT_RESOURCES: " + e.getMessage()))));
            return;
        }
        Layout finalLayout = result;
        time.after(duration, () -> {
            b.layout = finalLayout;
            sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket, Optional.empty()));
        });
    }

    /** A process now uses the slot (launch): destroys of its instance are refused until it exits. */
    @Override
    public void processStarted(Slot slot, Object key) {
        Board b = boards.get(slot.gpu());
        if (b.attribution != null) {
            b.advance(time.nowS());
            b.holders.put(key, new ChipShareAttribution.Holder(key, slot.computeSlices(), 0));
        }
        slot.instance().ifPresentOrElse(i -> {
            if (!b.layout.contains(i)) {
                throw new IllegalStateException("gpu" + slot.gpu() + " has no instance " + i);
            }
            b.processes.merge(i, 1, Integer::sum);
        }, () -> b.wholeGpuProcesses++);
    }

    /** The process on the slot exited. */
    @Override
    public void processExited(Slot slot, Object key) {
        Board b = boards.get(slot.gpu());
        processActivity(slot.gpu(), key, 0);
        if (b.attribution != null) b.holders.remove(key);
        slot.instance().ifPresentOrElse(i -> b.processes.merge(i, -1, (x, y) -> x + y == 0 ? null : x + y),
                () -> b.wholeGpuProcesses--);
    }

    /** Sets a process's dynamic power share (0 while it starts up or after it exits). */
    @Override
    public void processActivity(int gpu, Object key, double share) {
        Board b = boards.get(gpu);
        b.advance(time.nowS());
        Double old = share == 0 ? b.dynamicShares.remove(key) : b.dynamicShares.put(key, share);
        b.dynamicSum += share - (old == null ? 0 : old);
        if (b.attribution != null) {
            b.holders.computeIfPresent(key, (k, h) -> new ChipShareAttribution.Holder(k, h.computeSlices(), share));
        }
        if (b.dynamicShares.isEmpty()) {
            b.dynamicSum = 0;
        }
        if (powerListener != null) powerListener.watts(gpu, time.nowS(), b.watts());
    }


    /** Receives a board's power from a time on, at every change. */
    @FunctionalInterface
    public interface PowerListener {
        void watts(int gpu, double atS, double watts);
    }

    private PowerListener powerListener;

    /** Tells {@code listener} each board's power now and at every change from now on. */
    public void onPower(PowerListener listener) {
        this.powerListener = listener;
        for (int g = 0; g < boards.size(); g++) listener.watts(g, time.nowS(), boards.get(g).watts());
    }

    /**
     * Splits each GPU's energy among the attempts holding instances on it from now on
     * ({@link ChipShareAttribution}; keys are the executor's process keys, job ids).
     */
    public void attributeTo(ChipShareAttribution attribution) {
        for (Board b : boards) {
            b.advance(time.nowS());
            b.attribution = attribution;
        }
    }

    @Override
    public double energyJoules() {
        double total = 0;
        for (Board b : boards) {
            b.advance(time.nowS());
            total += b.energyJ;
        }
        return total;
    }
}
