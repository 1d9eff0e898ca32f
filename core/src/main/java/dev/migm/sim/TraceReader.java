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
     * expects (empty: not said; may be wrong), and {@code reports_progress}, 1 when the job writes its
     * progress where migm reads it (empty or 0: it does not).
     */
    public static final List<String> OPTIONAL = List.of("expected_s", "reports_progress");
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
        if (lines.length == 0 || !lines[0].strip().startsWith("# migm-trace")) {
            throw new InvalidInputException(source + ":1: expected '" + MAGIC + "' as the first line");
        }
        String version = lines[0].strip().substring("# migm-trace".length()).strip();
        if (!version.equals("v1")) {
            throw new InvalidInputException(source + ":1: unsupported trace version '" + version + "' (this build reads v1)");
        }
        int[] index = null;
        int headerWidth = 0;
        List<TraceJob> jobs = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int n = 1; n < lines.length; n++) {
            String line = lines[n].strip();
            int lineNo = n + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (index == null) {
                index = header(cells, source, lineNo);
                headerWidth = cells.length;
                continue;
            }
            if (cells.length != headerWidth) {
                throw new InvalidInputException(source + ":" + lineNo + ": expected " + headerWidth + " columns, got "
                        + cells.length);
            }
            Row row = new Row(cells, index, source, lineNo);
            TraceJob job;
            try {
                String declared = row.text("declared_mib");
                String expected = row.text("expected_s");
                WorkloadModel model = new WorkloadModel(row.number("duration_s"), row.number("c"), row.number("sat"),
                        row.integer("mem_base_mib"), row.integer("mem_peak_mib"), row.number("activity"),
                        row.number("checkpoint_s"), row.flag("reports_progress"));
                JobSpec spec = new JobSpec(row.text("id"), row.number("submit_s"), row.text("app"), jobClass(row),
                        declared.isEmpty() ? OptionalLong.empty() : OptionalLong.of(row.integer("declared_mib")),
                        Map.of(), model.checkpoints(),
                        expected.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(row.number("expected_s")));
                job = new TraceJob(spec, model);
            } catch (IllegalArgumentException e) {
                // The value types' range checks say "NAME must be ...": name the column as the reader does.
                String m = String.valueOf(e.getMessage());
                throw new InvalidInputException(source + ":" + lineNo + ": "
                        + m.replaceFirst("^([a-z_]+) (must .*)$", "column $1: $2"));
            }
            if (!ids.add(job.id())) {
                throw new InvalidInputException(source + ":" + lineNo + ": column id: duplicate job id " + TextFiles.quote(job.id()));
            }
            jobs.add(job);
        }
        if (index == null) {
            throw new InvalidInputException(source + ": no CSV header (expected " + String.join(",", COLUMNS) + ")");
        }
        return jobs;
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
