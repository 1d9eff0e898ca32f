package dev.migm.nvml;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Every NVML struct layout migm uses, in one place, as nvml.h declares them (mig-hardware.md
 * section 3.2). Sizes and offsets are checked against a C compiler's in the binding test.
 */
final class NvmlStructs {
    private NvmlStructs() {
    }

    /** {@code nvmlMemory_t}: total, free, used, in bytes. */
    static final StructLayout MEMORY = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("total"), ValueLayout.JAVA_LONG.withName("free"),
            ValueLayout.JAVA_LONG.withName("used"));

    /**
     * {@code nvmlMemory_v2_t}: version, padding, then total, reserved (by the driver and firmware),
     * free and used, in bytes. Its {@code used} leaves the reserved memory out, as nvidia-smi shows it.
     */
    static final StructLayout MEMORY_V2 = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("version"), MemoryLayout.paddingLayout(4),
            ValueLayout.JAVA_LONG.withName("total"), ValueLayout.JAVA_LONG.withName("reserved"),
            ValueLayout.JAVA_LONG.withName("free"), ValueLayout.JAVA_LONG.withName("used"));

    /** {@code nvmlMemory_v2}: {@code NVML_STRUCT_VERSION(Memory, 2)}, the struct's size with version 2 in the top byte. */
    static final int MEMORY_V2_VERSION = (int) MEMORY_V2.byteSize() | (2 << 24);

    /**
     * {@code nvmlGpuInstanceProfileInfo_t} (v1): ten unsigned ints, padding, then the 64-bit
     * {@code memorySizeMB}.
     */
    static final StructLayout GPU_INSTANCE_PROFILE_INFO = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("id"), ValueLayout.JAVA_INT.withName("isP2pSupported"),
            ValueLayout.JAVA_INT.withName("sliceCount"), ValueLayout.JAVA_INT.withName("instanceCount"),
            ValueLayout.JAVA_INT.withName("multiprocessorCount"), ValueLayout.JAVA_INT.withName("copyEngineCount"),
            ValueLayout.JAVA_INT.withName("decoderCount"), ValueLayout.JAVA_INT.withName("encoderCount"),
            ValueLayout.JAVA_INT.withName("jpegCount"), ValueLayout.JAVA_INT.withName("ofaCount"),
            ValueLayout.JAVA_LONG.withName("memorySizeMB"));

    /** {@code nvmlGpuInstancePlacement_t}: start and size in memory slices. */
    static final StructLayout GPU_INSTANCE_PLACEMENT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("start"), ValueLayout.JAVA_INT.withName("size"));

    /** {@code nvmlGpuInstanceInfo_t}: device handle, GI id, profile id, placement. */
    static final StructLayout GPU_INSTANCE_INFO = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("device"), ValueLayout.JAVA_INT.withName("id"),
            ValueLayout.JAVA_INT.withName("profileId"), GPU_INSTANCE_PLACEMENT.withName("placement"));

    /** {@code nvmlComputeInstanceProfileInfo_t} (v1): nine unsigned ints. */
    static final StructLayout COMPUTE_INSTANCE_PROFILE_INFO = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("id"), ValueLayout.JAVA_INT.withName("sliceCount"),
            ValueLayout.JAVA_INT.withName("instanceCount"), ValueLayout.JAVA_INT.withName("multiprocessorCount"),
            ValueLayout.JAVA_INT.withName("sharedCopyEngineCount"), ValueLayout.JAVA_INT.withName("sharedDecoderCount"),
            ValueLayout.JAVA_INT.withName("sharedEncoderCount"), ValueLayout.JAVA_INT.withName("sharedJpegCount"),
            ValueLayout.JAVA_INT.withName("sharedOfaCount"));

    /** {@code nvmlComputeInstanceInfo_t}: the MIG device's handle, its GI, CI id, profile id, placement. */
    static final StructLayout COMPUTE_INSTANCE_INFO = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("device"), ValueLayout.ADDRESS.withName("gpuInstance"),
            ValueLayout.JAVA_INT.withName("id"), ValueLayout.JAVA_INT.withName("profileId"),
            GPU_INSTANCE_PLACEMENT.withName("placement"));

    /** {@code nvmlProcessInfo_t} (= v2, taken by {@code nvmlDeviceGetComputeRunningProcesses_v3}). */
    static final StructLayout PROCESS_INFO = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("pid"), MemoryLayout.paddingLayout(4),
            ValueLayout.JAVA_LONG.withName("usedGpuMemory"), ValueLayout.JAVA_INT.withName("gpuInstanceId"),
            ValueLayout.JAVA_INT.withName("computeInstanceId"));

    /**
     * {@code nvmlPciInfo_t} (the {@code _v3} call's): the legacy 16-byte bus id, domain, bus, device,
     * PCI device id, subsystem id, then the 32-byte bus id ({@code NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE}).
     */
    static final StructLayout PCI_INFO = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, ValueLayout.JAVA_BYTE).withName("busIdLegacy"),
            ValueLayout.JAVA_INT.withName("domain"), ValueLayout.JAVA_INT.withName("bus"),
            ValueLayout.JAVA_INT.withName("device"), ValueLayout.JAVA_INT.withName("pciDeviceId"),
            ValueLayout.JAVA_INT.withName("pciSubSystemId"),
            MemoryLayout.sequenceLayout(32, ValueLayout.JAVA_BYTE).withName("busId"));

    /** {@code NVML_VALUE_NOT_AVAILABLE} as an unsigned long long: the process memory NVML could not read. */
    static final long VALUE_NOT_AVAILABLE = -1L;

    /** Buffer sizes of nvml.h ({@code NVML_DEVICE_NAME_V2_BUFFER_SIZE}, {@code NVML_DEVICE_UUID_V2_BUFFER_SIZE}). */
    static final int NAME_BUFFER = 96;
    static final int UUID_BUFFER = 96;
    static final int DRIVER_VERSION_BUFFER = 80;
}
