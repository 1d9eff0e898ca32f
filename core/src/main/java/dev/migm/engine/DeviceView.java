package dev.migm.engine;

import java.util.Map;
import java.util.OptionalDouble;

/**
 * What an executor of real processes needs from the GPUs: the device name of a slot and what its
 * processes use. The emulated GPU answers from its device files, NVML from
 * {@code nvmlDeviceGetComputeRunningProcesses} on the MIG device.
 */
public interface DeviceView {
    /**
     * Memory the processes on a slot use (never more than it holds) and their progress, if reported,
     * with when it was said (wall-clock milliseconds since the epoch; 0: not said when).
     */
    record SlotUsage(long usedMib, OptionalDouble reportedProgress, long progressSaidAtMs) {
        public SlotUsage(long usedMib, OptionalDouble reportedProgress) {
            this(usedMib, reportedProgress, 0);
        }
    }

    /** The name {@code CUDA_VISIBLE_DEVICES} takes for the slot ({@code MIG-<uuid>}). */
    String deviceName(Slot slot);

    SlotUsage usage(Slot slot);

    /** Environment every process on this backend needs (e.g. where the emulated devices live). */
    Map<String, String> environment();
}
