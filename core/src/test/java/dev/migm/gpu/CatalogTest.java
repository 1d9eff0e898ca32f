package dev.migm.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class CatalogTest {
    private final Catalog catalog = Catalog.builtin();

    @Test
    void builtin_holdsTheModelsOfTheBriefAndTheNewerOnes_withH100VariantsApart() {
        assertThat(catalog.models()).extracting(GpuModel::name).containsExactly("A100-SXM4-40GB", "A100-SXM4-80GB",
                "A30-24GB", "H100-SXM5-80GB", "H100-PCIE-80GB", "H100-NVL-94GB", "H200-141GB", "GH200-96GB",
                "GH200-144GB", "B200-180GB", "GB200-186GB");
        // SXM and PCIe H100 differ in SM counts (mig-hardware.md 1.2): 132 vs 114 for 7g.80gb.
        assertThat(catalog.get("H100-80GB").profile("7g.80gb").sms()).isEqualTo(132);
        assertThat(catalog.get("H100-PCIe").profile("7g.80gb").sms()).isEqualTo(114);
        assertThat(catalog.models()).allSatisfy(m -> assertThat(m.source()).isNotBlank());
    }

    @ParameterizedTest
    @ValueSource(strings = {"A100-40GB", "a100-sxm4-40gb", "NVIDIA A100-SXM4-40GB", "A100 40GB", "nvidia_a100-sxm4-40gb"})
    void get_acceptsTheUsualSpellings(String spelling) {
        assertThat(catalog.get(spelling).name()).isEqualTo("A100-SXM4-40GB");
    }

    @Test
    void get_unknownGpuNamesItAndTheKnownOnes() {
        assertThatThrownBy(() -> catalog.get("V100")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("unknown GPU 'V100'").hasMessageContaining("A100-SXM4-40GB");
    }

    @Test
    void a100_40gb_profilesFollowTheUserGuideTable() {
        GpuModel a100 = catalog.get("A100-40GB");
        Profile threeG = a100.profile("3g.20gb");
        assertThat(threeG.id()).isEqualTo(9);
        assertThat(threeG.nvmlEnum()).isEqualTo(2);
        assertThat(threeG.memorySlices()).isEqualTo(4);
        assertThat(threeG.computeSlices()).isEqualTo(3);
        assertThat(threeG.memoryMib()).isEqualTo(19968);
        assertThat(threeG.starts()).containsExactly(0, 4);
        assertThat(a100.profile("1g.10gb").starts()).containsExactly(0, 2, 4, 6);
        assertThat(a100.profile("1g.5gb+me").mediaExtension()).isTrue();
        assertThat(a100.memorySlices()).isEqualTo(8);
        assertThat(a100.computeSlices()).isEqualTo(7);
    }

    @Test
    void a30_hasFourByFourGeometry() {
        GpuModel a30 = catalog.get("A30");
        assertThat(a30.memorySlices()).isEqualTo(4);
        assertThat(a30.computeSlices()).isEqualTo(4);
        assertThat(a30.profile("2g.12gb").starts()).containsExactly(0, 2);
    }

    @Test
    void read_rejectsUnknownVersionAndUnknownFields() {
        String v2 = "version: v2\ngpus: []\n";
        assertThatThrownBy(() -> Catalog.read(new ByteArrayInputStream(v2.getBytes(StandardCharsets.UTF_8)), "x.yaml"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("x.yaml")
                .hasMessageContaining("unsupported catalog version 'v2'");
        String extra = "version: v1\ncolour: red\ngpus: []\n";
        assertThatThrownBy(() -> Catalog.read(new ByteArrayInputStream(extra.getBytes(StandardCharsets.UTF_8)), "y.yaml"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("y.yaml").hasMessageContaining("colour");
    }
}
