package dev.migm.live;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main command uses the default home, {@code ./.migm}, a relative path; every job runs
 * in its own working directory, so the paths handed to it (the emulated devices, its checkpoint
 * directory) must not be relative. A relative {@code --home} is the same case.
 */
final class RelativeHomeTest {
    @Test
    void aRelativeHome_works_forJobsThatRunInTheirOwnDirectories(@TempDir Path dir) throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: one, command: [x], memory: 1GiB, workload: {work: 20s, mem: 1GiB, checkpoint_every: 5s}}
                """);
        // Relative to the test's working directory (core/), under target/.
        Path home = Path.of("target", "relative-home-" + System.nanoTime());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(new String[] {"run", jobs.toString(), "--home", home.toString(), "--time-scale", "50",
                "--view", "events"}, new PrintWriter(out), new PrintWriter(err));
        assertThat(rc).as(out + err.toString()).isZero();
        assertThat(out.toString()).contains("1 of 1 jobs done");
        // The job's checkpoints landed in the run directory, not under its working directory.
        try (var runs = Files.list(home.resolve("runs"))) {
            Path run = runs.findFirst().orElseThrow();
            assertThat(run.resolve("jobs/one/checkpoints/checkpoint")).exists();
        }
    }
}
