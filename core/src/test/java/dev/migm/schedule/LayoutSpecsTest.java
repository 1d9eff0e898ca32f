package dev.migm.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import org.junit.jupiter.api.Test;

final class LayoutSpecsTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");

    @Test
    void names_resolveToLegalLayouts() {
        assertThat(LayoutSpecs.resolve(a100, "7x1g").instances()).hasSize(7)
                .allMatch(i -> i.profile().toString().equals("1g.5gb"));
        // balanced: 2 x 1g.5gb + 2g.10gb + 3g.20gb (gpu-operator all-balanced for A100-40GB)
        assertThat(LayoutSpecs.resolve(a100, "balanced").instances()).extracting(i -> i.profile().toString())
                .containsExactlyInAnyOrder("1g.5gb", "1g.5gb", "2g.10gb", "3g.20gb");
        assertThat(LayoutSpecs.resolve(Catalog.builtin().get("A30"), "balanced").toString())
                .contains("2g.12gb").contains("1g.6gb");
        assertThat(LayoutSpecs.resolve(a100, "2x3g").toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
        assertThat(LayoutSpecs.resolve(a100, "full").toString()).isEqualTo("7g.40gb@0");
    }

    @Test
    void placements_acceptCommaOrPlusBeforeADigit_andKeepPlusMe() {
        assertThat(LayoutSpecs.resolve(a100, "3g.20gb@0,3g.20gb@4").toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
        assertThat(LayoutSpecs.resolve(a100, "3g.20gb@0+3g.20gb@4").toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
        assertThat(LayoutSpecs.resolve(a100, "1g.5gb+me@0+3g.20gb@4").toString()).isEqualTo("1g.5gb+me@0,3g.20gb@4");
    }

    @Test
    void badSpecs_sayWhatIsExpected() {
        assertThatThrownBy(() -> LayoutSpecs.resolve(a100, "lots")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("expected balanced, full, counts like 7x1g");
        assertThatThrownBy(() -> LayoutSpecs.resolve(a100, "3x3g")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("no legal layout");
        assertThatThrownBy(() -> PolicyRegistry.create("fifo", java.util.List.of(a100)))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("unknown policy 'fifo'");
    }
}
