package dev.migm.gpu.smi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layouts;
import dev.migm.gpu.Profile;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real {@code -lgip} tables of current GPUs (B200, GB200, GH200, H200, as far as their public
 * quotations go) and tables whose sizes drift between drivers: each imports into a usable model,
 * and a catalog GPU is recognised across drift, with what differs said.
 */
final class SmiImportDriftTest {
    private final Catalog catalog = Catalog.builtin();

    static String fixture(String name) {
        try (InputStream in = SmiImportDriftTest.class.getResourceAsStream("/nvidia-smi/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every {@code -lgip} fixture in the directory: a table added there is covered without a list to edit. */
    static List<String> lgipFixtures() throws IOException {
        try (var files = Files.list(Path.of("src/test/resources/nvidia-smi"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.contains("_lgip_")).sorted().toList();
        }
    }

    @Test
    void theFixtureListing_findsTheTables() throws IOException {
        assertThat(lgipFixtures()).hasSizeGreaterThanOrEqualTo(16).contains("gh200-96gb_lgip_kfcuanschutz.txt");
    }

    @ParameterizedTest
    @MethodSource("lgipFixtures")
    void everyRealTable_importsIntoAModelThePlannerCanUse(String file) {
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(fixture(file), file);
        for (SmiImport.ImportedGpu g : SmiImport.models(rows, List.of(), catalog, null)) {
            GpuModel m = g.model();
            assertThat(m.profiles()).hasSameSizeAs(rows.stream().filter(r -> r.gpu() == g.index()).toList());
            assertThat(m.computeSlices()).as(file).isIn(4, 7);
            assertThat(m.memorySlices()).as(file).isIn(4, 8);
            assertThat(m.memoryMib()).isGreaterThanOrEqualTo(m.largestProfile().memoryMib());
            assertThat(Layouts.maximal(m, false)).isNotEmpty();
            for (Profile p : m.plainProfiles()) {
                assertThat(Planner.planFor(GpuState.idle(dev.migm.gpu.Layout.empty(m)), p))
                        .as(file + " " + p).isInstanceOf(Plan.Possible.class);
            }
        }
    }

    @Test
    void aPartialTableOfAGpuTheCatalogLacks_estimatesTheWholeGpu_andSaysSo() {
        // B200 (mig-parted PR #166) against a catalog without the B200: 4 of its 7 profiles. 1g
        // profiles fit 7 times: 7 compute slices; 2-slice placements {0,2,4} and {0,2,4,6} borrowed
        // from the shared table: 8 memory slices. Whole GPU scaled from the largest instance listed,
        // 2g.45gb: 44.25 GiB x 8/2 = 177 GiB (181248 MiB), 36 SM x 7/2 = 126 SMs.
        Catalog withoutB200 = Catalog.of(catalog.models().stream().filter(m -> !m.name().startsWith("B200")).toList());
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(fixture("b200_lgip_pr166.txt"), "b200");
        SmiImport.ImportedGpu g = SmiImport.models(rows, List.of(), withoutB200, "B200").getFirst();
        assertThat(g.catalogMatch()).isEmpty();
        assertThat(g.model().name()).isEqualTo("B200");
        assertThat(g.model().computeSlices()).isEqualTo(7);
        assertThat(g.model().memorySlices()).isEqualTo(8);
        assertThat(g.model().memoryMib()).isEqualTo(181248);
        assertThat(g.model().sms()).isEqualTo(126);
        assertThat(g.model().source()).contains("scaled up from 2g.45gb (estimate)");
    }

    @Test
    void aCatalogGpuWhoseDriverReportsOtherSizes_isStillRecognised_withTheDifferencesSaid() {
        // An A30 whose driver reports 4g.24gb 2% smaller (23.06 against 23.50 GiB) and names its
        // 1g.6gb profile 1g.5gb: still the A30, each difference named, and the driver's sizes used.
        String drifted = fixture("a30_lgip_1.txt").replace("23.50", "23.06").replace("1g.6gb ", "1g.5gb ");
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(drifted, "a30-r535");
        SmiImport.ImportedGpu g = SmiImport.models(rows, List.of(), catalog, null).getFirst();
        assertThat(g.catalogMatch()).map(GpuModel::name).contains("A30-24GB");
        assertThat(g.differences()).anySatisfy(d -> assertThat(d).contains("4g.24gb has 23.06 GiB here, 23.50 GiB in the catalog"))
                .anySatisfy(d -> assertThat(d).contains("is 1g.5gb here, 1g.6gb in the catalog"));
        assertThat(g.model().profile("4g.24gb").memoryMib()).isEqualTo(Math.round(23.06 * 1024));
    }

    @Test
    void theH200TableFromTheMiddleOfAnEightGpuOutput_isTheCatalogH200() {
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(fixture("h200_lgip_issue120.txt"), "h200");
        SmiImport.ImportedGpu g = SmiImport.models(rows, List.of(), catalog, null).getFirst();
        assertThat(g.index()).isEqualTo(6);
        assertThat(g.catalogMatch()).map(GpuModel::name).contains("H200-141GB");
        assertThat(g.differences()).containsExactly(
                "1 catalog profile(s) not in this table (an older driver or a partial output)");
    }

    @Test
    void aVariantNoCatalogGpuHas_takesTheGeometryOfItsBaseProfile() {
        // RTX PRO 6000 (GKE PR #564): 1g.24gb fits 4 times (4 compute slices; placements {0..3}:1 as
        // the A30's ID-14 1g). Its +gfx variant (ID 47), which no catalog GPU has, shares the base's
        // slices: a variant adds engines, not slices.
        String table = fixture("rtx-pro-6000_lgip_gke564.txt")
                + "|   0  MIG 1g.24gb+gfx     47     4/4        23.62      No     46     1     1   |\n"
                + "|                                                               1     1     0   |\n";
        GpuModel m = SmiImport.models(SmiParser.parseLgip(table, "rtx"), List.of(), catalog, "RTX-PRO-6000").getFirst()
                .model();
        assertThat(m.computeSlices()).isEqualTo(4);
        assertThat(m.memorySlices()).isEqualTo(4);
        assertThat(m.profile("1g.24gb+gfx").starts()).containsExactly(0, 1, 2, 3);
    }

    @ParameterizedTest
    @CsvSource({"a100-sxm4-40gb_lgip_1.txt, A100-SXM4-40GB", "a30_lgip_1.txt, A30-24GB",
            "h100-nvl_lgip_1.txt, H100-NVL-94GB", "h100-80gb_lgip_jbarrow.txt, H100-SXM5-80GB",
            "h100-80gb_lgip_device580.txt, H100-SXM5-80GB", "h200_lgip_issue120.txt, H200-141GB",
            "h200_lgip_device580.txt, H200-141GB", "gh200-96gb_lgip_kfcuanschutz.txt, GH200-96GB",
            "gh200_lgip_pr139.txt, GH200-144GB", "b200_lgip_pr166.txt, B200-180GB", "b200_lgip_pr187.txt, B200-180GB",
            "gb200_lgip_pr1303.txt, GB200-186GB", "gb200_lgip_issue227.txt, GB200-186GB",
            "a100-sxm4-80gb_lgip_gpu7.txt, A100-SXM4-80GB", "h100-pcie_lgip_scaleway570.txt, H100-PCIE-80GB"})
    void everyCatalogGpuWithAPublicTranscript_isRecognisedFromIt(String file, String gpu) {
        // Every catalog GPU appears here with a public or recorded transcript of its own.
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(fixture(file), file);
        assertThat(SmiImport.bestMatch(rows, catalog)).map(GpuModel::name).contains(gpu);
    }

    @Test
    void aCompleteH100TableFromDriver580_importsAsTheCatalogsH100_placementsIncluded() {
        // Recorded on a real H100 80GB HBM3 (driver 580.159.04): every profile and placement of the
        // catalog's H100-SXM5-80GB, whose numbers came from other people's transcripts.
        var imported = SmiImport.models(SmiParser.parseLgip(fixture("h100-80gb_lgip_device580.txt"), "lgip"),
                SmiParser.parseLgipp(fixture("h100-80gb_lgipp_device580.txt"), "lgipp"), catalog, null).getFirst();
        GpuModel h100 = catalog.get("H100-SXM5-80GB");
        assertThat(imported.model().profiles()).hasSameSizeAs(h100.profiles());
        for (var p : h100.profiles()) {
            var q = imported.model().profile(p.name().toString());
            assertThat(q.id()).as(p.name().toString()).isEqualTo(p.id());
            assertThat(q.sms()).as(p.name().toString()).isEqualTo(p.sms());
            assertThat(q.starts()).as(p.name().toString()).isEqualTo(p.starts());
        }
    }

    @Test
    void aCompleteH200TableFromDriver580_confirmsTheCatalogsPlacements_andSaysWhatDrifted() {
        // Recorded on a real H200 (driver 580.159.04). The catalog's placements were assumed from the
        // H100's; they hold. Two memory sizes read 0.25 GiB more than the catalog's older transcript.
        var imported = SmiImport.models(SmiParser.parseLgip(fixture("h200_lgip_device580.txt"), "lgip"),
                SmiParser.parseLgipp(fixture("h200_lgipp_device580.txt"), "lgipp"), catalog, null).getFirst();
        GpuModel h200 = catalog.get("H200-141GB");
        for (var p : h200.profiles()) {
            assertThat(imported.model().profile(p.name().toString()).starts()).as(p.name().toString()).isEqualTo(p.starts());
        }
        assertThat(imported.differences()).anyMatch(d -> d.startsWith("1g.35gb has 32.50 GiB here, 32.25 GiB in the catalog"));
    }

    @Test
    void everyCatalogGpu_hasATranscriptOfItsOwnAmongTheFixtures() throws NoSuchMethodException {
        var recognised = getClass().getDeclaredMethod("everyCatalogGpuWithAPublicTranscript_isRecognisedFromIt",
                String.class, String.class).getAnnotation(CsvSource.class).value();
        var gpus = Arrays.stream(recognised).map(row -> row.split(",")[1].strip()).collect(Collectors.toSet());
        assertThat(gpus).containsAll(catalog.models().stream().map(GpuModel::name).toList());
    }

    @Test
    void theCompleteGh200Table_isTheCatalogsGh200_withNothingToSay() {
        // The catalog's GH200 96GB was written from this table (kf-cuanschutz, 2024): every profile,
        // id, size, SM and engine count agree, and the placements come from the catalog's Hopper table.
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(fixture("gh200-96gb_lgip_kfcuanschutz.txt"), "gh200");
        SmiImport.ImportedGpu g = SmiImport.models(rows, List.of(), catalog, null).getFirst();
        GpuModel gh200 = catalog.get("GH200");
        assertThat(g.catalogMatch()).contains(gh200);
        assertThat(g.differences()).isEmpty();
        assertThat(SmiImport.matches(rows, gh200)).isTrue();
        assertThat(g.model().profile("3g.48gb").starts()).containsExactly(0, 4);
    }

    @Test
    void theFirstB200Driver_andTheRenamedGb200Profile_areStillTheirGpus_withWhatDiffersSaid() {
        // B200's 1g.23gb read 22.00 GiB on the first public driver, 20.50 (the catalog's) later: 7.3%.
        // GB200's profile ID 19 was 1g.24gb at 20.00 GiB before it became the catalog's 1g.23gb at
        // 22.00: 9.1%, inside the 10% drift.
        SmiImport.ImportedGpu b200 = SmiImport.models(SmiParser.parseLgip(fixture("b200_lgip_pr166.txt"), "b"),
                List.of(), catalog, null).getFirst();
        assertThat(b200.differences()).contains(
                "1g.23gb has 22.00 GiB here, 20.50 GiB in the catalog (driver drift; using 22.00)",
                "3 catalog profile(s) not in this table (an older driver or a partial output)");
        SmiImport.ImportedGpu gb200 = SmiImport.models(SmiParser.parseLgip(fixture("gb200_lgip_pr1303.txt"), "g"),
                List.of(), catalog, null).getFirst();
        assertThat(gb200.catalogMatch()).map(GpuModel::name).contains("GB200-186GB");
        assertThat(gb200.differences()).contains("profile ID 19 is 1g.24gb here, 1g.23gb in the catalog");
    }

    @Test
    void h100NvlAndH100Sxm_stayApart_thoughTheirTablesLookAlike() {
        // Their profiles differ by 10% (1g.12gb 10.75 GiB against 1g.10gb 9.75), past the drift.
        List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(fixture("h100-nvl_lgip_1.txt"), "nvl");
        assertThat(SmiImport.bestMatch(rows, catalog)).map(GpuModel::name).contains("H100-NVL-94GB");
    }
}
