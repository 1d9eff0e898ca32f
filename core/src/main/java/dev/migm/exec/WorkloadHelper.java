package dev.migm.exec;

import dev.migm.emu.EmulatedDevices;
import dev.migm.energy.PowerModel;
import dev.migm.progress.ProgressPrinter;
import dev.migm.workload.RuntimeModel;
import dev.migm.workload.WorkloadModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * {@code migm workload}: a real process that behaves like a job of models.md on the emulated
 * instance {@code CUDA_VISIBLE_DEVICES} names. It runs its work at the speed the instance's SMs give
 * ({@link RuntimeModel}), in modelled time ({@code MIGM_TIME_SCALE} modelled seconds per second),
 * holds and grows its memory through the instance's allocator (refused past the instance's size:
 * it then dies with PyTorch's out-of-memory text), writes a checkpoint into
 * {@code MIGM_CHECKPOINT_DIR} every {@code checkpointS} of work and resumes from it, saves one on
 * SIGTERM, and reports its progress when asked to. Its memory is one small JVM's; it sleeps between
 * steps (a step is 50 ms).
 */
public final class WorkloadHelper {
    /**
     * Shortest wall-clock step. A step is one modelled second (the executor samples once per modelled
     * second, so finer memory updates are never seen) but at least this, so fast time scales do not
     * spin: at 20x a step is 50 ms either way; at 1x it is a second, which keeps 100 helpers cheap
     * (BENCHMARKS.md section 9).
     */
    static final long STEP_MS = 50;
    /** Start-up of a job's process and CUDA context, modelled seconds (models.md section 4). */
    static final double STARTUP_S = 1.0;

    private WorkloadHelper() {
    }

    /** Runs the workload; returns the exit status (0 done, 1 out of memory, 2 no device). */
    public static int run(WorkloadModel model, java.util.Map<String, String> env, PrintStream err) {
        return run(model, env, System.out, err, java.util.Optional.empty(), 0);
    }

    /**
     * Runs the workload, printing its progress in {@code prints} ({@link ProgressPrinter#FORMATS}) as it
     * goes (Keras and DeepSpeed to {@code out}, the bars to {@code err}, where the frameworks print
     * them), once every {@code progressEveryS} of its run (modelled seconds; 0: as each step is done),
     * and saying the same where migm reads it when the model reports progress; returns the exit
     * status (0 done, 1 out of memory, 2 no device).
     */
    public static int run(WorkloadModel model, java.util.Map<String, String> env, PrintStream out, PrintStream err,
                          java.util.Optional<String> prints, double progressEveryS) {
        String device = env.getOrDefault("CUDA_VISIBLE_DEVICES", "");
        String rootText = env.get("MIGM_EMULATED_DIR");
        // A MIG instance (MIG-<uuid>) or, with MIG off, the whole GPU (GPU-<uuid>), as CUDA names them.
        if (!(device.startsWith("MIG-") || device.startsWith("GPU-")) || rootText == null) {
            err.println("migm workload: no emulated GPU device (CUDA_VISIBLE_DEVICES=" + device + ", MIGM_EMULATED_DIR="
                    + rootText + ")");
            return 2;
        }
        Path root = Path.of(rootText);
        double scale = Double.parseDouble(env.getOrDefault("MIGM_TIME_SCALE", "1"));
        Path checkpointDir = env.containsKey("MIGM_CHECKPOINT_DIR") ? Path.of(env.get("MIGM_CHECKPOINT_DIR")) : null;
        EmulatedDevices.InstanceInfo info;
        try {
            info = EmulatedDevices.read(root, device);
        } catch (IOException e) {
            err.println("migm workload: cannot read device " + device + ": " + e.getMessage());
            return 2;
        }
        long pid = ProcessHandle.current().pid();
        double workS = RuntimeModel.runtimeS(model, info.sms(), info.smFull());
        double share = PowerModel.dynamicShare(model.activity(), model.sat(), info.sms(), info.smFull());
        long steps = RuntimeModel.steps(model);
        double startProgress = Math.min(1.0, (double) readCheckpointStep(checkpointDir) / steps);
        double[] progress = {startProgress};
        // The modelled start-up (process and CUDA context) is STARTUP_S from the process's start; the
        // time a JVM takes beyond it is the emulator's overhead, not the job's, so the work clock starts
        // there whatever the JVM took.
        long launchedMs = env.containsKey("MIGM_LAUNCH_EPOCH_MS") ? Long.parseLong(env.get("MIGM_LAUNCH_EPOCH_MS"))
                : System.currentTimeMillis();
        long workStartMs = launchedMs + Math.round(STARTUP_S / scale * 1000);
        double[] lastCheckpoint = {progress[0]};
        boolean checkpoints = model.checkpoints() && checkpointDir != null;
        // SIGTERM (a stop) saves the progress reached; an OOM or the end of the work saves nothing more
        // than the periodic checkpoints (models.md section 5).
        boolean[] signalled = {true};
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (signalled[0] && checkpoints && progress[0] < 1) {
                writeCheckpoint(checkpointDir, step(progress[0], steps));
            }
            EmulatedDevices.release(root, device, pid);
        }));
        try {
            Printing printing = prints.map(f -> new Printing(new ProgressPrinter(f, steps),
                    f.equals("keras") || f.equals("deepspeed") ? out : err)).orElse(null);
            return work(model, root, device, pid, info, share, scale, workS, startProgress, workStartMs, progress,
                    lastCheckpoint, checkpoints, checkpointDir, err, printing, steps, progressEveryS);
        } finally {
            signalled[0] = false;
        }
    }

    private static int work(WorkloadModel model, Path root, String device, long pid, EmulatedDevices.InstanceInfo info,
                            double share, double scale, double workS, double startProgress, long workStartMs,
                            double[] progress, double[] lastCheckpoint, boolean checkpoints, Path checkpointDir,
                            PrintStream err, Printing printing, long steps, double progressEveryS) {
        double said = progress[0];
        long saidAtMs = 0;
        try {
            while (true) {
                long nowMs = System.currentTimeMillis();
                if (saidAtMs == 0 || progressEveryS <= 0 || progress[0] >= 1
                        || (nowMs - saidAtMs) / 1000.0 * scale >= progressEveryS - 1e-9) {
                    said = progress[0];
                    saidAtMs = nowMs;
                    if (printing != null) printing.at(Math.round(said * steps));
                }
                long mib = Math.round(RuntimeModel.memoryMibAt(model, progress[0]));
                EmulatedDevices.Usage usage = new EmulatedDevices.Usage(mib, share,
                        model.reportsProgress() ? OptionalDouble.of(said) : OptionalDouble.empty(), saidAtMs);
                if (!EmulatedDevices.allocate(root, device, pid, usage)) {
                    long used = Math.round(RuntimeModel.memoryMibAt(model, Math.max(0, progress[0] - 0.001)));
                    err.printf(Locale.ROOT, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate %.2f MiB. GPU 0 has"
                            + " a total capacity of %.2f GiB of which %.2f MiB is free. Including non-PyTorch memory, this"
                            + " process has %.2f GiB memory in use.%n", (double) Math.max(2, mib - used),
                            info.memoryMib() / 1024.0, Math.max(0.0, info.memoryMib() - used) * 1.0, used / 1024.0);
                    err.flush();
                    return 1;
                }
                if (progress[0] >= 1) {
                    return 0;
                }
                long toFinishMs = (long) Math.ceil((1 - progress[0]) * workS / scale * 1000);
                Thread.sleep(Math.max(1, Math.min(toFinishMs, Math.max(STEP_MS, Math.round(1000 / scale)))));
                double workedS = Math.max(0, System.currentTimeMillis() - workStartMs) / 1000.0 * scale;
                progress[0] = Math.min(1.0, startProgress + workedS / workS);
                if (checkpoints && (progress[0] - lastCheckpoint[0]) * model.durationS() >= model.checkpointS()) {
                    writeCheckpoint(checkpointDir, step(progress[0], steps));
                    lastCheckpoint[0] = progress[0];
                }
            }
        } catch (IOException e) {
            err.println("migm workload: " + e.getMessage());
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 2;
        }
    }

    /** Where and how a workload prints its progress; prints a step once. */
    private static final class Printing {
        final ProgressPrinter printer;
        final PrintStream to;
        long last = -1;

        Printing(ProgressPrinter printer, PrintStream to) {
            this.printer = printer;
            this.to = to;
        }

        void at(long step) {
            if (step == last) return;
            last = step;
            to.print(printer.at(step));
            to.flush();
        }
    }

    private static long step(double progress, long steps) {
        return Math.max(1, Math.round(progress * steps));
    }

    /**
     * The step its job's last checkpoint wrote (0 without one): a checkpoint says a step, as a
     * trainer's does ({@code step=N}); what share of the job it is, only the job knows.
     */
    public static long readCheckpointStep(Path dir) {
        if (dir == null) return 0;
        // The directory is the job's user's and migm may read it as root: a link, a FIFO or a device
        // planted there must not make it read elsewhere, block or read forever.
        Path file = dir.resolve("checkpoint");
        try {
            if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return 0;
            String t;
            try (var in = Files.newByteChannel(file, java.nio.file.StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(256);
                while (b.hasRemaining() && in.read(b) > 0) {
                    // fills up to 256 bytes: a checkpoint is one short line
                }
                t = new String(b.array(), 0, b.position(), java.nio.charset.StandardCharsets.UTF_8).strip();
            }
            return t.startsWith("step=") ? Math.max(0, Long.parseLong(t.substring(5).strip())) : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    static void writeCheckpoint(Path dir, long step) {
        try {
            Files.createDirectories(dir);
            dev.migm.io.TextFiles.writeAtomically(dir.resolve("checkpoint"), "step=" + step + "\n");
        } catch (IOException e) {
            // a checkpoint that cannot be written is lost work, not a crash
        }
    }
}
