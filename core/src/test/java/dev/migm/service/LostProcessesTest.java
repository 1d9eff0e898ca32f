package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attempts lost while the daemon is down: job 1's supervisor is killed but its process lives on (an
 * orphan that must not run beside its next attempt); job 2's supervisor and process are killed and
 * its instance is gone, as after a reboot or a GPU reset. The restarted daemon kills the orphan,
 * requeues both from their checkpoints, and each completes once.
 */
final class LostProcessesTest {
    @Test
    @org.junit.jupiter.api.Timeout(240)
    void lostAttempts_areRequeuedFromTheirCheckpoints_andAnOrphanIsKilledFirst(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        String[] node = {"--gpu", "A100-40GB", "--time-scale", "40"};
        long orphan;
        try (DaemonProcess d = DaemonProcess.start(home, node)) {
            DaemonCrashTest.submit(d, "two.yaml", """
                    version: v1
                    jobs:
                      - {name: one, command: [x], memory: 3GiB, steps: 400, workload: {work: 400s, c: 0.2, sat: 0.2, mem: 3GiB, checkpoint_every: 20s}}
                      - {name: two, command: [x], memory: 3GiB, steps: 400, workload: {work: 400s, c: 0.2, sat: 0.2, mem: 3GiB, checkpoint_every: 20s}}
                    """);
            for (String job : List.of("1", "2")) {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!Files.exists(home.resolve("jobs/" + job + "/checkpoints/checkpoint")) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(home.resolve("jobs/" + job + "/checkpoints/checkpoint")).exists();
            }
            d.kill9();
        }
        // Job 1: only its supervisor dies. Job 2: everything dies and its instance is gone.
        long sup1 = pid(home.resolve("jobs/1/attempt-1.sup"));
        orphan = pid(home.resolve("jobs/1/attempt-1.pid"));
        kill(sup1);
        kill(pid(home.resolve("jobs/2/attempt-1.sup")));
        kill(pid(home.resolve("jobs/2/attempt-1.pid")));
        Thread.sleep(300);
        assertThat(dev.migm.io.Procs.alive(orphan)).as("job 1 runs on").isTrue();
        String device2 = DaemonProcess.rows(home, "SELECT device FROM attempts WHERE job=2").getFirst().getFirst();
        deleteTree(home.resolve("emulated/mig").resolve(device2));

        try (DaemonProcess d = DaemonProcess.start(home, node)) {
            assertThat(d.output()).contains("2 lost (requeued from their checkpoints)").contains("not there");
            assertThat(dev.migm.io.Procs.alive(orphan))
                    .as("the orphan was killed before its job ran again\n" + d.output() + DaemonProcess.rows(home, "SELECT job, number, outcome, detail FROM attempts")).isFalse();
            assertThat(DaemonProcess.await(home, "SELECT count(*) = 2 FROM jobs WHERE state='done'", 120_000))
                    .as(d.output()).isTrue();
            for (String job : List.of("1", "2")) {
                List<List<String>> attempts = DaemonProcess.rows(home, "SELECT number, outcome, start_progress FROM"
                        + " attempts WHERE job=" + job + " ORDER BY number");
                assertThat(attempts).hasSize(2);
                assertThat(attempts.get(0).get(1)).isEqualTo("stopped");
                assertThat(attempts.get(1).get(1)).isEqualTo("completed");
                // Its checkpoint's step against the 400 steps the job file declared (one per second of work).
                assertThat(Double.parseDouble(attempts.get(1).get(2))).as("resumed from its checkpoint").isGreaterThan(0);
            }
            d.terminate();
        }
    }

    private static long pid(Path file) throws Exception {
        return Long.parseLong(Files.readString(file).strip());
    }

    private static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    private static void deleteTree(Path p) throws Exception {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
