package dev.migm.exec;

import dev.migm.engine.Attempt;
import dev.migm.engine.Checkpoint;
import dev.migm.engine.DeviceView;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Executor;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.ReportedProgress;
import dev.migm.progress.OutputProgress;
import dev.migm.progress.ProgressFormats;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Runs attempts as real processes, each under its own {@link Supervisor} (which outlives migm and
 * records the exit status), the job in its own session and process group, with
 * {@code CUDA_VISIBLE_DEVICES} naming its MIG device, {@code MIGM_CHECKPOINT_DIR} (one directory for
 * every attempt of the job), {@code MIGM_JOB_ID} and {@code MIGM_ATTEMPT}; its stdout and stderr go to
 * {@code jobs/ID/attempt-N.out|err} under the run directory. Memory is sampled every {@code sampleS}
 * modelled seconds through the {@link DeviceView} and fed to the engine like the model executor's
 * samples. An exit is classified by {@link OomClassifier} from the tail of its stderr. {@link #stop}
 * sends SIGTERM to the job's process group and SIGKILL after the grace period; nothing a job started
 * outlives it. A node service that restarts re-attaches to attempts still running ({@link #adopt});
 * it leaves its jobs running when it stops ({@link #detach}). Events are posted to the sink from this
 * executor's threads.
 */
public final class ProcessExecutor implements Executor, AutoCloseable {
    /**
     * How a job is launched: its command, environment, working directory (null: the job's directory),
     * when migm runs as root and the job is another user's, the user it runs as; how its output says
     * its progress ({@link ProgressFormats#reader}) and its declared total steps.
     */
    public record Launch(List<String> argv, Map<String, String> env, Path workdir, java.util.Optional<RunAs> runAs,
                         String progress, java.util.OptionalLong steps) {
        public Launch(List<String> argv, Map<String, String> env, Path workdir) {
            this(argv, env, workdir, java.util.Optional.empty(), "auto", java.util.OptionalLong.empty());
        }

        /** The same launch as {@code user}. */
        public Launch as(java.util.Optional<RunAs> user, Path dir) {
            return new Launch(argv, env, dir, user, progress, steps);
        }
    }

    private final Path runDir;
    private final Function<String, Launch> launches;
    private final DeviceView devices;
    private final double timeScale;
    private final double graceS;
    private final ScheduledExecutorService sampler;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private volatile boolean detached;

    private static final class Running {
        final Attempt attempt;
        /** Samples sent for this attempt (the next one's sequence number). */
        long samples;
        final Path prefix;
        final EventSink sink;
        final Path checkpoints;
        /** The supervisor, when this executor started it (null for an adopted one: see {@link #adopted}). */
        volatile ProcessHandle supervisor;
        /** Re-attached after a restart: its supervisor is not our child and is polled. */
        volatile boolean adopted;
        volatile String stopping;
        volatile long peakMib;
        volatile long firstMib;
        /** When this executor launched or adopted it (wall clock): a checkpoint before was an earlier attempt's. */
        final long launchedAtMs = System.currentTimeMillis();
        /** The job's total steps, as declared or as its printed progress said (empty: neither yet). */
        volatile java.util.OptionalLong ofSteps = java.util.OptionalLong.empty();
        /** Its progress as its output says it (null: read none), read by the sampler thread alone. */
        OutputProgress printed;

        Running(Attempt attempt, Path prefix, EventSink sink, Path checkpoints) {
            this.attempt = attempt;
            this.prefix = prefix;
            this.sink = sink;
            this.checkpoints = checkpoints;
        }
    }

    /**
     * @param runDir    where jobs' logs and checkpoints go
     * @param launches  the launch of a job by id
     * @param devices   device names and memory of slots
     * @param timeScale modelled seconds per second (sampling and grace run in modelled time)
     * @param sampleS   memory sampling period, modelled seconds
     * @param graceS    SIGTERM to SIGKILL, modelled seconds (default 10)
     */
    public ProcessExecutor(Path runDir, Function<String, Launch> launches, DeviceView devices, double timeScale,
                           double sampleS, double graceS) {
        // Absolute: MIGM_CHECKPOINT_DIR is read by a job in its own working directory.
        this.runDir = runDir.toAbsolutePath();
        this.launches = launches;
        this.devices = devices;
        this.timeScale = timeScale;
        this.graceS = graceS;
        this.sampler = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "process-executor");
            t.setDaemon(true);
            return t;
        });
        long periodNanos = Math.max(1_000_000L, (long) (sampleS / timeScale * 1e9));
        sampler.scheduleAtFixedRate(this::sampleAll, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    /** The directory of a job's logs and checkpoints. */
    public Path jobDir(String jobId) {
        return runDir.resolve("jobs").resolve(jobId);
    }

    @Override
    public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
        Launch l = launches.apply(spec.id());
        Path jobDir = jobDir(spec.id());
        Path checkpoints = jobDir.resolve("checkpoints");
        Path prefix = Supervisor.prefix(jobDir, attempt.number());
        // migm's variables reach the supervisor and the job; the job's own reach only the job (after
        // the drop to its user, when there is one): nothing a submitter sets changes how the
        // supervisor runs (LD_PRELOAD and the like), and migm's variables cannot be overridden.
        Map<String, String> migmVars = new java.util.LinkedHashMap<>(devices.environment());
        migmVars.put("CUDA_VISIBLE_DEVICES", devices.deviceName(attempt.slot()));
        migmVars.put("MIGM_CHECKPOINT_DIR", checkpoints.toString());
        migmVars.put("MIGM_JOB_ID", spec.id());
        migmVars.put("MIGM_ATTEMPT", Integer.toString(attempt.number()));
        migmVars.put("MIGM_LAUNCH_EPOCH_MS", Long.toString(System.currentTimeMillis()));
        Map<String, String> jobVars = new java.util.LinkedHashMap<>(l.env());
        jobVars.putAll(migmVars);
        Path workdir = l.workdir() == null ? jobDir : l.workdir();
        List<String> job = l.runAs().map(u -> u.command(workdir, l.argv()))
                .orElseGet(() -> RunAs.sameUserCommand(workdir, l.argv()));
        ProcessBuilder pb = new ProcessBuilder(Supervisor.command(prefix, job))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.directory(jobDir.toFile());
        pb.environment().putAll(migmVars);
        Process p;
        try {
            Files.createDirectories(checkpoints);
            pb.redirectError(ProcessBuilder.Redirect.appendTo(Supervisor.file(prefix, ".supervisor-log").toFile()));
            // The job's files are its user's alone (its submitter's, when migm runs it as them), in a
            // directory that stays migm's: the user writes them, other users cannot read them, and
            // nobody can swap them for links the root supervisor would follow.
            restrict(checkpoints, "rwx------", l.runAs());
            for (String stream : List.of(".out", ".err")) {
                Path f = Supervisor.file(prefix, stream);
                Files.deleteIfExists(f);
                Files.createFile(f);
                restrict(f, "rw-------", l.runAs());
            }
            // The job's variables reach it through this file (its supervisor's user's alone, deleted
            // by the supervisor once open), never through an argv that every user can read.
            Path envFile = Supervisor.file(prefix, ".env");
            Files.deleteIfExists(envFile);
            Files.createFile(envFile, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.writeString(envFile, RunAs.environmentFile(jobVars), StandardCharsets.UTF_8);
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + l.argv().getFirst() + ": " + e.getMessage(), e);
        }
        Running r = new Running(attempt, prefix, sink, checkpoints);
        readProgress(r, l);
        r.supervisor = p.toHandle();
        running.put(spec.id(), r);
        sink.deliver(new EngineEvent.AttemptRunning(spec.id(), attempt.number()));
        p.onExit().thenRun(() -> exited(spec.id(), r));
    }

    private static void restrict(Path path, String mode, java.util.Optional<RunAs> owner) throws IOException {
        if (owner.isPresent()) {
            owner.get().own(path, mode);
        } else {
            Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
        }
    }

    /**
     * Re-attaches to an attempt whose supervisor still runs (a restarted node service): its samples
     * and its exit are reported as for an attempt this executor launched. The supervisor is not this
     * process's child, so its end is polled (the exit file, or the process gone or a zombie) on each
     * sample rather than awaited.
     */
    public void adopt(Attempt attempt, EventSink sink) {
        Path prefix = Supervisor.prefix(jobDir(attempt.jobId()), attempt.number());
        Running r = new Running(attempt, prefix, sink, jobDir(attempt.jobId()).resolve("checkpoints"));
        r.adopted = true;
        try {
            readProgress(r, launches.apply(attempt.jobId()));
        } catch (RuntimeException e) {
            // its launch no longer known: its memory alone is watched
        }
        running.put(attempt.jobId(), r);
        sampler.execute(() -> pollAdopted(attempt.jobId(), r));
    }

    /** Reads the attempt's progress from its output files as its launch says, from their start. */
    private static void readProgress(Running r, Launch l) {
        r.ofSteps = l.steps();
        r.printed = ProgressFormats.reader(l.progress(), l.steps())
                .map(reader -> new OutputProgress(reader, List.of(Supervisor.file(r.prefix, ".out"),
                        Supervisor.file(r.prefix, ".err"))))
                .orElse(null);
    }

    /** Whether an adopted attempt's supervisor is gone; reports its exit once if so. */
    private boolean pollAdopted(String jobId, Running r) {
        var pid = Supervisor.supervisorPid(r.prefix);
        // Without its pid file yet (it writes it right after taking its lock), the lock says whether it lives.
        boolean gone = Supervisor.exitStatus(r.prefix).isPresent()
                || (pid.isPresent() ? !dev.migm.io.Procs.alive(pid.getAsLong()) : !Supervisor.alive(r.prefix));
        if (gone) exited(jobId, r);
        return gone;
    }

    /**
     * Jobs whose instances' memory is not sampled for the engine: what runs on their instances is not
     * theirs to restart (a Slurm job's slice, whose holder only waits).
     */
    public void leaveMemoryUnjudged(java.util.function.Predicate<String> jobIds) {
        this.unjudged = jobIds;
    }

    private volatile java.util.function.Predicate<String> unjudged = id -> false;

    private void sampleAll() {
        for (var e : running.entrySet()) {
            Running r = e.getValue();
            if (r.adopted && pollAdopted(e.getKey(), r)) continue;
            if (unjudged.test(e.getKey())) continue;
            if (r.stopping != null || !r.adopted && !r.supervisor.isAlive()) continue;
            try {
                java.util.Optional<ReportedProgress> said = java.util.Optional.empty();
                if (r.printed != null) {
                    java.util.OptionalDouble printed = r.printed.poll();
                    if (printed.isPresent()) said = java.util.Optional.of(said(printed.getAsDouble(), r.printed.shareAtMs()));
                    if (r.printed.total().isPresent()) r.ofSteps = r.printed.total();
                }
                DeviceView.SlotUsage u = devices.usage(r.attempt.slot());
                if (u.usedMib() <= 0) continue;
                long used = Math.min(u.usedMib(), r.attempt.slot().memoryMib());
                if (r.firstMib == 0) r.firstMib = used;
                r.peakMib = Math.max(r.peakMib, used);
                if (said.isEmpty() && u.reportedProgress().isPresent()) {
                    said = java.util.Optional.of(said(u.reportedProgress().getAsDouble(), u.progressSaidAtMs()));
                }
                r.sink.deliver(new EngineEvent.MemorySample(e.getKey(), r.attempt.number(), used, said, r.samples++));
            } catch (RuntimeException ex) {
                // an instance being torn down as we sample: the exit will report
            }
        }
    }

    /**
     * A share the job said at {@code saidAtMs} (wall clock; 0: not said when, taken as now), its age
     * in modelled seconds as the engine counts them.
     */
    private ReportedProgress said(double share, long saidAtMs) {
        double ageS = saidAtMs <= 0 ? 0 : Math.max(0, System.currentTimeMillis() - saidAtMs) / 1000.0 * timeScale;
        return new ReportedProgress(Math.clamp(share, 0, 1), ageS);
    }

    private void exited(String jobId, Running r) {
        if (detached || !running.remove(jobId, r)) return;
        java.util.OptionalInt status = Supervisor.exitStatus(r.prefix);
        Supervisor.jobPid(r.prefix).ifPresent(pid -> killGroup(pid, "KILL")); // whatever the job left in its group
        String tail = tail(Supervisor.file(r.prefix, ".err"), 64 * 1024);
        r.sink.deliver(new EngineEvent.AttemptExited(jobId, r.attempt.number(),
                outcome(r.attempt, status, tail, checkpoint(r.checkpoints, r.launchedAtMs, timeScale, r.ofSteps),
                        r.stopping, Math.max(r.peakMib, 0), r.firstMib)));
    }

    /**
     * Classifies an attempt's end: stopped by migm, completed (status 0), out of memory (its stderr
     * says so, {@link OomClassifier}), else crashed; no status means its supervisor was killed.
     */
    public static Outcome outcome(Attempt attempt, java.util.OptionalInt status, String errTail, Checkpoint checkpoint,
                                  String stopping, long peakMib, long firstMib) {
        if (stopping != null) return new Outcome.Stopped(stopping, checkpoint);
        if (status.isEmpty()) return new Outcome.Crashed("its supervisor died without recording an exit status");
        int code = status.getAsInt();
        if (code == 0) return new Outcome.Completed(peakMib, firstMib);
        var cannot = RunAs.cannotStart(code, errTail);
        if (cannot.isPresent()) return new Outcome.CannotStart(cannot.get());
        var oom = OomClassifier.classify(errTail);
        if (oom.isPresent()) {
            return new Outcome.OutOfMemory(Math.max(peakMib, attempt.slot().memoryMib()), oom.get(), checkpoint);
        }
        String last = errTail.strip().lines().reduce((a, b) -> b).orElse("");
        return new Outcome.Crashed((code > 128 && code < 160 ? "killed by signal " + (code - 128) : "exit status " + code)
                + (last.isEmpty() ? "" : ": " + last));
    }

    /**
     * Its job's last checkpoint as the job wrote it ({@code step=N} in {@code checkpoint} of the job's
     * checkpoint directory), with the total steps where the job printed them ({@code ofSteps}) and its
     * age from the file's time, in modelled seconds; one older than the attempt's launch was written by
     * an earlier attempt (infinitely old to this one). None without a file.
     */
    public static Checkpoint checkpoint(Path checkpoints, long launchedAtMs, double timeScale,
                                        java.util.OptionalLong ofSteps) {
        long step = WorkloadHelper.readCheckpointStep(checkpoints);
        if (step == 0) return Checkpoint.NONE;
        double ageS = Double.POSITIVE_INFINITY;
        try {
            long modifiedMs = Files.getLastModifiedTime(checkpoints.resolve("checkpoint"),
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).toMillis();
            if (modifiedMs >= launchedAtMs) {
                ageS = Math.max(0, System.currentTimeMillis() - modifiedMs) / 1000.0 * timeScale;
            }
        } catch (IOException e) {
            // its time unknown: as old as the job
        }
        return Checkpoint.written(step, ofSteps, ageS);
    }

    /** The last {@code bytes} of an attempt's stderr. */
    public static String errTail(Path jobDir, int attempt) {
        return tail(Supervisor.file(Supervisor.prefix(jobDir, attempt), ".err"), 64 * 1024);
    }

    @Override
    public void stop(Attempt attempt, String why) {
        Running r = running.get(attempt.jobId());
        if (r == null || r.attempt.number() != attempt.number() || r.stopping != null) return;
        r.stopping = why;
        signal(r, "TERM");
        sampler.schedule(() -> {
            if (running.get(attempt.jobId()) == r) signal(r, "KILL");
        }, (long) (graceS / timeScale * 1e9), TimeUnit.NANOSECONDS);
    }

    /**
     * Signals the job's process group; a supervisor that has not started the job yet is told by the
     * abandon marker (it runs nothing) and the signal is sent again once the job's pid is known.
     */
    private void signal(Running r, String signal) {
        var pid = Supervisor.jobPid(r.prefix);
        if (pid.isPresent()) {
            killGroup(pid.getAsLong(), signal);
            return;
        }
        try {
            Files.createFile(Supervisor.file(r.prefix, ".abandoned"));
        } catch (IOException e) {
            // exists already
        }
        sampler.schedule(() -> {
            var later = Supervisor.jobPid(r.prefix);
            if (later.isPresent()) killGroup(later.getAsLong(), signal);
        }, 200, TimeUnit.MILLISECONDS);
    }

    /** Kills the job of an attempt found orphaned (its supervisor gone) before it is run again. */
    public static void killOrphan(long jobPid) {
        killGroup(jobPid, "KILL");
    }

    /** Sends a signal to the process group the job's session leader heads. */
    private static void killGroup(long pid, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, "--", "-" + pid).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            ProcessHandle.of(pid).ifPresent(signal.equals("KILL") ? ProcessHandle::destroyForcibly : ProcessHandle::destroy);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code bytes} of a file as UTF-8 text; empty when it cannot be read. */
    public static String tail(Path file, int bytes) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long from = Math.max(0, f.length() - bytes);
            byte[] b = new byte[(int) (f.length() - from)];
            f.seek(from);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The supervisor's process id of a job's running attempt (0 when none is known). */
    public long supervisorPid(String jobId) {
        Running r = running.get(jobId);
        if (r == null) return 0;
        if (r.supervisor != null) return r.supervisor.pid();
        return Supervisor.supervisorPid(r.prefix).orElse(0);
    }

    private static boolean supervisorAlive(Running r) {
        if (r.supervisor != null) return r.supervisor.isAlive();
        var pid = Supervisor.supervisorPid(r.prefix);
        return pid.isPresent() && dev.migm.io.Procs.alive(pid.getAsLong());
    }

    /** Jobs still running. */
    public int runningCount() {
        return running.size();
    }

    /** Stops every process (SIGTERM, then SIGKILL after the grace period) and waits for them. */
    @Override
    public void close() {
        for (Running r : running.values()) {
            if (r.stopping == null) r.stopping = "migm stopped";
            signal(r, "TERM");
        }
        long deadline = System.nanoTime() + (long) (Math.max(1, graceS / timeScale) * 1e9);
        for (Running r : running.values()) {
            try {
                while (supervisorAlive(r) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                if (supervisorAlive(r)) signal(r, "KILL");
                if (r.supervisor != null) r.supervisor.onExit().get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // reported by the caller's closing line
            }
        }
        sampler.shutdownNow();
    }

    /**
     * Stops watching without stopping anything: the jobs run on under their supervisors, and the
     * next node service re-attaches to them ({@link #adopt}). No exit is reported after this.
     */
    public void detach() {
        detached = true;
        sampler.shutdownNow();
    }
}
