package dev.migm.progress;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * An attempt's progress as its output says it: reads what the job wrote to its output files since
 * the last call (each file from where it stopped), cuts it into records at line feeds and carriage
 * returns (a progress bar redraws itself after a carriage return), and gives each record to the
 * job's {@link ProgressFormats.Reader}. The share is the latest the job printed, never less than an
 * earlier one (a bar redrawn or a second bar starting over does not take progress back), stamped with
 * when it was printed as far as the file says: its last modification as the read that found the
 * share began, never later than the read (a job that prints a line a minute, read every few seconds,
 * is stamped when it printed, not up to a sample period late; a line written while the read runs is
 * stamped a moment early). Owned by one attempt's sampler thread.
 */
public final class OutputProgress {
    /** The most read from one file per call: a job that prints faster is read on later calls. */
    static final int MOST_PER_CALL = 1 << 20;
    /** A record longer than this is cut (a bar is a line; a megabyte without a line end is not progress). */
    static final int LONGEST_RECORD = 4096;

    private final ProgressFormats.Reader reader;
    private final List<Path> files;
    private final long[] offsets;
    private final StringBuilder[] partial;
    private double share = Double.NaN;
    private long shareAtMs;
    private OptionalLong step = OptionalLong.empty();
    private OptionalLong total = OptionalLong.empty();

    /**
     * @param reader what the job's output is read with
     * @param files  the attempt's output files (stdout, stderr), read from {@code startOffsets}
     */
    public OutputProgress(ProgressFormats.Reader reader, List<Path> files, long[] startOffsets) {
        this.reader = reader;
        this.files = List.copyOf(files);
        this.offsets = startOffsets.clone();
        this.partial = new StringBuilder[files.size()];
        for (int i = 0; i < partial.length; i++) partial[i] = new StringBuilder();
    }

    public OutputProgress(ProgressFormats.Reader reader, List<Path> files) {
        this(reader, files, new long[files.size()]);
    }

    /** Reads what was printed since the last call; the job's share of its work as printed so far (empty: none yet). */
    public OptionalDouble poll() {
        for (int i = 0; i < files.size(); i++) readNew(i);
        return Double.isNaN(share) ? OptionalDouble.empty() : OptionalDouble.of(share);
    }

    /**
     * When the job printed the share {@link #poll} gives (wall-clock milliseconds since the epoch;
     * 0: none yet): the file's last change when the read that found it began, never after that read.
     */
    public long shareAtMs() {
        return shareAtMs;
    }

    /** The latest step the job printed (empty: none). */
    public OptionalLong step() {
        return step;
    }

    /** The total steps the job printed (empty: none). */
    public OptionalLong total() {
        return total;
    }

    private void readNew(int i) {
        byte[] bytes;
        long writtenAtMs;
        try (RandomAccessFile f = new RandomAccessFile(files.get(i).toFile(), "r")) {
            // Before the length: a write racing this read is stamped a moment early, none late.
            writtenAtMs = Math.min(System.currentTimeMillis(), files.get(i).toFile().lastModified());
            long length = f.length();
            if (length < offsets[i]) offsets[i] = 0; // truncated: read it again from the start
            int n = (int) Math.min(MOST_PER_CALL, length - offsets[i]);
            if (n <= 0) return;
            bytes = new byte[n];
            f.seek(offsets[i]);
            f.readFully(bytes);
            offsets[i] += n;
        } catch (IOException e) {
            return; // not written yet, or gone with its attempt
        }
        // A multi-byte character cut at the end of a read decodes as a replacement: bars are ASCII where it matters.
        double before = share;
        String text = new String(bytes, StandardCharsets.UTF_8);
        StringBuilder sb = partial[i];
        for (int k = 0; k < text.length(); k++) {
            char c = text.charAt(k);
            if (c == '\n' || c == '\r') {
                record(sb.toString());
                sb.setLength(0);
            } else if (sb.length() < LONGEST_RECORD) {
                sb.append(c);
            }
        }
        // A bar being drawn has no line end yet: read it as it stands, and again once it ends.
        if (!sb.isEmpty()) record(sb.toString());
        if (!Double.isNaN(share) && !(share == before)) shareAtMs = writtenAtMs == 0 ? System.currentTimeMillis() : writtenAtMs;
    }

    private void record(String text) {
        if (text.isBlank()) return;
        reader.read(text).ifPresent(r -> {
            if (r.total().isPresent()) total = r.total();
            if (r.step().isPresent() && (step.isEmpty() || r.step().getAsLong() >= step.getAsLong())) step = r.step();
            if (r.hasShare() && (Double.isNaN(share) || r.fraction() >= share)) share = r.fraction();
        });
    }
}
