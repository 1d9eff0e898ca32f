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

    /** What {@link #close} leaves on the GPUs, for the operator's last line. */
    String closingNote();
}
