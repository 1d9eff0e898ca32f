package dev.migm.gpu;

import java.util.List;

/**
 * A GPU-instance profile of one GPU model, with the numbers {@code nvidia-smi mig -lgip} and
 * {@code -lgipp} report (NVML {@code nvmlGpuInstanceProfileInfo_t} and
 * {@code nvmlDeviceGetGpuInstancePossiblePlacements_v2}).
 *
 * @param name          the short name, e.g. 3g.20gb
 * @param id            the nvidia-smi / NVML profile id ({@code info.id}; not the NVML enum)
 * @param nvmlEnum      the {@code NVML_GPU_INSTANCE_PROFILE_*} value, or -1 when unknown (imported)
 * @param computeSlices compute (SM) slices the instance takes
 * @param memorySlices  memory slices the instance takes (its placement size)
 * @param memoryMib     the profile's memory in MiB
 * @param sms           streaming multiprocessors
 * @param maxCount      most instances of this profile at once ({@code instanceCount})
 * @param starts        legal placement starts on the memory-slice axis, ascending
 */
public record Profile(ProfileName name, int id, int nvmlEnum, int computeSlices, int memorySlices, long memoryMib,
                      int sms, Engines engines, int maxCount, List<Integer> starts) implements Comparable<Profile> {

    /** Engines of an instance: copy, decoder, encoder, JPEG and optical-flow engines. */
    public record Engines(int copy, int decoders, int encoders, int jpeg, int ofa) {
    }

    public Profile {
        starts = List.copyOf(starts);
        if (computeSlices <= 0 || memorySlices <= 0 || memoryMib <= 0 || sms <= 0 || maxCount <= 0) {
            throw new IllegalArgumentException("profile " + name + ": slices, memory, SMs and max count must be positive");
        }
        if (starts.isEmpty()) {
            throw new IllegalArgumentException("profile " + name + ": no placements");
        }
        for (int i = 1; i < starts.size(); i++) {
            if (starts.get(i) <= starts.get(i - 1)) {
                throw new IllegalArgumentException("profile " + name + ": placement starts must ascend: " + starts);
            }
        }
    }

    /** Whether an instance of this profile may start at memory slice {@code start}. */
    public boolean allowsStart(int start) {
        return starts.contains(start);
    }

    /** Whether this is a media-extension ({@code +me}) variant. */
    public boolean mediaExtension() {
        return name.mediaExtension();
    }

    /** Sort order: fewer memory slices, then fewer compute slices, then less memory, then name. */
    @Override
    public int compareTo(Profile o) {
        int c = Integer.compare(memorySlices, o.memorySlices);
        if (c != 0) return c;
        c = Integer.compare(computeSlices, o.computeSlices);
        if (c != 0) return c;
        c = Long.compare(memoryMib, o.memoryMib);
        return c != 0 ? c : name.compareTo(o.name);
    }

    /** Identity fast path first: profiles are shared objects of their model, compared in hot loops. */
    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        return o instanceof Profile p && id == p.id && nvmlEnum == p.nvmlEnum && computeSlices == p.computeSlices
                && memorySlices == p.memorySlices && memoryMib == p.memoryMib && sms == p.sms && maxCount == p.maxCount
                && name.equals(p.name) && engines.equals(p.engines) && starts.equals(p.starts);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + id) * 31 + Long.hashCode(memoryMib);
    }

    @Override
    public String toString() {
        return name.toString();
    }
}
