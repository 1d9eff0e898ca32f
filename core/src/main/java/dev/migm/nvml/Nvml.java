package dev.migm.nvml;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * NVML through the FFM API: every downcall of migm in this class, loaded lazily from
 * {@code libnvidia-ml.so.1} (or the path given). A missing library or symbol makes NVML "not
 * available" with the reason, never a crash; a failing call is an {@link NvmlException} carrying
 * NVML's code and message. Device queries (the NVML version that introduced each):
 * {@code nvmlInit_v2} (5.319), {@code nvmlShutdown}, {@code nvmlErrorString}, {@code
 * nvmlSystemGetDriverVersion}, {@code nvmlDeviceGetCount_v2} and {@code nvmlDeviceGetHandleByIndex_v2}
 * (5.319), {@code nvmlDeviceGetName}, {@code nvmlDeviceGetUUID}, {@code nvmlDeviceGetMemoryInfo},
 * {@code nvmlDeviceGetPowerUsage}, {@code nvmlDeviceGetTotalEnergyConsumption} (Volta+),
 * {@code nvmlDeviceGetMigMode}, {@code nvmlDeviceGetGpuInstanceProfileInfo} and
 * {@code nvmlDeviceGetGpuInstancePossiblePlacements_v2} (11.0, MIG); {@code nvmlDeviceGetPciInfo_v3}
 * (11.0) and {@code nvmlDeviceGetMemoryInfo_v2} (R510) when the library has them. MIG control, loaded when the
 * library has it ({@link #migControl()}): {@code nvmlDeviceCreateGpuInstanceWithPlacement},
 * {@code nvmlDeviceGetGpuInstances}, {@code nvmlGpuInstanceGetInfo}, {@code
 * nvmlGpuInstanceGetComputeInstanceProfileInfo}, {@code nvmlGpuInstanceCreateComputeInstance},
 * {@code nvmlGpuInstanceGetComputeInstances}, {@code nvmlComputeInstanceGetInfo_v2}, {@code
 * nvmlComputeInstanceDestroy}, {@code nvmlGpuInstanceDestroy} (11.0+) and {@code
 * nvmlDeviceGetComputeRunningProcesses_v3} (11.4+), as mig-hardware.md section 3 lists them.
 */
@SuppressWarnings("restricted") // FFM downcalls are this class's purpose; native access is enabled for migm
public final class Nvml implements AutoCloseable {
    /** The NVML library's usual name, found through the dynamic loader. */
    public static final String DEFAULT_LIBRARY = "libnvidia-ml.so.1";
    /** NVML_GPU_INSTANCE_PROFILE_* values probed (nvml.h defines 0..14 as of 12.x). */
    static final int PROFILE_ENUMS = 16;

    private static final String[] SYMBOLS = {"nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlSystemGetDriverVersion",
        "nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetName", "nvmlDeviceGetUUID",
        "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetMigMode", "nvmlDeviceGetPowerUsage",
        "nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetGpuInstanceProfileInfo",
        "nvmlDeviceGetGpuInstancePossiblePlacements_v2"};
    /** Looked up when present; a library without them leaves the answer empty. */
    private static final String[] OPTIONAL_SYMBOLS = {"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetMemoryInfo_v2",
        "nvmlDeviceGetArchitecture", "nvmlDeviceSetMigMode"};
    private static final String[] MIG_CONTROL_SYMBOLS = {"nvmlDeviceCreateGpuInstanceWithPlacement",
        "nvmlDeviceGetGpuInstances", "nvmlGpuInstanceGetInfo", "nvmlGpuInstanceGetComputeInstanceProfileInfo",
        "nvmlGpuInstanceCreateComputeInstance", "nvmlGpuInstanceGetComputeInstances", "nvmlComputeInstanceGetInfo_v2",
        "nvmlComputeInstanceDestroy", "nvmlGpuInstanceDestroy", "nvmlDeviceGetComputeRunningProcesses_v3"};
    /**
     * {@code NVML_COMPUTE_INSTANCE_PROFILE_*} by compute slices: 1→0, 2→1, 3→2, 4→3, 7→4, 8→5, 6→6
     * (nvml.h); -1 where nvml.h has none.
     */
    private static final int[] COMPUTE_PROFILE_BY_SLICES = {-1, 0, 1, 2, 3, -1, 6, 4, 5};
    /**
     * Room for instance handles per query: at least any profile's {@code instanceCount} (7 on every
     * MIG GPU of the catalog; NVML wants the array that large and writes the count).
     */
    private static final int MAX_INSTANCES = 16;
    /** {@code NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED}. */
    private static final int ENGINE_PROFILE_SHARED = 0;

    /** Whether NVML could be loaded and initialised, and why not. */
    public sealed interface Availability {
        record Available(Nvml nvml) implements Availability {
        }

        record Unavailable(String reason) implements Availability {
        }
    }

    /** A GPU-instance profile as NVML reports it, with its possible placements. */
    public record ProfileInfo(int profileEnum, int id, int sliceCount, int instanceCount, int sms, int copyEngines,
                              int decoders, int encoders, int jpeg, int ofa, long memoryMib, List<Integer> starts,
                              int placementSize) {
        /**
         * nvidia-smi's short name, {@code <g>g.<ceil(GiB)>gb} (mig-hardware.md section 1.4, up to
         * rounding), with {@code +me} for the media-extension profiles ({@code
         * NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1} = 7 and {@code _2_SLICE_REV1} = 8 in nvml.h): on an
         * H100 80GB with driver 580, ID 20 is {@code 1g.10gb+me} beside ID 19's {@code 1g.10gb}.
         */
        public String name() {
            return sliceCount + "g." + (long) Math.ceil(memoryMib / 1024.0) + "gb"
                    + (profileEnum == 7 || profileEnum == 8 ? "+me" : "");
        }
    }

    /** One GPU as NVML sees it. */
    public record DeviceInfo(int index, String name, String uuid, Optional<String> pciBusId, long memoryTotalMib,
                             long memoryUsedMib, Optional<Boolean> migCurrent, Optional<Boolean> migPending,
                             Optional<Double> powerW, Optional<Double> energyJ, List<ProfileInfo> profiles,
                             List<String> instances) {
    }

    private final Arena arena;
    private final Map<String, MethodHandle> calls = new LinkedHashMap<>();

    private final Optional<String> missingControl;

    private Nvml(Arena arena, Map<String, MethodHandle> calls, Optional<String> missingControl) {
        this.arena = arena;
        this.calls.putAll(calls);
        this.missingControl = missingControl;
    }

    /** Why MIG instances cannot be created or destroyed through this library, or empty when they can. */
    public Optional<String> migControl() {
        return missingControl;
    }

    /** Loads NVML from {@code library} (a path, or a name the dynamic loader finds) and initialises it. */
    public static Availability load(String library) {
        Arena arena = Arena.ofShared();
        SymbolLookup lookup;
        try {
            lookup = library.contains("/") ? SymbolLookup.libraryLookup(java.nio.file.Path.of(library), arena)
                    : SymbolLookup.libraryLookup(library, arena);
        } catch (IllegalArgumentException | IllegalCallerException e) {
            arena.close();
            return new Availability.Unavailable("cannot load " + library + " (" + e.getMessage() + ")");
        }
        Linker linker = Linker.nativeLinker();
        Map<String, MethodHandle> calls = new LinkedHashMap<>();
        for (String s : SYMBOLS) {
            Optional<MemorySegment> symbol = lookup.find(s);
            if (symbol.isEmpty()) {
                arena.close();
                return new Availability.Unavailable(library + " has no symbol " + s + " (driver too old?)");
            }
            calls.put(s, linker.downcallHandle(symbol.get(), descriptor(s)));
        }
        for (String s : OPTIONAL_SYMBOLS) {
            lookup.find(s).ifPresent(symbol -> calls.put(s, linker.downcallHandle(symbol, descriptor(s))));
        }
        Optional<String> missingControl = Optional.empty();
        for (String s : MIG_CONTROL_SYMBOLS) {
            Optional<MemorySegment> symbol = lookup.find(s);
            if (symbol.isEmpty()) {
                missingControl = Optional.of(library + " has no symbol " + s + " (driver too old for MIG control?)");
                break;
            }
            calls.put(s, linker.downcallHandle(symbol.get(), descriptor(s)));
        }
        Nvml nvml = new Nvml(arena, calls, missingControl);
        int rc = nvml.invokeInt("nvmlInit_v2");
        if (rc != 0) {
            String why = nvml.errorString(rc);
            arena.close();
            return new Availability.Unavailable("nvmlInit_v2: NVML_ERROR_" + NvmlReturn.of(rc).name() + " (" + why + ")");
        }
        return new Availability.Available(nvml);
    }

    private static FunctionDescriptor descriptor(String symbol) {
        ValueLayout i = ValueLayout.JAVA_INT;
        ValueLayout p = ValueLayout.ADDRESS;
        return switch (symbol) {
            case "nvmlInit_v2", "nvmlShutdown" -> FunctionDescriptor.of(i);
            case "nvmlErrorString" -> FunctionDescriptor.of(p, i);
            case "nvmlSystemGetDriverVersion" -> FunctionDescriptor.of(i, p, i);
            case "nvmlDeviceGetCount_v2" -> FunctionDescriptor.of(i, p);
            case "nvmlDeviceGetHandleByIndex_v2" -> FunctionDescriptor.of(i, i, p);
            case "nvmlDeviceGetName", "nvmlDeviceGetUUID" -> FunctionDescriptor.of(i, p, p, i);
            case "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetPowerUsage",
                 "nvmlDeviceGetTotalEnergyConsumption" ->
                    FunctionDescriptor.of(i, p, p);
            case "nvmlDeviceGetMigMode" -> FunctionDescriptor.of(i, p, p, p);
            case "nvmlDeviceGetArchitecture" -> FunctionDescriptor.of(i, p, p);
            case "nvmlDeviceSetMigMode" -> FunctionDescriptor.of(i, p, i, p);
            case "nvmlDeviceGetGpuInstanceProfileInfo" -> FunctionDescriptor.of(i, p, i, p);
            case "nvmlDeviceGetGpuInstancePossiblePlacements_v2", "nvmlDeviceGetGpuInstances",
                 "nvmlGpuInstanceGetComputeInstances" -> FunctionDescriptor.of(i, p, i, p, p);
            case "nvmlDeviceCreateGpuInstanceWithPlacement" -> FunctionDescriptor.of(i, p, i, p, p);
            case "nvmlGpuInstanceGetInfo", "nvmlComputeInstanceGetInfo_v2", "nvmlDeviceGetPciInfo_v3" ->
                    FunctionDescriptor.of(i, p, p);
            case "nvmlGpuInstanceGetComputeInstanceProfileInfo" -> FunctionDescriptor.of(i, p, i, i, p);
            case "nvmlGpuInstanceCreateComputeInstance" -> FunctionDescriptor.of(i, p, i, p);
            case "nvmlComputeInstanceDestroy", "nvmlGpuInstanceDestroy" -> FunctionDescriptor.of(i, p);
            case "nvmlDeviceGetComputeRunningProcesses_v3" -> FunctionDescriptor.of(i, p, p, p);
            default -> throw new IllegalArgumentException(symbol);
        };
    }

    private int invokeInt(String call, Object... args) {
        try {
            return (int) calls.get(call).invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(call + " failed in the binding: " + t, t);
        }
    }

    private String errorString(int rc) {
        try {
            MemorySegment s = (MemorySegment) calls.get("nvmlErrorString").invokeWithArguments(rc);
            return s.equals(MemorySegment.NULL) ? "no message" : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "no message";
        }
    }

    private void check(String call, int rc) {
        if (rc != 0) throw new NvmlException(call, NvmlReturn.of(rc), errorString(rc));
    }

    public String driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(NvmlStructs.DRIVER_VERSION_BUFFER);
            check("nvmlSystemGetDriverVersion", invokeInt("nvmlSystemGetDriverVersion", buf, NvmlStructs.DRIVER_VERSION_BUFFER));
            return buf.getString(0);
        }
    }

    /** Every GPU with what NVML says of it; a query a GPU does not support is left empty. */
    public List<DeviceInfo> devices() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            check("nvmlDeviceGetCount_v2", invokeInt("nvmlDeviceGetCount_v2", count));
            List<DeviceInfo> out = new ArrayList<>();
            for (int i = 0; i < count.get(ValueLayout.JAVA_INT, 0); i++) {
                out.add(device(a, i, handle(a, i)));
            }
            return out;
        }
    }

    private DeviceInfo device(Arena a, int index, MemorySegment dev) {
        MemorySegment name = a.allocate(NvmlStructs.NAME_BUFFER);
        check("nvmlDeviceGetName", invokeInt("nvmlDeviceGetName", dev, name, NvmlStructs.NAME_BUFFER));
        MemorySegment uuid = a.allocate(NvmlStructs.UUID_BUFFER);
        check("nvmlDeviceGetUUID", invokeInt("nvmlDeviceGetUUID", dev, uuid, NvmlStructs.UUID_BUFFER));
        MemorySegment mem = a.allocate(NvmlStructs.MEMORY);
        check("nvmlDeviceGetMemoryInfo", invokeInt("nvmlDeviceGetMemoryInfo", dev, mem));
        long totalBytes = mem.get(ValueLayout.JAVA_LONG, 0);
        long usedBytes = mem.get(ValueLayout.JAVA_LONG, 16);
        if (calls.containsKey("nvmlDeviceGetMemoryInfo_v2")) {
            // v2 (driver 510 on) leaves the driver's reserved memory out of "used", as nvidia-smi does:
            // an idle H100 80GB reads 480 MiB used with v1 and 0 MiB (480 reserved) with v2.
            MemorySegment v2 = a.allocate(NvmlStructs.MEMORY_V2);
            v2.set(ValueLayout.JAVA_INT, 0, NvmlStructs.MEMORY_V2_VERSION);
            if (invokeInt("nvmlDeviceGetMemoryInfo_v2", dev, v2) == 0) {
                totalBytes = v2.get(ValueLayout.JAVA_LONG, 8);
                usedBytes = v2.get(ValueLayout.JAVA_LONG, 32);
            }
        }
        MemorySegment cur = a.allocate(ValueLayout.JAVA_INT);
        MemorySegment pend = a.allocate(ValueLayout.JAVA_INT);
        boolean mig = invokeInt("nvmlDeviceGetMigMode", dev, cur, pend) == 0;
        MemorySegment mw = a.allocate(ValueLayout.JAVA_INT);
        boolean power = invokeInt("nvmlDeviceGetPowerUsage", dev, mw) == 0;
        Optional<Double> energyJ = energy(a, dev);
        List<ProfileInfo> profiles = new ArrayList<>();
        // Profiles and placements are read-only queries that a MIG-capable GPU answers with MIG off too
        // (nvidia-smi mig -lgip lists them): what the GPU could be cut into.
        if (mig) {
            for (int e = 0; e < PROFILE_ENUMS; e++) {
                MemorySegment info = a.allocate(NvmlStructs.GPU_INSTANCE_PROFILE_INFO);
                if (invokeInt("nvmlDeviceGetGpuInstanceProfileInfo", dev, e, info) != 0) continue;
                int id = info.get(ValueLayout.JAVA_INT, 0);
                MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
                List<Integer> starts = new ArrayList<>();
                int size = 0;
                if (invokeInt("nvmlDeviceGetGpuInstancePossiblePlacements_v2", dev, id, MemorySegment.NULL, n) == 0) {
                    int k = n.get(ValueLayout.JAVA_INT, 0);
                    MemorySegment placements = a.allocate(NvmlStructs.GPU_INSTANCE_PLACEMENT, Math.max(1, k));
                    check("nvmlDeviceGetGpuInstancePossiblePlacements_v2",
                            invokeInt("nvmlDeviceGetGpuInstancePossiblePlacements_v2", dev, id, placements, n));
                    for (int j = 0; j < n.get(ValueLayout.JAVA_INT, 0); j++) {
                        starts.add(placements.get(ValueLayout.JAVA_INT, j * 8L));
                        size = placements.get(ValueLayout.JAVA_INT, j * 8L + 4);
                    }
                }
                profiles.add(new ProfileInfo(e, id, info.get(ValueLayout.JAVA_INT, 8), info.get(ValueLayout.JAVA_INT, 12),
                        info.get(ValueLayout.JAVA_INT, 16), info.get(ValueLayout.JAVA_INT, 20),
                        info.get(ValueLayout.JAVA_INT, 24), info.get(ValueLayout.JAVA_INT, 28),
                        info.get(ValueLayout.JAVA_INT, 32), info.get(ValueLayout.JAVA_INT, 36),
                        info.get(ValueLayout.JAVA_LONG, 40), starts, size));
            }
        }
        Optional<String> busId = Optional.empty();
        if (calls.containsKey("nvmlDeviceGetPciInfo_v3")) {
            MemorySegment pci = a.allocate(NvmlStructs.PCI_INFO);
            if (invokeInt("nvmlDeviceGetPciInfo_v3", dev, pci) == 0) {
                busId = Optional.of(pci.getString(NvmlStructs.PCI_INFO.byteOffset(
                        java.lang.foreign.MemoryLayout.PathElement.groupElement("busId"))));
            }
        }
        List<String> instances = new ArrayList<>();
        if (missingControl.isEmpty() && mig && cur.get(ValueLayout.JAVA_INT, 0) == 1) {
            for (ProfileInfo profile : profiles) {
                for (GpuInstance gi : gpuInstances(index, profile.id())) instances.add(profile.name() + "@" + gi.start());
            }
            instances.sort(java.util.Comparator.comparingInt((String n) -> Integer.parseInt(n.substring(n.indexOf('@') + 1))));
        }
        return new DeviceInfo(index, name.getString(0), uuid.getString(0), busId, totalBytes >> 20, usedBytes >> 20,
                mig ? Optional.of(cur.get(ValueLayout.JAVA_INT, 0) == 1) : Optional.empty(),
                mig ? Optional.of(pend.get(ValueLayout.JAVA_INT, 0) == 1) : Optional.empty(),
                power ? Optional.of(mw.get(ValueLayout.JAVA_INT, 0) / 1000.0) : Optional.empty(),
                energyJ, profiles, instances);
    }

    /**
     * A GPU instance on GPU {@code gpu}: its NVML id, profile id and placement (memory slices), with
     * the opaque handle NVML gave for it (valid until it is destroyed or NVML shut down).
     */
    public record GpuInstance(int gpu, int id, int profileId, int start, int size, MemorySegment handle) {
    }

    /** A compute instance and the MIG device it makes, named {@code MIG-<uuid>} for CUDA_VISIBLE_DEVICES. */
    public record ComputeInstance(GpuInstance gpuInstance, int id, String migUuid, MemorySegment handle,
                                  MemorySegment migDevice) {
    }

    private MemorySegment handle(Arena a, int gpu) {
        MemorySegment handleOut = a.allocate(ValueLayout.ADDRESS);
        check("nvmlDeviceGetHandleByIndex_v2", invokeInt("nvmlDeviceGetHandleByIndex_v2", gpu, handleOut));
        return handleOut.get(ValueLayout.ADDRESS, 0);
    }

    private void requireControl() {
        missingControl.ifPresent(why -> {
            throw new IllegalStateException(why);
        });
    }

    /** The GPU instances of one profile that exist on a GPU. */
    public List<GpuInstance> gpuInstances(int gpu, int profileId) {
        requireControl();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dev = handle(a, gpu);
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment out = a.allocate(ValueLayout.ADDRESS, MAX_INSTANCES);
            count.set(ValueLayout.JAVA_INT, 0, MAX_INSTANCES);
            check("nvmlDeviceGetGpuInstances", invokeInt("nvmlDeviceGetGpuInstances", dev, profileId, out, count));
            List<GpuInstance> list = new ArrayList<>();
            for (int k = 0; k < count.get(ValueLayout.JAVA_INT, 0); k++) {
                list.add(gpuInstanceInfo(a, gpu, out.getAtIndex(ValueLayout.ADDRESS, k)));
            }
            return list;
        }
    }

    private GpuInstance gpuInstanceInfo(Arena a, int gpu, MemorySegment gi) {
        MemorySegment info = a.allocate(NvmlStructs.GPU_INSTANCE_INFO);
        check("nvmlGpuInstanceGetInfo", invokeInt("nvmlGpuInstanceGetInfo", gi, info));
        return new GpuInstance(gpu, info.get(ValueLayout.JAVA_INT, 8), info.get(ValueLayout.JAVA_INT, 12),
                info.get(ValueLayout.JAVA_INT, 16), info.get(ValueLayout.JAVA_INT, 20), gi);
    }

    /** Creates a GPU instance of a profile at a placement start ({@code nvidia-smi mig -cgi ID:START}). */
    public GpuInstance createGpuInstance(int gpu, int profileId, int start, int size) {
        requireControl();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment placement = a.allocate(NvmlStructs.GPU_INSTANCE_PLACEMENT);
            placement.set(ValueLayout.JAVA_INT, 0, start);
            placement.set(ValueLayout.JAVA_INT, 4, size);
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check("nvmlDeviceCreateGpuInstanceWithPlacement",
                    invokeInt("nvmlDeviceCreateGpuInstanceWithPlacement", handle(a, gpu), profileId, placement, out));
            return gpuInstanceInfo(a, gpu, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /**
     * Creates the compute instance that spans the whole GPU instance ({@code nvidia-smi mig -cci}
     * with the default profile): the profile of the GI's compute slices, shared engines.
     */
    public ComputeInstance createFullComputeInstance(GpuInstance gi, int computeSlices) {
        requireControl();
        int profile = computeSlices < COMPUTE_PROFILE_BY_SLICES.length ? COMPUTE_PROFILE_BY_SLICES[computeSlices] : -1;
        if (profile < 0) throw new IllegalArgumentException("nvml.h has no compute-instance profile of " + computeSlices + " slices");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(NvmlStructs.COMPUTE_INSTANCE_PROFILE_INFO);
            check("nvmlGpuInstanceGetComputeInstanceProfileInfo", computeProfileInfo(gi, profile, info));
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check("nvmlGpuInstanceCreateComputeInstance", invokeInt("nvmlGpuInstanceCreateComputeInstance", gi.handle(),
                    info.get(ValueLayout.JAVA_INT, 0), out));
            return computeInstanceInfo(a, gi, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** The compute instances inside a GPU instance, of any profile. */
    public List<ComputeInstance> computeInstances(GpuInstance gi) {
        requireControl();
        List<ComputeInstance> list = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            for (int profile : COMPUTE_PROFILE_BY_SLICES) {
                if (profile < 0) continue;
                MemorySegment info = a.allocate(NvmlStructs.COMPUTE_INSTANCE_PROFILE_INFO);
                if (computeProfileInfo(gi, profile, info) != 0) continue;
                MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
                count.set(ValueLayout.JAVA_INT, 0, MAX_INSTANCES);
                MemorySegment out = a.allocate(ValueLayout.ADDRESS, MAX_INSTANCES);
                check("nvmlGpuInstanceGetComputeInstances", invokeInt("nvmlGpuInstanceGetComputeInstances", gi.handle(),
                        info.get(ValueLayout.JAVA_INT, 0), out, count));
                for (int k = 0; k < count.get(ValueLayout.JAVA_INT, 0); k++) {
                    list.add(computeInstanceInfo(a, gi, out.getAtIndex(ValueLayout.ADDRESS, k)));
                }
            }
        }
        return list;
    }

    /** {@code nvmlGpuInstanceGetComputeInstanceProfileInfo} with shared engines into {@code info}; NVML's code. */
    private int computeProfileInfo(GpuInstance gi, int profileEnum, MemorySegment info) {
        return invokeInt("nvmlGpuInstanceGetComputeInstanceProfileInfo", gi.handle(), profileEnum, ENGINE_PROFILE_SHARED, info);
    }

    private ComputeInstance computeInstanceInfo(Arena a, GpuInstance gi, MemorySegment ci) {
        MemorySegment info = a.allocate(NvmlStructs.COMPUTE_INSTANCE_INFO);
        check("nvmlComputeInstanceGetInfo_v2", invokeInt("nvmlComputeInstanceGetInfo_v2", ci, info));
        MemorySegment migDevice = info.get(ValueLayout.ADDRESS, 0);
        MemorySegment uuid = a.allocate(NvmlStructs.UUID_BUFFER);
        check("nvmlDeviceGetUUID", invokeInt("nvmlDeviceGetUUID", migDevice, uuid, NvmlStructs.UUID_BUFFER));
        return new ComputeInstance(gi, info.get(ValueLayout.JAVA_INT, 16), uuid.getString(0), ci, migDevice);
    }

    /** Destroys a compute instance; NVML answers {@code IN_USE} while a process holds it. */
    public void destroy(ComputeInstance ci) {
        requireControl();
        check("nvmlComputeInstanceDestroy", invokeInt("nvmlComputeInstanceDestroy", ci.handle()));
    }

    /** Destroys a GPU instance that has no compute instance left. */
    public void destroy(GpuInstance gi) {
        requireControl();
        check("nvmlGpuInstanceDestroy", invokeInt("nvmlGpuInstanceDestroy", gi.handle()));
    }

    /**
     * Memory the compute processes on a MIG device use, in MiB, and how many there are; a process
     * whose memory NVML cannot read ({@code NVML_VALUE_NOT_AVAILABLE}, e.g. without privileges) counts
     * as zero.
     */
    public ProcessMemory processMemory(ComputeInstance ci) {
        requireControl();
        try (Arena a = Arena.ofConfined()) {
            return processMemoryOn(a, ci.migDevice());
        }
    }

    /** {@code nvmlDeviceGetComputeRunningProcesses_v3} on a device handle, a GPU's or a MIG device's. */
    private ProcessMemory processMemoryOn(Arena a, MemorySegment device) {
        String call = "nvmlDeviceGetComputeRunningProcesses_v3";
        MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
        int capacity = 64;
        MemorySegment infos = a.allocate(NvmlStructs.PROCESS_INFO, capacity);
        count.set(ValueLayout.JAVA_INT, 0, capacity);
        check(call, invokeInt(call, device, count, infos));
        long bytes = 0;
        int n = count.get(ValueLayout.JAVA_INT, 0);
        for (int k = 0; k < n; k++) {
            long used = infos.get(ValueLayout.JAVA_LONG, k * NvmlStructs.PROCESS_INFO.byteSize() + 8);
            if (used != NvmlStructs.VALUE_NOT_AVAILABLE) bytes += used;
        }
        return new ProcessMemory(n, bytes >> 20);
    }

    /**
     * Memory the compute processes on a whole GPU (MIG off) use: {@code
     * nvmlDeviceGetComputeRunningProcesses_v3} on the GPU's own handle.
     */
    public ProcessMemory processMemory(int gpu) {
        requireControl();
        try (Arena a = Arena.ofConfined()) {
            return processMemoryOn(a, handle(a, gpu));
        }
    }

    /**
     * {@code nvmlDeviceGetArchitecture}: {@link #ARCH_AMPERE}, {@link #ARCH_HOPPER}, ..., or
     * {@code 0xffffffff} ("anything else, presumably something newer", nvml.h); empty when the
     * library or GPU does not say.
     */
    public java.util.OptionalInt architecture(int gpu) {
        if (!calls.containsKey("nvmlDeviceGetArchitecture")) return java.util.OptionalInt.empty();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arch = a.allocate(ValueLayout.JAVA_INT);
            return invokeInt("nvmlDeviceGetArchitecture", handle(a, gpu), arch) == 0
                    ? java.util.OptionalInt.of(arch.get(ValueLayout.JAVA_INT, 0)) : java.util.OptionalInt.empty();
        }
    }

    /** nvml.h's {@code NVML_DEVICE_ARCH_AMPERE}. */
    public static final int ARCH_AMPERE = 7;
    /** nvml.h's {@code NVML_DEVICE_ARCH_HOPPER}. */
    public static final int ARCH_HOPPER = 9;
    /** nvml.h's {@code NVML_DEVICE_ARCH_UNKNOWN}: "anything else, presumably something newer". */
    public static final int ARCH_UNKNOWN = 0xffffffff;

    /** Whether this library can change MIG modes ({@code nvmlDeviceSetMigMode} is there). */
    public boolean canSetMigMode() {
        return calls.containsKey("nvmlDeviceSetMigMode");
    }

    /** A GPU's MIG mode now and after the next activation ({@code nvmlDeviceGetMigMode}). */
    public record MigMode(boolean current, boolean pending) {
    }

    public MigMode migMode(int gpu) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cur = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment pend = a.allocate(ValueLayout.JAVA_INT);
            check("nvmlDeviceGetMigMode", invokeInt("nvmlDeviceGetMigMode", handle(a, gpu), cur, pend));
            return new MigMode(cur.get(ValueLayout.JAVA_INT, 0) == 1, pend.get(ValueLayout.JAVA_INT, 0) == 1);
        }
    }

    /**
     * {@code nvmlDeviceSetMigMode} (root only): asks for MIG on or off and returns the activation
     * status NVML reports: {@code SUCCESS} when the mode took effect, else why it is only pending
     * ({@code IN_USE}: the GPU is not idle; {@code RESET_REQUIRED}: a reset or reboot activates it).
     * A refused call (no permission, not supported) is an {@link NvmlException}.
     */
    public NvmlReturn setMigMode(int gpu, boolean enabled) {
        if (!canSetMigMode()) {
            throw new NvmlException("nvmlDeviceSetMigMode", NvmlReturn.FUNCTION_NOT_FOUND, "this library cannot change MIG modes");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment activation = a.allocate(ValueLayout.JAVA_INT);
            check("nvmlDeviceSetMigMode", invokeInt("nvmlDeviceSetMigMode", handle(a, gpu), enabled ? 1 : 0, activation));
            return NvmlReturn.of(activation.get(ValueLayout.JAVA_INT, 0));
        }
    }

    /** What {@link #processMemory} found. */
    public record ProcessMemory(int processes, long usedMib) {
    }

    /** A GPU's board energy since the driver loaded, in joules, if the GPU reports it (Volta+). */
    public Optional<Double> energyJoules(int gpu) {
        try (Arena a = Arena.ofConfined()) {
            return energy(a, handle(a, gpu));
        }
    }

    /** {@code nvmlDeviceGetTotalEnergyConsumption} (millijoules) in joules; empty where unsupported. */
    private Optional<Double> energy(Arena a, MemorySegment dev) {
        MemorySegment mj = a.allocate(ValueLayout.JAVA_LONG);
        return invokeInt("nvmlDeviceGetTotalEnergyConsumption", dev, mj) == 0
                ? Optional.of(mj.get(ValueLayout.JAVA_LONG, 0) / 1000.0) : Optional.empty();
    }

    @Override
    public void close() {
        invokeInt("nvmlShutdown");
        arena.close();
    }
}
