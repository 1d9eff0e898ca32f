package dev.migm.sim;

import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Locale;

/**
 * Writes {@code migm-trace v1} (models.md section 7) with a fixed precision per column, so that a
 * written trace reads back as the same jobs (to that precision) and the same input writes the same
 * bytes.
 */
public final class TraceWriter {
    private final Writer out;

    public TraceWriter(Writer out) {
        this.out = out;
    }

    public void header() {
        write(TraceReader.MAGIC + "\n" + String.join(",", TraceReader.COLUMNS) + "\n");
    }

    /** A comment line; {@code text} must not hold a line break. */
    public void comment(String text) {
        if (text.contains("\n") || text.contains("\r")) throw new IllegalArgumentException("comment with a line break");
        write("# " + text + "\n");
    }

    public void job(TraceJob job) {
        WorkloadModel m = job.model();
        var spec = job.spec();
        write(String.format(Locale.ROOT, "%s,%.1f,%s,%s,%.1f,%.3f,%.3f,%d,%d,%.2f,%.0f,%s,%s,%s,%s,%s%n", spec.id(),
                spec.submitS(), spec.app(), spec.jobClass(), m.durationS(), m.c(), m.sat(), m.memBaseMib(),
                m.memPeakMib(), m.activity(), m.checkpointS(),
                spec.declaredMib().isPresent() ? Long.toString(spec.declaredMib().getAsLong()) : "",
                spec.expectedS().isPresent() ? String.format(Locale.ROOT, "%.1f", spec.expectedS().getAsDouble()) : "",
                m.reportsProgress() ? "1" : "0", TraceParams.encode(spec.params()),
                m.progressEveryS() > 0 ? String.format(Locale.ROOT, "%.1f", m.progressEveryS()) : ""));
    }

    private void write(String s) {
        try {
            out.write(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
