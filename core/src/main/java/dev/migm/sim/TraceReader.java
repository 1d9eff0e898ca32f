package dev.migm.sim;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Reads {@code migm-trace v1} (models.md section 7): a first line {@code # migm-trace v1}, then a
 * CSV header with the v1 columns (any order; the {@link #OPTIONAL} ones may be left out), then one row
 * a job; other lines starting with {@code #} are comments. Each row splits into what the submitter
 * declared ({@code id, submit_s, app, class, declared_mib, expected_s}, and whether it checkpoints)
 * and the workload model only the simulated world sees (the rest). Errors name the file, line and
 * column and say what was expected; a trace with any bad row is refused whole, so that a run never
 * silently covers part of a trace.
 */
public final class TraceReader {
    public static final String MAGIC = "# migm-trace v1";
    /** The columns every v1 trace has. */
    public static final List<String> REQUIRED = List.of("id", "submit_s", "app", "class", "duration_s", "c", "sat",
            "mem_base_mib", "mem_peak_mib", "activity", "checkpoint_s", "declared_mib");
    /**
     * Columns a trace may add: {@code expected_s}, the run time alone on a whole GPU that the submitter
     * expects (empty: not said; may be wrong), {@code reports_progress}, 1 when the job writes its
     * progress where migm reads it (empty or 0: it does not), {@code params}, the parameters the
     * submitter declared ({@link TraceParams}: what memory expressions and framework estimators read),
     * and {@code progress_every_s}, how often a job that reports its progress says it, in seconds of
     * its run (empty or 0: at least as often as migm samples it).
     */
    public static final List<String> OPTIONAL = List.of("expected_s", "reports_progress", "params",
            "progress_every_s");
    /** Every v1 column, in the order {@code generate-trace} writes them. */
    public static final List<String> COLUMNS = java.util.stream.Stream.concat(REQUIRED.stream(), OPTIONAL.stream())
            .toList();

    private TraceReader() {
    }

    public static List<TraceJob> read(Path path) {
        return parse(dev.migm.io.TextFiles.read(path), path.toString());
    }

    public static List<TraceJob> parse(String text, String source) {
        String[] lines = text.split("\\R", -1);
        Parser parser = new Parser(source);
        List<TraceJob> jobs = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int n = 0; n < lines.length; n++) {
            TraceJob job = parser.line(lines[n], n + 1);
            if (job == null) continue;
            if (!ids.add(job.id())) {
                throw new InvalidInputException(source + ":" + (n + 1) + ": column id: duplicate job id "
                        + TextFiles.quote(job.id()));
            }
            jobs.add(job);
        }
        parser.finish();
        return jobs;
    }

    /**
     * A trace file as a {@link Workload}, checked whole first (every row, unique ids) as
     * {@link #read} does, then streamed run by run when its rows are in submit-time order (what
     * {@code generate-trace} and {@code convert-trace} write), so that its jobs are never all in
     * memory; a trace in another order is read whole and sorted. The check keeps 8 bytes per job
     * (a 64-bit hash of its id); ids whose hashes meet are compared exactly in a second pass.
     */
    public static Workload open(Path path) {
        String source = path.toString();
        IdHashes hashes = new IdHashes();
        int[] count = {0};
        boolean[] sorted = {true};
        double[] lastSubmit = {Double.NEGATIVE_INFINITY};
        forEachJob(path, (job, line) -> {
            count[0]++;
            hashes.add(job.id());
            sorted[0] &= job.spec().submitS() >= lastSubmit[0];
            lastSubmit[0] = job.spec().submitS();
        });
        if (hashes.collided()) {
            java.util.Map<String, Integer> firstLine = new java.util.HashMap<>();
            forEachJob(path, (job, line) -> {
                if (!hashes.isSuspect(job.id())) return;
                if (firstLine.putIfAbsent(job.id(), line) != null) {
                    throw new InvalidInputException(source + ":" + line + ": column id: duplicate job id "
                            + TextFiles.quote(job.id()) + " (first on line " + firstLine.get(job.id()) + ")");
                }
            });
        }
        if (!sorted[0]) {
            return Workload.of(read(path));
        }
        int size = count[0];
        return new Workload() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public java.util.stream.Stream<TraceJob> arrivals() {
                java.io.BufferedReader in = TextFiles.lines(path);
                Parser parser = new Parser(source);
                java.util.Iterator<TraceJob> jobs = new java.util.Iterator<>() {
                    private int lineNo;
                    private TraceJob next = advance();

                    private TraceJob advance() {
                        try {
                            for (String line; (line = in.readLine()) != null; ) {
                                TraceJob job = parser.line(line, ++lineNo);
                                if (job != null) return job;
                            }
                            return null;
                        } catch (java.io.IOException e) {
                            throw new InvalidInputException(source + ":" + (lineNo + 1) + ": cannot read (" + e.getMessage() + ")");
                        }
                    }

                    @Override
                    public boolean hasNext() {
                        return next != null;
                    }

                    @Override
                    public TraceJob next() {
                        if (next == null) throw new java.util.NoSuchElementException();
                        TraceJob job = next;
                        next = advance();
                        return job;
                    }
                };
                return java.util.stream.StreamSupport.stream(java.util.Spliterators.spliterator(jobs, size,
                        java.util.Spliterator.ORDERED | java.util.Spliterator.NONNULL), false).onClose(() -> {
                            try {
                                in.close();
                            } catch (java.io.IOException ignored) {
                                // read-only: nothing to lose
                            }
                        });
            }
        };
    }

    /** Every job of the file with its line, checked as {@link #parse} checks them. */
    private static void forEachJob(Path path, java.util.function.ObjIntConsumer<TraceJob> each) {
        String source = path.toString();
        Parser parser = new Parser(source);
        int lineNo = 0;
        try (java.io.BufferedReader in = TextFiles.lines(path)) {
            for (String line; (line = in.readLine()) != null; ) {
                TraceJob job = parser.line(line, ++lineNo);
                if (job != null) each.accept(job, lineNo);
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw TextFiles.notUtf8(path);
        } catch (java.io.IOException e) {
            throw TextFiles.unreadable(path, e);
        }
        parser.finish();
    }

    /**
     * A set of 64-bit id hashes (open addressing), for the duplicate check of a streamed trace: a hash
     * met twice makes its ids suspects, compared exactly afterwards.
     */
    private static final class IdHashes {
        private long[] table = new long[1 << 16];
        private int size;
        private boolean zeroSeen;
        private final java.util.Set<Long> suspects = new HashSet<>();

        static long hash(String id) {
            long h = 0xcbf29ce484222325L;
            for (int i = 0; i < id.length(); i++) {
                h = (h ^ id.charAt(i)) * 0x100000001b3L;
            }
            h ^= h >>> 33;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
            return h;
        }

        void add(String id) {
            long h = hash(id);
            if (h == 0) {
                if (zeroSeen) suspects.add(h);
                zeroSeen = true;
                return;
            }
            if (2 * (size + 1) > table.length) grow();
            if (!insert(table, h)) suspects.add(h);
            else size++;
        }

        private static boolean insert(long[] table, long h) {
            int mask = table.length - 1;
            for (int i = (int) h & mask; ; i = (i + 1) & mask) {
                if (table[i] == 0) {
                    table[i] = h;
                    return true;
                }
                if (table[i] == h) return false;
            }
        }

        private void grow() {
            long[] bigger = new long[table.length * 2];
            for (long h : table) {
                if (h != 0) insert(bigger, h);
            }
            table = bigger;
        }

        boolean collided() {
            return !suspects.isEmpty();
        }

        boolean isSuspect(String id) {
            return suspects.contains(hash(id));
        }
    }

    /** Turns a trace's lines into jobs, one line at a time: the magic line, the header, then rows. */
    private static final class Parser {
        private final String source;
        private boolean magicSeen;
        private int[] index;
        private int headerWidth;

        Parser(String source) {
            this.source = source;
        }

        /** The job on this line, or null for the magic line, the header, a comment or a blank line. */
        TraceJob line(String raw, int lineNo) {
            if (!magicSeen) {
                String first = raw.startsWith("\uFEFF") ? raw.substring(1).strip() : raw.strip();
                if (!first.startsWith("# migm-trace")) {
                    throw new InvalidInputException(source + ":1: expected '" + MAGIC + "' as the first line");
                }
                String version = first.substring("# migm-trace".length()).strip();
                if (!version.equals("v1")) {
                    throw new InvalidInputException(source + ":1: unsupported trace version " + TextFiles.quote(version)
                            + " (this build reads v1)");
                }
                magicSeen = true;
                return null;
            }
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                return null;
            }
            String[] cells = line.split(",", -1);
            if (index == null) {
                index = header(cells, source, lineNo);
                headerWidth = cells.length;
                return null;
            }
            if (cells.length != headerWidth) {
                throw new InvalidInputException(source + ":" + lineNo + ": expected " + headerWidth + " columns, got "
                        + cells.length);
            }
            Row row = new Row(cells, index, source, lineNo);
            try {
                String declared = row.text("declared_mib");
                String expected = row.text("expected_s");
                WorkloadModel model = new WorkloadModel(row.number("duration_s"), row.number("c"), row.number("sat"),
                        row.integer("mem_base_mib"), row.integer("mem_peak_mib"), row.number("activity"),
                        row.number("checkpoint_s"), row.flag("reports_progress"),
                        row.text("progress_every_s").isEmpty() ? 0 : row.number("progress_every_s"));
                JobSpec spec = new JobSpec(row.text("id"), row.number("submit_s"), row.text("app"), jobClass(row),
                        declared.isEmpty() ? OptionalLong.empty() : OptionalLong.of(row.integer("declared_mib")),
                        params(row), model.checkpoints(),
                        expected.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(row.number("expected_s")));
                if (!spec.params().isEmpty()) {
                    // The estimators that will size its first attempt read its params now, once: a
                    // value they cannot use refuses the row here, not in the middle of a run.
                    try {
                        dev.migm.estimate.EstimatorChain.declaredNeed(spec);
                    } catch (dev.migm.estimate.ParameterException e) {
                        throw new InvalidInputException(row.where("params") + "param " + e.getMessage());
                    }
                }
                return new TraceJob(spec, model);
            } catch (IllegalArgumentException e) {
                // The value types' range checks say "NAME must be ...": name the column as the reader does.
                String m = String.valueOf(e.getMessage());
                throw new InvalidInputException(source + ":" + lineNo + ": "
                        + m.replaceFirst("^([a-z_]+) (must .*)$", "column $1: $2"));
            }
        }

        /** The row's params; most traces have none, and a row without them costs no map. */
        private static Map<String, String> params(Row row) {
            String cell = row.text("params");
            return cell.isEmpty() ? Map.of() : TraceParams.decode(cell, row.where("params"));
        }

        /** At the end of the input: a trace needs its magic line and header. */
        void finish() {
            if (!magicSeen) {
                throw new InvalidInputException(source + ":1: expected '" + MAGIC + "' as the first line");
            }
            if (index == null) {
                throw new InvalidInputException(source + ": no CSV header (expected " + String.join(",", COLUMNS) + ")");
            }
        }
    }

    private static JobClass jobClass(Row row) {
        try {
            return JobClass.parse(row.text("class"));
        } catch (InvalidInputException e) {
            throw new InvalidInputException(row.where("class") + e.getMessage());
        }
    }

    private static int[] header(String[] cells, String source, int lineNo) {
        int[] index = new int[COLUMNS.size()];
        java.util.Arrays.fill(index, -1);
        for (int i = 0; i < cells.length; i++) {
            String name = cells[i].strip();
            int k = COLUMNS.indexOf(name);
            if (k < 0) {
                throw new InvalidInputException(source + ":" + lineNo + ": unknown column " + TextFiles.quote(name) + " (v1 columns: "
                        + String.join(",", COLUMNS) + ")");
            }
            if (index[k] >= 0) {
                throw new InvalidInputException(source + ":" + lineNo + ": column " + TextFiles.quote(name) + " appears twice");
            }
            index[k] = i;
        }
        for (int k = 0; k < REQUIRED.size(); k++) {
            if (index[k] < 0) {
                throw new InvalidInputException(source + ":" + lineNo + ": missing column '" + COLUMNS.get(k) + "'");
            }
        }
        return index;
    }

    private record Row(String[] cells, int[] index, String source, int line) {
        /** The cell's text; empty for an optional column the trace leaves out. */
        String text(String column) {
            int i = index[COLUMNS.indexOf(column)];
            return i < 0 ? "" : cells[i].strip();
        }

        boolean flag(String column) {
            String t = text(column);
            return switch (t) {
                case "", "0" -> false;
                case "1" -> true;
                default -> throw new InvalidInputException(where(column) + "expected 0 or 1, got " + TextFiles.quote(t));
            };
        }

        String where(String column) {
            return source + ":" + line + ": column " + column + ": ";
        }

        double number(String column) {
            String t = text(column);
            try {
                double v = Double.parseDouble(t);
                if (!Double.isFinite(v)) throw new NumberFormatException();
                return v;
            } catch (NumberFormatException e) {
                throw new InvalidInputException(where(column) + "expected a number, got " + TextFiles.quote(t));
            }
        }

        long integer(String column) {
            String t = text(column);
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(where(column) + "expected a whole number of MiB, got " + TextFiles.quote(t));
            }
        }
    }
}
