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

    /** Buffer sizes of nvml.h ({@code NVML_DEVICE_NAME_V2_BUFFER_SIZE}, {@code NVML_DEVICE_UUID_V2_BUFFER_SIZE}). */
    static final int NAME_BUFFER = 96;
    static final int UUID_BUFFER = 96;
    static final int DRIVER_VERSION_BUFFER = 80;
}
