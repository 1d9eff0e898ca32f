package dev.migm.backend;

import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import dev.migm.io.InvalidInputException;
import dev.migm.nvml.Nvml;
import dev.migm.nvml.NvmlException;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Real MIG GPUs through NVML ({@link Nvml}): the GPUs of the node whose MIG mode is on and whose
 * model the catalog knows. A plan is carried out on a worker thread (NVML's create and destroy calls
 * block for up to seconds; mig-hardware.md section 3) in the plan's order: a destroy removes the
 * compute instances, then the GPU instance; a create makes the GPU instance at the plan's placement,
 * then one compute instance spanning it. The layout is always read back from NVML, never
 * remembered, so instances made by someone else are seen, and a plan made for another layout is
 * refused as a conflict. Process memory comes from {@code nvmlDeviceGetComputeRunningProcesses_v3}
 * on the MIG device, capped at the instance's memory; progress is never known here (only the job
 * can report it). migm changes a GPU's MIG mode only where an admin allowed it ({@link ModeChanges})
 * and only on Hopper and newer, where {@code nvmlDeviceSetMigMode} takes effect on an idle GPU
 * without a reset (on Ampere it leaves a pending mode that needs a GPU reset, which NVML's public
 * API does not offer; mig-hardware.md section 3.6). With MIG off a GPU is one slot, its device
 * {@code GPU-<uuid>}, its processes' memory read on the GPU's own handle.
 * {@code IN_USE} on a destroy is retried with back-off ({@link Retry}): the driver answers it for a
 * moment after the last process of an instance exits (mig-hardware.md section 3.1); other refusals
 * ({@code INSUFFICIENT_RESOURCES}, {@code NO_PERMISSION}) end the plan with NVML's message, and the
 * engine re-reads the layout.
 */
public final class NvmlGpuBackend implements LiveBackend {
    private final Nvml nvml;
    private final List<Integer> indices;
    private final List<GpuModel> models;
    private final ExecutorService worker;
    private final List<Double> energyAtStart = new ArrayList<>();

    /**
     * How often a destroy that NVML refuses with {@code IN_USE} is tried, and the first pause,
     * doubled after each try. {@link #DEFAULT}: 5 tries, 0.25 s first, 3.75 s of pauses in all, well
     * inside the engine's 60 s reconfiguration time-out, and longer than the CUDA context teardown
     * after a process exit this covers.
     */
    public record Retry(int tries, java.time.Duration firstPause) {
        public static final Retry DEFAULT = new Retry(5, java.time.Duration.ofMillis(250));
    }

    /** One GPU the backend drives: its NVML index, catalog model, device UUID and whether migm may change its mode. */
    public record ManagedGpu(int nvmlIndex, GpuModel model, String uuid, boolean modeChangeable) {
    }

    /**
     * Whether migm may change MIG modes on this node: an admin's opt-in ({@code --allow-mig-mode-change},
     * or {@code allow_mig_mode_change} in the daemon's config), with the time a change is expected to
     * take, for the policy to weigh (no NVIDIA figure exists; the default is models.md section 4's
     * 30 s, a reset's order of magnitude; a site measures its own with {@code nvidia-smi -mig}).
     */
    public record ModeChanges(boolean allowed, double expectedS) {
        public static final ModeChanges NEVER = new ModeChanges(false, Double.POSITIVE_INFINITY);

        public static ModeChanges allowed(double expectedS) {
            return new ModeChanges(true, expectedS);
        }
    }

    /** How long a mode change may take before it is reported as failed (NVML gives no deadline). */
    static final java.time.Duration MODE_CHANGE_TIMEOUT = java.time.Duration.ofSeconds(120);

    private final Retry retry;
    private final List<ManagedGpu> managed;
    private final ModeChanges modeChanges;
    /** MIG devices already looked up, per GPU and instance; see {@link #computeInstance}. */
    private final Map<Resolved, Nvml.ComputeInstance> resolved = new HashMap<>();

    private record Resolved(int gpu, Instance instance) {
    }

    private NvmlGpuBackend(Nvml nvml, List<ManagedGpu> gpus, Retry retry, ModeChanges modeChanges) {
        this.nvml = nvml;
        this.retry = retry;
        this.managed = List.copyOf(gpus);
        this.modeChanges = modeChanges;
        this.indices = gpus.stream().map(ManagedGpu::nvmlIndex).toList();
        this.models = gpus.stream().map(ManagedGpu::model).toList();
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "nvml-mig");
            t.setDaemon(true);
            return t;
        });
        for (int index : indices) energyAtStart.add(nvml.energyJoules(index).orElse(0.0));
    }

    /**
     * The GPUs of the node that migm can drive: MIG on, model in the catalog. Each GPU it cannot drive
     * is named with the reason in {@code skipped}; none at all, or a library without MIG control, is
     * an {@link InvalidInputException} with the reasons.
     */
    public static NvmlGpuBackend open(Nvml nvml, Catalog catalog, List<String> skipped) {
        return open(nvml, catalog, skipped, Retry.DEFAULT, ModeChanges.NEVER);
    }

    /** {@link #open(Nvml, Catalog, List)} with another back-off for {@code IN_USE}. */
    public static NvmlGpuBackend open(Nvml nvml, Catalog catalog, List<String> skipped, Retry retry) {
        return open(nvml, catalog, skipped, retry, ModeChanges.NEVER);
    }

    /**
     * The GPUs migm can drive: model in the catalog, and MIG on, or MIG off where the admin allowed
     * mode changes and the GPU changes modes without a reset (Hopper and newer).
     */
    public static NvmlGpuBackend open(Nvml nvml, Catalog catalog, List<String> skipped, Retry retry,
                                      ModeChanges modeChanges) {
        nvml.migControl().ifPresent(why -> {
            throw new InvalidInputException("NVML cannot control MIG here: " + why);
        });
        List<ManagedGpu> gpus = new ArrayList<>();
        for (Nvml.DeviceInfo d : nvml.devices()) {
            Optional<GpuModel> model = catalog.find(d.name());
            boolean changeable = modeChanges.allowed() && nvml.canSetMigMode() && d.migCurrent().isPresent()
                    && resetless(nvml.architecture(d.index()));
            if (model.isEmpty()) {
                skipped.add("gpu" + d.index() + " " + d.name() + ": not in the catalog (migm import-smi can add it)");
            } else if (!d.migCurrent().orElse(false) && !changeable) {
                skipped.add("gpu" + d.index() + " " + d.name() + ": MIG mode is off (an admin enables it: "
                        + "nvidia-smi -i " + d.index() + " -mig 1" + (modeChanges.allowed()
                        ? "; migm changes modes itself only on Hopper and newer, where no GPU reset is needed)" : ")"));
            } else {
                gpus.add(new ManagedGpu(d.index(), model.get(), d.uuid(), changeable));
            }
        }
        if (gpus.isEmpty()) {
            throw new InvalidInputException("no GPU migm can drive through NVML: " + String.join("; ", skipped));
        }
        return new NvmlGpuBackend(nvml, gpus, retry, modeChanges);
    }

    /**
     * Whether a GPU of this architecture activates a MIG mode change without a reset: Hopper and newer
     * (nvml.h's "unknown" is "presumably something newer"); Ampere needs a reset (mig-hardware.md 3.6).
     */
    static boolean resetless(java.util.OptionalInt architecture) {
        if (architecture.isEmpty()) return false;
        int arch = architecture.getAsInt();
        return arch == Nvml.ARCH_UNKNOWN || arch >= Nvml.ARCH_HOPPER;
    }

    @Override
    public List<GpuModel> gpus() {
        return models;
    }

    /** The layout NVML reports now; a GPU instance of a profile the catalog lacks is an error. */
    @Override
    public synchronized Layout layout(int gpu) {
        if (!migEnabledNow(gpu)) return new Layout(models.get(gpu), List.of());
        return new Layout(models.get(gpu), List.copyOf(readBack(gpu).keySet()));
    }

    private Map<Instance, Nvml.GpuInstance> readBack(int gpu) {
        GpuModel model = models.get(gpu);
        Map<Instance, Nvml.GpuInstance> found = new HashMap<>();
        for (Profile p : model.profiles()) {
            for (Nvml.GpuInstance gi : nvml.gpuInstances(indices.get(gpu), p.id())) {
                found.put(new Instance(p, gi.start()), gi);
            }
        }
        return found;
    }

    /** At start: the mode the policy starts from; changed now only where migm may change modes. */
    @Override
    public void setMigEnabled(int gpu, boolean enabled) {
        if (migEnabledNow(gpu) == enabled) return;
        if (!canChangeMigMode(gpu)) {
            throw new UnsupportedOperationException("migm changes MIG modes on real GPUs only where an admin allowed it "
                    + "(--allow-mig-mode-change) and on Hopper and newer (no reset); gpu" + gpu + " has MIG "
                    + (enabled ? "off" : "on") + " and this policy needs it " + (enabled ? "on" : "off"));
        }
        switchMode(gpu, enabled).ifPresent(failure -> {
            throw new IllegalStateException("gpu" + gpu + ": " + failure);
        });
    }

    /**
     * Asks the GPU a cheap question ({@code nvmlDeviceGetMigMode}); {@code NVML_ERROR_GPU_IS_LOST}
     * means it has fallen off the bus. Any other answer means it is there. Not under this backend's
     * lock (NVML is thread-safe), so a long plan does not delay the health check.
     */
    @Override
    public java.util.Optional<String> lostReason(int gpu) {
        try {
            nvml.migMode(indices.get(gpu));
            return java.util.Optional.empty();
        } catch (dev.migm.nvml.NvmlException e) {
            return e.code() == dev.migm.nvml.NvmlReturn.GPU_IS_LOST ? java.util.Optional.of(e.getMessage())
                    : java.util.Optional.empty();
        }
    }

    @Override
    public synchronized boolean migEnabledNow(int gpu) {
        return nvml.migMode(indices.get(gpu)).current();
    }

    @Override
    public boolean canChangeMigMode(int gpu) {
        return managed.get(gpu).modeChangeable();
    }

    @Override
    public double migModeChangeS(int gpu) {
        return canChangeMigMode(gpu) ? modeChanges.expectedS() : Double.POSITIVE_INFINITY;
    }

    @Override
    public void changeMigMode(int gpu, boolean enabled, long ticket, EventSink sink) {
        if (!canChangeMigMode(gpu)) {
            throw new UnsupportedOperationException("gpu" + gpu + ": migm may not change its MIG mode");
        }
        worker.execute(() -> sink.deliver(new EngineEvent.MigModeChanged(gpu, ticket, switchMode(gpu, enabled))));
    }

    /**
     * Sets an idle GPU's MIG mode: turning it off destroys the (idle) instances first, compute
     * instances before their GPU instance; then {@code nvmlDeviceSetMigMode}, and the mode read back
     * until it is the one asked for ({@link #MODE_CHANGE_TIMEOUT}). A mode left pending (NVML's
     * activation status {@code IN_USE} or {@code RESET_REQUIRED}) is a failure that says so; the
     * engine then plans with the mode the GPU reports.
     */
    private Optional<String> switchMode(int gpu, boolean enabled) {
        Requested requested = requestMode(gpu, enabled);
        if (!requested.toAwait()) return requested.failure();
        // Awaited without the backend's lock: sampling and layouts of the other GPUs go on meanwhile
        // (NVML is thread-safe).
        int index = indices.get(gpu);
        try {
            long deadline = System.nanoTime() + MODE_CHANGE_TIMEOUT.toNanos();
            while (nvml.migMode(index).current() != enabled) {
                if (System.nanoTime() > deadline) {
                    return Optional.of("MIG mode still " + (enabled ? "off" : "on") + " after " + MODE_CHANGE_TIMEOUT.toSeconds() + " s");
                }
                Thread.sleep(200);
            }
            return Optional.empty();
        } catch (NvmlException e) {
            return Optional.of(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while waiting for the MIG mode change");
        }
    }

    /** What asking for a mode gave: done (with or without a failure), or accepted and to be awaited. */
    private record Requested(boolean toAwait, Optional<String> failure) {
    }

    private synchronized Requested requestMode(int gpu, boolean enabled) {
        resolved.keySet().removeIf(r -> r.gpu() == gpu);
        int index = indices.get(gpu);
        try {
            if (nvml.migMode(index).current() == enabled) return new Requested(false, Optional.empty());
            if (!enabled) {
                for (Nvml.GpuInstance gi : readBack(gpu).values()) destroy(gi);
            }
            dev.migm.nvml.NvmlReturn activation = nvml.setMigMode(index, enabled);
            if (activation != dev.migm.nvml.NvmlReturn.SUCCESS) {
                return new Requested(false, Optional.of("nvmlDeviceSetMigMode: the mode is pending, not active (NVML_ERROR_"
                        + activation.name() + (activation == dev.migm.nvml.NvmlReturn.IN_USE
                        ? ": a process or a monitoring client holds the GPU" : ": a GPU reset or reboot activates it") + ")"));
            }
            return new Requested(true, Optional.empty());
        } catch (NvmlException e) {
            return new Requested(false, Optional.of(e.getMessage()));
        }
    }

    @Override
    public void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink) {
        worker.execute(() -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket, carryOut(gpu, plan))));
    }

    private synchronized Optional<String> carryOut(int gpu, Plan.Possible plan) {
        resolved.keySet().removeIf(r -> r.gpu() == gpu);
        try {
            Map<Instance, Nvml.GpuInstance> now = readBack(gpu);
            Layout current = new Layout(models.get(gpu), List.copyOf(now.keySet()));
            if (!plan.base().equals(current)) {
                return Optional.of("conflict: the plan was made for " + plan.base() + ", the GPU has " + current);
            }
            for (PlanOp op : plan.ops()) {
                switch (op) {
                    case PlanOp.Destroy d -> {
                        Nvml.GpuInstance gi = now.remove(d.instance());
                        if (gi == null) return Optional.of("NVML_ERROR_NOT_FOUND: no instance " + d.instance());
                        destroy(gi);
                    }
                    case PlanOp.Create c -> {
                        Profile p = c.instance().profile();
                        Nvml.GpuInstance gi = nvml.createGpuInstance(indices.get(gpu), p.id(), c.instance().start(),
                                p.memorySlices());
                        nvml.createFullComputeInstance(gi, p.computeSlices());
                        now.put(c.instance(), gi);
                    }
                }
            }
            return Optional.empty();
        } catch (NvmlException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** A GPU instance and its compute instances, these first, each retried while NVML says {@code IN_USE}. */
    private void destroy(Nvml.GpuInstance gi) {
        for (Nvml.ComputeInstance ci : nvml.computeInstances(gi)) retryingInUse(() -> nvml.destroy(ci));
        retryingInUse(() -> nvml.destroy(gi));
    }

    private void retryingInUse(Runnable destroy) {
        long pauseMs = retry.firstPause().toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                destroy.run();
                return;
            } catch (NvmlException e) {
                if (e.code() != dev.migm.nvml.NvmlReturn.IN_USE || attempt >= retry.tries()) throw e;
            }
            try {
                Thread.sleep(pauseMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NvmlException("destroy", dev.migm.nvml.NvmlReturn.IN_USE, "interrupted while waiting to retry");
            }
            pauseMs *= 2;
        }
    }

    /**
     * The MIG device of a slot, resolved once per instance (a sample each second per job would
     * otherwise enumerate every profile's GPU instances and every compute instance) and forgotten
     * when migm changes that GPU or when NVML no longer knows the handle.
     */
    private synchronized Nvml.ComputeInstance computeInstance(Slot slot) {
        Instance i = slot.instance().orElseThrow(() -> new IllegalArgumentException("whole GPUs have no MIG device"));
        Nvml.ComputeInstance known = resolved.get(new Resolved(slot.gpu(), i));
        if (known != null) return known;
        Nvml.GpuInstance gi = readBack(slot.gpu()).get(i);
        if (gi == null) throw new IllegalStateException("gpu" + slot.gpu() + " has no instance " + i);
        List<Nvml.ComputeInstance> cis = nvml.computeInstances(gi);
        if (cis.isEmpty()) throw new IllegalStateException("instance " + i + " on gpu" + slot.gpu() + " has no compute instance");
        resolved.put(new Resolved(slot.gpu(), i), cis.getFirst());
        return cis.getFirst();
    }

    private synchronized void forget(Slot slot) {
        slot.instance().ifPresent(i -> resolved.remove(new Resolved(slot.gpu(), i)));
    }

    @Override
    public String deviceName(Slot slot) {
        if (slot.instance().isEmpty()) return managed.get(slot.gpu()).uuid();
        return computeInstance(slot).migUuid();
    }

    @Override
    public SlotUsage usage(Slot slot) {
        long used;
        if (slot.instance().isEmpty()) {
            used = nvml.processMemory(indices.get(slot.gpu())).usedMib();
            return new SlotUsage(Math.min(used, models.get(slot.gpu()).memoryMib()), OptionalDouble.empty());
        }
        try {
            used = nvml.processMemory(computeInstance(slot)).usedMib();
        } catch (NvmlException stale) {
            forget(slot);
            used = nvml.processMemory(computeInstance(slot)).usedMib();
        }
        long cap = slot.instance().map(i -> i.profile().memoryMib()).orElse(models.get(slot.gpu()).memoryMib());
        return new SlotUsage(Math.min(used, cap), OptionalDouble.empty());
    }

    @Override
    public Map<String, String> environment() {
        return Map.of();
    }

    /** Board energy of the driven GPUs since the backend opened, from NVML's energy counters. */
    @Override
    public double energyJoules() {
        double sum = 0;
        for (int g = 0; g < indices.size(); g++) {
            sum += nvml.energyJoules(indices.get(g)).orElse(energyAtStart.get(g)) - energyAtStart.get(g);
        }
        return sum;
    }

    @Override
    public String gpuUuid(int gpu) {
        return managed.get(gpu).uuid();
    }

    @Override
    public double counterJoules(int gpu) {
        return nvml.energyJoules(indices.get(gpu)).orElse(Double.NaN);
    }

    @Override
    public synchronized Map<Instance, Integer> instanceIds(int gpu) {
        Map<Instance, Integer> ids = new java.util.LinkedHashMap<>();
        if (!migEnabledNow(gpu)) return ids;
        readBack(gpu).forEach((instance, gi) -> ids.put(instance, gi.id()));
        return ids;
    }

    @Override
    public String closingNote() {
        return "the MIG instances stay as they are (migm's next run or an admin reuses them)";
    }

    /** Stops the worker; instances are left as they are (a GPU site's layout outlives a run). */
    @Override
    public void close() {
        worker.shutdown();
    }
}
