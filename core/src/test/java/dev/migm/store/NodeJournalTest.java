package dev.migm.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.io.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class NodeJournalTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    private static JobSpec spec(String id) {
        return new JobSpec(id, 0, "app", JobClass.ML, OptionalLong.of(4096), Map.of(), false, OptionalDouble.empty(),
                JobSpec.Limits.NONE);
    }

    @Test
    void submitsAreDurable_andRecordsMoveJobsAttemptsHistoryAndInstances(@TempDir Path dir) {
        Path db = dir.resolve("journal.db");
        List<String> ids;
        Layout one = Layout.parse(A100, "3g.20gb@0");
        try (NodeJournal j = NodeJournal.open(db)) {
            ids = j.submit(10, "alice", "jobs.yaml", "/home/alice", "text", List.of(new NodeJournal.NewJob("a"),
                    new NodeJournal.NewJob("b")));
            assertThat(ids).containsExactly("1", "2");
            Slot slot = Slot.of(0, one.instances().getFirst());
            j.append(new EngineRecord.Submitted(10, spec("1")));
            j.append(new EngineRecord.ReconfigurationPlanned(11, 0, 1, Layout.parse(A100, "-"), one, 1, Optional.of("1")));
            assertThat(j.createdInstances(0)).as("planned instances are migm's before the GPU answers")
                    .containsExactly("3g.20gb@0");
            j.append(new EngineRecord.ReconfigurationApplied(11, 0, 1, one));
            // An instance another tool made is never taken for migm's.
            j.append(new EngineRecord.ReconfigurationApplied(11.5, 0, 9, Layout.parse(A100, "3g.20gb@0,1g.5gb@6")));
            assertThat(j.createdInstances(0)).containsExactly("3g.20gb@0");
            j.append(new EngineRecord.AttemptLaunched(12, "1", 1, slot, 0, java.util.OptionalLong.empty()));
            j.append(new EngineRecord.AttemptRunning(13, "1", 1));
            j.append(new EngineRecord.AttemptExited(20, "1", 1, new Outcome.OutOfMemory(20480, "CUDA out of memory", dev.migm.engine.Checkpoint.NONE)));
            j.append(new EngineRecord.Learned(20, "1", 1, "app", JobClass.ML, "oom", 20480, 20480));
            j.append(new EngineRecord.Learned(20, "1", 1, "app", JobClass.ML, "oom", 20480, 20480)); // a replay: once
            j.append(new EngineRecord.Failed(21, "1", "gave up"));
            j.append(new EngineRecord.ReconfigurationApplied(22, 0, 2, Layout.parse(A100, "-")));
        }
        // Reopened: everything committed is there.
        try (NodeJournal j = NodeJournal.open(db)) {
            assertThat(j.jobs(true)).extracting(NodeJournal.JobRow::name, NodeJournal.JobRow::user,
                    NodeJournal.JobRow::state).containsExactly(org.assertj.core.groups.Tuple.tuple("a", "alice", "failed"),
                    org.assertj.core.groups.Tuple.tuple("b", "alice", "submitted"));
            assertThat(j.jobs(false)).extracting(NodeJournal.JobRow::id).containsExactly("2");
            NodeJournal.AttemptRow a = j.attempts("1").getFirst();
            assertThat(a.instance()).isEqualTo("3g.20gb@0");
            assertThat(a.outcome()).isEqualTo("oom");
            assertThat(a.peakMib()).isEqualTo(20480);
            assertThat(a.endedAtS()).isEqualTo(20.0);
            assertThat(j.learned("app")).hasSize(1);
            // The history estimator's store after a restart: what the journal learned, once.
            JournalHistory history = new JournalHistory(j, 50);
            assertThat(history.observations("app")).singleElement().satisfies(o -> {
                assertThat(o.kind()).isEqualTo(dev.migm.estimate.HistoryStore.Kind.OOM);
                assertThat(o.mib()).isEqualTo(20480);
            });
            history.record("app", JobClass.ML, new dev.migm.estimate.HistoryStore.Observation(
                    dev.migm.estimate.HistoryStore.Kind.OOM, 20480, 20480, 0, "1", 1));
            assertThat(history.observations("app")).as("a replayed observation counts once").hasSize(1);
            assertThat(j.createdInstances(0)).isEmpty();
            assertThat(j.lastClockS()).isEqualTo(22.0);
            assertThat(j.submission(1).cwd()).isEqualTo("/home/alice");
        }
    }

    @Test
    void aPlanGivenUpForItsTimeOut_keepsWhatItWouldCreateAsMigms_untilItsLateAnswer(@TempDir Path dir) {
        // Plan 1 would create 3g.20gb@4 on an empty GPU; the GPU does not answer in time (the engine's
        // 60 s), so the engine records the failure with the layout it reads back (empty), then plans
        // and applies 1g.5gb@0 (plan 2). A stuck GPU may still carry plan 1 out after both read-backs:
        // if migm is killed between that and the late answer's record, the restart must find the
        // 3g.20gb@4 migm's (it destroys it when idle), not another tool's. Plan 3 fails for a refused
        // create (no time-out): what it would have made is not migm's.
        Layout empty = Layout.parse(A100, "-");
        Layout stuck = Layout.parse(A100, "3g.20gb@4");
        Layout small = Layout.parse(A100, "1g.5gb@0");
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            j.append(new EngineRecord.ReconfigurationPlanned(10, 0, 1, empty, stuck, 1, Optional.empty()));
            j.append(new EngineRecord.ReconfigurationFailed(70, 0, 1, EngineRecord.ReconfigurationFailed.TIMED_OUT
                    + "60.0 s", empty));
            j.append(new EngineRecord.ReconfigurationPlanned(71, 0, 2, empty, small, 1, Optional.empty()));
            j.append(new EngineRecord.ReconfigurationApplied(71, 0, 2, small));
            j.flush();
            assertThat(j.createdInstances(0)).containsExactlyInAnyOrder("3g.20gb@4", "1g.5gb@0");
            j.append(new EngineRecord.ReconfigurationPlanned(72, 1, 3, empty, stuck, 1, Optional.empty()));
            j.append(new EngineRecord.ReconfigurationFailed(72, 1, 3, "NVML_ERROR_INSUFFICIENT_RESOURCES", empty));
            j.flush();
            assertThat(j.createdInstances(1)).isEmpty();
        }
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            // Killed before the late answer: the reopened journal still counts it as migm's.
            assertThat(j.createdInstances(0)).containsExactlyInAnyOrder("3g.20gb@4", "1g.5gb@0");
            // The late answer says the GPU did not make it after all: no longer migm's.
            j.append(new EngineRecord.ReconfigurationAnsweredLate(100, 0, 1, empty, stuck,
                    Optional.of("NVML_ERROR_INSUFFICIENT_RESOURCES"), small, true));
            j.flush();
            assertThat(j.createdInstances(0)).containsExactly("1g.5gb@0");
        }
    }

    @Test
    void aLostGpusLayout_isNotReadAsInstancesGone_untilItAnswersAgain(@TempDir Path dir) {
        // gpu0 holds migm's 1g.5gb@0 and 3g.20gb@4. A plan to fuse them into 7g.40gb@0 is handed over,
        // the GPU falls off the bus, and the plan fails for it with a layout nobody read back (here the
        // plan's result, as the engine once recorded). The GPU never destroyed the two: they stay
        // migm's (a restart destroys them when idle), and the 7g.40gb@0 it might have made too. When
        // the GPU answers again with 1g.5gb@0 alone, that read-back settles it.
        Layout two = Layout.parse(A100, "1g.5gb@0,3g.20gb@4");
        Layout fused = Layout.parse(A100, "7g.40gb@0");
        Layout one = Layout.parse(A100, "1g.5gb@0");
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            j.append(new EngineRecord.ReconfigurationPlanned(10, 0, 1, Layout.parse(A100, "-"), two, 2, Optional.empty()));
            j.append(new EngineRecord.ReconfigurationApplied(11, 0, 1, two));
            j.append(new EngineRecord.ReconfigurationPlanned(20, 0, 2, two, fused, 3, Optional.empty()));
            j.append(new EngineRecord.GpuHealth(21, 0, true, "NVML_ERROR_GPU_IS_LOST", fused));
            j.append(new EngineRecord.ReconfigurationFailed(21, 0, 2, "GPU lost: NVML_ERROR_GPU_IS_LOST", fused));
            j.flush();
            assertThat(j.createdInstances(0)).containsExactlyInAnyOrder("1g.5gb@0", "3g.20gb@4", "7g.40gb@0");
        }
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            assertThat(j.createdInstances(0)).containsExactlyInAnyOrder("1g.5gb@0", "3g.20gb@4", "7g.40gb@0");
            j.append(new EngineRecord.GpuHealth(30, 0, false, "answers again", one));
            j.flush();
            assertThat(j.createdInstances(0)).containsExactly("1g.5gb@0");
        }
    }

    @Test
    void aJobsStopsForAWaitingJob_areReadBackByWhomTheyWereFor(@TempDir Path dir) {
        // Job 1's attempt 1 was stopped at its checkpoint for job 2; its attempt 2 was stopped for a
        // larger instance (no job named); job 2 was never stopped. A recovering daemon reads these
        // to keep the stops' bounds (once per job, never chained).
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            j.submit(10, "alice", "jobs.yaml", "/home/alice", "text", List.of(new NodeJournal.NewJob("a"),
                    new NodeJournal.NewJob("b")));
            Slot slot = Slot.of(0, Layout.parse(A100, "3g.20gb@0").instances().getFirst());
            j.append(new EngineRecord.AttemptLaunched(12, "1", 1, slot, 0, OptionalLong.empty()));
            j.append(new EngineRecord.StopRequested(30, "1", 1, "stopped at its checkpoint for 2", false,
                    Optional.of("2")));
            j.append(new EngineRecord.AttemptLaunched(40, "1", 2, slot, 0, OptionalLong.empty()));
            j.append(new EngineRecord.StopRequested(50, "1", 2, "moved to a larger instance", false, Optional.empty()));
        }
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            assertThat(j.yieldedFor("1")).containsExactly("2");
            assertThat(j.yieldedFor("2")).isEmpty();
        }
    }

    @Test
    void theApisReads_doNotWaitForTheWriter(@TempDir Path dir) throws Exception {
        // Issue 14's load: a queue listing held the one connection's lock while submits waited to
        // commit. Reads now go through a query-only connection: with the writer's lock held by another
        // thread (a long commit), they still answer, and see what was committed.
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            j.submit(1, "alice", "a.yaml", "/tmp", "text", List.of(new NodeJournal.NewJob("a")));
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Thread writer = Thread.ofPlatform().start(() -> {
                synchronized (j) {
                    held.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            held.await();
            try {
                var read = java.util.concurrent.CompletableFuture.supplyAsync(() -> j.jobs(true));
                assertThat(read.get(5, java.util.concurrent.TimeUnit.SECONDS)).extracting(NodeJournal.JobRow::name)
                        .containsExactly("a");
                assertThat(java.util.concurrent.CompletableFuture.supplyAsync(j::countsByState)
                        .get(5, java.util.concurrent.TimeUnit.SECONDS)).containsEntry("submitted", 1);
            } finally {
                release.countDown();
                writer.join();
            }
        }
    }

    @Test
    void aSubmitsCommit_carriesTheEnginesBufferedRecords(@TempDir Path dir) {
        // A record the engine does not act on waits up to MAX_PENDING_MS for a commit; the next
        // submit's transaction takes it along (one fsync for both), so it is durable when that submit
        // returns, with no flush in between.
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            j.submit(1, "alice", "a.yaml", "/tmp", "text", List.of(new NodeJournal.NewJob("a")));
            j.append(new EngineRecord.Submitted(1, spec("1")));
            assertThat(NodeJournal.actsOnTheWorld(new EngineRecord.Submitted(1, spec("1")))).isFalse();
            assertThat(j.events("1", 10)).as("buffered, not yet committed").isEmpty();
            j.submit(2, "alice", "b.yaml", "/tmp", "text", List.of(new NodeJournal.NewJob("b")));
            assertThat(j.events("1", 10)).hasSize(1).allSatisfy(e -> assertThat(e).contains("Submitted"));
        }
    }

    @Test
    void anOlderSchemaIsUpgradedInPlace_keepingItsJobs(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("journal.db");
        // A journal as the first schema wrote it (migration 1 only), with one job.
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db); var s = c.createStatement()) {
            for (String sql : NodeJournal.MIGRATIONS.getFirst()) s.execute(sql);
            s.execute("PRAGMA user_version=1");
            s.execute("INSERT INTO submissions (at, user, source, cwd, text) VALUES (1, 'bob', 'f.yaml', '/', 'x')");
            s.execute("INSERT INTO jobs (submission, idx, name, user, state, submitted_at) VALUES (1, 0, 'old', 'bob',"
                    + " 'queued', 1)");
        }
        try (NodeJournal j = NodeJournal.open(db)) {
            assertThat(j.openingNotes()).containsExactly("journal upgraded from schema 1 to " + NodeJournal.SCHEMA_VERSION);
            assertThat(j.jobs(false)).extracting(NodeJournal.JobRow::name).containsExactly("old");
            j.attemptProcess("1", 1, "MIG-x", 42); // a column of schema 2 works
            assertThat(j.drainedGpus()).isEmpty();
        }
    }

    @Test
    void aJournalOfSchema3_keepsItsEventsReadable_andWhoAskedForACancel(@TempDir Path dir) throws Exception {
        // Schema 3 kept each record as Java printed it (toString, cut at 4,000 characters) and recovery
        // found who asked for a cancel with a pattern over that text. Migration 4 takes that one field
        // into the record's JSON; the old texts stay as they are, readable by show.
        Path db = dir.resolve("journal.db");
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db); var s = c.createStatement()) {
            for (int v = 0; v < 3; v++) for (String sql : NodeJournal.MIGRATIONS.get(v)) s.execute(sql);
            s.execute("PRAGMA user_version=3");
            s.execute("INSERT INTO submissions (at, user, source, cwd, text) VALUES (1, 'bob', 'f.yaml', '/', 'x')");
            s.execute("INSERT INTO jobs (submission, idx, name, user, state, submitted_at) VALUES (1, 0, 'old', 'bob',"
                    + " 'running', 1)");
            s.execute("INSERT INTO events (at, kind, job, text) VALUES (1796597353.6, 'CancelRequested', '1',"
                    + " 'CancelRequested[atS=1.7965973536E9, jobId=1, by=carol]')");
        }
        try (NodeJournal j = NodeJournal.open(db)) {
            assertThat(j.openingNotes()).containsExactly("journal upgraded from schema 3 to " + NodeJournal.SCHEMA_VERSION);
            assertThat(j.cancelRequestedBy("1")).hasValue("carol");
            assertThat(j.events("1", 10)).singleElement().satisfies(e -> assertThat(e)
                    .isEqualTo("2026-12-06T22:49:13.600Z CancelRequested: CancelRequested[atS=1.7965973536E9, jobId=1,"
                            + " by=carol]"));
            // New records are typed JSON, read back by field, with their words and wall-clock time.
            j.append(new EngineRecord.CancelRequested(1796597400, "1", "dave"));
            j.flush();
            assertThat(j.cancelRequestedBy("1")).hasValue("dave");
            assertThat(j.events("1", 10).getLast()).endsWith("CancelRequested: 1: cancel asked by dave")
                    .matches("20\\d\\d-.*Z \\(modelled 2026-12-06T22:50:00.000Z\\) CancelRequested: .*");
        }
    }

    @Test
    void aNewerSchemaOrAForeignFileIsRefused_andLeftAsItIs(@TempDir Path dir) throws Exception {
        Path newer = dir.resolve("newer.db");
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + newer); var s = c.createStatement()) {
            s.execute("PRAGMA user_version=99");
        }
        assertThatThrownBy(() -> NodeJournal.open(newer)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("written by a newer migm (journal schema 99");
        Path foreign = dir.resolve("foreign.db");
        byte[] junk = "this is not a database, it is a text file that happens to be here\n".repeat(200).getBytes();
        Files.write(foreign, junk);
        assertThatThrownBy(() -> NodeJournal.open(foreign)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not a usable migm journal").hasMessageContaining("left as it is");
        assertThat(Files.readAllBytes(foreign)).isEqualTo(junk);
    }

    @Test
    void aTornLastWriteInTheLogIsIgnored_andNothingCommittedIsLost(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("journal.db");
        NodeJournal j = NodeJournal.open(db);
        for (int i = 0; i < 50; i++) {
            j.submit(i, "u", "f.yaml", "/", "t", List.of(new NodeJournal.NewJob("j" + i)));
        }
        // No checkpoint of the log into the database: the commits live in journal.db-wal, as after a
        // crash. Copy the files as a crash leaves them, then tear the log's tail: half a frame of junk
        // where the next commit was being written.
        Path crashed = dir.resolve("crashed");
        Files.createDirectories(crashed);
        for (String f : List.of("journal.db", "journal.db-wal")) {
            Files.copy(dir.resolve(f), crashed.resolve(f));
        }
        j.close();
        Path wal = crashed.resolve("journal.db-wal");
        assertThat(Files.size(wal)).as("the commits are in the log").isGreaterThan(4096);
        byte[] torn = new byte[2500];
        new java.util.Random(7).nextBytes(torn);
        Files.write(wal, torn, java.nio.file.StandardOpenOption.APPEND);
        try (NodeJournal reopened = NodeJournal.open(crashed.resolve("journal.db"))) {
            assertThat(reopened.jobs(true)).hasSize(50);
            assertThat(reopened.jobs(true).getLast().name()).isEqualTo("j49");
        }
    }

    @Test
    void whatAPlanCreatedAfterItsTimeOut_isMigms(@TempDir Path dir) {
        // A plan that creates 1g.5gb@6 times out (the GPU shows nothing yet): the instance stays
        // counted as migm's, for the GPU may still make it. The plan then answers late and the GPU has
        // it: it is migm's, so a restart destroys it when idle instead of leaving it as another tool's
        // (ChaosTest found one).
        Layout empty = Layout.parse(A100, "-");
        Layout one = Layout.parse(A100, "1g.5gb@6");
        try (NodeJournal j = NodeJournal.open(dir.resolve("journal.db"))) {
            j.append(new EngineRecord.ReconfigurationPlanned(1, 0, 1, empty, one, 1, Optional.empty()));
            j.append(new EngineRecord.ReconfigurationFailed(61, 0, 1, "no answer from the GPU in 60.0 s", empty));
            j.flush();
            assertThat(j.createdInstances(0)).containsExactly("1g.5gb@6");
            j.append(new EngineRecord.ReconfigurationAnsweredLate(91, 0, 1, empty, one, Optional.empty(), one, true));
            j.flush();
            assertThat(j.createdInstances(0)).containsExactly("1g.5gb@6");
        }
    }
}
