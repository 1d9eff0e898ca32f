package dev.migm.store;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.JobState;
import dev.migm.engine.JobStatus;
import dev.migm.engine.JobTransitions;
import dev.migm.engine.Journal;
import dev.migm.engine.Outcome;
import dev.migm.gpu.Instance;
import dev.migm.io.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The node service's durable journal: one SQLite database (sqlite-jdbc) in WAL mode with
 * {@code synchronous=FULL}, so that a transaction that returned is on disk. It keeps the jobs as
 * submitted (with their submitter), their attempts, every {@link EngineRecord} as an event, what the
 * estimators learned, the instances migm created and the GPUs an admin drained.
 *
 * <p>Contract: the engine appends a record before it acts on it, and {@link #append} commits a record
 * that acts on the world (and every record before it) before it returns, so every instance created
 * or destroyed, mode changed and process started or stopped is durable before it happens; records of
 * bookkeeping are group-committed within {@link #MAX_PENDING_MS} ms (see {@link #append});
 * {@link #submit} returns ids only once the jobs are committed. One connection writes, under this object's lock: the engine's thread
 * and the submits' committer take turns (SQLite has one writer anyway). The API's reads (the queue,
 * a job, its attempts and events, counts, what was learned) go through a second, query-only
 * connection under a lock of its own: in WAL mode a reader sees the last commit and neither waits
 * for the writer nor holds it up, so listing 80,000 jobs does not delay a submit's commit (issue 14's
 * load, BENCHMARKS section 19). A read made inside this object's lock (the
 * engine's recovery in {@link #inOneTransaction}) uses the writing connection and sees its own
 * uncommitted writes.
 *
 * <p>The schema is versioned ({@code PRAGMA user_version}) with ordered {@link #MIGRATIONS}: a
 * database of an older migm is upgraded in place, in one transaction; one of a newer migm is refused.
 */
public final class NodeJournal implements Journal, AutoCloseable {
    /** Schema migrations, oldest first: migration i brings the schema from version i to i+1. */
    static final List<List<String>> MIGRATIONS = List.of(
            // 1: jobs as submitted, their attempts, events, what the estimators learned
            List.of("""
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""", """
                    CREATE TABLE submissions (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,
                      user TEXT NOT NULL, source TEXT NOT NULL, cwd TEXT NOT NULL, text TEXT NOT NULL)""", """
                    CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, submission INTEGER NOT NULL
                      REFERENCES submissions(id), idx INTEGER NOT NULL, name TEXT NOT NULL, user TEXT NOT NULL,
                      state TEXT NOT NULL, submitted_at REAL NOT NULL, ended_at REAL, attempts INTEGER NOT NULL DEFAULT 0,
                      need_mib INTEGER NOT NULL DEFAULT 0, need_source TEXT NOT NULL DEFAULT '',
                      progress REAL NOT NULL DEFAULT 0, slot TEXT, reason TEXT NOT NULL DEFAULT '')""", """
                    CREATE INDEX jobs_state ON jobs(state)""", """
                    CREATE TABLE attempts (job INTEGER NOT NULL REFERENCES jobs(id), number INTEGER NOT NULL,
                      gpu INTEGER NOT NULL, instance TEXT, launched_at REAL NOT NULL, start_progress REAL NOT NULL,
                      running_at REAL, ended_at REAL, outcome TEXT, detail TEXT, peak_mib INTEGER,
                      PRIMARY KEY (job, number))""", """
                    CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL,
                      job TEXT, text TEXT NOT NULL)""", """
                    CREATE TABLE history (job TEXT NOT NULL, attempt INTEGER NOT NULL, what TEXT NOT NULL,
                      app TEXT NOT NULL, class TEXT NOT NULL, mib INTEGER NOT NULL, slot_mib INTEGER NOT NULL,
                      at REAL NOT NULL, PRIMARY KEY (job, attempt, what))""", """
                    CREATE INDEX history_app ON history(app)"""),
            // 2: the process identity and device of attempts, the instances migm created, drained GPUs
            List.of("""
                    ALTER TABLE attempts ADD COLUMN device TEXT""", """
                    ALTER TABLE attempts ADD COLUMN supervisor_pid INTEGER""", """
                    ALTER TABLE attempts ADD COLUMN energy_j REAL""", """
                    CREATE TABLE instances (gpu INTEGER NOT NULL, instance TEXT NOT NULL, created_at REAL NOT NULL,
                      destroyed_at REAL)""", """
                    CREATE INDEX instances_live ON instances(gpu, instance) WHERE destroyed_at IS NULL""", """
                    CREATE TABLE gpus (gpu INTEGER PRIMARY KEY, drained INTEGER NOT NULL DEFAULT 0,
                      lost INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '')"""),
            // 3: a job's events found without a scan (show, and the cancels a restart carries over)
            List.of("""
                    CREATE INDEX events_job ON events(job, kind)"""),
            // 4: each engine record as typed JSON (RecordCodec, read back by field) beside its words, and
            // the wall-clock time it was written. An older event keeps its text (Java's printing of the
            // record); the one field a restart reads of old events, who asked for a cancel, is taken
            // from it into JSON here.
            List.of("""
                    ALTER TABLE events ADD COLUMN record TEXT""", """
                    ALTER TABLE events ADD COLUMN wall_at REAL""", """
                    UPDATE events SET record = json_object('v', 1, 'type', 'CancelRequested', 'at_s', at, 'job_id', job,
                      'by', substr(text, instr(text, 'by=') + 3, length(text) - instr(text, 'by=') - 3))
                    WHERE kind = 'CancelRequested' AND record IS NULL AND instr(text, 'by=') > 0"""),
            // 5: the completed attempts of `migm run` (its jobs live in the run's directory, not in this
            // journal's jobs), so that what its runs took is history for the next run and `migm history`
            List.of("""
                    CREATE TABLE run_times (job TEXT NOT NULL, attempt INTEGER NOT NULL, app TEXT NOT NULL,
                      class TEXT NOT NULL, gpu INTEGER NOT NULL, instance TEXT, run_s REAL NOT NULL,
                      start_progress REAL NOT NULL, at REAL NOT NULL, sms INTEGER NOT NULL, sm_full INTEGER NOT NULL,
                      PRIMARY KEY (job, attempt))""", """
                    CREATE INDEX run_times_app ON run_times(app)"""));

    /** The schema version this migm writes. */
    public static final int SCHEMA_VERSION = MIGRATIONS.size();

    private static final Set<String> ENDED = Set.of("done", "failed", "cancelled");

    private final Path file;
    private final Connection db;
    /** The query-only connection of the API's reads, opened once the schema is current. */
    private Connection reader;
    private final Object readerLock = new Object();
    private final List<String> openingNotes = new ArrayList<>();
    /** Instances migm created and has not destroyed, by GPU (mirrors the instances table). */
    private final Map<Integer, Set<String>> liveInstances = new LinkedHashMap<>();
    /** What each plan handed to the GPU and not yet answered would create, by ticket (this process's plans). */
    private final Map<Long, Set<String>> inFlight = new HashMap<>();

    /** Instances a timed-out plan would create on a GPU. */
    private record LateInstances(int gpu, Set<String> instances) {
    }

    /**
     * Plans given up for their time-out whose late answer has not come, by ticket: the GPU may still
     * carry them out (models.md's stuck operation), after the layouts read back meanwhile, so what they
     * would create stays migm's until the answer says what the GPU has ({@code
     * ReconfigurationAnsweredLate}). If migm dies first, the restart finds such instances its own and
     * destroys them when idle, or records them destroyed when they are not there ({@link #instancesNowAre});
     * without this a plan carried out after its time-out and before a kill left instances the restart
     * took for another tool's.
     */
    private final Map<Long, LateInstances> awaitingLateAnswer = new HashMap<>();

    /**
     * GPUs lost ({@link EngineRecord.GpuHealth}) and not answering again: nothing is read back from
     * them (NVML's {@code GPU_IS_LOST}), so a layout recorded meanwhile is the engine's belief, not the
     * GPU's, and is not taken as a sign that migm's instances there are gone; the read-back when the
     * GPU answers again settles them. Without this, a plan failing for its GPU's loss recorded its
     * result as the layout, the instances it would have replaced were counted destroyed, and the next
     * restart took them, still on the GPU, for another tool's (a ChaosTest finding).
     */
    private final Set<Integer> lostGpus = new HashSet<>();

    private NodeJournal(Path file, Connection db) {
        this.file = file;
        this.db = db;
    }

    /**
     * Opens (creating if needed) the journal at {@code file}, checks it and brings its schema up to
     * date. A database that is not SQLite, is damaged, or comes from a newer migm is refused with
     * one line naming the file; it is left as it is.
     */
    public static NodeJournal open(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            // The journal keeps every submission as sent (a job's env: included): its owner's alone.
            // SQLite gives the WAL and shared-memory files it creates the database file's mode.
            if (!Files.exists(file)) {
                Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            }
            for (String suffix : List.of("", "-wal", "-shm")) {
                Path f = file.resolveSibling(file.getFileName() + suffix);
                if (Files.exists(f)) {
                    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                }
            }
        } catch (java.io.IOException e) {
            throw new InvalidInputException(file + ": cannot prepare the journal (" + e.getMessage() + ")");
        }
        Connection c;
        try {
            c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        } catch (SQLException e) {
            throw new InvalidInputException(file + ": cannot open the journal: " + e.getMessage());
        }
        NodeJournal j = new NodeJournal(file, c);
        try {
            j.prepare();
            j.reader = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = j.reader.createStatement()) {
                s.execute("PRAGMA busy_timeout=10000");
                s.execute("PRAGMA query_only=1");
            }
        } catch (SQLException e) {
            try {
                c.close();
                if (j.reader != null) j.reader.close();
            } catch (SQLException ignored) {
                // reported below
            }
            throw new InvalidInputException(file + ": not a usable migm journal (" + oneLine(e.getMessage())
                    + "); it was left as it is");
        } catch (InvalidInputException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // reported by e
            }
            throw e;
        }
        return j;
    }

    private void prepare() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA busy_timeout=10000");
            try (ResultSet r = s.executeQuery("PRAGMA journal_mode=WAL")) {
                r.next();
                if (!r.getString(1).equalsIgnoreCase("wal")) {
                    throw new SQLException("WAL mode refused (" + r.getString(1) + ")");
                }
            }
            s.execute("PRAGMA synchronous=FULL");
            s.execute("PRAGMA foreign_keys=ON");
            try (ResultSet r = s.executeQuery("PRAGMA quick_check")) {
                r.next();
                if (!"ok".equals(r.getString(1))) {
                    throw new SQLException("integrity check failed: " + r.getString(1));
                }
            }
            int version;
            try (ResultSet r = s.executeQuery("PRAGMA user_version")) {
                r.next();
                version = r.getInt(1);
            }
            if (version > SCHEMA_VERSION) {
                throw new InvalidInputException(file + ": written by a newer migm (journal schema " + version
                        + ", this migm knows up to " + SCHEMA_VERSION + "); upgrade migm or move the file aside");
            }
            if (version < SCHEMA_VERSION) {
                db.setAutoCommit(false);
                try {
                    for (int v = version; v < SCHEMA_VERSION; v++) {
                        for (String sql : MIGRATIONS.get(v)) s.execute(sql);
                    }
                    s.execute("PRAGMA user_version=" + SCHEMA_VERSION);
                    db.commit();
                } catch (SQLException e) {
                    db.rollback();
                    throw e;
                } finally {
                    db.setAutoCommit(true);
                }
                if (version > 0) {
                    openingNotes.add("journal upgraded from schema " + version + " to " + SCHEMA_VERSION);
                }
            }
        }
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT gpu, instance FROM instances WHERE destroyed_at IS NULL")) {
            while (r.next()) liveInstances.computeIfAbsent(r.getInt(1), g -> new HashSet<>()).add(r.getString(2));
        }
    }

    /** What opening found worth telling (an upgrade). */
    public List<String> openingNotes() {
        return List.copyOf(openingNotes);
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    // ------------------------------------------------------------------ submits

    /** One job of a submit: its name as the file gives it. */
    public record NewJob(String name) {
    }

    /** A submit waiting for the next group commit. */
    private record PendingSubmit(double atS, String user, String source, String cwd, String text, List<NewJob> jobs,
                                 java.util.concurrent.CompletableFuture<List<String>> ids) {
    }

    /** Submits waiting for the committer. */
    private final java.util.concurrent.LinkedBlockingQueue<PendingSubmit> waitingSubmits =
            new java.util.concurrent.LinkedBlockingQueue<>();
    /** The one thread that commits submits, started with the first. */
    private Thread committer;

    /**
     * Stores a submission (the file's text as sent, who sent it and from where) and its jobs; returns
     * the jobs' ids once committed. Group commit: one thread commits every submit waiting when it
     * starts a transaction, in one transaction (one fsync for many submits under load; each submit
     * alone when the node is quiet); callers wait parked, not spinning on the journal's lock. Each
     * submit is durable when its caller returns; a failed commit fails every submit in it, and none
     * of them is stored.
     */
    public List<String> submit(double atS, String user, String source, String cwd, String text, List<NewJob> jobs) {
        PendingSubmit mine = new PendingSubmit(atS, user, source, cwd, text, jobs,
                new java.util.concurrent.CompletableFuture<>());
        synchronized (waitingSubmits) {
            if (committer == null) {
                committer = Thread.ofPlatform().daemon().name("journal-submits").start(this::commitSubmits);
            }
        }
        waitingSubmits.add(mine);
        try {
            return mine.ids().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JournalException(file + ": interrupted while the submit was committed", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new JournalException(file + ": " + e.getCause(), e);
        }
    }

    private void commitSubmits() {
        List<PendingSubmit> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(waitingSubmits.take());
            } catch (InterruptedException e) {
                return;
            }
            waitingSubmits.drainTo(batch);
            List<List<String>> ids = new ArrayList<>();
            List<EngineRecord> records = List.of();
            try {
                synchronized (this) {
                    // The engine's buffered records ride along (they concern jobs already committed):
                    // one transaction, one fsync, where there would be two waiting on each other.
                    records = takePendingRecords();
                    List<EngineRecord> carried = records;
                    transaction(() -> {
                        write(carried);
                        for (PendingSubmit p : batch) ids.add(insertSubmission(p));
                        return null;
                    });
                }
                for (int i = 0; i < batch.size(); i++) batch.get(i).ids().complete(ids.get(i));
            } catch (RuntimeException e) {
                returnPendingRecords(records);
                for (PendingSubmit p : batch) p.ids().completeExceptionally(e);
            }
            batch.clear();
        }
    }

    private List<String> insertSubmission(PendingSubmit s) throws SQLException {
        PreparedStatement insert = prepared("INSERT INTO submissions (at, user, source, cwd, text) VALUES (?,?,?,?,?)",
                Statement.RETURN_GENERATED_KEYS);
        insert.setDouble(1, s.atS());
        insert.setString(2, s.user());
        insert.setString(3, s.source());
        insert.setString(4, s.cwd());
        insert.setString(5, s.text());
        insert.executeUpdate();
        long submission = generated(insert);
        List<String> ids = new ArrayList<>();
        PreparedStatement job = prepared("INSERT INTO jobs (submission, idx, name, user, state, submitted_at)"
                + " VALUES (?,?,?,?,'submitted',?)", Statement.RETURN_GENERATED_KEYS);
        for (int i = 0; i < s.jobs().size(); i++) {
            job.setLong(1, submission);
            job.setInt(2, i);
            job.setString(3, s.jobs().get(i).name());
            job.setString(4, s.user());
            job.setDouble(5, s.atS());
            job.executeUpdate();
            ids.add(Long.toString(generated(job)));
        }
        return ids;
    }

    private static long generated(PreparedStatement p) throws SQLException {
        try (ResultSet k = p.getGeneratedKeys()) {
            k.next();
            return k.getLong(1);
        }
    }

    // ------------------------------------------------------------------ the engine's records

    /** Records appended and not yet committed, oldest first; its own lock, so appending never waits for a commit. */
    private final List<EngineRecord> pendingRecords = new ArrayList<>();
    /** When the oldest pending record was appended ({@code System.nanoTime()}). */
    private long oldestPendingNanos;
    /** A record waits at most this long for the next commit. */
    public static final long MAX_PENDING_MS = 20;
    /** And at most this many records wait. */
    static final int MAX_PENDING = 512;

    /**
     * Appends an engine record. Write-ahead by group commit: a record after which the engine acts on
     * the world (it creates or destroys instances, changes a MIG mode, starts or stops a process:
     * {@link #actsOnTheWorld}) is committed, with every record before it, before the engine goes on;
     * the others (a submit taken in, a job queued, an attempt seen running or ended) wait, for at most
     * {@link #MAX_PENDING_MS} ms or {@link #MAX_PENDING} records, and are committed together (by the
     * next such record, or the service's ticker calling {@link #flush}). A crash loses at most such a
     * tail of bookkeeping, which is what a crash a moment earlier would have left: recovery reads what
     * it needs again from the supervisors' files and the GPUs (the submits themselves are durable when
     * acknowledged). Under load this is one fsync per burst instead of two per job, and the engine
     * does not wait for the submits' commits.
     */
    @Override
    public void append(EngineRecord record) {
        synchronized (this) {
            if (outer > 0) {
                transaction(() -> {
                    write(List.of(record));
                    return null;
                });
                return;
            }
        }
        // Whether the record acts on the world is settled before the clock is read: the age of the
        // oldest record waiting is what may force a commit, never the time this test takes.
        boolean acts = actsOnTheWorld(record);
        boolean now;
        synchronized (pendingRecords) {
            long nowNanos = System.nanoTime();
            if (pendingRecords.isEmpty()) oldestPendingNanos = nowNanos;
            pendingRecords.add(record);
            now = acts || pendingRecords.size() >= MAX_PENDING || nowNanos - oldestPendingNanos >= MAX_PENDING_MS * 1_000_000;
        }
        if (now) flush();
    }

    /** Commits the records appended and not yet committed, in order (the service's ticker calls it too). */
    public synchronized void flush() {
        List<EngineRecord> batch = takePendingRecords();
        if (batch.isEmpty()) return;
        transaction(() -> {
            write(batch);
            return null;
        });
    }

    private List<EngineRecord> takePendingRecords() {
        synchronized (pendingRecords) {
            if (pendingRecords.isEmpty()) return List.of();
            List<EngineRecord> batch = List.copyOf(pendingRecords);
            pendingRecords.clear();
            return batch;
        }
    }

    /** Puts back, in front and in order, records a failed commit took: the next flush tries them again. */
    private void returnPendingRecords(List<EngineRecord> records) {
        if (records.isEmpty()) return;
        synchronized (pendingRecords) {
            pendingRecords.addAll(0, records);
            oldestPendingNanos = System.nanoTime();
        }
    }

    /** Whether the engine acts outside the journal right after appending this record. */
    static boolean actsOnTheWorld(EngineRecord record) {
        return switch (record) {
            case EngineRecord.ReconfigurationPlanned _, EngineRecord.MigModeChangeRequested _,
                 EngineRecord.AttemptLaunched _, EngineRecord.StopRequested _ -> true;
            default -> false;
        };
    }

    private void write(List<EngineRecord> records) throws SQLException {
        if (records.isEmpty()) return;
        double latest = Double.NEGATIVE_INFINITY;
        for (EngineRecord record : records) {
            apply(record);
            PreparedStatement p = prepared("INSERT INTO events (at, kind, job, text, record, wall_at) VALUES (?,?,?,?,?,?)",
                    Statement.NO_GENERATED_KEYS);
            p.setDouble(1, record.atS());
            p.setString(2, record.getClass().getSimpleName());
            p.setString(3, JobTransitions.jobOf(record));
            String text = dev.migm.engine.RecordText.describe(record);
            p.setString(4, text.length() > 4000 ? text.substring(0, 3997) + "..." : text);
            p.setString(5, RecordCodec.encode(record));
            p.setDouble(6, System.currentTimeMillis() / 1000.0);
            p.executeUpdate();
            latest = Math.max(latest, record.atS());
        }
        update("INSERT INTO meta (key, value) VALUES ('clock_s', ?) ON CONFLICT(key) DO UPDATE SET value ="
                + " max(CAST(value AS REAL), CAST(excluded.value AS REAL))", Double.toString(latest));
    }

    /**
     * The open jobs' statuses as their rows hold them, kept so that a record's move
     * ({@link JobTransitions}) needs no read of the row first; a job's entry goes when it ends.
     */
    private final Map<String, JobStatus> statuses = new java.util.HashMap<>();

    /** A job's status as its row holds it (the cache, else the row). */
    private JobStatus status(String jobId) throws SQLException {
        JobStatus s = statuses.get(jobId);
        if (s != null) return s;
        PreparedStatement p = prepared("SELECT state, attempts, need_mib, need_source, progress, slot, reason FROM jobs"
                + " WHERE id=?", Statement.NO_GENERATED_KEYS);
        p.setString(1, jobId);
        try (ResultSet r = p.executeQuery()) {
            if (!r.next()) return null;
            return new JobStatus(JobState.ofLabel(r.getString(1)), r.getInt(2), r.getLong(3), r.getString(4),
                    r.getDouble(5), Optional.ofNullable(r.getString(6)), r.getString(7));
        }
    }

    /**
     * Applies a record to the tables: a job's row moves through {@link JobTransitions}, the table the
     * engine and its replay use (the row's columns are a {@link JobStatus}, plus when it ended); the
     * attempts, history, instances and GPUs tables keep what the record says of them.
     */
    private void apply(EngineRecord record) throws SQLException {
        if (JobTransitions.moves(record)) {
            String id = JobTransitions.jobOf(record);
            JobStatus before = status(id);
            if (before != null) {
                JobStatus after = JobTransitions.apply(before, record);
                boolean ends = after.state().ended() && !before.state().ended();
                update("UPDATE jobs SET state=?, attempts=?, need_mib=?, need_source=?, progress=?, slot=?, reason=?,"
                                + " ended_at=coalesce(?, ended_at) WHERE id=?", after.state().label(), after.attempts(),
                        after.needMib(), after.needSource(), after.progress(), after.slot().orElse(null),
                        after.lastReason(), ends ? record.atS() : null, id);
                if (after.state().ended()) statuses.remove(id);
                else statuses.put(id, after);
            }
        }
        switch (record) {
            case EngineRecord.AttemptLaunched l -> update("INSERT OR REPLACE INTO attempts (job, number, gpu, instance,"
                            + " launched_at, start_progress) VALUES (?,?,?,?,?,?)", l.jobId(), l.attempt(), l.slot().gpu(),
                    l.slot().instance().map(Instance::toString).orElse(null), l.atS(), l.startProgress());
            case EngineRecord.AttemptRunning a -> update("UPDATE attempts SET running_at=? WHERE job=? AND number=?",
                    a.atS(), a.jobId(), a.attempt());
            case EngineRecord.AttemptExited x -> {
                String kind = outcomeKind(x.outcome());
                String detail = switch (x.outcome()) {
                    case Outcome.Completed c -> "";
                    case Outcome.OutOfMemory o -> o.evidence();
                    case Outcome.Stopped s -> s.why();
                    case Outcome.Crashed c -> c.reason();
                    case Outcome.CannotStart c -> c.reason();
                };
                Long peak = switch (x.outcome()) {
                    case Outcome.Completed c -> c.peakSampledMib() > 0 ? c.peakSampledMib() : null;
                    case Outcome.OutOfMemory o -> o.usedMib();
                    default -> null;
                };
                update("UPDATE attempts SET ended_at=?, outcome=?, detail=?, peak_mib=coalesce(?, peak_mib)"
                        + " WHERE job=? AND number=?", x.atS(), kind, detail, peak, x.jobId(), x.attempt());
            }
            case EngineRecord.Learned l -> update("INSERT OR IGNORE INTO history (job, attempt, what, app, class, mib,"
                            + " slot_mib, at) VALUES (?,?,?,?,?,?,?,?)", l.jobId(), l.attempt(), l.what(), l.app(),
                    l.jobClass().name(), l.mib(), l.slotMib(), l.atS());
            case EngineRecord.ReconfigurationPlanned p -> {
                Set<String> creates = creates(p.base(), p.result());
                planned(p.gpu(), creates, p.atS());
                inFlight.put(p.ticket(), creates);
            }
            case EngineRecord.ReconfigurationApplied a -> {
                inFlight.remove(a.ticket());
                instances(a.gpu(), a.layout(), a.atS());
            }
            case EngineRecord.ReconfigurationFailed f -> {
                Set<String> creates = inFlight.remove(f.ticket());
                if (f.timedOut() && creates != null && !creates.isEmpty()) {
                    awaitingLateAnswer.put(f.ticket(), new LateInstances(f.gpu(), creates));
                }
                instances(f.gpu(), f.layout(), f.atS());
            }
            case EngineRecord.ReconfigurationAnsweredLate l -> {
                // What the late plan created is migm's: planned again, then kept only if the GPU has it.
                awaitingLateAnswer.remove(l.ticket());
                planned(l.gpu(), creates(l.base(), l.result()), l.atS());
                instances(l.gpu(), l.layout(), l.atS());
            }
            case EngineRecord.MigModeChangeEnded m -> instances(m.gpu(), m.layout(), m.atS());
            case EngineRecord.GpuDrain d -> update("INSERT INTO gpus (gpu, drained) VALUES (?,?) ON CONFLICT(gpu)"
                    + " DO UPDATE SET drained=excluded.drained", d.gpu(), d.drain() ? 1 : 0);
            case EngineRecord.GpuHealth h -> {
                update("INSERT INTO gpus (gpu, lost, reason) VALUES (?,?,?) ON CONFLICT(gpu)"
                        + " DO UPDATE SET lost=excluded.lost, reason=excluded.reason", h.gpu(), h.lost() ? 1 : 0, h.reason());
                if (h.lost()) {
                    lostGpus.add(h.gpu());
                } else {
                    lostGpus.remove(h.gpu());
                    instances(h.gpu(), h.layout(), h.atS());
                }
            }
            default -> {
            }
        }
    }

    /**
     * Brings the instances table to what a GPU has after migm changed it: instances migm created (or
     * planned, {@link #planned}) that are not there any more are destroyed. An instance migm did not
     * plan is never in the table (another tool's), so it is never destroyed on migm's behalf.
     */
    private void instances(int gpu, dev.migm.gpu.Layout layout, double atS) throws SQLException {
        if (lostGpus.contains(gpu)) return;
        Set<String> now = new HashSet<>();
        layout.instances().forEach(i -> now.add(i.toString()));
        for (LateInstances late : awaitingLateAnswer.values()) {
            if (late.gpu() == gpu) now.addAll(late.instances());
        }
        Set<String> before = liveInstances.computeIfAbsent(gpu, g -> new HashSet<>());
        for (String gone : List.copyOf(before)) {
            if (!now.contains(gone)) {
                update("UPDATE instances SET destroyed_at=? WHERE gpu=? AND instance=? AND destroyed_at IS NULL", atS,
                        gpu, gone);
                before.remove(gone);
            }
        }
    }

    /** The instances {@code result} has that {@code base} has not, as {@code profile@start}. */
    private static Set<String> creates(dev.migm.gpu.Layout base, dev.migm.gpu.Layout result) {
        Set<String> out = new HashSet<>();
        for (Instance i : result.instances()) if (!base.instances().contains(i)) out.add(i.toString());
        return out;
    }

    /**
     * Instances a plan will create count as migm's from the moment it is handed to the GPU: a migm
     * that dies before the answer finds them on restart and knows they are its own (not another
     * tool's), so it can destroy them when idle instead of leaking them.
     */
    private void planned(int gpu, Set<String> creates, double atS) throws SQLException {
        Set<String> live = liveInstances.computeIfAbsent(gpu, g -> new HashSet<>());
        for (String i : creates) {
            if (live.add(i)) {
                update("INSERT INTO instances (gpu, instance, created_at) VALUES (?,?,?)", gpu, i, atS);
            }
        }
    }

    /**
     * Records instances migm created that are no longer there (a reboot, a plan cut short, idle ones
     * it destroyed itself at start) as destroyed.
     */
    public synchronized void instancesNowAre(int gpu, dev.migm.gpu.Layout layout, double atS) {
        transaction(() -> {
            instances(gpu, layout, atS);
            return null;
        });
    }

    /** The instances migm created on a GPU and has not destroyed, as {@code profile@start}. */
    public synchronized Set<String> createdInstances(int gpu) {
        return Set.copyOf(liveInstances.getOrDefault(gpu, Set.of()));
    }

    /** Where an attempt runs and who supervises it (known once launched). */
    public synchronized void attemptProcess(String jobId, int attempt, String device, long supervisorPid) {
        transaction(() -> {
            update("UPDATE attempts SET device=?, supervisor_pid=? WHERE job=? AND number=?", device, supervisorPid,
                    jobId, attempt);
            return null;
        });
    }

    /** Adds board energy attributed to attempts, keyed {@code jobId/attempt} (one transaction). */
    public synchronized void addAttemptEnergy(Map<String, Double> joulesByAttempt) {
        if (joulesByAttempt.isEmpty()) return;
        transaction(() -> {
            for (var e : joulesByAttempt.entrySet()) {
                String[] k = e.getKey().split("/");
                update("UPDATE attempts SET energy_j=coalesce(energy_j, 0) + ? WHERE job=? AND number=?", e.getValue(),
                        k[0], Integer.parseInt(k[1]));
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ reading

    /** A job's row. */
    public record JobRow(String id, String name, String user, String state, double submittedAtS, Double endedAtS,
                         int attempts, long needMib, String needSource, double progress, String slot, String reason,
                         long submission, int index) {
        public boolean ended() {
            return ENDED.contains(state);
        }
    }

    /** How an attempt's outcome is written in the {@code attempts} table. */
    static String outcomeKind(Outcome outcome) {
        return switch (outcome) {
            case Outcome.Completed c -> "completed";
            case Outcome.OutOfMemory o -> "oom";
            case Outcome.Stopped s -> "stopped";
            case Outcome.Crashed c -> "crashed";
            case Outcome.CannotStart c -> "cannot-start";
        };
    }

    /** An attempt's row; {@code endedAtS} null while it runs (or when migm stopped before it ended). */
    public record AttemptRow(String jobId, int number, int gpu, String instance, double launchedAtS,
                             double startProgress, Double runningAtS, Double endedAtS, String outcome, String detail,
                             Long peakMib, String device, Long supervisorPid, Double energyJ) {
        /**
         * The outcome as it was recorded ({@link #outcomeKind}, the detail and the peak), to hand to
         * the engine again, with the job's checkpoint as it is now.
         */
        public Outcome recordedOutcome(dev.migm.engine.Checkpoint checkpoint) {
            long peak = peakMib == null ? 0 : peakMib;
            String why = detail == null ? "" : detail;
            return switch (outcome == null ? "" : outcome) {
                case "completed" -> new Outcome.Completed(peak, 0);
                case "oom" -> new Outcome.OutOfMemory(peak, why, checkpoint);
                case "stopped" -> new Outcome.Stopped(why, checkpoint);
                case "cannot-start" -> new Outcome.CannotStart(why);
                default -> new Outcome.Crashed(why.isEmpty() ? "ended while migm stopped" : why);
            };
        }
    }

    /** A submission as it was sent. */
    public record Submission(long id, String user, String source, String cwd, String text) {
    }

    /** What the estimators learned from one attempt. */
    public record Learned(String jobId, int attempt, String what, String app, String jobClass, long mib,
                          long slotMib, double atS) {
    }

    public List<JobRow> jobs(boolean includeEnded) {
        return read("SELECT id, name, user, state, submitted_at, ended_at, attempts, need_mib, need_source, progress,"
                + " slot, reason, submission, idx FROM jobs" + (includeEnded ? "" : " WHERE state NOT IN"
                + " ('done','failed','cancelled')") + " ORDER BY id", NodeJournal::jobRow);
    }

    /** A job's line for the live view: its row, the highest peak and the energy of its attempts. */
    public record JobSummary(JobRow job, long peakMib, double energyJ) {
    }

    /**
     * Jobs not ended and those that ended at or after {@code sinceS}, the newest {@code limit} of
     * them, with their attempts' highest peak and total energy (the live view's table).
     */
    public List<JobSummary> recentJobs(double sinceS, int limit) {
        List<JobSummary> rows = read("SELECT j.id, j.name, j.user, j.state, j.submitted_at, j.ended_at, j.attempts,"
                + " j.need_mib, j.need_source, j.progress, j.slot, j.reason, j.submission, j.idx,"
                + " (SELECT max(peak_mib) FROM attempts a WHERE a.job = j.id),"
                + " (SELECT total(energy_j) FROM attempts a WHERE a.job = j.id)"
                + " FROM jobs j WHERE j.state NOT IN ('done','failed','cancelled') OR j.ended_at >= ?"
                + " ORDER BY j.id DESC LIMIT ?", r -> new JobSummary(jobRow(r), r.getLong(15), r.getDouble(16)),
                sinceS, limit);
        java.util.Collections.reverse(rows);
        return rows;
    }

    public Optional<JobRow> job(String id) {
        return read("SELECT id, name, user, state, submitted_at, ended_at, attempts, need_mib, need_source, progress,"
                + " slot, reason, submission, idx FROM jobs WHERE id=?", NodeJournal::jobRow, id).stream().findFirst();
    }

    private static JobRow jobRow(ResultSet r) throws SQLException {
        double ended = r.getDouble(6);
        Double endedAt = r.wasNull() ? null : ended;
        return new JobRow(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getDouble(5), endedAt,
                r.getInt(7), r.getLong(8), r.getString(9), r.getDouble(10), r.getString(11), r.getString(12),
                r.getLong(13), r.getInt(14));
    }

    public List<AttemptRow> attempts(String jobId) {
        return read("SELECT job, number, gpu, instance, launched_at, start_progress, running_at, ended_at, outcome,"
                + " detail, peak_mib, device, supervisor_pid, energy_j FROM attempts WHERE job=? ORDER BY number", r -> {
                    return new AttemptRow(r.getString(1), r.getInt(2), r.getInt(3), r.getString(4), r.getDouble(5),
                            r.getDouble(6), nullable(r, 7), nullable(r, 8), r.getString(9), r.getString(10),
                            r.getObject(11) == null ? null : r.getLong(11), r.getString(12),
                            r.getObject(13) == null ? null : r.getLong(13), nullable(r, 14));
                }, jobId);
    }

    private static Double nullable(ResultSet r, int column) throws SQLException {
        double v = r.getDouble(column);
        return r.wasNull() ? null : v;
    }

    public Submission submission(long id) {
        return read("SELECT id, user, source, cwd, text FROM submissions WHERE id=?", r -> new Submission(r.getLong(1),
                r.getString(2), r.getString(3), r.getString(4), r.getString(5)), id).getFirst();
    }

    /** What the estimators learned, oldest first; of one application, or of all when {@code app} is null. */
    public List<Learned> learned(String app) {
        return read("SELECT job, attempt, what, app, class, mib, slot_mib, at FROM history"
                        + (app == null ? "" : " WHERE app=?") + " ORDER BY at, rowid",
                r -> new Learned(r.getString(1), r.getInt(2), r.getString(3), r.getString(4), r.getString(5),
                        r.getLong(6), r.getLong(7), r.getDouble(8)), app == null ? new Object[0] : new Object[] {app});
    }

    /**
     * A completed attempt of an application, as the run-time estimate learns from it: its GPU and
     * instance ({@code null}: the whole GPU), the time it ran (from its process's report to its
     * exit, on the journal's clock) and the share of its job's work it started from; the instance's SMs
     * and its GPU's ({@code 0}: not recorded, the node service's own attempts, read with its GPU models).
     */
    public record CompletedRun(String jobId, int attempt, String app, String jobClass, int gpu, String instance,
                               double runS, double startProgress, int sms, int smFull) {
    }

    /**
     * The completed attempts the estimators learned from, oldest first; of one application, or of
     * all when {@code app} is null: what history knows of run times, durable with the peaks.
     */
    public List<CompletedRun> completedRuns(String app) {
        return read("SELECT job, attempt, app, class, gpu, instance, run_s, start_progress, sms, sm_full FROM ("
                        + "SELECT h.job, h.attempt, h.app, h.class, a.gpu, a.instance, a.ended_at - a.running_at AS run_s,"
                        + " a.start_progress, a.ended_at AS at, 0 AS sms, 0 AS sm_full FROM history h JOIN attempts a ON a.job = h.job"
                        + " AND a.number = h.attempt WHERE h.what = 'completed' AND a.outcome = 'completed'"
                        + " AND a.running_at IS NOT NULL AND a.ended_at > a.running_at" + (app == null ? "" : " AND h.app=?")
                        + " UNION ALL SELECT job, attempt, app, class, gpu, instance, run_s, start_progress, at, sms, sm_full"
                        + " FROM run_times" + (app == null ? "" : " WHERE app=?") + ") ORDER BY at",
                r -> new CompletedRun(r.getString(1), r.getInt(2), r.getString(3), r.getString(4), r.getInt(5),
                        r.getString(6), r.getDouble(7), r.getDouble(8), r.getInt(9), r.getInt(10)),
                app == null ? new Object[0] : new Object[] {app, app});
    }

    /**
     * Keeps a completed attempt of a job {@code migm run} ran (its id prefixed with the run's), ended at
     * {@code atS}: {@link #completedRuns} gives it with the node service's.
     */
    public synchronized void runCompleted(CompletedRun run, double atS) {
        transaction(() -> {
            update("INSERT OR IGNORE INTO run_times (job, attempt, app, class, gpu, instance, run_s, start_progress, at,"
                    + " sms, sm_full) VALUES (?,?,?,?,?,?,?,?,?,?,?)", run.jobId(), run.attempt(), run.app(), run.jobClass(),
                    run.gpu(), run.instance(), run.runS(), run.startProgress(), atS, run.sms(), run.smFull());
            return null;
        });
    }

    /** The GPUs an admin drained. */
    public synchronized Set<Integer> drainedGpus() {
        return Set.copyOf(query("SELECT gpu FROM gpus WHERE drained=1", r -> r.getInt(1)));
    }

    /** The engine's clock at its last record (0 for a new journal). */
    public synchronized double lastClockS() {
        List<Double> v = query("SELECT CAST(value AS REAL) FROM meta WHERE key='clock_s'", r -> r.getDouble(1));
        return v.isEmpty() ? 0 : v.getFirst();
    }

    /** Counts of jobs by state. */
    public Map<String, Integer> countsByState() {
        Map<String, Integer> out = new LinkedHashMap<>();
        read("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state", r -> out.put(r.getString(1), r.getInt(2)));
        return out;
    }

    /** The most recent events, oldest first, at most {@code limit}; of one job if {@code jobId} is not null. */
    public List<String> events(String jobId, int limit) {
        List<String> out = new ArrayList<>(read("SELECT at, kind, text, wall_at FROM events" + (jobId == null ? ""
                        : " WHERE job=?") + " ORDER BY seq DESC LIMIT " + Math.max(1, limit),
                r -> {
                    double at = r.getDouble(1);
                    double wall = r.getDouble(4);
                    return Times.line(r.wasNull() ? at : wall, at, r.getString(2), r.getString(3));
                },
                jobId == null ? new Object[0] : new Object[] {jobId}));
        java.util.Collections.reverse(out);
        return out;
    }

    /**
     * The jobs the job's attempts were stopped for at their checkpoint (its {@code StopRequested}
     * records that name one), oldest first: what a recovering engine needs to know that the job
     * yielded once and those jobs were yielded to ({@code Engine#recover}'s {@code yielded} and
     * {@code yieldedTo}).
     */
    public List<String> yieldedFor(String jobId) {
        List<String> out = new ArrayList<>();
        for (String json : read("SELECT record FROM events WHERE job=? AND kind='StopRequested' ORDER BY seq",
                r -> r.getString(1), jobId)) {
            if (json == null) continue;
            String forJob = RecordCodec.tree(json).path("for_job").asString("");
            if (!forJob.isEmpty()) out.add(forJob);
        }
        return out;
    }

    /** Who asked to cancel a job that had not ended (the last such request), if anyone did. */
    public Optional<String> cancelRequestedBy(String jobId) {
        List<String> by = read("SELECT record FROM events WHERE job=? AND kind='CancelRequested' ORDER BY seq DESC LIMIT 1",
                r -> r.getString(1), jobId);
        if (by.isEmpty()) return Optional.empty();
        String who = by.getFirst() == null ? "" : RecordCodec.tree(by.getFirst()).path("by").asString("");
        return Optional.of(who.isEmpty() ? "someone" : who);
    }

    /** Records a note of the node service (recovery, refusals) as an event. */
    public synchronized void note(double atS, String kind, String jobId, String text) {
        // The engine's records waiting for their commit come first: events stay in the order they happened.
        List<EngineRecord> before = takePendingRecords();
        try {
            transaction(() -> {
                write(before);
                update("INSERT INTO events (at, kind, job, text, wall_at) VALUES (?,?,?,?,?)", atS, kind, jobId, text,
                        System.currentTimeMillis() / 1000.0);
                return null;
            });
        } catch (RuntimeException e) {
            returnPendingRecords(before);
            throw e;
        }
    }

    // ------------------------------------------------------------------ plumbing

    @FunctionalInterface
    private interface Rows<T> {
        T read(ResultSet r) throws SQLException;
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    /** A read of the API: on the query-only connection, unless this thread is inside the journal's lock. */
    private <T> List<T> read(String sql, Rows<T> rows, Object... args) {
        if (Thread.holdsLock(this)) {
            return query(db, sql, rows, args);
        }
        synchronized (readerLock) {
            return query(reader, sql, rows, args);
        }
    }

    private <T> List<T> query(String sql, Rows<T> rows, Object... args) {
        return query(db, sql, rows, args);
    }

    private <T> List<T> query(Connection connection, String sql, Rows<T> rows, Object... args) {
        try (PreparedStatement p = connection.prepareStatement(sql)) {
            bind(p, args);
            List<T> out = new ArrayList<>();
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(rows.read(r));
            }
            return out;
        } catch (SQLException e) {
            throw new JournalException(file + ": " + oneLine(e.getMessage()), e);
        }
    }

    /** The statements of the hot paths (each engine record, each submit), prepared once. */
    private final Map<String, PreparedStatement> prepared = new java.util.HashMap<>();

    private PreparedStatement prepared(String sql, int keys) throws SQLException {
        PreparedStatement p = prepared.get(sql);
        if (p == null) {
            p = db.prepareStatement(sql, keys);
            prepared.put(sql, p);
        }
        p.clearParameters();
        return p;
    }

    private void update(String sql, Object... args) throws SQLException {
        PreparedStatement p = prepared(sql, Statement.NO_GENERATED_KEYS);
        bind(p, args);
        p.executeUpdate();
    }

    private static void bind(PreparedStatement p, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) p.setObject(i + 1, args[i]);
    }

    /** Open {@link #inOneTransaction} calls: while above zero, appends join the outer transaction. */
    private int outer;

    private <T> T transaction(Work<T> work) {
        if (outer > 0) {
            try {
                return work.run();
            } catch (SQLException e) {
                throw new JournalException(file + ": " + oneLine(e.getMessage()), e);
            }
        }
        try {
            db.setAutoCommit(false);
            try {
                T t = work.run();
                db.commit();
                return t;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new JournalException(file + ": " + oneLine(e.getMessage()), e);
        }
    }

    /**
     * Runs {@code work} with every append in one transaction, committed when it returns (rolled back
     * if it throws). Only for work that acts on nothing outside the journal until it returns (the
     * engine taking over recovered jobs), since the records are durable only at the end.
     */
    public synchronized void inOneTransaction(Runnable work) {
        transaction(() -> {
            outer++;
            try {
                work.run();
            } finally {
                outer--;
            }
            return null;
        });
    }

    private static String oneLine(String s) {
        String m = s == null ? "" : s.replaceAll("\\R", " ");
        return m.length() > 200 ? m.substring(0, 197) + "..." : m;
    }

    /** A write or read of the journal failed (disk full, I/O error): the service cannot go on safely. */
    public static final class JournalException extends RuntimeException {
        JournalException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Copies the journal, as of its last commit, to {@code backup} (a file that must not exist), with
     * SQLite's {@code VACUUM INTO}: a consistent copy made while the journal stays open.
     */
    public synchronized void backupTo(Path backup) {
        flush();
        try (Statement s = db.createStatement()) {
            s.execute("VACUUM INTO '" + backup.toAbsolutePath().toString().replace("'", "''") + "'");
        } catch (SQLException e) {
            throw new InvalidInputException(backup + ": cannot write a backup of the journal: " + oneLine(e.getMessage()));
        }
    }

    @Override
    public void close() {
        synchronized (waitingSubmits) {
            if (committer != null) committer.interrupt();
        }
        closeDatabase();
        for (PendingSubmit p; (p = waitingSubmits.poll()) != null; ) {
            p.ids().completeExceptionally(new JournalException(file + ": closed before the submit was committed", null));
        }
    }

    private synchronized void closeDatabase() {
        try {
            flush();
        } catch (RuntimeException e) {
            // closing a failed journal: what was pending is lost, as in a crash
        }
        for (PreparedStatement p : prepared.values()) {
            try {
                p.close();
            } catch (SQLException e) {
                // closing
            }
        }
        try {
            db.close();
        } catch (SQLException e) {
            // closing: nothing to do
        }
        synchronized (readerLock) {
            try {
                if (reader != null) reader.close();
            } catch (SQLException e) {
                // closing: nothing to do
            }
        }
    }
}
