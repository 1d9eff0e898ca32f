package dev.migm.gpu;

import dev.migm.io.InvalidInputException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A MIG-capable GPU model: its MIG geometry (memory and compute slices), its GPU-instance profiles
 * with their legal placements, and the whole-GPU figures used when MIG is disabled.
 *
 * @param name          canonical name, e.g. A100-SXM4-40GB
 * @param aliases       other accepted spellings
 * @param pciDeviceIds  PCI device ids, e.g. 0x20B0
 * @param memorySlices  memory slices (8; 4 on A30)
 * @param computeSlices compute slices (7; 4 on A30)
 * @param sms           SMs of the whole GPU with MIG disabled (models.md {@code SM_full})
 * @param memoryMib     memory of the whole GPU with MIG disabled
 * @param idleWatts     board power at idle (models.md section 3)
 * @param maxWatts      board power cap
 * @param source        where the numbers come from
 * @param profiles      GPU-instance profiles, sorted small to large
 */
public record GpuModel(String name, List<String> aliases, List<String> pciDeviceIds, int memorySlices,
                       int computeSlices, int sms, long memoryMib, double idleWatts, double maxWatts, String source,
                       List<Profile> profiles) {

    public GpuModel {
        aliases = List.copyOf(aliases);
        pciDeviceIds = List.copyOf(pciDeviceIds);
        List<Profile> sorted = new ArrayList<>(profiles);
        sorted.sort(Comparator.naturalOrder());
        profiles = List.copyOf(sorted);
        if (memorySlices < 1 || memorySlices > 62 || computeSlices < 1) {
            throw new IllegalArgumentException(name + ": bad slice counts");
        }
        if (idleWatts < 0 || maxWatts < idleWatts) {
            throw new IllegalArgumentException(name + ": need 0 <= idle-w <= max-w");
        }
        for (Profile p : profiles) {
            if (p.memorySlices() > memorySlices || p.computeSlices() > computeSlices) {
                throw new IllegalArgumentException(name + ": profile " + p + " larger than the GPU");
            }
            for (int s : p.starts()) {
                if (s + p.memorySlices() > memorySlices) {
                    throw new IllegalArgumentException(name + ": profile " + p + " placement " + s + " runs off the GPU");
                }
            }
        }
        long distinct = profiles.stream().map(Profile::name).distinct().count();
        if (distinct != profiles.size()) {
            throw new IllegalArgumentException(name + ": duplicate profile names");
        }
    }

    /**
     * Identity first, then every field: a node's GPUs share one model object, and layouts, states and
     * the policy's plan cache compare and hash models in their hot loops.
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        return o instanceof GpuModel m && memorySlices == m.memorySlices && computeSlices == m.computeSlices
                && sms == m.sms && memoryMib == m.memoryMib && Double.compare(idleWatts, m.idleWatts) == 0
                && Double.compare(maxWatts, m.maxWatts) == 0 && java.util.Objects.equals(name, m.name)
                && aliases.equals(m.aliases) && pciDeviceIds.equals(m.pciDeviceIds)
                && java.util.Objects.equals(source, m.source) && profiles.equals(m.profiles);
    }

    /** From the name and memory alone (equal models have equal ones): no pass over the profiles. */
    @Override
    public int hashCode() {
        return java.util.Objects.hashCode(name) * 31 + Long.hashCode(memoryMib);
    }

    /** The profile with this name (e.g. {@code 3g.20gb}), or an error listing this GPU's profiles. */
    public Profile profile(String text) {
        ProfileName wanted = ProfileName.parse(text);
        return findProfile(wanted).orElseThrow(() -> new InvalidInputException(
                "GPU " + name + " has no profile " + wanted + " (it has " + profileNames() + ")"));
    }

    public Optional<Profile> findProfile(ProfileName wanted) {
        return profiles.stream().filter(p -> p.name().equals(wanted)).findFirst();
    }

    public Optional<Profile> profileById(int id) {
        return profiles.stream().filter(p -> p.id() == id).findFirst();
    }

    /** Profiles without variants ({@code +me} and the like): the ones migm schedules on by default. */
    public List<Profile> plainProfiles() {
        return profiles.stream().filter(p -> !p.name().variant()).toList();
    }

    /**
     * The tightest plain profile that holds {@code needMib}: least memory, ties to fewer compute
     * slices (packs better), then the profiles' own order. What the paper's schemes give a job, and
     * what {@code migm check} says a job would get at first.
     */
    public Optional<Profile> tightestProfile(long needMib) {
        return plainProfiles().stream().filter(p -> p.memoryMib() >= needMib)
                .min(Comparator.comparingLong(Profile::memoryMib).thenComparingInt(Profile::computeSlices)
                        .thenComparing(Comparator.naturalOrder()));
    }

    /**
     * The most memory a plain profile smaller than the largest holds (19968 MiB on an A100-40GB, its
     * 3g.20gb and 4g.20gb): a job above it needs the largest instance or the whole GPU.
     */
    public long secondLargestMemoryMib() {
        long largest = largestProfile().memoryMib();
        long second = 0;
        for (Profile p : plainProfiles()) if (p.memoryMib() < largest) second = Math.max(second, p.memoryMib());
        return second;
    }

    /** The largest profile (the whole GPU in MIG mode, e.g. 7g.40gb). */
    public Profile largestProfile() {
        return profiles.stream().max(Comparator.comparingLong(Profile::memoryMib)
                .thenComparingInt(Profile::computeSlices)).orElseThrow();
    }

    public String profileNames() {
        return String.join(", ", profiles.stream().map(Profile::toString).toList());
    }

    @Override
    public String toString() {
        return name;
    }
}
