package dev.migm.gpu.smi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every fixture in ../shared/data/nvidia-smi (copied to test resources) parses and matches the catalog. */
final class SmiParserTest {
    private final Catalog catalog = Catalog.builtin();

    static String fixture(String name) {
        try (InputStream in = SmiParserTest.class.getResourceAsStream("/nvidia-smi/" + name)) {
            if (in == null) throw new IllegalStateException("missing fixture " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @CsvSource({"a100-sxm4-40gb_lgip_1.txt, A100-40GB, 7", "a30_lgip_1.txt, A30, 4", "h100-nvl_lgip_1.txt, H100-NVL, 7"})
    void lgip_everyRowMatchesTheCatalog(String file, String gpuName, int rows) {
        List<SmiParser.ProfileRow> parsed = SmiParser.parseLgip(fixture(file), file);
        GpuModel gpu = catalog.get(gpuName);
        assertThat(parsed).hasSize(rows);
        for (SmiParser.ProfileRow row : parsed) {
            Profile p = gpu.findProfile(row.name()).orElseThrow(() -> new AssertionError("no " + row.name()));
            assertThat(row.id()).as(row.name() + " id").isEqualTo(p.id());
            assertThat(row.sms()).as(row.name() + " SMs").isEqualTo(p.sms());
            assertThat(row.total()).as(row.name() + " max").isEqualTo(p.maxCount());
            assertThat(row.copyEngines()).as(row.name() + " CE").isEqualTo(p.engines().copy());
            assertThat(row.decoders()).as(row.name() + " DEC").isEqualTo(p.engines().decoders());
            assertThat(row.jpeg()).as(row.name() + " JPEG").isEqualTo(p.engines().jpeg());
            assertThat(row.ofa()).as(row.name() + " OFA").isEqualTo(p.engines().ofa());
            assertThat(Math.abs(row.memoryGib() - p.memoryMib() / 1024.0)).as(row.name() + " GiB")
                    .isLessThanOrEqualTo(SmiImport.GIB_TOLERANCE);
        }
        assertThat(SmiImport.matches(parsed, gpu)).isTrue();
    }

    @Test
    void lgip_a30FreeCountsReflectCreatedInstances() {
        // The A30 transcript was taken with 4x1g.6gb created: Free/Total prints 0/4.
        SmiParser.ProfileRow first = SmiParser.parseLgip(fixture("a30_lgip_1.txt"), "a30").getFirst();
        assertThat(first.free()).isZero();
        assertThat(first.total()).isEqualTo(4);
    }

    @ParameterizedTest
    @CsvSource({"a100-sxm4-40gb_lgipp_1.txt, A100-40GB, 5", "a30_lgipp_1.txt, A30, 4", "h100-nvl_lgipp_1.txt, H100-NVL, 7"})
    void lgipp_placementsMatchTheCatalog(String file, String gpuName, int rows) {
        List<SmiParser.PlacementRow> parsed = SmiParser.parseLgipp(fixture(file), file);
        GpuModel gpu = catalog.get(gpuName);
        assertThat(parsed).hasSize(rows);
        for (SmiParser.PlacementRow row : parsed) {
            Profile p = gpu.profileById(row.profileId()).orElseThrow();
            assertThat(row.starts()).as("profile " + row.profileId()).isEqualTo(p.starts());
            assertThat(row.size()).as("profile " + row.profileId()).isEqualTo(p.memorySlices());
        }
    }

    @Test
    void lgi_givesTheLayoutOnTheCatalogModel() {
        GpuModel a100 = catalog.get("A100-40GB");
        Layout l = SmiImport.layout(SmiParser.parseLgi(fixture("a100-sxm4-40gb_lgi_1.txt"), "lgi"), 0, a100, "lgi");
        assertThat(l.toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
        GpuModel a30 = catalog.get("A30");
        Layout a30l = SmiImport.layout(SmiParser.parseLgi(fixture("a30_lgi_1.txt"), "lgi"), 0, a30, "lgi");
        assertThat(a30l.toString()).isEqualTo("1g.6gb@0,1g.6gb@1,1g.6gb@2,1g.6gb@3");
    }

    @Test
    void import_identifiesCatalogGpusFromLgipAndLgipp() {
        List<SmiImport.ImportedGpu> gpus = SmiImport.models(
                SmiParser.parseLgip(fixture("h100-nvl_lgip_1.txt"), "lgip"),
                SmiParser.parseLgipp(fixture("h100-nvl_lgipp_1.txt"), "lgipp"), catalog, null);
        assertThat(gpus).hasSize(1);
        assertThat(gpus.getFirst().catalogMatch()).map(GpuModel::name).contains("H100-NVL-94GB");
        assertThat(gpus.getFirst().model().memorySlices()).isEqualTo(8);
    }

    @Test
    void import_ofAnUnknownGpuBuildsAUsableModel() {
        // A GPU with H100-like geometry but profiles the catalog lacks: its 1g profiles have 20 SMs
        // (no catalog GPU has), so no drift explains it.
        String lgip = fixture("h100-nvl_lgip_1.txt").replace("10.75", "11.00").replace("MIG 1g.12gb  ", "MIG 1g.11gb  ")
                .replace("11.00      No     16", "11.00      No     20");
        List<SmiImport.ImportedGpu> gpus = SmiImport.models(SmiParser.parseLgip(lgip, "lgip"), List.of(), catalog, "H999");
        GpuModel model = gpus.getFirst().model();
        assertThat(gpus.getFirst().catalogMatch()).isEmpty();
        assertThat(model.name()).isEqualTo("H999");
        assertThat(model.profile("1g.11gb").memoryMib()).isEqualTo(11264);
        // placements were borrowed from the catalog profile with the same id and slices
        assertThat(model.profile("3g.47gb").starts()).containsExactly(0, 4);
        assertThat(dev.migm.gpu.Layouts.maximal(model, false)).hasSize(78);
    }

    @Test
    void twoGpusInOneOutputBecomeTwoModels() {
        String one = fixture("a30_lgip_1.txt");
        String both = one + one.replace("|   0  MIG", "|   1  MIG");
        assertThat(SmiImport.models(SmiParser.parseLgip(both, "x"), List.of(), catalog, null)).hasSize(2);
    }

    @Test
    void badText_namesTheFileAndLine() {
        String broken = fixture("a30_lgip_1.txt").replace("|   0  MIG 2g.12gb        5     0/2        11.69",
                "|   0  MIG 2g.12gb        5     0/2        lots!");
        assertThatThrownBy(() -> SmiParser.parseLgip(broken, "a30.txt")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("a30.txt:12:").hasMessageContaining("GiB");
        assertThatThrownBy(() -> SmiParser.parseLgipp("GPU  0 Profile ID 19 Placements: {0,1}:1\nhello\n", "p.txt"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("p.txt:2:");
        assertThatThrownBy(() -> SmiParser.parseLgip("", "empty.txt")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("empty.txt");
    }
}
