package dev.migm.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import org.junit.jupiter.api.Test;

/** Which placements leave their GPU no free compute slice (A100-40GB: 7 compute slices). */
final class TakesLastComputeTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @Test
    void aPlacementTakesTheLastComputeSlices_whenItLeavesNoneFree() {
        // Three 2g.10gb busy (6 compute slices): a 1g there leaves none free; with two busy it does not.
        assertThat(MigmPolicy.takesLastCompute(6, A100.profile("1g.10gb"), A100)).isTrue();
        assertThat(MigmPolicy.takesLastCompute(6, A100.profile("1g.5gb"), A100)).isTrue();
        assertThat(MigmPolicy.takesLastCompute(4, A100.profile("1g.10gb"), A100)).isFalse();
        // A 3g.20gb next to a busy 4g.20gb, and the 7g.40gb on an idle GPU, take every compute slice.
        assertThat(MigmPolicy.takesLastCompute(4, A100.profile("3g.20gb"), A100)).isTrue();
        assertThat(MigmPolicy.takesLastCompute(0, A100.profile("7g.40gb"), A100)).isTrue();
        assertThat(MigmPolicy.takesLastCompute(0, A100.profile("4g.20gb"), A100)).isFalse();
    }
}
