package dev.migm.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping {@code migm run} (Ctrl-C's SIGINT or a SIGTERM: both run the same shutdown) stops the
 * engine first, then every job's process group (SIGTERM, then SIGKILL after the grace period), and
 * leaves no emulated instance behind. The test sends SIGTERM: a process started from a
 * non-interactive shell inherits SIGINT as ignored, so SIGINT cannot be tested here. The jobs run in
 * their own sessions, not as the test JVM's descendants: the test finds them by the emulated-device
 * directory in their environment.
 */
final class InterruptTest {
    @Test
    void stoppingARun_leavesNoProcessAndNoInstance_andSavesCheckpoints(@TempDir Path dir) throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: a, command: [x], memory: 3GiB, workload: {work: 3600s, mem: 3GiB}}
                  - {name: b, command: [x], memory: 3GiB, workload: {work: 3600s, mem: 3GiB, checkpoint_every: 60s}}
                """);
        Path home = dir.resolve("home");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process migm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "dev.migm.cli.Main", "run",
                jobs.toString(), "--home", home.toString(), "--time-scale", "10")
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // Wait until both jobs are at work (each has allocated its memory on its instance).
        while (working(home) < 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(500);
        assertThat(jobProcesses(home)).as(Files.readString(dir.resolve("out.txt"))).hasSize(2);
        new ProcessBuilder("kill", "-TERM", Long.toString(migm.pid())).start().waitFor();
        assertThat(migm.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(dir.resolve("out.txt"))).contains("interrupted: every job's processes stopped");
        assertThat(jobProcesses(home)).isEmpty();
        assertThat(supervisors(home)).as("no attempt's supervisor outlives a stopped run").isEmpty();
        try (var left = Files.list(home.resolve("emulated/mig"))) {
            assertThat(left.toList()).isEmpty();
        }
        // The checkpointing job saved its progress on SIGTERM.
        try (var dirs = Files.list(home.resolve("runs"))) {
            Path run = dirs.findFirst().orElseThrow();
            // The step it wrote, as a trainer does: what share of the job that is, the job alone knows.
            assertThat(Files.readString(run.resolve("jobs/b/checkpoints/checkpoint"))).matches("step=[1-9][0-9]*\n");
        }
    }

    static long working(Path home) throws IOException {
        Path mig = home.resolve("emulated/mig");
        if (!Files.isDirectory(mig)) return 0;
        long n = 0;
        try (var instances = Files.list(mig)) {
            for (Path i : instances.toList()) {
                try (var procs = Files.list(i.resolve("procs"))) {
                    n += procs.filter(f -> !f.getFileName().toString().contains(".tmp")).count();
                } catch (IOException e) {
                    // an instance being created
                }
            }
        }
        return n;
    }

    /** Live jobs (not their supervisors) whose environment names this home's emulated devices. */
    static List<Long> jobProcesses(Path home) throws IOException {
        return processes(home, false);
    }

    /** Live attempt supervisors whose environment names this home's emulated devices. */
    static List<Long> supervisors(Path home) throws IOException {
        return processes(home, true);
    }

    private static List<Long> processes(Path home, boolean supervisors) throws IOException {
        String marker = "MIGM_EMULATED_DIR=" + home.resolve("emulated");
        List<Long> out = new ArrayList<>();
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            try {
                byte[] env = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
                String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")),
                        StandardCharsets.UTF_8);
                if (new String(env, StandardCharsets.UTF_8).contains(marker) && dev.migm.io.Procs.alive(p.pid())
                        && cmdline.contains("migm-supervisor") == supervisors) {
                    out.add(p.pid());
                }
            } catch (IOException | SecurityException e) {
                // gone, or not ours to read
            }
        }
        return out;
    }
}
