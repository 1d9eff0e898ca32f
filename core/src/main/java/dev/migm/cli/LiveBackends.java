package dev.migm.cli;

import dev.migm.backend.EmulatedGpuBackend;
import dev.migm.backend.LiveBackend;
import dev.migm.backend.NvmlGpuBackend;
import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.io.InvalidInputException;
import dev.migm.nvml.Nvml;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Opens the backend that {@code migm run} and {@code migm daemon} run real processes on. */
final class LiveBackends {
    private LiveBackends() {
    }

    /** The backend, the NVML binding to close after it (null on the emulated GPU), and which it is. */
    record Opened(LiveBackend backend, Nvml nvml, boolean emulated) {
        void close() {
            backend.close();
            if (nvml != null) nvml.close();
        }
    }

    /**
     * {@code emulated}: emulated GPUs of {@code gpu} (state under {@code home/emulated}); {@code nvml}:
     * this node's MIG GPUs (refused with the reason when NVML has none migm can drive); {@code auto}:
     * NVML when it can, else the emulated GPU, saying why on {@code err}. Notes go to {@code notes}.
     */
    static Opened open(String backendName, String gpu, int gpuCount, Path home, double timeScale, String nvmlLibrary,
                       Consumer<String> notes, PrintWriter err) {
        return open(backendName, gpu, gpuCount, home, timeScale, nvmlLibrary, notes, err, dev.migm.emu.FaultInjector.NONE,
                false);
    }

    /**
     * As above, with faults injected into the emulated GPU (tests of recovery; ignored on NVML), and
     * whether the admin lets migm change MIG modes of real GPUs ({@code --allow-mig-mode-change}; the
     * emulated GPU's modes change either way).
     */
    static Opened open(String backendName, String gpu, int gpuCount, Path home, double timeScale, String nvmlLibrary,
                       Consumer<String> notes, PrintWriter err, dev.migm.emu.FaultInjector faults,
                       boolean allowMigModeChange) {
        if (!List.of("emulated", "nvml", "auto").contains(backendName)) {
            throw new InvalidInputException("--backend: expected emulated, nvml or auto, got "
                    + dev.migm.io.TextFiles.quote(backendName));
        }
        if (!(timeScale > 0 && timeScale <= 10_000)) {
            throw new InvalidInputException("--time-scale must be in (0, 10000], got " + timeScale);
        }
        Nvml nvml = null;
        LiveBackend chosen = null;
        if (!backendName.equals("emulated")) {
            String unavailable;
            switch (Nvml.load(nvmlLibrary)) {
                case Nvml.Availability.Available a -> {
                    nvml = a.nvml();
                    List<String> skipped = new ArrayList<>();
                    try {
                        chosen = NvmlGpuBackend.open(nvml, dev.migm.gpu.Catalog.builtin(), skipped,
                                NvmlGpuBackend.Retry.DEFAULT, allowMigModeChange
                                        ? NvmlGpuBackend.ModeChanges.allowed(SimulatedGpuBackend.Latency.DEFAULT.migModeChangeS())
                                        : NvmlGpuBackend.ModeChanges.NEVER);
                        unavailable = null;
                        skipped.forEach(why -> notes.accept("skipping " + why));
                    } catch (InvalidInputException e) {
                        nvml.close();
                        nvml = null;
                        unavailable = e.getMessage();
                    }
                }
                case Nvml.Availability.Unavailable u -> unavailable = "NVML not available: " + u.reason();
            }
            if (unavailable != null && backendName.equals("nvml")) throw new InvalidInputException(unavailable);
            if (unavailable != null) {
                err.println("migm: " + unavailable + "; running on the emulated GPU");
                err.flush();
            }
        }
        if (chosen != null && timeScale != 1) {
            chosen.close();
            nvml.close();
            throw new InvalidInputException("--time-scale: real GPUs run at 1, got " + timeScale);
        }
        if (chosen != null) return new Opened(chosen, nvml, false);
        EmulatedGpuBackend emulated = new EmulatedGpuBackend(home.resolve("emulated"), SimulateCommand.node(gpu, gpuCount),
                timeScale, SimulatedGpuBackend.Latency.DEFAULT, faults);
        emulated.survivorNotes().forEach(n -> notes.accept("emulated GPU: " + n));
        return new Opened(emulated, null, true);
    }
}
