package dev.migm.partition;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import org.junit.jupiter.api.Test;

/**
 * Free compute slices that no instance could use, on the catalog's placements (A100-40GB: memory
 * slices 0-7, 7 compute slices; 1g.5gb starts 0-6, 1g.10gb and 2g.10gb even starts up to 6 and 4,
 * 3g.20gb at 0 and 4, 4g.20gb and 7g.40gb at 0).
 */
final class UsableComputeTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @Test
    void anEmptyA100_usesEverySlice() {
        assertThat(UsableCompute.of(A100).most(0xFF, 7)).isEqualTo(7);
        assertThat(UsableCompute.of(A100).stranded(0xFF, 7)).isZero();
    }

    @Test
    void aThreeGAtSliceZero_strandsTheFourthComputeSlice() {
        // Memory 4-7 free with 4 compute slices: a 3g.20gb@4 (3), or 2g.10gb@4 + 1g.10gb@6 (3), or
        // 1g.5gb at 4, 5 and 6 (3; none starts at 7): one compute slice is left over.
        assertThat(UsableCompute.of(A100).most(0xF0, 4)).isEqualTo(3);
        assertThat(UsableCompute.of(A100).stranded(0xF0, 4)).isEqualTo(1);
        // At slice 4 instead, memory 0-3 and 4 compute slices hold a 4g.20gb@0: nothing is stranded.
        assertThat(UsableCompute.of(A100).stranded(0x0F, 4)).isZero();
    }

    @Test
    void memoryAloneOrComputeAlone_isNotEnough() {
        // Memory slice 7 alone: no instance starts there.
        assertThat(UsableCompute.of(A100).stranded(0x80, 1)).isEqualTo(1);
        // Memory 6-7 with one compute slice: a 1g.10gb@6.
        assertThat(UsableCompute.of(A100).stranded(0xC0, 1)).isZero();
        // Free memory but no compute: nothing to strand.
        assertThat(UsableCompute.of(A100).most(0xFF, 0)).isZero();
        assertThat(UsableCompute.of(A100).stranded(0, 3)).isEqualTo(3);
    }
}
