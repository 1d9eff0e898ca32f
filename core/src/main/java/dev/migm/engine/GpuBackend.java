package dev.migm.engine;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.partition.Plan;
import java.util.List;

/**
 * The GPUs of a node: NVML on real hardware, the emulated GPU, or the simulated one. Applying a plan
 * is asynchronous: the backend reports {@link EngineEvent.ReconfigurationFinished} with the ticket.
 * Like NVML, a backend refuses to destroy an instance a process uses.
 */
public interface GpuBackend {
    List<GpuModel> gpus();

    /** The layout the GPU really has now. */
    Layout layout(int gpu);

    /** Sets MIG mode at start, on an idle GPU, before any plan (the mode the policy starts from). */
    void setMigEnabled(int gpu, boolean enabled);

    /**
     * Whether {@link #changeMigMode} may be asked for on this GPU: the backend can change modes and,
     * on real hardware, an admin allowed it. False by default.
     */
    default boolean canChangeMigMode(int gpu) {
        return false;
    }

    /** Whether MIG is on now on this GPU (what {@code nvmlDeviceGetMigMode} reports as current). */
    default boolean migEnabledNow(int gpu) {
        return true;
    }

    /** How long a MIG mode change is expected to take on this GPU, seconds (what a policy weighs). */
    default double migModeChangeS(int gpu) {
        return Double.POSITIVE_INFINITY;
    }

    /**
     * Starts changing an idle GPU's MIG mode (NVML {@code nvmlDeviceSetMigMode}, which on Ampere
     * needs a GPU reset; mig-hardware.md section 3.6); the GPU's instances, all idle, are destroyed
     * first. The outcome comes back as {@link EngineEvent.MigModeChanged} carrying {@code ticket}.
     */
    default void changeMigMode(int gpu, boolean enabled, long ticket, EventSink sink) {
        throw new UnsupportedOperationException("this backend does not change MIG modes");
    }

    /** Starts applying a plan on a GPU; the outcome comes back as an event carrying {@code ticket}. */
    void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink);

    /** Board energy of all GPUs since the backend started, in joules, if measurable. */
    double energyJoules();
}
