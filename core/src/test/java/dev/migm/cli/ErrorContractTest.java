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

    @Test
    void hostileFilesAndOptions_areOneLineRefusals_neverHangsOrInternalErrors(@TempDir Path dir) throws Exception {
        // A number that fits no count of MiB is refused, not clamped to 9223372036854775807MiB.
        Path huge = dir.resolve("huge-lgip.txt");
        Files.writeString(huge, Files.readString(Path.of("src/test/resources/nvidia-smi/a100-sxm4-40gb_lgip_1.txt"))
                .replaceFirst("4\\.75", "99999999999999999999.75"));
        CliTest.Result r = CliTest.run("import-smi", "--lgip", huge.toString());
        assertThat(r.status()).isEqualTo(2);
        assertOneLineWithoutJava(r);
        assertThat(r.err()).contains("expected memory in GiB in [0, 1048576], got '99999999999999999999.75'");
        // Devices are refused by type before anything is read (/dev/zero never ends).
        for (String[] args : List.of(new String[] {"import-smi", "--lgip", "/dev/zero"},
                new String[] {"simulate", "/dev/zero", "--quiet"}, new String[] {"run", "/dev/zero"},
                new String[] {"import-mig-parted", "/dev/zero", "--gpu", "A100-40GB"})) {
            CliTest.Result z = CliTest.run(args);
            assertThat(z.status()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(z.err().strip()).as(String.join(" ", args)).isEqualTo("migm: /dev/zero: is a device or special"
                    + " file, expected a file");
        }
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, "version: v1\njobs:\n  - {name: a, command: [\"true\"]}\n");
        CliTest.Result home = CliTest.run("run", job.toString(), "--home", "/etc/passwd");
        assertThat(home.status()).isEqualTo(2);
        assertThat(home.err().strip()).isEqualTo("migm: --home: /etc/passwd is not a directory");
        // The daemon checks its groups and its socket's directory before it takes anything over.
        Path dhome = dir.resolve("dhome");
        for (var c : List.of(new String[] {"--socket-group", "nosuchgroup", "--socket-group: no group 'nosuchgroup' on"
                        + " this system (getent group); create it (groupadd --system nosuchgroup) or leave the option out"},
                new String[] {"--admin-group", "nosuchgroup", "--admin-group: no group 'nosuchgroup' on this system"
                        + " (getent group); create it (groupadd --system nosuchgroup) or leave the option out"},
                new String[] {"--socket", dir.resolve("nonexistent/x.sock").toString(), "--socket: "
                        + dir.resolve("nonexistent") + " is not a directory (create it with the permissions the socket's"
                        + " users need; systemd's RuntimeDirectory does)"})) {
            CliTest.Result d = CliTest.run("daemon", "--home", dhome.toString(), c[0], c[1], "--http-listen", "off");
            assertThat(d.status()).as(c[0]).isEqualTo(2);
            assertThat(d.err().strip()).isEqualTo("migm: " + c[2]);
        }
        assertThat(dir.resolve("nonexistent")).doesNotExist();
        assertThat(dhome.resolve("journal.db")).as("nothing taken over").doesNotExist();
    }

    @Test
    void aTableWhoseOneProfileSpansTheGpu_importsWithoutPlacements() {
        // The shape of a CMP 170HX's -lgip table (issue 24: read by an earlier release, then refused for
        // want of -lgipp): one profile, 1/1 instances, holding the GPU's memory. Written here in that
        // shape (no public transcript of the card was found); a profile that can exist once and spans
        // the GPU has one placement, at slice 0.
        String table = String.join("\n",
                "+-----------------------------------------------------------------------------+",
                "| GPU instance profiles:                                                      |",
                "| GPU   Name             ID    Instances   Memory     P2P    SM    DEC   ENC  |",
                "|                              Free/Total   GiB              CE    JPEG  OFA  |",
                "|=============================================================================|",
                "|   0  MIG 1g.8gb        19     1/1        7.75       No     70     1     0   |",
                "|                                                             1     0     0   |",
                "+-----------------------------------------------------------------------------+", "");
        Path f;
        try {
            f = Files.createTempFile("cmp-lgip", ".txt");
            Files.writeString(f, table);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CliTest.Result r = CliTest.run("import-smi", "--lgip", f.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("1g.8gb       ID 19  1g 8m    7936MiB   70 SM  max 1  starts [0]");
    }
}
