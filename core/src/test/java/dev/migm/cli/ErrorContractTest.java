package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's contract: bad input is one line on stderr naming the file, line and field,
 * with status 2; a found problem is status 1; a bug is one line naming a log file, status 3; never a
 * Java stack trace or an exception's class name.
 */
final class ErrorContractTest {
    private static final String HEADER = "# migm-trace v1\nid,submit_s,app,class,duration_s,c,sat,mem_base_mib,"
            + "mem_peak_mib,activity,checkpoint_s,declared_mib\n";

    static void assertOneLineWithoutJava(CliTest.Result r) {
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("migm: ").doesNotContain("Exception").doesNotContain("java.")
                .doesNotContain("\tat ");
    }

    @Test
    void badTraces_nameTheFileLineAndColumn(@TempDir Path dir) throws Exception {
        Path utf = dir.resolve("latin1.csv");
        Files.write(utf, (HEADER + "a,0,bfs").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.write(utf, concat(Files.readAllBytes(utf), new byte[] {(byte) 0xE9}, ",scientific,10,0.1,0.1,100,100,0.3,0,\n"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Path huge = dir.resolve("huge.csv");
        Files.writeString(huge, HEADER + "a,0,bfs,scientific,1e308,0.1,0.1,100,100,0.3,0,\n");
        Path negative = dir.resolve("negative.csv");
        Files.writeString(negative, HEADER + "a,0,bfs,scientific,10,0.1,0.1,100,100,0.3,0,-5\n");
        Path longCell = dir.resolve("long.csv");
        Files.writeString(longCell, HEADER + "a,0,bfs,scientific," + "9".repeat(100_000) + "x,0.1,0.1,100,100,0.3,0,\n");
        for (var c : List.of(
                new Object[] {utf, utf + ":3:8: not UTF-8 text (byte 0xE9); save the file as UTF-8"},
                new Object[] {huge, huge + ":3: column duration_s: must be in (0, 315576000]"},
                new Object[] {negative, negative + ":3: column declared_mib: must be in [0, 2^40]"})) {
            CliTest.Result r = CliTest.run("simulate", c[0].toString(), "--quiet");
            assertThat(r.status()).isEqualTo(2);
            assertOneLineWithoutJava(r);
            assertThat(r.err().strip()).isEqualTo("migm: " + c[1]);
        }
        CliTest.Result r = CliTest.run("simulate", longCell.toString(), "--quiet");
        assertThat(r.status()).isEqualTo(2);
        assertOneLineWithoutJava(r);
        assertThat(r.err().length()).as("never echoes megabytes").isLessThan(400);
        assertThat(r.err()).contains(longCell + ":3: column duration_s: expected a number, got '9999");
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void nonsenseCountsAndEmptyLayouts_areRefused() {
        for (String[] args : List.of(
                new String[] {"simulate", "--suite", "scientific", "--gpu", "A100-40GB:0", "--quiet"},
                new String[] {"generate-trace", "--jobs", "10", "--load", "Infinity", "-o", "/tmp/never.csv"},
                new String[] {"plan", "A100-40GB", "--layout", "", "--want", "1g.5gb"},
                new String[] {"plan", "A100-40GB", "--layout", ",", "--want", "1g.5gb"},
                new String[] {"export", "--gpu", "A100-40GB", "--layout", ""},
                new String[] {"simulat", "--suite", "mixed"})) {
            CliTest.Result r = CliTest.run(args);
            assertThat(r.status()).as(String.join(" ", args)).isEqualTo(2);
            assertOneLineWithoutJava(r);
        }
        assertThat(CliTest.run("simulat").err()).contains("did you mean: simulate");
        // "-" is the empty layout, on purpose.
        assertThat(CliTest.run("plan", "A100-40GB", "--layout", "-", "--want", "1g.5gb").status()).isZero();
    }

    @Test
    void plan_keepsTheBusyMarksInItsResult() {
        CliTest.Result r = CliTest.run("plan", "A100-40GB", "--layout", "3g.20gb@0*,1g.5gb@4", "--want", "3g.20gb");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("result: 3g.20gb@0*,3g.20gb@4");
        CliTest.Result json = CliTest.run("plan", "A100-40GB", "--layout", "3g.20gb@0*,1g.5gb@4", "--want", "3g.20gb",
                "--json");
        assertThat(json.out()).contains("\"busy\" : true").contains("\"busy\" : false");
    }

    @Test
    void importMigParted_neverDropsADeviceSilently(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, "version: v1\nmig-configs:\n  c:\n    - devices: [0, 3]\n      mig-enabled: true\n"
                + "      mig-devices: {\"7g.40gb\": 1}\n");
        CliTest.Result r = CliTest.run("import-mig-parted", f.toString(), "--gpu", "A100-40GB", "--gpus", "2");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("names device 3, but the node has 2 GPU(s)");
        assertThat(CliTest.run("import-mig-parted", f.toString(), "--gpu", "A100-40GB", "--gpus", "4").out())
                .contains("GPU 3: 7g.40gb@0");
    }

    @Test
    void aBug_isOneLineNamingALogFile_withStatusThree(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        int rc = Main.internalError(new IllegalStateException("invariant broken"), new String[] {"simulate"},
                new PrintWriter(err, true));
        assertThat(rc).isEqualTo(Main.INTERNAL_ERROR);
        String line = err.toString().strip();
        assertThat(line.lines().count()).isEqualTo(1);
        assertThat(line).startsWith("migm: internal error (a bug; please report it): invariant broken; details in ");
        Path log = Path.of(line.substring(line.indexOf("details in ") + "details in ".length()));
        assertThat(Files.readString(log)).contains("IllegalStateException: invariant broken").contains("\tat ");
        Files.delete(log);
    }

    @Test
    void runningOutOfMemory_isNotCalledABug_andSaysHowToGiveMore() throws Exception {
        StringWriter err = new StringWriter();
        int rc = Main.internalError(new OutOfMemoryError("Java heap space"), new String[] {"simulate", "big.csv"},
                new PrintWriter(err, true));
        assertThat(rc).isEqualTo(Main.INTERNAL_ERROR);
        String line = err.toString().strip();
        assertThat(line.lines().count()).isEqualTo(1);
        assertThat(line).startsWith("migm: out of memory (").contains("MIGM_HEAP=").doesNotContain("a bug")
                .contains("details in ");
        Files.deleteIfExists(Path.of(line.substring(line.indexOf("details in ") + "details in ".length())));
    }
}
