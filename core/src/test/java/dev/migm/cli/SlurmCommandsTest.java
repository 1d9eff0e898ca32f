package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The parts of {@code migm slurm} that need no Slurm: reading scontrol's answer, refusing misuse. */
final class SlurmCommandsTest {
    @Test
    void theJobsGpumem_isReadFromJobGres_inBytes() {
        // As scontrol show job -d prints it in 22.05 (../shared/docs/slurm-onebox.md section 4a).
        String show = """
                JobId=12 JobName=wrap
                   TresPerNode=gres:gpumem:20G
                   JOB_GRES=gpumem:21474836480
                     Nodes=n1 CPU_IDs=0 Mem=0 GRES=gpumem(CNT:21474836480)
                """;
        assertThat(SlurmCommands.gpumemBytes(show)).hasValue(21474836480L);
        assertThat(SlurmCommands.gpumemBytes("   JOB_GRES=gpu:1,gpumem:1048576\n")).hasValue(1048576);
        assertThat(SlurmCommands.gpumemBytes("   JOB_GRES=gpumem:typed:4096\n")).hasValue(4096);
        // No gpumem asked for: no slice.
        assertThat(SlurmCommands.gpumemBytes("   JOB_GRES=(null)\n   TresPerNode=gres:gpu:1\n")).isEmpty();
        assertThat(SlurmCommands.gpumemBytes("   JOB_GRES=gpu:1\n")).isEmpty();
    }

    @Test
    void aPrologOutsideSlurm_isRefusedInOneLine() {
        StringWriter err = new StringWriter();
        int rc = Main.run(new String[] {"slurm", "config", "--socket", "/nonexistent/migm.sock", "--node", "bad name"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(rc).isEqualTo(Main.BAD_INPUT);
        assertThat(err.toString()).startsWith("migm: --node: expected a Slurm node name").hasLineCount(1);
        StringWriter err2 = new StringWriter();
        int rc2 = Main.run(new String[] {"slurm", "config", "--socket", "/nonexistent/%n.sock", "--node", "n1"},
                new PrintWriter(new StringWriter()), new PrintWriter(err2));
        assertThat(rc2).isEqualTo(Main.FOUND_A_PROBLEM);
        assertThat(err2.toString()).contains("/nonexistent/n1.sock").hasLineCount(1);
    }

    @Test
    void theSizesGuide_listsEachSizeWithItsProfiles_andTheRoundingThatSurprises() {
        // The A100-40GB's instances: 4864 MiB (1g.5gb), 9856 (1g.10gb, 2g.10gb), 19968 (3g.20gb,
        // 4g.20gb), 40192 (7g.40gb). 4864 MiB rounds up to 5G = 5120 MiB > 4864: gpumem:5G gets the
        // next size, 9856M, so that is the first warning.
        java.util.Map<Long, java.util.List<String>> bySize = new java.util.TreeMap<>(java.util.Map.of(
                4864L, java.util.List.of("1g.5gb"), 9856L, java.util.List.of("1g.10gb", "2g.10gb"),
                19968L, java.util.List.of("3g.20gb", "4g.20gb"), 40192L, java.util.List.of("7g.40gb")));
        String guide = SlurmCommands.sizesGuide("gpu01", java.util.List.of("A100-SXM4-40GB"), bySize);
        assertThat(guide).startsWith("GPU memory on Slurm node gpu01 (A100-SXM4-40GB)");
        assertThat(guide).contains("gpumem:5G (5120M) gets a 9856M instance; ask for 4864M to get a 1g.5gb.");
        assertThat(guide).containsPattern("(?m)^9856M +1g\\.10gb, 2g\\.10gb$").containsPattern("(?m)^40192M +7g\\.40gb$");
        // Sizes that are whole GiB need no warning: 8192 MiB = 8G exactly.
        String whole = SlurmCommands.sizesGuide("n", java.util.List.of("X"), new java.util.TreeMap<>(java.util.Map.of(
                8192L, java.util.List.of("a"), 16384L, java.util.List.of("b"))));
        assertThat(whole).doesNotContain("Slurm's G");
    }

    @Test
    void shellQuoting_keepsEveryCharacter() {
        assertThat(SlurmCommands.shellQuoted("/a b/it's")).isEqualTo("'/a b/it'\\''s'");
    }
}
