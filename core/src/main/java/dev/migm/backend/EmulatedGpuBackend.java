package dev.migm.backend;

import dev.migm.emu.EmulatedDevices;
import dev.migm.emu.FaultInjector;
import dev.migm.energy.PowerModel;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Slot;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Emulated MIG GPUs that hold real processes: instances with {@code MIG-<uuid>} names whose state
 * lives under a directory ({@link EmulatedDevices}), created and destroyed with models.md's
 * latencies (scaled by the time scale), refusing like NVML does (a destroy while a process uses the
 * instance: {@code NVML_ERROR_IN_USE}; a plan made for another layout: a conflict). Processes report
 * their memory and activity through the device files; board energy integrates models.md's power
 * model over modelled time. A first-class backend of the live runtime, not a test mock.
 */
public final class EmulatedGpuBackend implements LiveBackend {
    private final Path root;
    private final List<GpuModel> models;
    private final double timeScale;
    private final SimulatedGpuBackend.Latency latency;
    private final ScheduledExecutorService worker;
    private final List<Layout> layouts = new ArrayList<>();
    private final List<Map<Instance, String>> uuids = new ArrayList<>();
    /** Per GPU with MIG off: the whole GPU's device ({@code GPU-<uuid>}, profile {@value #WHOLE}); null with MIG on. */
    private final List<String> wholeDevice = new ArrayList<>();
    /** The profile name an emulated whole GPU (MIG off) carries in its device file. */
    static final String WHOLE = "whole";
    private final long startNanos = System.nanoTime();
    private final List<String> survivorNotes = new ArrayList<>();
    private final FaultInjector faults;
    private double energyJ;
    private double lastS;
    /** Per GPU: joules since the emulated driver "loaded" (the home was made), like NVML's energy counter. */
    private double[] counterJ;
    private long counterSavedNanos;

    public EmulatedGpuBackend(Path root, List<GpuModel> models, double timeScale, SimulatedGpuBackend.Latency latency) {
        this(root, models, timeScale, latency, FaultInjector.NONE);
    }

    /** An emulated GPU whose operations fail as {@code faults} says (the reliability tests' seam). */
    public EmulatedGpuBackend(Path root, List<GpuModel> models, double timeScale, SimulatedGpuBackend.Latency latency,
                              FaultInjector faults) {
        this.faults = faults;
        // Absolute: processes find their devices through this path from their own working directories.
        this.root = root.toAbsolutePath();
        this.models = List.copyOf(models);
        this.timeScale = timeScale;
        this.latency = latency;
        for (int i = 0; i < models.size(); i++) {
            layouts.add(Layout.empty(models.get(i)));
            uuids.add(new HashMap<>());
            wholeDevice.add(null);
        }
        try {
            Files.createDirectories(root.resolve("mig"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        adoptSurvivors();
        counterJ = new double[models.size()];
        for (int g = 0; g < models.size(); g++) counterJ[g] = readCounter(g);
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "emulated-gpu");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Instances a previous migm left under the root (it was killed, or its jobs still run) stay, as a
     * real driver's do across a restart of migm: each one that fits this node (same GPU index and
     * model, a legal placement) is part of the layout again under its UUID; one that does not fit and
     * that no live process uses is removed; one that does not fit but is in use is left alone and
     * named in {@link #survivorNotes()}.
     */
    private void adoptSurvivors() {
        for (EmulatedDevices.InstanceInfo info : EmulatedDevices.list(root)) {
            String why = null;
            if (info.gpu() < 0 || info.gpu() >= models.size()) {
                why = "gpu" + info.gpu() + " is not on this node";
            } else if (!models.get(info.gpu()).name().equals(info.gpuModel())) {
                why = "it was made on a " + (info.gpuModel().isEmpty() ? "GPU of unknown model" : info.gpuModel());
            } else if (info.profile().equals(WHOLE)) {
                if (wholeDevice.get(info.gpu()) == null && layouts.get(info.gpu()).instances().isEmpty()) {
                    wholeDevice.set(info.gpu(), info.uuid());
                    survivorNotes.add("kept " + info.uuid() + " (gpu" + info.gpu() + " with MIG off)");
                    continue;
                }
                why = "gpu" + info.gpu() + " has MIG instances";
            } else if (wholeDevice.get(info.gpu()) != null) {
                why = "gpu" + info.gpu() + " has MIG off";
            } else {
                try {
                    Instance instance = new Instance(models.get(info.gpu()).profile(info.profile()), info.start());
                    Layout next = layouts.get(info.gpu()).with(instance);
                    layouts.set(info.gpu(), next);
                    uuids.get(info.gpu()).put(instance, info.uuid());
                    survivorNotes.add("kept " + info.uuid() + " (" + instance + " on gpu" + info.gpu() + ")");
                    continue;
                } catch (RuntimeException e) {
                    why = "its placement does not fit: " + e.getMessage();
                }
            }
            if (EmulatedDevices.destroy(root, info.uuid())) {
                survivorNotes.add("removed " + info.uuid() + ": " + why);
            } else {
                survivorNotes.add("left " + info.uuid() + " alone (a process uses it): " + why);
            }
        }
    }

    /** What the start found of a previous migm's instances, one line each. */
    public List<String> survivorNotes() {
        return List.copyOf(survivorNotes);
    }

    /** Where the device files live (processes find their instance there). */
    public Path root() {
        return root;
    }

    @Override
    public List<GpuModel> gpus() {
        return models;
    }

    @Override
    public synchronized Layout layout(int gpu) {
        return layouts.get(gpu);
    }

    @Override
    public synchronized void setMigEnabled(int gpu, boolean enabled) {
        Optional<String> failure = switchMode(gpu, enabled);
        if (failure.isPresent()) throw new IllegalStateException(failure.get());
    }

    /** Whether MIG is on (an emulated GPU starts with it on, as a MIG node is set up). */
    @Override
    public synchronized boolean migEnabledNow(int gpu) {
        return wholeDevice.get(gpu) == null;
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
    public void changeMigMode(int gpu, boolean enabled, long ticket, EventSink sink) {
        Optional<String> lost = lostReason(gpu);
        if (lost.isPresent()) {
            worker.execute(() -> sink.deliver(new EngineEvent.MigModeChanged(gpu, ticket, lost)));
            return;
        }
        double delayS = faults.extraModeChangeDelayS(gpu, ticket) + latency.migModeChangeS();
        synchronized (this) {
            delayS += layouts.get(gpu).instances().size() * latency.destroyS();
        }
        worker.schedule(() -> {
            Optional<String> failure;
            synchronized (this) {
                failure = switchMode(gpu, enabled);
            }
            sink.deliver(new EngineEvent.MigModeChanged(gpu, ticket, failure));
        }, (long) (delayS / timeScale * 1e9), TimeUnit.NANOSECONDS);
    }

    /**
     * Sets the mode as {@code nvmlDeviceSetMigMode} would on an idle GPU: with MIG off the GPU is
     * one device ({@code GPU-<uuid>}, all its SMs and memory); turning MIG off destroys the idle
     * instances first. Refuses (NVML's {@code IN_USE}) while a process uses the GPU.
     */
    private Optional<String> switchMode(int gpu, boolean enabled) {
        String whole = wholeDevice.get(gpu);
        if (enabled) {
            if (whole == null) return Optional.empty();
            if (!EmulatedDevices.destroy(root, whole)) {
                return Optional.of("NVML_ERROR_IN_USE: a process uses gpu" + gpu);
            }
            wholeDevice.set(gpu, null);
            return Optional.empty();
        }
        if (whole != null) return Optional.empty();
        for (var e : List.copyOf(uuids.get(gpu).entrySet())) {
            if (!EmulatedDevices.destroy(root, e.getValue())) {
                return Optional.of("NVML_ERROR_IN_USE: " + e.getKey() + " on gpu" + gpu + " is in use");
            }
            uuids.get(gpu).remove(e.getKey());
            layouts.set(gpu, layouts.get(gpu).without(e.getKey()));
        }
        GpuModel m = models.get(gpu);
        String uuid = "GPU-" + UUID.randomUUID();
        EmulatedDevices.create(root, new EmulatedDevices.InstanceInfo(uuid, gpu, WHOLE, m.sms(), m.sms(), m.memoryMib(),
                m.name(), 0));
        wholeDevice.set(gpu, uuid);
        return Optional.empty();
    }

    @Override
    public String deviceName(Slot slot) {
        return device(slot);
    }

    @Override
    public java.util.Optional<String> lostReason(int gpu) {
        return faults.lost(gpu).map(id -> GPU_IS_LOST + " (injected fault " + id + ")");
    }

    /** What a lost emulated GPU answers to everything, as NVML does. */
    static final String GPU_IS_LOST = "NVML_ERROR_GPU_IS_LOST: the GPU has fallen off the bus";

    @Override
    public SlotUsage usage(Slot slot) {
        Optional<String> lost = lostReason(slot.gpu());
        if (lost.isPresent()) throw new IllegalStateException(lost.get());
        long used = 0;
        java.util.OptionalDouble progress = java.util.OptionalDouble.empty();
        long saidAtMs = 0;
        for (EmulatedDevices.Usage u : EmulatedDevices.usages(root, device(slot)).values()) {
            used += u.mib();
            if (u.progress().isPresent()) {
                progress = u.progress();
                saidAtMs = u.progressSaidAtMs();
            }
        }
        return new SlotUsage(used, progress, saidAtMs);
    }

    /** The processes' reported activity on the slot's SMs (the emulated workload reports its share). */
    @Override
    public java.util.OptionalDouble dynamicShare(Slot slot) {
        double share = 0;
        try {
            for (EmulatedDevices.Usage u : EmulatedDevices.usages(root, device(slot)).values()) share += u.activity();
        } catch (IllegalStateException e) {
            return java.util.OptionalDouble.empty();
        }
        return java.util.OptionalDouble.of(share);
    }

    @Override
    public Map<String, String> environment() {
        return Map.of("MIGM_EMULATED_DIR", root.toString(), "MIGM_TIME_SCALE", Double.toString(timeScale));
    }

    /** The device name of a slot, as {@code CUDA_VISIBLE_DEVICES} takes it. */
    public synchronized String device(Slot slot) {
        if (slot.instance().isEmpty()) {
            String whole = wholeDevice.get(slot.gpu());
            if (whole == null) throw new IllegalStateException("gpu" + slot.gpu() + " has MIG on");
            return whole;
        }
        Instance i = slot.instance().get();
        String uuid = uuids.get(slot.gpu()).get(i);
        if (uuid == null) throw new IllegalStateException("gpu" + slot.gpu() + " has no instance " + i);
        return uuid;
    }

    @Override
    public void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink) {
        Optional<String> lost = lostReason(gpu);
        if (lost.isPresent()) {
            worker.execute(() -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket, lost)));
            return;
        }
        double delayS = faults.extraDelayS(gpu, ticket);
        for (PlanOp op : plan.ops()) {
            delayS += op instanceof PlanOp.Create ? latency.createS() : latency.destroyS();
        }
        worker.schedule(() -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket, carryOut(gpu, plan))),
                (long) (delayS / timeScale * 1e9), TimeUnit.NANOSECONDS);
    }

    private synchronized Optional<String> carryOut(int gpu, Plan.Possible plan) {
        if (wholeDevice.get(gpu) != null) {
            return Optional.of("NVML_ERROR_NOT_SUPPORTED: gpu" + gpu + " has MIG off");
        }
        if (!plan.base().equals(layouts.get(gpu))) {
            return Optional.of("conflict: the plan was made for " + plan.base() + ", the GPU has " + layouts.get(gpu));
        }
        for (PlanOp op : plan.ops()) {
            Layout l = layouts.get(gpu);
            switch (op) {
                case PlanOp.Destroy d -> {
                    Optional<String> fault = faults.onDestroy(gpu, d.instance());
                    if (fault.isPresent()) return fault;
                    String uuid = uuids.get(gpu).get(d.instance());
                    if (uuid != null && !EmulatedDevices.destroy(root, uuid)) {
                        return Optional.of("NVML_ERROR_IN_USE: destroy " + d.instance() + " while a process uses it");
                    }
                    uuids.get(gpu).remove(d.instance());
                    layouts.set(gpu, l.without(d.instance()));
                }
                case PlanOp.Create c -> {
                    Optional<String> fault = faults.onCreate(gpu, c.instance());
                    if (fault.isPresent()) return fault;
                    Layout next;
                    try {
                        next = l.with(c.instance());
                    } catch (RuntimeException e) {
                        return Optional.of("NVML_ERROR_INSUFFICIENT_RESOURCES: " + e.getMessage());
                    }
                    String uuid = "MIG-" + UUID.randomUUID();
                    GpuModel m = models.get(gpu);
                    EmulatedDevices.create(root, new EmulatedDevices.InstanceInfo(uuid, gpu, c.instance().profile().toString(),
                            c.instance().profile().sms(), m.sms(), c.instance().profile().memoryMib(), m.name(),
                            c.instance().start()));
                    uuids.get(gpu).put(c.instance(), uuid);
                    layouts.set(gpu, next);
                }
            }
        }
        return Optional.empty();
    }

    /** Board energy of all GPUs in modelled joules, integrated from the processes' reported activity. */
    @Override
    public synchronized double energyJoules() {
        double now = (System.nanoTime() - startNanos) / 1e9 * timeScale;
        double dt = now - lastS;
        lastS = now;
        for (int g = 0; g < models.size(); g++) {
            double share = 0;
            List<String> devices = new ArrayList<>(uuids.get(g).values());
            if (wholeDevice.get(g) != null) devices.add(wholeDevice.get(g));
            for (String uuid : devices) {
                for (EmulatedDevices.Usage u : EmulatedDevices.usages(root, uuid).values()) {
                    share += u.activity();
                }
            }
            double joules = PowerModel.boardWatts(models.get(g).idleWatts(), models.get(g).maxWatts(), share) * dt;
            energyJ += joules;
            counterJ[g] += joules;
        }
        if (System.nanoTime() - counterSavedNanos >= 1_000_000_000L) saveCounters();
        return energyJ;
    }

    /**
     * A GPU's energy counter: joules since its emulated driver loaded, kept under the root across
     * restarts of migm ({@code nvmlDeviceGetTotalEnergyConsumption}'s meaning); wiping the root is a
     * reboot.
     */
    @Override
    public String gpuUuid(int gpu) {
        // Stable for a root, a GPU and its model: what a restarted daemon labels the same GPU with.
        return "GPU-" + UUID.nameUUIDFromBytes((root + "#" + gpu + "#" + models.get(gpu).name())
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public synchronized double counterJoules(int gpu) {
        return counterJ[gpu];
    }

    private Path counterFile(int gpu) {
        return root.resolve("energy-gpu" + gpu);
    }

    private double readCounter(int gpu) {
        try {
            String[] t = Files.readString(counterFile(gpu)).strip().split(" ");
            // A counter written for another model is another GPU: it starts again.
            return t.length == 2 && t[0].equals(models.get(gpu).name()) ? Math.max(0, Double.parseDouble(t[1])) : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private void saveCounters() {
        counterSavedNanos = System.nanoTime();
        for (int g = 0; g < models.size(); g++) {
            try {
                dev.migm.io.TextFiles.writeAtomically(counterFile(g), models.get(g).name() + " " + counterJ[g] + "\n");
            } catch (IOException e) {
                // the counter is kept in memory; the next save tries again
            }
        }
    }

    @Override
    public String closingNote() {
        return keepInstances ? "instances left for the next start" : "no instance left";
    }

    /**
     * Leaves every instance in place at {@link #close} (a node service that stops: its next start
     * adopts what runs and destroys the idle instances it made), where a run's end destroys the idle
     * ones. An instance given up at a shutdown can be one an attempt was launched onto a moment
     * before, whose process then fails to open its device: the attempt would be lost.
     */
    public synchronized void keepInstancesOnClose() {
        keepInstances = true;
    }

    private boolean keepInstances;

    /** Destroys every instance no process uses (the end of a run) and stops the worker. */
    @Override
    public synchronized void close() {
        worker.shutdownNow();
        energyJoules();
        saveCounters();
        if (keepInstances) return;
        for (int g = 0; g < models.size(); g++) {
            if (wholeDevice.get(g) != null && EmulatedDevices.destroy(root, wholeDevice.get(g))) {
                wholeDevice.set(g, null);
            }
            for (var e : List.copyOf(uuids.get(g).entrySet())) {
                if (EmulatedDevices.destroy(root, e.getValue())) {
                    uuids.get(g).remove(e.getKey());
                    layouts.set(g, layouts.get(g).without(e.getKey()));
                }
            }
        }
    }
}
