package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verbs people use against a running daemon, through the CLI as they would type them. */
final class ServiceCliTest {
    record Result(int rc, String out, String err) {
    }

    static Result migm(Path home, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--home";
        all[args.length + 1] = home.toString();
        int rc = Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(rc, out.toString(), err.toString());
    }

    @Test
    @org.junit.jupiter.api.Timeout(180)
    void submitQueueShowLogsCancelHistoryDrain_withClearErrors(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: hello, command: ["sh", "-c", "echo hello; sleep 0.3; echo bye"], memory: 1GiB}
                  - {name: long, command: ["sleep", "600"], memory: 8GiB}
                  - {name: w, command: ["python", "train.py", "--model", "tiny"], memory: 1GiB, workload: {work: 5s, mem: 1GiB}}
                """);
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                version: v1
                jobs:
                  - {name: ok, command: [x], memory: 1GiB}
                  - {name: broken, command: [x], memory: -3GiB}
                """);
        // No daemon yet: one line and status 1.
        Result none = migm(home, "queue");
        assertThat(none.rc()).isEqualTo(1);
        assertThat(none.err()).startsWith("migm: no migm daemon at ").doesNotContain("Exception");

        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--time-scale", "10")) {
            run(home, d, jobs, bad);
        } finally {
            DaemonCrashTest.liveJobProcesses(home).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    private static void run(Path home, DaemonProcess d, Path jobs, Path bad) throws Exception {
        {
            Result submitted = migm(home, "submit", jobs.toString());
            assertThat(submitted.rc()).as(submitted.err()).isZero();
            assertThat(submitted.out().strip()).isEqualTo("1 2 3");

            // A file with one bad job is refused whole, naming file, line and field; nothing is added.
            Result refused = migm(home, "submit", bad.toString());
            assertThat(refused.rc()).isEqualTo(2);
            assertThat(refused.err()).contains(bad + ":4:").contains("memory").doesNotContain("Exception");
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM jobs")).isEqualTo(3);

            // logs --follow prints the job's output and returns when it ended.
            Result logs = migm(home, "logs", "1", "--follow");
            assertThat(logs.rc()).as(logs.err()).isZero();
            assertThat(logs.out()).isEqualTo("hello\nbye\n");

            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE id=2 AND state='running'", 30_000))
                    .isTrue();
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    home.resolve("migm.sock")))).as("only the daemon's user may connect").isEqualTo("rw-------");
            Result queue = migm(home, "queue", "--all");
            assertThat(queue.out()).as("the submitter, known by the socket's peer credentials")
                    .containsPattern("1\\s+hello\\s+" + System.getProperty("user.name") + "\\s");
            assertThat(queue.out()).containsPattern("1\\s+hello\\s+\\S+\\s+done").containsPattern("2\\s+long\\s+\\S+\\s+running");
            // Filters, applied by the daemon: a state (an ended one brings ended jobs in), a user, an age.
            Result onlyDone = migm(home, "queue", "--state", "done");
            assertThat(onlyDone.rc()).as(onlyDone.err()).isZero();
            assertThat(onlyDone.out()).containsPattern("1\\s+hello\\s+\\S+\\s+done").doesNotContain("running");
            assertThat(migm(home, "queue", "--all", "--user", "nobody-such").out().lines().count()).as("the header alone")
                    .isEqualTo(1);
            assertThat(migm(home, "queue", "--all", "--since", "1h", "--user", System.getProperty("user.name")).out())
                    .containsPattern("1\\s+hello").containsPattern("2\\s+long");
            // A job no instance beside the running "long" can hold waits, and queue and show say the
            // policy's own reason (as data in JSON), not only the capacity figures.
            Path big = home.getParent().resolve("big.yaml");
            Files.writeString(big, "version: v1\njobs:\n  - {name: big, command: [\"sleep\", \"600\"], memory: 30GiB}\n");
            assertThat(migm(home, "submit", big.toString()).out().strip()).isEqualTo("4");
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE id=4 AND state='queued'", 30_000)).isTrue();
            String why = "no instance that could exist now holds it; first in line";
            String waiting = "";
            for (long until = System.nanoTime() + 30_000_000_000L; !waiting.contains(why) && System.nanoTime() < until; ) {
                waiting = migm(home, "show", "4", "--json").out();
                Thread.sleep(100);
            }
            assertThat(waiting).containsPattern("\"resource\"\\s*:\\s*\"memory_mib\"")
                    .containsPattern("\"why\"\\s*:\\s*\"" + why);
            assertThat(migm(home, "show", "4").out()).contains("waits: " + why);
            assertThat(migm(home, "queue").out()).containsPattern("4\\s+big\\s.*queued.*no instance that could exist");
            assertThat(migm(home, "cancel", "4").rc()).isZero();
            Result show = migm(home, "show", "1", "--json");
            // In words, with the local wall-clock time, the record's type left out.
            assertThat(migm(home, "show", "1").out()).contains("events:")
                    .containsPattern("(?m)^  \\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  1 attempt 1 launched on gpu0:")
                    .doesNotContain("AttemptLaunched:");
            assertThat(show.out()).containsPattern("\"schema\"\\s*:\\s*\"migm.show/v1\"")
                    .containsPattern("\"outcome\"\\s*:\\s*\"completed\"").containsPattern("\"device\"\\s*:\\s*\"MIG-");

            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE id=3 AND state='done'", 60_000)).isTrue();
            Result shown = migm(home, "show", "3", "--json");
            assertThat(shown.out()).containsPattern("\"energy_model\"\\s*:\\s*\"chip-share\"");
            double joules = Double.parseDouble(DaemonProcess.rows(home, "SELECT coalesce(energy_j, 0) FROM attempts WHERE"
                    + " job=3").getFirst().getFirst());
            assertThat(joules).as("board energy attributed to the attempt while it ran").isGreaterThan(0);
            // Learned as its script and model (not "python"), a name with spaces, sent through the socket.
            Result history = migm(home, "history", "train.py --model tiny");
            assertThat(history.rc()).isZero();
            // The completed run, with the time it ran and where: what the run-time estimate learns.
            assertThat(history.out()).containsPattern("completed .*\\d+ s\\s+gpu0:1g\\.5gb@\\d");
            // ... and learns again from the journal when a node starts: run times outlive the daemon.
            try (var j = dev.migm.store.NodeJournal.open(home.resolve("journal.db"))) {
                var runtime = LiveNode.runtimeOf(j, java.util.List.of(dev.migm.gpu.Catalog.builtin().get("A100-40GB")));
                var expected = runtime.expect(new dev.migm.engine.JobSpec("next", 0, "train.py --model tiny",
                        dev.migm.engine.JobClass.OTHER, java.util.OptionalLong.empty(), false));
                assertThat(expected.source()).startsWith("history of train.py --model tiny (1 runs");
                assertThat(expected.grounded()).isTrue();
            }

            Result cancel = migm(home, "cancel", "2", "999");
            assertThat(cancel.rc()).isEqualTo(1);
            assertThat(cancel.out()).contains("2: stopping");
            assertThat(cancel.err()).contains("no job 999");
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE id=2 AND state='cancelled'", 30_000))
                    .isTrue();
            Result again = migm(home, "cancel", "2");
            assertThat(again.err()).contains("already ended cancelled");

            assertThat(migm(home, "drain", "0").out()).contains("gpu0: draining");
            assertThat(migm(home, "gpus", "--backend", "daemon").out()).contains("draining");
            assertThat(migm(home, "resume", "0").rc()).isZero();
            Result noGpu = migm(home, "drain", "7");
            assertThat(noGpu.rc()).isEqualTo(1);
            assertThat(noGpu.err()).contains("no gpu7");

            // A second daemon on the same home is refused.
            String javaBin = ProcessHandle.current().info().command().orElseThrow();
            Process second = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), "dev.migm.cli.Main",
                    "daemon", "--home", home.toString()).redirectErrorStream(true).start();
            assertThat(second.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isEqualTo(2);
            assertThat(new String(second.getInputStream().readAllBytes())).contains("another migm daemon serves");
            d.terminate();
        }
    }
}
