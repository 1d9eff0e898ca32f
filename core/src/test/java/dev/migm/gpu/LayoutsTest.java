package dev.migm.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class LayoutsTest {
    private final Catalog catalog = Catalog.builtin();

    /**
     * Independent oracle: every subset of all (profile, start) candidates, kept when legal by the
     * rules checked here directly (no shared memory slice, compute sum, per-profile counts). A100
     * has 7+4+3+2+1+1 = 18 plain candidates, so 2^18 subsets.
     */
    static Set<Set<String>> bruteForce(GpuModel gpu, boolean maximalOnly) {
        List<Profile> profiles = gpu.plainProfiles();
        List<Profile> candProfile = new ArrayList<>();
        List<Integer> candStart = new ArrayList<>();
        for (Profile p : profiles) {
            for (int s : p.starts()) {
                candProfile.add(p);
                candStart.add(s);
            }
        }
        int n = candProfile.size();
        List<Long> legal = new ArrayList<>();
        for (long subset = 0; subset < (1L << n); subset++) {
            if (legalSubset(gpu, candProfile, candStart, subset)) {
                legal.add(subset);
            }
        }
        Set<Set<String>> out = new HashSet<>();
        for (long subset : legal) {
            boolean maximal = true;
            for (int k = 0; k < n && maximal; k++) {
                if ((subset & (1L << k)) == 0 && legalSubset(gpu, candProfile, candStart, subset | (1L << k))) {
                    maximal = false;
                }
            }
            if (!maximalOnly || maximal) {
                Set<String> names = new HashSet<>();
                for (int k = 0; k < n; k++) {
                    if ((subset & (1L << k)) != 0) names.add(candProfile.get(k) + "@" + candStart.get(k));
                }
                out.add(names);
            }
        }
        return out;
    }

    private static boolean legalSubset(GpuModel gpu, List<Profile> prof, List<Integer> start, long subset) {
        boolean[] slice = new boolean[gpu.memorySlices()];
        int compute = 0;
        java.util.Map<Profile, Integer> counts = new java.util.HashMap<>();
        for (int k = 0; k < prof.size(); k++) {
            if ((subset & (1L << k)) == 0) continue;
            Profile p = prof.get(k);
            for (int s = start.get(k); s < start.get(k) + p.memorySlices(); s++) {
                if (slice[s]) return false;
                slice[s] = true;
            }
            compute += p.computeSlices();
            if (counts.merge(p, 1, Integer::sum) > p.maxCount()) return false;
        }
        return compute <= gpu.computeSlices();
    }

    static Set<Set<String>> names(List<Layout> layouts) {
        Set<Set<String>> out = new HashSet<>();
        for (Layout l : layouts) {
            Set<String> s = new HashSet<>();
            l.instances().forEach(i -> s.add(i.toString()));
            out.add(s);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"A100-40GB", "H100-80GB", "A30"})
    void maximal_equalsBruteForceOverAllSubsetsOfPlacements(String gpuName) {
        GpuModel gpu = catalog.get(gpuName);
        List<Layout> maximal = Layouts.maximal(gpu, false);
        assertThat(names(maximal)).isEqualTo(bruteForce(gpu, true));
        assertThat(maximal).doesNotHaveDuplicates();
    }

    @ParameterizedTest
    @ValueSource(strings = {"A100-40GB", "A30"})
    void all_equalsBruteForceOverAllSubsetsOfPlacements(String gpuName) {
        GpuModel gpu = catalog.get(gpuName);
        assertThat(names(Layouts.all(gpu, false))).isEqualTo(bruteForce(gpu, false));
    }

    @Test
    void a30_hasExactlyFiveMaximalLayouts() {
        // A30, 4 memory and 4 compute slices, plain profiles 1g.6gb {0,1,2,3}, 2g.12gb {0,2} (max 2),
        // 4g.24gb {0}. Maximal: each half (slices 0-1, 2-3) is either 2g or 1g+1g -> 2x2 = 4, plus 4g = 5.
        assertThat(Layouts.maximal(catalog.get("A30"), false)).hasSize(5);
    }

    @Test
    void layout_rejectsOverlapComputeAndCountViolationsNamingThem() {
        GpuModel a100 = catalog.get("A100-40GB");
        assertThatThrownBy(() -> Layout.parse(a100, "3g.20gb@0,2g.10gb@2")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("overlaps");
        assertThatThrownBy(() -> Layout.parse(a100, "3g.20gb@2")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("cannot start at memory slice 2");
        // 4g@0 (4 compute slices) + 3g@4 (3) = 7, the A100 maximum: legal although 8 memory slices are used.
        assertThat(Layout.parse(a100, "4g.20gb@0,3g.20gb@4").usedComputeSlices()).isEqualTo(7);
        assertThatThrownBy(() -> Layout.parse(a100, "1g.5gb+me@0,1g.5gb+me@1")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("at most 1");
    }

    @Test
    void placeCounts_findsALegalPlacementKeepingTheLargestFreeRun() {
        GpuModel a100 = catalog.get("A100-40GB");
        Profile oneG = a100.profile("1g.5gb");
        // Two 1g.5gb: placing them at 0 and 1 leaves slices 2-7 free (run of 6), the best possible.
        Layout l = Layouts.placeCounts(a100, java.util.Map.of(oneG, 2)).orElseThrow();
        assertThat(l.toString()).isEqualTo("1g.5gb@0,1g.5gb@1");
        assertThat(l.largestFreeRun()).isEqualTo(6);
        assertThat(Layouts.placeCounts(a100, java.util.Map.of(a100.profile("3g.20gb"), 3))).isEmpty();
    }
}
