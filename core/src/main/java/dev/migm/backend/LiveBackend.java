package dev.migm.backend;

import dev.migm.engine.DeviceView;
import dev.migm.engine.GpuBackend;

/**
 * A backend that real processes run on: it cuts the GPUs ({@link GpuBackend}) and tells the
 * executor each instance's device name and usage ({@link DeviceView}). The emulated GPU and NVML's
 * real GPUs are the two; {@link #close} ends the backend's own threads and, for the emulated GPU,
 * its idle instances.
 */
public sealed interface LiveBackend extends GpuBackend, DeviceView, AutoCloseable
        permits EmulatedGpuBackend, NvmlGpuBackend {
    @Override
    void close();

    /**
     * Why a GPU does not answer ({@code NVML_ERROR_GPU_IS_LOST}), or empty while it does: the seam a
     * health monitor polls to tell the engine ({@link dev.migm.engine.EngineEvent.GpuLost},
     * {@link dev.migm.engine.EngineEvent.GpuRecovered}).
     */
    default java.util.Optional<String> lostReason(int gpu) {
        return java.util.Optional.empty();
    }

    /** The GPU's UUID ({@code GPU-...}, {@code nvmlDeviceGetUUID}): the label metrics carry, as DCGM-exporter's do. */
    String gpuUuid(int gpu);

    /**
     * The GPU's board energy counter in joules ({@code nvmlDeviceGetTotalEnergyConsumption}: since
     * the driver loaded); NaN where the GPU cannot say. Read after {@link #energyJoules()}, which
     * brings the emulated GPU's counters up to date.
     */
    double counterJoules(int gpu);

    /**
     * Each instance's GPU instance id ({@code GPU_I_ID} in DCGM-exporter's labels): NVML's on real
     * GPUs; the emulated GPU numbers an instance by its first memory slice.
     */
    default java.util.Map<dev.migm.gpu.Instance, Integer> instanceIds(int gpu) {
        java.util.Map<dev.migm.gpu.Instance, Integer> ids = new java.util.LinkedHashMap<>();
        for (dev.migm.gpu.Instance i : layout(gpu).instances()) ids.put(i, i.start());
        return ids;
    }

    /**
     * The dynamic share {@code d = a * SM(p) / SM_full} the world measures of the processes on a
     * slot (models.md section 3), or empty where nothing measures it: NVML reports no utilisation
     * of MIG devices. What {@link BoardMeter} weighs dynamic power by.
     */
    default java.util.OptionalDouble dynamicShare(dev.migm.engine.Slot slot) {
        return java.util.OptionalDouble.empty();
    }

    /** What {@link #close} leaves on the GPUs, for the operator's last line. */
    String closingNote();
}
