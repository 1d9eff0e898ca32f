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

    /** Enables or disables MIG mode (assumed instant and on an idle GPU; models.md section 4). */
    void setMigEnabled(int gpu, boolean enabled);

    /** Starts applying a plan on a GPU; the outcome comes back as an event carrying {@code ticket}. */
    void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink);

    /** Board energy of all GPUs since the backend started, in joules, if measurable. */
    double energyJoules();
}
