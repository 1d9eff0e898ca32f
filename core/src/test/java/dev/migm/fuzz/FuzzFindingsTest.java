package dev.migm.fuzz;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.estimate.MemoryExpression;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.gpu.MigParted;
import dev.migm.gpu.ProfileName;
import dev.migm.gpu.smi.SmiImport;
import dev.migm.gpu.smi.SmiParser;
import dev.migm.io.InvalidInputException;
import dev.migm.sim.Knobs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Inputs the seeded fuzzing found that crashed a parser or echoed raw input: each now a clear refusal. */
final class FuzzFindingsTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final String LGIP = ParserFuzzTest.resource("src/test/resources/nvidia-smi/a100-sxm4-40gb_lgip_1.txt");
    private static final String LGI_HEAD = """
            +----------------------------------------------------+
            | GPU instances:                                     |
            | GPU   Name          Profile  Instance   Placement  |
            |                       ID       ID       Start:Size |
            |====================================================|
            """;

    @Test
    void lgippWithRepeatedStartsOrAPlacementOffTheGpu() {
        assertThatThrownBy(() -> SmiParser.parseLgipp("GPU  0 Profile ID 20 Placements: {0,1,2,2,4,5,6}:1\n", "p.txt"))
                .isInstanceOf(InvalidInputException.class).hasMessage("p.txt:1: placement starts must ascend, got 2 after 2");
        List<SmiParser.PlacementRow> off = SmiParser.parseLgipp("GPU  0 Profile ID  5 Placement : {08}:4\n", "p.txt");
        assertThatThrownBy(() -> SmiImport.models(SmiParser.parseLgip(LGIP, "l.txt"), off, Catalog.builtin(), null))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("GPU 0: the -lgip/-lgipp tables describe"
                        + " no possible GPU: A100-SXM4-40GB: profile 4g.20gb placement 8 runs off the GPU");
    }

    @Test
    void lgiWithHugeNumbersImpossiblePlacementsOrOverlaps() {
        assertThatThrownBy(() -> SmiParser.parseLgi(LGI_HEAD + "|   0  MIG 1g.6gb  14  3  0:" + "9".repeat(41) + " |\n", "i"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("i:6:");
        assertThatThrownBy(() -> SmiParser.parseLgi(LGI_HEAD + "|   0  MIG 1g.6gb  14  3  2:0 |\n", "i"))
                .isInstanceOf(InvalidInputException.class).hasMessage("i:6: bad placement 2:0");
        assertThatThrownBy(() -> SmiImport.layout(SmiParser.parseLgi(LGI_HEAD + "|   0  MIG 3g.20gb  9  1  2:4 |\n", "i"),
                0, A100, "i")).isInstanceOf(InvalidInputException.class).hasMessageStartingWith("i:6: profile 3g.20gb cannot");
        assertThatThrownBy(() -> SmiImport.layout(SmiParser.parseLgi(LGI_HEAD + "|   0  MIG 3g.20gb  9  1  4:4 |\n"
                + "|   0  MIG 3g.20gb  9  2  4:4 |\n", "i"), 0, A100, "i"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("i: GPU 0: illegal layout");
        // Found by the fuzzer (NvidiaSmiFuzzTestInputs/nvidiaSmiTables/crash-2208...): eleven copies of
        // one instance gave a refusal of 781 characters; now each problem is said once, the layout cut.
        StringBuilder lgi = new StringBuilder(LGI_HEAD);
        for (int k = 0; k < 11; k++) lgi.append("|   0  MIG 3g.20gb  9  ").append(k + 1).append("  4:4 |\n");
        assertThatThrownBy(() -> SmiImport.layout(SmiParser.parseLgi(lgi.toString(), "i"), 0, A100, "i"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("i: GPU 0: illegal layout 3g.20gb@4,3g.20gb@4,3g.20gb@4,3g.20gb@4,3g.20gb@4,3g.20gb@4,"
                        + "3g.20gb@4,3g.20gb@4,... (11 instances) on A100-SXM4-40GB: 3g.20gb@4 overlaps another instance's"
                        + " memory slices; instances take 33 compute slices, the GPU has 7; 11 instances of 3g.20gb, at"
                        + " most 2 allowed");
    }

    @Test
    void migPartedWithAMappingWhereAPciIdBelongs() {
        String yaml = "version: v1\nmig-configs:\n  a:\n    - device-filter: [version: v2]\n      devices: all\n"
                + "      mig-enabled: true\n";
        assertThatThrownBy(() -> MigParted.read(yaml, "c.yaml")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("c.yaml: field 'mig-configs.a[0].device-filter': expected PCI ids as strings");
    }

    @Test
    void aLongNumberOrTraceVersion_isQuotedCut_notEchoedWhole() {
        // Found by the fuzzer's random seeds in a CI run (MemoryExpressionFuzzTestInputs/.../crash-816c...,
        // TraceFuzzTestInputs/.../crash-7c6c...): a 600-character number and a 550-character trace
        // version were echoed whole. Now quoted as every other piece of input: cut at 40 characters.
        String number = "1e6161e4E11e1e64E1" + "1e4E11e1".repeat(70);
        assertThatThrownBy(() -> MemoryExpression.bytes(number, Map.of())).isInstanceOf(InvalidInputException.class)
                .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).hasSizeLessThan(200)
                        .contains("bad number '1e6161e4E11e1e64E1").contains("...'"));
        String trace = "# migm-trace v1" + "x ".repeat(300) + "\n";
        assertThatThrownBy(() -> dev.migm.sim.TraceReader.parse(trace, "t.csv")).isInstanceOf(InvalidInputException.class)
                .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).hasSizeLessThan(200)
                        .startsWith("t.csv:1: unsupported trace version 'v1x x x").endsWith("...' (this build reads v1)"));
    }

    @Test
    void inputWithLineBreaks_isQuotedOnOneLine() {
        for (Runnable r : List.<Runnable>of(() -> Layout.parse(A100, "7g\n.4"), () -> ProfileName.parse("\n1c.3g.20gb"),
                () -> Knobs.parse(List.of("G\n\nPUz=")),
                () -> MemoryExpression.bytes("3*n*n*8 + 512M\r\u00e9\niB", Map.of("n", 2.0)))) {
            assertThatThrownBy(r::run).isInstanceOf(InvalidInputException.class)
                    .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).doesNotContain("\n")
                            .doesNotContain("\r"));
        }
    }
}
