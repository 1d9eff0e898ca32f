package dev.migm.progress;

import java.util.List;
import java.util.Locale;

/**
 * Prints a job's progress as the frameworks {@link ProgressFormats} reads do, for {@code migm workload}:
 * so that the emulated GPU's jobs exercise the same reading as real ones. Layouts follow the
 * frameworks' own output (see the fixtures of {@code ProgressFormatsTest}); times and rates are
 * placeholders.
 */
public final class ProgressPrinter {
    /** The formats it prints. */
    public static final List<String> FORMATS = List.of("tqdm", "hf", "lightning", "keras", "vllm", "deepspeed");
    /** Epochs of the formats that count in epochs (Lightning, Keras): a job's steps split evenly. */
    static final int EPOCHS = 4;

    private final String format;
    private final long total;
    private long lastEpoch = -1;

    public ProgressPrinter(String format, long total) {
        if (!FORMATS.contains(format)) {
            throw new IllegalArgumentException("progress format: one of " + String.join(", ", FORMATS) + ", got " + format);
        }
        this.format = format;
        this.total = Math.max(1, total);
    }

    /**
     * What to print at step {@code done} of {@link #total}: a bar ends with a carriage return (it is
     * redrawn), a log line with a line feed.
     */
    public String at(long done) {
        long d = Math.max(0, Math.min(done, total));
        return switch (format) {
            case "tqdm", "hf" -> tqdm("", d, total) + "\r";
            case "vllm" -> tqdm("Processed prompts: ", d, total) + "\r";
            case "lightning" -> {
                long epoch = Math.min(EPOCHS - 1, d / perEpoch());
                yield String.format(Locale.ROOT, "Epoch %d/%d  ━━━━━━━━━━━━━━━━━━━━ %d/%d 0:00:01 • 0:00:01 1.00it/s v_num: 0\r",
                        epoch, EPOCHS - 1, d - epoch * perEpoch(), epochSize(epoch));
            }
            case "keras" -> {
                long epoch = Math.min(EPOCHS - 1, d / perEpoch());
                long inEpoch = d - epoch * perEpoch();
                long size = epochSize(epoch);
                String head = "";
                if (epoch != lastEpoch) {
                    lastEpoch = epoch;
                    head = String.format(Locale.ROOT, "Epoch %d/%d\n", epoch + 1, EPOCHS);
                }
                int filled = (int) (30 * inEpoch / size);
                yield head + String.format(Locale.ROOT, "%d/%d [%s%s] - ETA: 1s - loss: 0.1000\r", inEpoch, size,
                        "=".repeat(filled), ".".repeat(30 - filled));
            }
            case "deepspeed" -> String.format(Locale.ROOT,
                    "[INFO] [logging.py:96:log_dist] [Rank 0] step=%d, skipped=0, lr=[0.0001], mom=[(0.9, 0.999)]\n", d);
            default -> throw new IllegalStateException(format);
        };
    }

    /** The steps of one epoch but the last. */
    private long perEpoch() {
        return Math.max(1, total / EPOCHS);
    }

    /** The steps of epoch {@code epoch} (from 0): the last takes the rest. */
    private long epochSize(long epoch) {
        return epoch == EPOCHS - 1 ? Math.max(1, total - (EPOCHS - 1) * perEpoch()) : perEpoch();
    }

    static String tqdm(String desc, long done, long total) {
        int pct = (int) (100 * done / total);
        int filled = (int) (10 * done / total);
        return String.format(Locale.ROOT, "%s%3d%%|%s%s| %d/%d [00:01<00:01, 1.00it/s]", desc, pct, "#".repeat(filled),
                " ".repeat(10 - filled), done, total);
    }
}
