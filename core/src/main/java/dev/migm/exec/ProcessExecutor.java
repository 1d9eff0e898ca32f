package dev.migm.exec;

import dev.migm.engine.Attempt;
import dev.migm.engine.DeviceView;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EventSink;
import dev.migm.engine.Executor;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
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
 * Runs attempts as real processes. Each attempt is a child in its own session and process group
 * ({@code setsid}), with {@code CUDA_VISIBLE_DEVICES} naming its MIG device, {@code MIGM_CHECKPOINT_DIR}
 * (one directory for every attempt of the job), {@code MIGM_JOB_ID} and {@code MIGM_ATTEMPT}; its
 * stdout and stderr go to {@code jobs/ID/attempt-N.out|err} under the run directory. Memory is sampled
 * every {@code sampleS} modelled seconds through the {@link DeviceView} and fed to the engine like the
 * model executor's samples. An exit is classified by {@link OomClassifier} from the tail of its stderr.
 * {@link #stop} sends SIGTERM to the process group and SIGKILL after the grace period; nothing a job
 * started outlives it. Events are posted to the sink from this executor's threads.
 */
public final class ProcessExecutor implements Executor, AutoCloseable {
    /** How a job is launched: its command, environment and working directory. */
    public record Launch(List<String> argv, Map<String, String> env, Path workdir) {
    }

    private final Path runDir;
    private final Function<String, Launch> launches;
    private final DeviceView devices;
    private final double timeScale;
    private final double graceS;
    private final ScheduledExecutorService sampler;
    private final Map<String, Running> running = new ConcurrentHashMap<>();

    private static final class Running {
        final Attempt attempt;
        final Process process;
        final EventSink sink;
        final Path err;
        final Path checkpoints;
        volatile String stopping;
        volatile long peakMib;
        volatile long firstMib;

        Running(Attempt attempt, Process process, EventSink sink, Path err, Path checkpoints) {
            this.attempt = attempt;
            this.process = process;
            this.sink = sink;
            this.err = err;
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

    @Override
    public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
        Launch l = launches.apply(spec.id());
        Path jobDir = runDir.resolve("jobs").resolve(spec.id());
        Path checkpoints = jobDir.resolve("checkpoints");
        Path out = jobDir.resolve("attempt-" + attempt.number() + ".out");
        Path err = jobDir.resolve("attempt-" + attempt.number() + ".err");
        List<String> argv = new ArrayList<>();
        argv.add("setsid");
        argv.addAll(l.argv());
        ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.directory((l.workdir() == null ? jobDir : l.workdir()).toFile());
        Map<String, String> env = pb.environment();
        env.putAll(devices.environment());
        env.putAll(l.env());
        env.put("CUDA_VISIBLE_DEVICES", devices.deviceName(attempt.slot()));
        env.put("MIGM_CHECKPOINT_DIR", checkpoints.toString());
        env.put("MIGM_JOB_ID", spec.id());
        env.put("MIGM_ATTEMPT", Integer.toString(attempt.number()));
        env.put("MIGM_LAUNCH_EPOCH_MS", Long.toString(System.currentTimeMillis()));
        Process p;
        try {
            Files.createDirectories(checkpoints);
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + l.argv().getFirst() + ": " + e.getMessage(), e);
        }
        Running r = new Running(attempt, p, sink, err, checkpoints);
        running.put(spec.id(), r);
        sink.deliver(new EngineEvent.AttemptRunning(spec.id(), attempt.number()));
        p.onExit().thenRun(() -> exited(spec.id(), r));
    }

    private void sampleAll() {
        for (var e : running.entrySet()) {
            Running r = e.getValue();
            if (r.stopping != null || !r.process.isAlive()) continue;
            try {
                DeviceView.SlotUsage u = devices.usage(r.attempt.slot());
                if (u.usedMib() <= 0) continue;
                long used = Math.min(u.usedMib(), r.attempt.slot().memoryMib());
                if (r.firstMib == 0) r.firstMib = used;
                r.peakMib = Math.max(r.peakMib, used);
                r.sink.deliver(new EngineEvent.MemorySample(e.getKey(), r.attempt.number(), used, u.reportedProgress()));
            } catch (RuntimeException ex) {
                // an instance being torn down as we sample: the exit will report
            }
        }
    }

    private void exited(String jobId, Running r) {
        running.remove(jobId, r);
        killGroup(r.process.pid(), "KILL"); // whatever the job left behind in its group
        int code = r.process.exitValue();
        String tail = tail(r.err, 64 * 1024);
        double kept = Math.max(r.attempt.startProgress(), WorkloadHelper.readCheckpoint(r.checkpoints));
        Outcome outcome;
        if (r.stopping != null) {
            outcome = new Outcome.Stopped(r.stopping, kept, kept);
        } else if (code == 0) {
            outcome = new Outcome.Completed(r.peakMib, r.firstMib);
        } else {
            var oom = OomClassifier.classify(tail);
            if (oom.isPresent()) {
                outcome = new Outcome.OutOfMemory(Math.max(r.peakMib, r.attempt.slot().memoryMib()), oom.get(), kept, kept);
            } else {
                String last = tail.strip().lines().reduce((a, b) -> b).orElse("");
                outcome = new Outcome.Crashed("exit status " + code + (last.isEmpty() ? "" : ": " + last));
            }
        }
        r.sink.deliver(new EngineEvent.AttemptExited(jobId, r.attempt.number(), outcome));
    }

    @Override
    public void stop(Attempt attempt, String why) {
        Running r = running.get(attempt.jobId());
        if (r == null || r.attempt.number() != attempt.number() || r.stopping != null) return;
        r.stopping = why;
        killGroup(r.process.pid(), "TERM");
        sampler.schedule(() -> {
            if (r.process.isAlive()) killGroup(r.process.pid(), "KILL");
        }, (long) (graceS / timeScale * 1e9), TimeUnit.NANOSECONDS);
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

    private static String tail(Path file, int bytes) {
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

    /** Jobs still running. */
    public int runningCount() {
        return running.size();
    }

    /** Stops every process (SIGTERM, then SIGKILL after the grace period) and waits for them. */
    @Override
    public void close() {
        for (Running r : running.values()) {
            if (r.stopping == null) r.stopping = "migm stopped";
            killGroup(r.process.pid(), "TERM");
        }
        long deadline = System.nanoTime() + (long) (Math.max(1, graceS / timeScale) * 1e9);
        for (Running r : running.values()) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !r.process.waitFor(left, TimeUnit.NANOSECONDS)) killGroup(r.process.pid(), "KILL");
                r.process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sampler.shutdownNow();
    }
}
