package dev.migm.emu;

import dev.migm.gpu.Instance;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The emulated GPU's fault seam: before each create or destroy of a plan, the emulated GPU asks
 * whether it fails (and with which NVML error), and before answering a plan how much longer than
 * models.md's latency it takes (a stuck operation, which the engine's reconfiguration time-out
 * must catch), and whether a GPU is lost ({@link #lost}: every NVML call there answers
 * {@code NVML_ERROR_GPU_IS_LOST}, which the health monitor polls). {@link #NONE} lets everything
 * through; {@link Scripted} fails what it was told to, once each, in order; {@link Chaos} fails at
 * random from a seed. A lost process needs no hook here: killing an attempt's supervisor or job is
 * that fault (the node service's recovery and the chaos test do so).
 *
 * <p>Each injected fault gets an id, named in the error text it causes ({@code (injected fault
 * PID-N)}), and, with a log file, a line there: {@code EPOCH_MS KIND gpuG PID-N DETAIL}. The chaos
 * test checks every line against the journal.
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
        public double extraDelayS(int gpu, long ticket) {
            return 0;
        }
    };

    /**
     * Whether the GPU has fallen off the bus: every operation on it answers
     * {@code NVML_ERROR_GPU_IS_LOST} until it is back. The loss's fault id while it lasts; none by
     * default.
     */
    default Optional<String> lost(int gpu) {
        return Optional.empty();
    }

    /** NVML's error text for a create that fails, or empty. */
    Optional<String> onCreate(int gpu, Instance instance);

    /** NVML's error text for a destroy that fails, or empty. */
    Optional<String> onDestroy(int gpu, Instance instance);

    /**
     * Modelled seconds a plan or mode change on this GPU takes beyond its latency; {@code ticket} is
     * the engine's (0: the node service's own clean-up at start).
     */
    double extraDelayS(int gpu, long ticket);

    /** Modelled seconds a MIG mode change on this GPU takes beyond its latency; by default as a plan. */
    default double extraModeChangeDelayS(int gpu, long ticket) {
        return extraDelayS(gpu, ticket);
    }

    /**
     * Faults from {@code --emulated-faults} text: {@code chaos:SEED[:RATE]} ({@link Chaos}) or a
     * comma-separated list for {@link Scripted}; each injected fault is logged to {@code log} (may be
     * null).
     */
    static FaultInjector parse(String text, Path log) {
        String t = text.strip();
        if (t.startsWith("chaos:")) {
            String[] f = t.split(":");
            try {
                if (f.length > 3) throw new NumberFormatException();
                long seed = Long.parseLong(f[1]);
                double rate = f.length > 2 ? Double.parseDouble(f[2]) : Chaos.DEFAULT_RATE;
                if (!(rate >= 0 && rate <= 1)) throw new NumberFormatException();
                return new Chaos(seed, rate, new Log(log));
            } catch (RuntimeException e) {
                throw new InvalidInputException("--emulated-faults: expected chaos:SEED[:RATE] with an integer seed"
                        + " and a rate in [0, 1], got " + TextFiles.quote(t));
            }
        }
        return Scripted.parse(text, new Log(log));
    }

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

        /**
         * {@code gpu} is lost (NVML_ERROR_GPU_IS_LOST) from now on, for {@code seconds} of wall time
         * (infinite: until a {@link RecoverGpu}).
         */
        record LoseGpu(int gpu, double seconds) implements Fault {
            public LoseGpu(int gpu) {
                this(gpu, Double.POSITIVE_INFINITY);
            }
        }

        /** A lost {@code gpu} answers again. */
        record RecoverGpu(int gpu) implements Fault {
        }
    }

    /** Where injected faults are written down, one line each, with their ids; thread-safe. */
    final class Log {
        private final Path file;
        private final String incarnation = Long.toString(ProcessHandle.current().pid());
        private long next;

        Log(Path file) {
            this.file = file;
        }

        /** Records a fault and returns its id. */
        synchronized String record(String kind, int gpu, String detail) {
            String id = incarnation + "-" + (++next);
            if (file != null) {
                String line = System.currentTimeMillis() + " " + kind + " gpu" + gpu + " " + id + " " + detail + "\n";
                try {
                    Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                } catch (IOException e) {
                    // a fault log that cannot be written loses its lines, not the fault
                }
            }
            return id;
        }
    }

    /** Faults consumed once each, first matching first; thread-safe. */
    final class Scripted implements FaultInjector {
        private final Deque<Fault> pending = new ArrayDeque<>();
        /** Per GPU, the wall time (nanoTime) its loss ends, while it is lost. */
        private final java.util.Map<Integer, Long> lostUntil = new java.util.HashMap<>();
        private final Log log;

        public Scripted() {
            this(new Log(null));
        }

        private Scripted(Log log) {
            this.log = log;
        }

        /**
         * Faults from text, comma-separated, each used once in order: {@code stuck:GPU:SECONDS} (the
         * next plan on GPU answers that many modelled seconds late), {@code fail-create:GPU[:ERROR]},
         * {@code fail-destroy:GPU[:ERROR]} (the next create or destroy there fails with that NVML error,
         * by default INSUFFICIENT_RESOURCES and IN_USE), {@code lose-gpu:GPU[:SECONDS]} (lost from the
         * start, for that many seconds of wall time or for good).
         */
        public static Scripted parse(String text) {
            return parse(text, new Log(null));
        }

        static Scripted parse(String text, Log log) {
            Scripted s = new Scripted(log);
            for (String part : text.split(",")) {
                String[] f = part.strip().split(":");
                try {
                    int gpu = Integer.parseInt(f[1]);
                    if (gpu < 0) throw new NumberFormatException();
                    s.add(switch (f[0]) {
                        case "stuck" -> new Fault.Stuck(gpu, seconds(f[2]));
                        case "fail-create" -> new Fault.FailCreate(gpu, f.length > 2 ? f[2]
                                : "NVML_ERROR_INSUFFICIENT_RESOURCES");
                        case "fail-destroy" -> new Fault.FailDestroy(gpu, f.length > 2 ? f[2] : "NVML_ERROR_IN_USE");
                        case "lose-gpu" -> new Fault.LoseGpu(gpu, f.length > 2 ? seconds(f[2]) : Double.POSITIVE_INFINITY);
                        default -> throw new IllegalArgumentException();
                    });
                } catch (RuntimeException e) {
                    throw new InvalidInputException("--emulated-faults: expected chaos:SEED[:RATE] or a list of"
                            + " stuck:GPU:SECONDS, fail-create:GPU[:ERROR], fail-destroy:GPU[:ERROR],"
                            + " lose-gpu:GPU[:SECONDS], got " + TextFiles.quote(part.strip()));
                }
            }
            return s;
        }

        private static double seconds(String text) {
            double seconds = Double.parseDouble(text);
            if (!(seconds >= 0 && seconds <= 86_400)) throw new NumberFormatException();
            return seconds;
        }

        /** Adds a fault; losing and recovering a GPU take effect at once (a state, not a one-shot). */
        public synchronized Scripted add(Fault fault) {
            switch (fault) {
                case Fault.LoseGpu l -> lostUntil.put(l.gpu(), Double.isInfinite(l.seconds()) ? Long.MAX_VALUE
                        : System.nanoTime() + (long) (l.seconds() * 1e9));
                case Fault.RecoverGpu r -> lostUntil.remove(r.gpu());
                default -> pending.addLast(fault);
            }
            return this;
        }

        /** Per GPU, the id of its loss, once the loss was first seen. */
        private final java.util.Map<Integer, String> lossIds = new java.util.HashMap<>();

        @Override
        public synchronized Optional<String> lost(int gpu) {
            Long until = lostUntil.get(gpu);
            if (until == null) return Optional.empty();
            if (until != Long.MAX_VALUE && System.nanoTime() >= until) {
                lostUntil.remove(gpu);
                lossIds.remove(gpu);
                return Optional.empty();
            }
            return Optional.of(lossIds.computeIfAbsent(gpu, g -> log.record("lose-gpu", g, "lost")));
        }

        public synchronized int pendingCount() {
            return pending.size();
        }

        @Override
        public Optional<String> onCreate(int gpu, Instance instance) {
            return take(Fault.FailCreate.class, gpu).map(f -> f.nvmlError() + ": create " + instance + " (injected fault "
                    + log.record("fail-create", gpu, instance.toString()) + ")");
        }

        @Override
        public Optional<String> onDestroy(int gpu, Instance instance) {
            return take(Fault.FailDestroy.class, gpu).map(f -> f.nvmlError() + ": destroy " + instance + " (injected fault "
                    + log.record("fail-destroy", gpu, instance.toString()) + ")");
        }

        @Override
        public double extraDelayS(int gpu, long ticket) {
            return take(Fault.Stuck.class, gpu).map(f -> {
                log.record("stuck", gpu, "ticket=" + ticket + " " + f.seconds() + "s");
                return f.seconds();
            }).orElse(0.0);
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

    /**
     * Every fault from a seeded schedule, for the chaos test: the faults come at chosen operations, not
     * at chosen times, so that the same seed injects the same faults whether the machine is quiet or
     * loaded (a run on a busy machine does fewer operations per second, not other ones). Per kind, the
     * operations counted are: creates ({@code fail-create}: {@code INSUFFICIENT_RESOURCES}, as when
     * another tool took the slices), destroys ({@code fail-destroy}: {@code IN_USE}, an instance still
     * in use after its process exits), and the engine's plans ({@code stuck}: answered
     * {@link #STUCK_S} modelled seconds late, past the engine's 60 s time-out; {@code lose-gpu}: the
     * plan's GPU falls off the bus for 1 to 3 s of wall time from then). Each kind's first fault comes
     * at one of its first {@link #FIRST_WITHIN} operations; later ones follow at geometric gaps
     * (mean {@code 1 / rate} operations; {@code 2 / rate} for stuck plans, {@code 3 / rate} for
     * losses). Mode changes are never delayed here (their time-out is 600 s).
     */
    final class Chaos implements FaultInjector {
        static final double DEFAULT_RATE = 0.1;
        /** How late a stuck plan answers, modelled seconds: past the engine's 60 s time-out. */
        public static final double STUCK_S = 90;
        /** Each kind's first fault comes at one of its first this many operations. */
        static final int FIRST_WITHIN = 3;

        private final Log log;
        private final SplittableRandom random;
        private final Schedule creates;
        private final Schedule destroys;
        private final Schedule stuck;
        private final Schedule losses;
        /** Per GPU, the wall time (nanoTime) its current loss ends, and the loss's fault id. */
        private final java.util.Map<Integer, Long> lostUntil = new java.util.HashMap<>();
        private final java.util.Map<Integer, String> lossIds = new java.util.HashMap<>();

        Chaos(long seed, double rate, Log log) {
            this.log = log;
            this.random = new SplittableRandom(seed);
            this.creates = new Schedule(new SplittableRandom(seed * 31 + 1), rate);
            this.destroys = new Schedule(new SplittableRandom(seed * 31 + 2), rate);
            this.stuck = new Schedule(new SplittableRandom(seed * 31 + 3), rate / 2);
            this.losses = new Schedule(new SplittableRandom(seed * 31 + 4), rate / 3);
        }

        /** The operations of one kind that fail: counted from 1, the first within {@link #FIRST_WITHIN}. */
        private static final class Schedule {
            private final SplittableRandom random;
            private final double p;
            private long count;
            private long next;

            Schedule(SplittableRandom random, double p) {
                this.random = random;
                this.p = p;
                this.next = p > 0 ? 1 + random.nextInt(FIRST_WITHIN) : Long.MAX_VALUE;
            }

            /** Counts one operation; whether it is one that fails. */
            boolean fails() {
                if (++count != next) return false;
                // Geometric gap: the number of operations up to and including the next failure.
                next += p >= 1 ? 1 : 1 + (long) Math.floor(Math.log(1 - random.nextDouble()) / Math.log(1 - p));
                return true;
            }
        }

        @Override
        public synchronized Optional<String> onCreate(int gpu, Instance instance) {
            if (!creates.fails()) return Optional.empty();
            return Optional.of("NVML_ERROR_INSUFFICIENT_RESOURCES: create " + instance + " (injected fault "
                    + log.record("fail-create", gpu, instance.toString()) + ")");
        }

        @Override
        public synchronized Optional<String> onDestroy(int gpu, Instance instance) {
            if (!destroys.fails()) return Optional.empty();
            return Optional.of("NVML_ERROR_IN_USE: destroy " + instance + " (injected fault "
                    + log.record("fail-destroy", gpu, instance.toString()) + ")");
        }

        @Override
        public double extraModeChangeDelayS(int gpu, long ticket) {
            return 0;
        }

        /**
         * Only the engine's plans count (ticket above 0): the node service's clean-up at start waits
         * for its answer. A plan may start its GPU's loss; it is itself answered as usual.
         */
        @Override
        public synchronized double extraDelayS(int gpu, long ticket) {
            if (ticket == 0) return 0;
            if (losses.fails() && lost(gpu).isEmpty()) {
                long lengthMs = 1000 + random.nextInt(2001);
                lostUntil.put(gpu, System.nanoTime() + lengthMs * 1_000_000);
                lossIds.put(gpu, log.record("lose-gpu", gpu, "lost for " + lengthMs + " ms"));
            }
            if (!stuck.fails()) return 0;
            log.record("stuck", gpu, "ticket=" + ticket + " " + STUCK_S + "s");
            return STUCK_S;
        }

        @Override
        public synchronized Optional<String> lost(int gpu) {
            Long until = lostUntil.get(gpu);
            if (until == null) return Optional.empty();
            if (System.nanoTime() >= until) {
                lostUntil.remove(gpu);
                lossIds.remove(gpu);
                return Optional.empty();
            }
            return Optional.of(lossIds.get(gpu));
        }
    }
}
