package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.backend.EmulatedGpuBackend;
import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.Outcome;
import dev.migm.engine.Slot;
import dev.migm.exec.Launches;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.spec.BatchFile;
import dev.migm.store.NodeJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery from journals as a crash leaves them, built record by record, so that each window between
 * two commits is tested on purpose rather than hit by chance.
 */
final class RecoveryTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final String BATCH = """
            version: v1
            jobs:
              - {name: a, command: [work], memory: 3GiB, workload: {work: 10s, mem: 1GiB}}
            """;

    private static NodeService start(Path home) {
        EmulatedGpuBackend backend = new EmulatedGpuBackend(home.resolve("emulated"), List.of(A100), 20,
                SimulatedGpuBackend.Latency.DEFAULT);
        return NodeService.start(new NodeService.Settings(home, backend, Launches.helperCommand("dev.migm.cli.Main"),
                "migm", 20));
    }

    /** A journal where job 1's attempt 1 was launched on 1g.5gb@0 at t=100. */
    private static Slot launched(NodeJournal j) {
        j.submit(100, "u", "a.yaml", "/tmp", BATCH, List.of(new NodeJournal.NewJob("a")));
        BatchFile.parse(BATCH, "a.yaml");
        Layout one = Layout.parse(A100, "1g.5gb@0");
        Slot slot = Slot.of(0, one.instances().getFirst());
        j.append(new EngineRecord.ReconfigurationPlanned(100, 0, 1, Layout.parse(A100, "-"), one, 1,
                java.util.Optional.of("1")));
        j.append(new EngineRecord.ReconfigurationApplied(100, 0, 1, one));
        j.append(new EngineRecord.AttemptLaunched(100, "1", 1, slot, 0, java.util.OptionalLong.empty()));
        j.append(new EngineRecord.AttemptRunning(100, "1", 1));
        return slot;
    }

    private static String awaitEnd(Path home, String id) throws Exception {
        for (int i = 0; i < 600; i++) {
            var state = DaemonProcess.rows(home, "SELECT state FROM jobs WHERE id=" + id).getFirst().getFirst();
            if (List.of("done", "failed", "cancelled").contains(state)) return state;
            Thread.sleep(50);
        }
        return "not ended";
    }

    @Test
    void anExitRecordedWithoutItsConsequence_isHandedToTheEngineAgain_notRunTwice(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (NodeJournal j = NodeJournal.open(home.resolve("journal.db"))) {
            launched(j);
            // The exit was committed; migm died before the Done record.
            j.append(new EngineRecord.AttemptExited(150, "1", 1, new Outcome.Completed(900, 900)));
        }
        try (NodeService s = start(home)) {
            assertThat(s.recoveryReport()).anyMatch(l -> l.contains("1 ended while migm was down"));
            assertThat(awaitEnd(home, "1")).isEqualTo("done");
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM attempts WHERE job=1")).isEqualTo(1);
        }
    }

    @Test
    void anAttemptThatNeverStarted_isAbandoned_andTheJobRunsItsNextAttempt(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (NodeJournal j = NodeJournal.open(home.resolve("journal.db"))) {
            launched(j); // no supervisor ever ran: migm died between the record and the launch
        }
        try (NodeService s = start(home)) {
            assertThat(s.recoveryReport()).anyMatch(l -> l.contains("1 lost (requeued from their checkpoints)"));
            // A supervisor started late finds the marker and runs nothing.
            assertThat(home.resolve("jobs/1/attempt-1.abandoned")).exists();
            assertThat(awaitEnd(home, "1")).isEqualTo("done");
            assertThat(DaemonProcess.rows(home, "SELECT number, outcome FROM attempts WHERE job=1 ORDER BY number"))
                    .containsExactly(List.of("1", "stopped"), List.of("2", "completed"));
            // The instance the journal knew was not on the GPU (the emulated GPU never made it): said so.
            assertThat(s.recoveryReport()).anyMatch(l -> l.contains("not there"));
        }
    }

    @Test
    void aSupervisorThatRecordedItsJobsExitWhileMigmWasDown_endsTheJobOnce(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (NodeJournal j = NodeJournal.open(home.resolve("journal.db"))) {
            launched(j);
        }
        // The supervisor ran the job to completion while migm was away.
        Path jobDir = home.resolve("jobs/1");
        Files.createDirectories(jobDir);
        Files.writeString(jobDir.resolve("attempt-1.exit"), "0\n");
        Files.writeString(jobDir.resolve("attempt-1.pid"), "999999\n");
        try (NodeService s = start(home)) {
            assertThat(awaitEnd(home, "1")).isEqualTo("done");
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM attempts WHERE job=1")).isEqualTo(1);
            assertThat(s.recoveryReport()).anyMatch(l -> l.contains("1 ended while migm was down"));
        }
    }

    @Test
    void aCancelAskedForBeforeTheCrash_stillHolds(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (NodeJournal j = NodeJournal.open(home.resolve("journal.db"))) {
            launched(j);
            // The cancel was recorded; migm died before the attempt's process was stopped.
            j.append(new EngineRecord.CancelRequested(120, "1", "alice"));
        }
        try (NodeService s = start(home)) {
            assertThat(s.recoveryReport()).isNotEmpty();
            assertThat(awaitEnd(home, "1")).isEqualTo("cancelled");
            assertThat(DaemonProcess.rows(home, "SELECT reason FROM jobs WHERE id=1").getFirst().getFirst())
                    .isEqualTo("cancelled by alice");
        }
    }

    @Test
    void aServiceStoppedWhileItLaunches_costsNoJobAnAttempt(@TempDir Path dir) throws Exception {
        // Eight jobs arrive and the service stops 300 ms later, while it creates instances and launches
        // attempts. Once stopping it launches nothing, and it leaves the instances where they are: an
        // attempt launched a moment before, whose process has not opened its device yet, runs on (issue
        // 24: the shutdown destroyed its instance, the attempt failed "cannot read device" and the job
        // lost an attempt). After a restart every job completes in exactly one attempt.
        Path home = dir.resolve("home");
        StringBuilder batch = new StringBuilder("version: v1\njobs:\n");
        for (int i = 0; i < 8; i++) {
            batch.append("  - {name: j").append(i).append(", command: [work], memory: 3GiB, workload: {work: 20s, mem: 1GiB}}\n");
        }
        List<String> ids;
        try (NodeService s = start(home)) {
            ids = s.submit(System.getProperty("user.name"), "b.yaml", "/tmp", batch.toString());
            Thread.sleep(300);
        }
        try (NodeService s = start(home)) {
            assertThat(s.recoveryReport()).anyMatch(l -> l.startsWith("recovered "));
            for (String id : ids) assertThat(awaitEnd(home, id)).as("job " + id).isEqualTo("done");
            assertThat(DaemonProcess.rows(home, "SELECT job, number, outcome FROM attempts WHERE outcome <> 'completed'"))
                    .as("attempts that did not complete").isEmpty();
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM attempts")).isEqualTo(ids.size());
        }
    }

    @Test
    void theJournalsClock_neverGoesBack_acrossRestartsAtAnyTimeScale(@TempDir Path dir) throws Exception {
        // A daemon at 20 modelled seconds per second runs ahead of the wall clock; restarted at 1, then
        // at 20 again, it goes on from the journal's last time. Every time the journal keeps (its events,
        // the instances it made and destroyed, its submissions) only moves forward.
        Path home = dir.resolve("home");
        for (double scale : new double[] {20, 1, 20}) {
            EmulatedGpuBackend backend = new EmulatedGpuBackend(home.resolve("emulated"), List.of(A100), scale,
                    SimulatedGpuBackend.Latency.DEFAULT);
            try (NodeService s = NodeService.start(new NodeService.Settings(home, backend,
                    Launches.helperCommand("dev.migm.cli.Main"), "migm", scale))) {
                String id = s.submit(System.getProperty("user.name"), "a.yaml", "/tmp", """
                        version: v1
                        jobs:
                          - {name: a, command: [work], memory: 3GiB, workload: {work: 2s, mem: 1GiB}}
                        """).getFirst();
                assertThat(awaitEnd(home, id)).isEqualTo("done");
            }
            backend.close();
        }
        List<List<String>> events = DaemonProcess.rows(home, "SELECT seq, at FROM events ORDER BY seq");
        for (int i = 1; i < events.size(); i++) {
            assertThat(Double.parseDouble(events.get(i).get(1))).as("event " + events.get(i).getFirst())
                    .isGreaterThanOrEqualTo(Double.parseDouble(events.get(i - 1).get(1)));
        }
        assertThat(DaemonProcess.count(home, "SELECT count(*) FROM instances WHERE destroyed_at < created_at")).isZero();
        assertThat(DaemonProcess.count(home, "SELECT count(*) FROM submissions a JOIN submissions b ON b.id > a.id"
                + " WHERE b.at < a.at")).isZero();
    }
}
