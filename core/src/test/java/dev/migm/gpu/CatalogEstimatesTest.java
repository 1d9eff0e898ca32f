package dev.migm.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The rules by which the catalog estimates what NVIDIA has not published (the larger profiles of
 * B200, GB200 and GH200 144GB; catalog-v1.yaml's header), checked on every GPU whose table is
 * real, and the estimated entries held to exactly what the rules give.
 */
final class CatalogEstimatesTest {
    private static final Set<String> ESTIMATED = Set.of("B200-180GB", "GB200-186GB", "GH200-144GB");

    private final Catalog catalog = Catalog.builtin();

    private List<GpuModel> referenceGpus() {
        return catalog.models().stream().filter(m -> m.memorySlices() == 8 && !ESTIMATED.contains(m.name())).toList();
    }

    private static Profile twoG(GpuModel m) {
        return m.plainProfiles().stream().filter(p -> p.computeSlices() == 2 && p.memorySlices() == 2).findFirst()
                .orElseThrow();
    }

    /** Memory of a profile of {@code k} memory slices: {@code k/2} times the 2-slice profile's. */
    private static long memoryEstimate(GpuModel m, Profile p) {
        return twoG(m).memoryMib() * p.memorySlices() / 2;
    }

    /** SMs of a profile of {@code k} compute slices: {@code k} times half the 2g profile's. */
    private static int smEstimate(GpuModel m, Profile p) {
        return twoG(m).sms() * p.computeSlices() / 2;
    }

    private static List<Profile> estimatedSizes(GpuModel m) {
        return m.plainProfiles().stream().filter(p -> p.memorySlices() >= 4).toList();
    }

    @Test
    void theEstimatedGpus_sayIn_theirSource_thatTheyAre_andNoOtherDoes() {
        assertThat(catalog.models()).allSatisfy(m -> assertThat(m.source().contains("ESTIMATE"))
                .as(m.name()).isEqualTo(ESTIMATED.contains(m.name())));
        assertThat(referenceGpus()).hasSize(7);
    }

    @Test
    void theMemoryRule_neverOverstates_andMissesByUnder8Percent_onEveryRealTable() {
        // Seven real 8-slice tables; the rule is 0.6% (A100-80GB, H100) to 7.9% (H200 7g.141gb) under.
        for (GpuModel m : referenceGpus()) {
            for (Profile p : estimatedSizes(m)) {
                long estimate = memoryEstimate(m, p);
                assertThat(estimate).as(m.name() + " " + p.name()).isLessThanOrEqualTo(p.memoryMib())
                        .isGreaterThanOrEqualTo(Math.round(p.memoryMib() * 0.92));
            }
        }
    }

    @Test
    void theSmRule_neverOverstates_andMissesByAtMost20Percent_onEveryRealTable() {
        // Exact on A100 (14 SMs per compute slice); Hopper's 3g has 60 SMs, not 3 x 16 = 48.
        for (GpuModel m : referenceGpus()) {
            for (Profile p : estimatedSizes(m)) {
                int estimate = smEstimate(m, p);
                assertThat(estimate).as(m.name() + " " + p.name()).isLessThanOrEqualTo(p.sms())
                        .isGreaterThanOrEqualTo((int) Math.floor(p.sms() * 0.80));
            }
        }
    }

    @Test
    void theEstimatedEntries_holdExactlyWhatTheRulesGive() {
        for (String name : ESTIMATED) {
            GpuModel m = catalog.get(name);
            for (Profile p : estimatedSizes(m)) {
                assertThat(p.memoryMib()).as(name + " " + p.name()).isEqualTo(memoryEstimate(m, p));
                assertThat(p.memoryMib()).as(name + " " + p.name()).isLessThanOrEqualTo(m.memoryMib());
            }
        }
        for (String blackwell : List.of("B200-180GB", "GB200-186GB")) {
            GpuModel m = catalog.get(blackwell);
            for (Profile p : estimatedSizes(m)) {
                assertThat(p.sms()).as(blackwell + " " + p.name()).isEqualTo(smEstimate(m, p));
            }
        }
        // GH200 144GB is the GH100 chip of GH200 96GB, whose real table gives its SMs per profile.
        GpuModel gh200 = catalog.get("GH200-96GB");
        for (Profile p : estimatedSizes(catalog.get("GH200-144GB"))) {
            assertThat(p.sms()).as(p.name().toString()).isEqualTo(gh200.plainProfiles().stream()
                    .filter(q -> q.computeSlices() == p.computeSlices()).findFirst().orElseThrow().sms());
        }
    }

    /**
     * NVIDIA's name of a profile from its memory and the GPU's (go-nvlib {@code getMigMemorySizeGB},
     * mig-hardware.md section 1.4): the memory fraction rounded up to eighths, times the GPU's memory
     * in whole GB rounded up, rounded to the nearest GB.
     */
    static int nvidiaNameGb(long profileMib, long gpuMib) {
        double eighths = Math.ceil(profileMib * 8.0 / gpuMib - 1e-9);
        long gpuGb = (gpuMib + 1023) / 1024;
        return (int) Math.round(eighths / 8 * gpuGb);
    }

    @Test
    void everyProfilesName_isWhatNvidiasNamingRuleGivesForItsMemory_estimatesIncluded() {
        for (GpuModel m : catalog.models()) {
            for (Profile p : m.profiles()) {
                assertThat(nvidiaNameGb(p.memoryMib(), m.memoryMib())).as(m.name() + " " + p.name())
                        .isEqualTo(p.name().memoryGb());
            }
        }
    }

    @Test
    void theNamingRule_catchesAWrongEstimate() {
        // Had the rule sized B200's 3g by its 3 compute slices (3/2 x 45312 = 67968 MiB, 37% of the GPU,
        // rounded up to 3/8 of 180 GB) NVIDIA would name it 3g.68gb, not 3g.90gb: the check can fail.
        assertThat(nvidiaNameGb(3 * 45312 / 2, 183359)).isEqualTo(68);
        assertThat(nvidiaNameGb(90624, 183359)).isEqualTo(90);
    }
}
