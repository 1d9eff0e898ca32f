package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a site meets first: the version, a file checked before it is submitted, where migm keeps its state. */
final class InstallCliTest {
    @Test
    void version_namesTheVersionAndTheCommit_withoutBuildingTheCommandTree() {
        CliTest.Result r = CliTest.run("--version");
        assertThat(r.status()).isZero();
        // Built by Maven here: the project's version, and "unknown" or the commit -Dmigm.commit gave.
        assertThat(r.out().strip()).matches("migm \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit ([0-9a-f]{7,40}|unknown)\\)");
        assertThat(CliTest.run("-V").out()).isEqualTo(r.out());
    }

    @Test
    void aVerbAlone_getsTheSameOptionsErrorsAndHelpAsInTheWholeTree() {
        // `migm queue ...` builds only queue's model; its errors and help are those of the whole tree.
        CliTest.Result bogus = CliTest.run("queue", "--bogus");
        assertThat(bogus.status()).isEqualTo(Main.BAD_INPUT);
        assertThat(bogus.err().strip()).isEqualTo("migm: Unknown option: '--bogus'");
        assertThat(CliTest.run("queue", "--help").out()).startsWith("Usage: migm queue ");
        CliTest.Result typo = CliTest.run("queu");
        assertThat(typo.status()).isEqualTo(Main.BAD_INPUT);
        assertThat(typo.err()).contains("did you mean: queue?");
        assertThat(CliTest.run("--help").out()).contains("check", "submit", "queue").doesNotContain("aot-training");
    }

    @Test
    void check_validatesAFileWithoutADaemon_andSaysWhatEachJobWouldGet(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("ok.yaml");
        Files.writeString(ok, """
                version: v1
                jobs:
                  - {name: small, command: ["python", "a.py"], memory: 3GiB}
                  - {name: large, command: ["python", "b.py"], memory: 30GiB}
                  - {name: unknown, command: ["python", "c.py"]}
                """);
        CliTest.Result r = CliTest.run("check", ok.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains(ok + ": 3 jobs, valid for A100-SXM4-40GB");
        // 3 GiB = 3,072 MiB: the 1g.5gb (4,864 MiB) holds it; 30,720 MiB only the 7g.40gb (40,192).
        assertThat(r.out()).containsPattern("small +3072 MiB +declared +1g\\.5gb");
        assertThat(r.out()).containsPattern("large +30720 MiB +declared +7g\\.40gb");
        assertThat(r.out()).containsPattern("unknown +none declared .* sized at run time");
        // An H100-80GB's 3g.40gb holds the large one.
        assertThat(CliTest.run("check", ok.toString(), "--gpu", "H100-80GB").out()).containsPattern("large .* 3g\\.40gb");

        Path tooBig = dir.resolve("big.yaml");
        Files.writeString(tooBig, "version: v1\njobs:\n  - {name: huge, command: [\"x\"], memory: 90GiB}\n");
        CliTest.Result big = CliTest.run("check", tooBig.toString());
        assertThat(big.status()).isEqualTo(Main.BAD_INPUT);
        assertThat(big.err().strip()).startsWith("migm: " + tooBig + ": job 'huge': memory: needs 92160 MiB").doesNotContain("\n");
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "version: v1\njobs:\n  - {name: x, command: [\"x\"], memory: lots}\n");
        CliTest.Result bad = CliTest.run("check", broken.toString());
        assertThat(bad.status()).isEqualTo(Main.BAD_INPUT);
        assertThat(bad.err()).contains(broken.toString(), "memory").doesNotContain("\n\n");
    }

    @Test
    void theDefaultHome_followsXdg_notTheDirectoryOneStandsIn() {
        Map<String, String> none = Map.of();
        assertThat(RunCommand.home(null, none::get, "/home/ada")).isEqualTo(Path.of("/home/ada/.local/state/migm"));
        assertThat(RunCommand.home(null, Map.of("XDG_STATE_HOME", "/xdg")::get, "/home/ada")).isEqualTo(Path.of("/xdg/migm"));
        // A relative XDG_STATE_HOME is invalid by the specification: ignored.
        assertThat(RunCommand.home(null, Map.of("XDG_STATE_HOME", "rel")::get, "/home/ada"))
                .isEqualTo(Path.of("/home/ada/.local/state/migm"));
        assertThat(RunCommand.home(null, Map.of("MIGM_HOME", "/srv/m", "XDG_STATE_HOME", "/xdg")::get, "/home/ada"))
                .isEqualTo(Path.of("/srv/m"));
        assertThat(RunCommand.home(Path.of("/opt/h"), Map.of("MIGM_HOME", "/srv/m")::get, "/home/ada"))
                .isEqualTo(Path.of("/opt/h"));
    }
}
