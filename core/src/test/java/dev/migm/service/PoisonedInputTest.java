package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.backend.EmulatedGpuBackend;
import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.cli.Main;
import dev.migm.exec.Launches;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.store.NodeJournal;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 24's first finding: a valid-looking job file took the node service down. Here the node's
 * door refuses what its engine could not handle (parameters the estimators cannot use, a need no GPU
 * of the node holds, a command that cannot start), and a journal that holds such a record anyway
 * (written by an older, laxer migm) neither stops the service nor any other job: the job fails with
 * the reason at start, and {@code migm journal check|repair} find and settle it offline.
 */
final class PoisonedInputTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final String GOOD = """
            version: v1
            jobs:
              - {name: fine, command: [work], memory: 3GiB, workload: {work: 4s, mem: 1GiB}}
            """;
    /** What an older migm accepted: a memory expression that divides by zero. */
    private static final String POISONED = """
            version: v1
            jobs:
              - {name: poison, command: [work], expr: "n / 0", params: {n: 4}, workload: {work: 4s, mem: 1GiB}}
            """;

    private static NodeService start(Path home) {
        EmulatedGpuBackend backend = new EmulatedGpuBackend(home.resolve("emulated"), List.of(A100), 20,
                SimulatedGpuBackend.Latency.DEFAULT);
        return NodeService.start(new NodeService.Settings(home, backend, Launches.helperCommand("dev.migm.cli.Main"),
                "migm", 20));
    }

    private static String awaitEnd(Path home, String id) throws Exception {
        for (int i = 0; i < 1200; i++) {
            String state = DaemonProcess.rows(home, "SELECT state FROM jobs WHERE id=" + id).getFirst().getFirst();
            if (List.of("done", "failed", "cancelled").contains(state)) return state;
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " did not end");
    }

    /** A journal as an older migm left it: the poisoned file accepted (stored as submitted) and queued. */
    private static void olderMigmAccepted(Path home) {
        try (NodeJournal j = NodeJournal.open(home.resolve("journal.db"))) {
            j.submit(100, System.getProperty("user.name"), "old.yaml", "/tmp", POISONED,
                    List.of(new NodeJournal.NewJob("poison")));
            j.submit(101, System.getProperty("user.name"), "good.yaml", "/tmp", GOOD,
                    List.of(new NodeJournal.NewJob("fine")));
        }
    }

    private record Cli(int status, String out, String err) {
    }

    private static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Cli(status, out.toString(), err.toString());
    }

    @Test
    void theDoor_refusesWhatTheEngineCouldNotRun_andTheServiceKeepsAnswering(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (NodeService s = start(home)) {
            String user = System.getProperty("user.name");
            assertThatThrownBy(() -> s.submit(user, "p.yaml", "/tmp", POISONED)).isInstanceOf(InvalidInputException.class)
                    .hasMessage("p.yaml:3:43: jobs[0].expr: memory expression 'n / 0' at position 6: division by zero");
            // 100 GiB on a node of one A100-40GB: no slot holds it; the refusal names the largest (the
            // whole GPU: migm may turn MIG off on the emulated GPU).
            assertThatThrownBy(() -> s.submit(user, "big.yaml", "/tmp", "version: v1\njobs:\n  - {name: big, command:"
                    + " [work], memory: 100GiB, workload: {work: 4s, mem: 1GiB}}\n"))
                    .hasMessage("big.yaml: job 'big': memory: needs 102400 MiB (declared), more than the largest slot of"
                            + " this node: the whole A100-SXM4-40GB (MIG off) with 40960 MiB; a job runs on one GPU");
            // Commands that cannot start: refused at submit, where no attempt is spent on them.
            assertThatThrownBy(() -> s.submit(user, "nocmd.yaml", "/tmp", "version: v1\njobs:\n  - {name: x, command:"
                    + " [no-such-program-here, --x]}\n")).hasMessageStartingWith("nocmd.yaml: job 'x': command: command"
                    + " not found: no-such-program-here (PATH ");
            assertThatThrownBy(() -> s.submit(user, "nodir.yaml", "/tmp", "version: v1\njobs:\n  - {name: x, command:"
                    + " [sleep, '1'], workdir: /no/such/dir}\n")).hasMessage("nodir.yaml: job 'x': workdir: working"
                    + " directory /no/such/dir does not exist (as " + user + ")");
            Path text = Files.writeString(dir.resolve("notes.txt"), "not a program\n");
            Files.setPosixFilePermissions(text, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            assertThatThrownBy(() -> s.submit(user, "notexec.yaml", "/tmp", "version: v1\njobs:\n  - {name: x, command:"
                    + " [" + text + "]}\n")).hasMessage("notexec.yaml: job 'x': command: " + text + " is not a program "
                    + user + " may run (as " + user + ")");
            // Nothing of them reached the journal, and the service answers and runs the next job.
            assertThat(s.journal().jobs(true)).isEmpty();
            String id = s.submit(user, "good.yaml", "/tmp", GOOD).getFirst();
            assertThat(awaitEnd(home, id)).isEqualTo("done");
            assertThat(s.waitingReasons(List.of(id))).isEmpty();
        }
    }

    @Test
    void aJournalRecordThisMigmCannotReplay_failsItsJob_andTheServiceStarts(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        olderMigmAccepted(home);
        try (NodeService s = start(home)) {
            assertThat(s.recoveryReport()).anySatisfy(line -> assertThat(line).isEqualTo("job 1 failed: its journal"
                    + " record cannot be replayed by this migm: old.yaml:3:43: jobs[0].expr: memory expression 'n / 0' at"
                    + " position 6: division by zero"));
            assertThat(awaitEnd(home, "1")).isEqualTo("failed");
            assertThat(awaitEnd(home, "2")).as("the job beside it runs").isEqualTo("done");
            assertThat(s.journal().job("1").orElseThrow().reason()).startsWith("its journal record cannot be replayed");
        }
    }

    @Test
    void journalCheckAndRepair_findAndFailUnreplayableJobsOffline_keepingABackup(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        olderMigmAccepted(home);
        Cli check = cli("journal", "check", "--home", home.toString());
        assertThat(check.status()).as(check.err()).isEqualTo(Main.FOUND_A_PROBLEM);
        assertThat(check.out()).contains("job 1 (poison, " + System.getProperty("user.name") + ", submission 1):"
                + " old.yaml:3:43: jobs[0].expr: memory expression 'n / 0'").doesNotContain("job 2 ");

        Cli repair = cli("journal", "repair", "--home", home.toString());
        assertThat(repair.status()).as(repair.err()).isZero();
        assertThat(repair.out()).contains("failed 1 job(s); the journal before is " + home.resolve("journal.db.backup-"));
        try (var files = Files.list(home)) {
            Path backup = files.filter(f -> f.getFileName().toString().startsWith("journal.db.backup-")).findFirst()
                    .orElseThrow();
            // The backup is the journal before: job 1 still waiting there.
            try (NodeJournal before = NodeJournal.open(backup)) {
                assertThat(before.job("1").orElseThrow().state()).isEqualTo("submitted");
            }
        }
        assertThat(DaemonProcess.rows(home, "SELECT state, reason FROM jobs WHERE id=1").getFirst())
                .containsExactly("failed", "its journal record cannot be replayed by this migm: old.yaml:3:43:"
                        + " jobs[0].expr: memory expression 'n / 0' at position 6: division by zero");
        assertThat(DaemonProcess.rows(home, "SELECT state FROM jobs WHERE id=2").getFirst()).containsExactly("submitted");
        Cli again = cli("journal", "check", "--home", home.toString());
        assertThat(again.status()).isZero();
        assertThat(again.out()).contains("every open job can be taken over");
    }

    @Test
    void journalVerbs_refuseAJournalADaemonServes(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        Files.createDirectories(home);
        // The lock a daemon holds for its life (here, this process holds it as a daemon would).
        try (var lock = java.nio.channels.FileChannel.open(home.resolve("daemon.lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            assertThat(lock.lock().isValid()).isTrue();
            Files.createFile(home.resolve("journal.db"));
            Cli check = cli("journal", "repair", "--home", home.toString());
            assertThat(check.status()).isEqualTo(Main.BAD_INPUT);
            assertThat(check.err().strip()).isEqualTo("migm: a migm daemon serves " + home + "; stop it first (migm"
                    + " journal works on a journal no daemon uses)");
        }
    }
}
