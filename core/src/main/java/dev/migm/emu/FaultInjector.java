package dev.migm.emu;

import dev.migm.gpu.Instance;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Optional;

/**
 * The emulated GPU's fault seam: before each create or destroy of a plan, the emulated GPU asks
 * whether it fails (and with which NVML error), and before answering a plan how much longer than
 * models.md's latency it takes (a stuck operation, which the engine's reconfiguration time-out
 * must catch), and whether a GPU is lost ({@link #lost}). {@link #NONE} lets everything through;
 * {@link Scripted} fails what it was told to, once each, in order, and loses GPUs until told they
 * are back. A lost process needs no hook here: killing an attempt's supervisor or job is that fault
 * (the node service's recovery and its tests do so).
 */
public interface FaultInjector {
    FaultInjector NONE = new FaultInjector() {
        @Override
        public Optional<String> onCreate(int gpu, Instance instance) {
            return Optional.empty();
        }

        @Override
        public Optional<String> onDestroy(int gpu, Instance instance) {
            return Optional.empty();
        }

        @Override
        public double extraDelayS(int gpu) {
            return 0;
        }
    };

    /**
     * Whether the GPU has fallen off the bus: every operation on it answers
     * {@code NVML_ERROR_GPU_IS_LOST} until it is back. None by default.
     */
    default boolean lost(int gpu) {
        return false;
    }

    /** NVML's error text for a create that fails, or empty. */
    Optional<String> onCreate(int gpu, Instance instance);

    /** NVML's error text for a destroy that fails, or empty. */
    Optional<String> onDestroy(int gpu, Instance instance);

    /** Modelled seconds a plan on this GPU takes beyond its latency. */
    double extraDelayS(int gpu);

    /** A fault to inject once. */
    sealed interface Fault {
        /** The next create on {@code gpu} fails with {@code nvmlError} (e.g. {@code NVML_ERROR_INSUFFICIENT_RESOURCES}). */
        record FailCreate(int gpu, String nvmlError) implements Fault {
        }

        /** The next destroy on {@code gpu} fails with {@code nvmlError} (e.g. {@code NVML_ERROR_IN_USE}). */
        record FailDestroy(int gpu, String nvmlError) implements Fault {
        }

        /** The next plan on {@code gpu} answers {@code seconds} (modelled) late. */
        record Stuck(int gpu, double seconds) implements Fault {
        }

        /** {@code gpu} is lost from now on (NVML_ERROR_GPU_IS_LOST) until a {@link RecoverGpu}. */
        record LoseGpu(int gpu) implements Fault {
        }

        /** A lost {@code gpu} answers again. */
        record RecoverGpu(int gpu) implements Fault {
        }
    }

    /** Faults consumed once each, first matching first; thread-safe. */
    final class Scripted implements FaultInjector {
        private final Deque<Fault> pending = new ArrayDeque<>();

        /**
         * Faults from text, comma-separated, each used once in order: {@code stuck:GPU:SECONDS} (the
         * next plan on GPU answers that many modelled seconds late), {@code fail-create:GPU[:ERROR]},
         * {@code fail-destroy:GPU[:ERROR]} (the next create or destroy there fails with that NVML error,
         * by default INSUFFICIENT_RESOURCES and IN_USE).
         */
        public static Scripted parse(String text) {
            Scripted s = new Scripted();
            for (String part : text.split(",")) {
                String[] f = part.strip().split(":");
                try {
                    int gpu = Integer.parseInt(f[1]);
                    if (gpu < 0) throw new NumberFormatException();
                    s.add(switch (f[0]) {
                        case "stuck" -> {
                            double seconds = Double.parseDouble(f[2]);
                            if (!(seconds >= 0 && seconds <= 86_400)) throw new NumberFormatException();
                            yield new Fault.Stuck(gpu, seconds);
                        }
                        case "fail-create" -> new Fault.FailCreate(gpu, f.length > 2 ? f[2]
                                : "NVML_ERROR_INSUFFICIENT_RESOURCES");
                        case "fail-destroy" -> new Fault.FailDestroy(gpu, f.length > 2 ? f[2] : "NVML_ERROR_IN_USE");
                        case "lose-gpu" -> new Fault.LoseGpu(gpu);
                        default -> throw new IllegalArgumentException();
                    });
                } catch (RuntimeException e) {
                    throw new dev.migm.io.InvalidInputException("--emulated-faults: expected stuck:GPU:SECONDS,"
                            + " fail-create:GPU[:ERROR], fail-destroy:GPU[:ERROR] or lose-gpu:GPU, got "
                            + dev.migm.io.TextFiles.quote(part.strip()));
                }
            }
            return s;
        }

        private final java.util.Set<Integer> lostGpus = new java.util.HashSet<>();

        /** Adds a fault; losing and recovering a GPU take effect at once (a state, not a one-shot). */
        public synchronized Scripted add(Fault fault) {
            switch (fault) {
                case Fault.LoseGpu l -> lostGpus.add(l.gpu());
                case Fault.RecoverGpu r -> lostGpus.remove(r.gpu());
                default -> pending.addLast(fault);
            }
            return this;
        }

        @Override
        public synchronized boolean lost(int gpu) {
            return lostGpus.contains(gpu);
        }

        public synchronized int pendingCount() {
            return pending.size();
        }

        @Override
        public Optional<String> onCreate(int gpu, Instance instance) {
            return take(Fault.FailCreate.class, gpu).map(f -> f.nvmlError() + ": create " + instance + " (injected)");
        }

        @Override
        public Optional<String> onDestroy(int gpu, Instance instance) {
            return take(Fault.FailDestroy.class, gpu).map(f -> f.nvmlError() + ": destroy " + instance + " (injected)");
        }

        @Override
        public double extraDelayS(int gpu) {
            return take(Fault.Stuck.class, gpu).map(Fault.Stuck::seconds).orElse(0.0);
        }

        /** Removes and returns the first pending fault of a kind for a GPU. */
        private synchronized <T extends Fault> Optional<T> take(Class<T> kind, int gpu) {
            for (Iterator<Fault> it = pending.iterator(); it.hasNext(); ) {
                Fault f = it.next();
                if (kind.isInstance(f) && gpuOf(f) == gpu) {
                    it.remove();
                    return Optional.of(kind.cast(f));
                }
            }
            return Optional.empty();
        }

        private static int gpuOf(Fault f) {
            return switch (f) {
                case Fault.FailCreate c -> c.gpu();
                case Fault.FailDestroy d -> d.gpu();
                case Fault.Stuck s -> s.gpu();
                case Fault.LoseGpu l -> l.gpu();
                case Fault.RecoverGpu r -> r.gpu();
            };
        }
    }
}
