package dev.migm.report;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.Journal;
import dev.migm.engine.Outcome;
import dev.migm.engine.Slot;
import dev.migm.gpu.GpuModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run did over time, for the report ({@code migm report}): per GPU the instances attempts
 * held (boxes over memory slices and time, with how each attempt ended), reconfigurations and mode
 * changes, the board power; the queue's length; a line per job. Built from the engine's records in
 * every world (a {@link Recorder} is one more journal), with power from the world's meter.
 * Written as {@code migm.timeline/v1} JSON by {@code simulate --timeline} and {@code run}.
 */
public final class Timeline {
    private Timeline() {
    }

    /** An attempt's instance over its life: memory slices {@code [startSlice, startSlice + slices)}. */
    public record Box(int startSlice, int slices, String profile, double fromS, double toS, String job, int attempt,
                      String outcome) {
    }

    /** A reconfiguration or MIG mode change began on the GPU. */
    public record Mark(double atS, String kind) {
    }

    /** A value from a time on (a step curve). */
    public record Point(double atS, double value) {
    }

    public record Gpu(int gpu, String model, int memorySlices, List<Box> boxes, List<Mark> marks, List<Point> watts) {
    }

    /**
     * A job's line in the report's table: its id, name and submitter (a trace's jobs have no user:
     * empty; a file written before names were kept: null), and how it ran.
     */
    public record JobLine(String id, String name, String user, String state, int attempts, String slot, long needMib,
                          String needSource, long peakMib, double energyJ) {
    }

    /**
     * A run: its window {@code [startS, endS]} on the world's clock (seconds since the Unix epoch for
     * {@code live}, {@code emulated} and {@code nvml}; from the trace's start for {@code simulated}),
     * and the figures its CLI printed ({@code makespanS}, {@code energyJ}; null for a live window or a
     * file written before they were kept), which the report shows rather than recomputing them.
     */
    public record Run(String trace, String policy, String world, double startS, double endS, List<Gpu> gpus,
                      List<Point> queue, List<JobLine> jobs, String energyModel, Double makespanS, Double energyJ) {
        /** The same run, with the figures its CLI printed. */
        public Run withFigures(double makespanS, double energyJ) {
            return new Run(trace, policy, world, startS, endS, gpus, queue, jobs, energyModel, makespanS, energyJ);
        }

        /** Whether its times are on the wall clock (else from the trace's start). */
        public boolean wallClock() {
            return !"simulated".equals(world);
        }
    }

    /** The file {@code simulate --timeline} and {@code run} write. */
    public record File(String schema, List<Run> runs) {
        public static final String SCHEMA = "migm.timeline/v1";
    }

    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder()
            .propertyNamingStrategy(tools.jackson.databind.PropertyNamingStrategies.SNAKE_CASE).build();

    /** Writes {@code runs} as a {@code migm.timeline/v1} file. */
    public static void write(java.nio.file.Path file, List<Run> runs) throws java.io.IOException {
        dev.migm.io.TextFiles.writeAtomically(file, JSON.writeValueAsString(new File(File.SCHEMA, runs)) + "\n");
    }

    /** Reads a {@code migm.timeline/v1} file; one line naming the file when it is not one. */
    public static File read(java.nio.file.Path file) {
        String text = dev.migm.io.TextFiles.read(file);
        File f;
        try {
            f = JSON.readValue(text, File.class);
        } catch (tools.jackson.core.JacksonException e) {
            throw new dev.migm.io.InvalidInputException(file + ": expected a " + File.SCHEMA
                    + " file (written by migm simulate --timeline or migm run)");
        }
        if (f == null || !File.SCHEMA.equals(f.schema()) || f.runs() == null) {
            throw new dev.migm.io.InvalidInputException(file + ": expected schema " + File.SCHEMA);
        }
        return f;
    }

    /**
     * Records a run's timeline from the engine's records and the meter's power readings; safe to
     * feed from the engine's thread and the meter's while another reads it.
     */
    public static final class Recorder implements Journal {
        private final List<GpuModel> models;
        private final List<List<Box>> boxes = new ArrayList<>();
        private final List<List<Mark>> marks = new ArrayList<>();
        private final List<List<Point>> watts = new ArrayList<>();
        private final List<Point> queue = new ArrayList<>();
        private final Map<String, Open> open = new HashMap<>();
        private int waiting;
        private final java.util.Set<String> queued = new java.util.HashSet<>();

        private record Open(Slot slot, double fromS, int attempt) {
        }

        public Recorder(List<GpuModel> models) {
            this.models = List.copyOf(models);
            for (int g = 0; g < models.size(); g++) {
                boxes.add(new ArrayList<>());
                marks.add(new ArrayList<>());
                watts.add(new ArrayList<>());
            }
        }

        @Override
        public synchronized void append(EngineRecord record) {
            switch (record) {
                case EngineRecord.AttemptLaunched l -> open.put(l.jobId(), new Open(l.slot(), l.atS(), l.attempt()));
                case EngineRecord.AttemptExited x -> {
                    Open o = open.remove(x.jobId());
                    if (o != null) close(x.jobId(), o, x.atS(), outcome(x.outcome()));
                }
                case EngineRecord.ReconfigurationPlanned p -> marks.get(p.gpu()).add(new Mark(p.atS(), "reconfiguration"));
                case EngineRecord.MigModeChangeRequested m -> marks.get(m.gpu()).add(new Mark(m.atS(),
                        m.enabled() ? "mig-on" : "mig-off"));
                case EngineRecord.Queued q -> {
                    if (queued.add(q.jobId())) count(q.atS(), +1);
                }
                case EngineRecord.Placed p -> unqueue(p.jobId(), p.atS());
                case EngineRecord.Failed f -> unqueue(f.jobId(), f.atS());
                case EngineRecord.Cancelled c -> unqueue(c.jobId(), c.atS());
                default -> {
                }
            }
        }

        private void unqueue(String job, double atS) {
            if (queued.remove(job)) count(atS, -1);
        }

        private void count(double atS, int delta) {
            waiting += delta;
            if (!queue.isEmpty() && queue.getLast().atS() == atS) queue.removeLast();
            queue.add(new Point(atS, waiting));
        }

        private void close(String job, Open o, double toS, String outcome) {
            boxes.get(o.slot().gpu()).add(box(job, o, toS, outcome));
        }

        private Box box(String job, Open o, double toS, String outcome) {
            GpuModel m = models.get(o.slot().gpu());
            int start = o.slot().instance().map(i -> i.start()).orElse(0);
            int slices = o.slot().instance().map(i -> i.profile().memorySlices()).orElse(m.memorySlices());
            String profile = o.slot().instance().map(i -> i.profile().name().toString()).orElse("whole GPU");
            return new Box(start, slices, profile, o.fromS(), toS, job, o.attempt(), outcome);
        }

        private static String outcome(Outcome outcome) {
            return switch (outcome) {
                case Outcome.Completed c -> "completed";
                case Outcome.OutOfMemory o -> "oom";
                case Outcome.Stopped s -> s.why().startsWith("early restart") ? "early-restart" : "stopped";
                case Outcome.Crashed c -> "crashed";
                case Outcome.CannotStart c -> "cannot-start";
            };
        }

        /** Each GPU drew {@code joules[g]} over {@code [fromS, toS)}: its mean power from {@code fromS} on (a meter's tick). */
        public synchronized void meanPower(double fromS, double toS, double[] joules) {
            if (!(toS > fromS)) return;
            for (int g = 0; g < joules.length; g++) power(g, fromS, joules[g] / (toS - fromS));
        }

        /** The board of {@code gpu} draws {@code w} watts from {@code atS} on. */
        public synchronized void power(int gpu, double atS, double w) {
            List<Point> p = watts.get(gpu);
            if (!p.isEmpty() && p.getLast().atS() == atS) p.removeLast();
            if (!p.isEmpty() && p.getLast().value() == w) return;
            p.add(new Point(atS, w));
        }

        /**
         * Forgets what ended before {@code beforeS} (a daemon's view keeps a window, not months):
         * boxes and marks, and curve points but the last one before it, which still holds then.
         */
        public synchronized void forgetBefore(double beforeS) {
            for (List<Box> b : boxes) b.removeIf(box -> box.toS() < beforeS);
            for (List<Mark> m : marks) m.removeIf(mark -> mark.atS() < beforeS);
            for (List<Point> w : watts) dropBefore(w, beforeS);
            dropBefore(queue, beforeS);
        }

        private static void dropBefore(List<Point> points, double beforeS) {
            int keep = 0;
            while (keep + 1 < points.size() && points.get(keep + 1).atS() <= beforeS) keep++;
            if (keep > 0) points.subList(0, keep).clear();
        }

        /**
         * The run as recorded, attempts still open ending at {@code endS}; the recorder goes on
         * (a live view builds it again and again).
         */
        public synchronized Run snapshot(String trace, String policy, String world, double startS, double endS, List<JobLine> jobs,
                            String energyModel) {
            List<Gpu> gpus = new ArrayList<>();
            for (int g = 0; g < models.size(); g++) {
                List<Box> b = new ArrayList<>(boxes.get(g));
                for (var e : open.entrySet()) {
                    Open o = e.getValue();
                    if (o.slot().gpu() == g) b.add(box(e.getKey(), o, endS, "running"));
                }
                gpus.add(new Gpu(g, models.get(g).name(), models.get(g).memorySlices(), b, List.copyOf(marks.get(g)),
                        List.copyOf(watts.get(g))));
            }
            return new Run(trace, policy, world, startS, endS, gpus, List.copyOf(queue), List.copyOf(jobs), energyModel,
                    null, null);
        }

        /** The run as recorded; attempts still open end at {@code endS}. */
        public synchronized Run build(String trace, String policy, String world, double startS, double endS, List<JobLine> jobs,
                         String energyModel) {
            for (var e : List.copyOf(open.entrySet())) close(e.getKey(), e.getValue(), endS, "running");
            open.clear();
            List<Gpu> gpus = new ArrayList<>();
            for (int g = 0; g < models.size(); g++) {
                gpus.add(new Gpu(g, models.get(g).name(), models.get(g).memorySlices(), List.copyOf(boxes.get(g)),
                        List.copyOf(marks.get(g)), List.copyOf(watts.get(g))));
            }
            return new Run(trace, policy, world, startS, endS, gpus, List.copyOf(queue), List.copyOf(jobs), energyModel,
                    null, null);
        }
    }
}
