package dev.migm.progress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The progress formats migm reads from what a job prints, by name, and the job file's own pattern.
 * Each reads one printed record (a line, or a stretch ended by a carriage return, as progress bars
 * redraw themselves) and says how far the whole job is, when the record says it; a format keeps what
 * earlier records told (an epoch count, the total of the job's bar). Fixtures, with their sources, are
 * in {@code ProgressFormatsTest}.
 *
 * <ul>
 *   <li>{@code tqdm}: a tqdm bar, {@code desc: 45%|####      | 450/1000 [00:12<00:15, 36.5it/s]}:
 *       the Hugging Face Trainer's and Accelerate's training bars (optimizer steps of
 *       {@code max_steps}) and vLLM's offline {@code Processed prompts} bar are tqdm bars. The job's
 *       bar is the first one not of evaluation, validation, downloads, data preparation or a single
 *       epoch; its totals and steps count, others are ignored.</li>
 *   <li>{@code hf}: the Trainer's bar as above, and its logged dicts {@code {'loss': .., 'epoch': 0.5}}
 *       against the {@code Num Epochs = 3} it prints at start.</li>
 *   <li>{@code lightning}: PyTorch Lightning's rich bar {@code Epoch 3/9 ━━━ 450/1000 ...}: epoch 3 of
 *       0..9, 450 of its 1000 batches; its tqdm bar ({@code Epoch 3: 45%|..| 450/1000}) says no epoch
 *       count and is read only with one ({@code max_epochs=10} printed, as Lightning's own messages
 *       print it).</li>
 *   <li>{@code keras}: {@code Epoch 3/10} then {@code 450/1000 [=====>....] - ETA: 15s - loss: ..}.</li>
 *   <li>{@code vllm}: the {@code Processed prompts} tqdm bar only.</li>
 *   <li>{@code deepspeed}: {@code [Rank 0] step=40, skipped=2, ..}: a step, a share only with a total
 *       (another format's, or the job file's {@code steps}).</li>
 *   <li>{@code auto} (the default): all of the above.</li>
 *   <li>A regular expression with named groups: {@code done} and {@code total}, or {@code percent}
 *       (0-100), or {@code fraction} (0-1); optionally {@code epoch} and {@code epochs} (from 1).</li>
 * </ul>
 */
public final class ProgressFormats {
    private ProgressFormats() {
    }

    /**
     * How far a job is, by one record it printed: its share of the whole work (NaN where the record
     * says a step alone), and a step and a total where said.
     */
    public record Reading(double fraction, OptionalLong step, OptionalLong total) {
        public Reading {
            if (!(Double.isNaN(fraction) || fraction >= 0 && fraction <= 1)) {
                throw new IllegalArgumentException("fraction out of [0,1]: " + fraction);
            }
        }

        /** Whether the record says the job's share of its work (not a step alone). */
        public boolean hasShare() {
            return !Double.isNaN(fraction);
        }

        static Reading of(long done, long total) {
            return new Reading(Math.min(1.0, (double) done / total), OptionalLong.of(done), OptionalLong.of(total));
        }
    }

    /** One format's reader for one attempt's output (it keeps what earlier records said). */
    public interface Reader {
        Optional<Reading> read(String record);
    }

    /** The built-in formats, by name. */
    public static final Map<String, Supplier<Reader>> BUILTIN;

    static {
        Map<String, Supplier<Reader>> m = new LinkedHashMap<>();
        m.put("tqdm", TqdmReader::new);
        m.put("hf", () -> new FirstOf(List.of(new TqdmReader(), new HfLogReader())));
        m.put("lightning", LightningReader::new);
        m.put("keras", KerasReader::new);
        m.put("vllm", () -> new TqdmReader(Pattern.compile("^Processed prompts$")));
        m.put("deepspeed", DeepSpeedReader::new);
        BUILTIN = java.util.Collections.unmodifiableMap(m);
    }

    /** The names a job file's {@code progress:} takes besides a pattern. */
    public static List<String> names() {
        List<String> names = new java.util.ArrayList<>(List.of("auto", "none"));
        names.addAll(BUILTIN.keySet());
        return names;
    }

    /**
     * The reader a job file's {@code progress:} names: {@code auto}, {@code none} (empty), a
     * built-in format, or a pattern with named groups (checked here: the job file is refused with
     * the reason when it is neither).
     *
     * @param totalSteps the job's total steps where its file declared them ({@code steps}), for formats
     *                   that print a step alone
     */
    public static Optional<Reader> reader(String spec, OptionalLong totalSteps) {
        String s = spec == null ? "auto" : spec.strip();
        if (s.equals("none")) return Optional.empty();
        Reader r;
        if (s.equals("auto")) {
            r = new FirstOf(List.of(new KerasReader(), new LightningReader(), new TqdmReader(), new HfLogReader(),
                    new DeepSpeedReader()));
        } else if (BUILTIN.containsKey(s)) {
            r = BUILTIN.get(s).get();
        } else {
            r = new PatternReader(pattern(s));
        }
        return Optional.of(totalSteps.isPresent() ? new WithTotal(r, totalSteps.getAsLong()) : r);
    }

    /** Checks a job file's {@code progress:}; the message says what is expected. */
    public static void check(String spec) {
        String s = spec.strip();
        if (names().contains(s)) return;
        pattern(s);
    }

    private static final List<String> GROUPS = List.of("done", "total", "percent", "fraction", "epoch", "epochs");

    static Pattern pattern(String s) {
        if (s.length() > 500) throw new IllegalArgumentException("a progress pattern of at most 500 characters");
        Pattern p;
        try {
            p = Pattern.compile(s);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("one of " + String.join(", ", names())
                    + ", or a regular expression with named groups (done and total, percent or fraction): "
                    + e.getDescription());
        }
        var named = p.namedGroups().keySet();
        boolean share = named.contains("percent") || named.contains("fraction")
                || named.contains("done") && named.contains("total");
        if (!share) {
            throw new IllegalArgumentException("one of " + String.join(", ", names())
                    + ", or a regular expression with named groups done and total, percent or fraction; got "
                    + (named.isEmpty() ? "no named group" : "groups " + named));
        }
        for (String g : named) {
            if (!GROUPS.contains(g)) throw new IllegalArgumentException("unknown group (?<" + g + ">) in the progress pattern;"
                    + " known: " + String.join(", ", GROUPS));
        }
        return p;
    }

    private static OptionalLong number(String text) {
        if (text == null || text.length() > 15) return OptionalLong.empty();
        try {
            return OptionalLong.of(Long.parseLong(text));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The first of several readers that reads a record (each sees every record, so each keeps its state). */
    private record FirstOf(List<Reader> readers) implements Reader {
        @Override
        public Optional<Reading> read(String record) {
            Optional<Reading> first = Optional.empty();
            for (Reader r : readers) {
                Optional<Reading> got = r.read(record);
                if (first.isEmpty()) first = got;
            }
            return first;
        }
    }

    /** A format whose records say a step alone, with the total the job file declared. */
    private record WithTotal(Reader inner, long total) implements Reader {
        @Override
        public Optional<Reading> read(String record) {
            return inner.read(record).map(r -> r.total().isPresent() || r.step().isEmpty() ? r
                    : Reading.of(Math.min(r.step().getAsLong(), total), total));
        }
    }

    /** {@code desc: 45%|bar| 450/1000 [...]}, the bar of tqdm (tqdm's {@code format_meter}). */
    static final Pattern TQDM = Pattern.compile("(?:^|\\s)(?:(?<desc>[^|\\r\\n]{0,200}?):?\\s*)?(?<pct>\\d{1,3})%\\|[^|]*\\|\\s*(?<done>\\d{1,15})/(?<total>\\d{1,15})\\s*\\[");

    /** Bars that are not a job's work: evaluation, validation, tests, downloads, data preparation. */
    static final Pattern NOT_THE_JOB = Pattern.compile(
            "(?i)\\b(eval\\w*|valid\\w*|test\\w*|predict\\w*|sanity|download\\w*|fetch\\w*|map|filter|tokeniz\\w*|load\\w*|shards?|generating \\w+ split|adding requests)\\b");

    /** A single epoch's bar (Lightning's tqdm bar, {@code Epoch 3:}): not the job's share without an epoch count. */
    static final Pattern ONE_EPOCH = Pattern.compile("^Epoch \\d+$");

    static final class TqdmReader implements Reader {
        private final Pattern only;
        /** The description of the job's bar, once one was seen. */
        private String jobsBar;

        TqdmReader() {
            this(null);
        }

        TqdmReader(Pattern only) {
            this.only = only;
        }

        @Override
        public Optional<Reading> read(String record) {
            Matcher m = TQDM.matcher(record);
            if (!m.find()) return Optional.empty();
            String desc = m.group("desc") == null ? "" : m.group("desc").strip();
            if (desc.endsWith(":")) desc = desc.substring(0, desc.length() - 1).strip();
            if (only != null && !only.matcher(desc).find()) return Optional.empty();
            if (jobsBar == null) {
                if (NOT_THE_JOB.matcher(desc).find() || ONE_EPOCH.matcher(desc).find()) return Optional.empty();
                jobsBar = desc;
            } else if (!jobsBar.equals(desc)) {
                return Optional.empty();
            }
            OptionalLong done = number(m.group("done"));
            OptionalLong total = number(m.group("total"));
            if (done.isEmpty() || total.isEmpty() || total.getAsLong() < 1 || done.getAsLong() > total.getAsLong()) {
                return Optional.empty();
            }
            return Optional.of(Reading.of(done.getAsLong(), total.getAsLong()));
        }
    }

    /** The Trainer's {@code Num Epochs = 3} and its logs {@code {'loss': 2.1, ..., 'epoch': 0.5}}. */
    static final class HfLogReader implements Reader {
        static final Pattern EPOCHS = Pattern.compile("Num [Ee]pochs = (\\d{1,9})");
        static final Pattern LOGGED = Pattern.compile("^\\s*\\{.*['\"]epoch['\"]:\\s*(\\d{1,9}(?:\\.\\d{1,20})?)");
        private long epochs;

        @Override
        public Optional<Reading> read(String record) {
            Matcher e = EPOCHS.matcher(record);
            if (e.find()) {
                epochs = number(e.group(1)).orElse(0);
                return Optional.empty();
            }
            if (epochs < 1) return Optional.empty();
            Matcher m = LOGGED.matcher(record);
            if (!m.find() || record.contains("eval_")) return Optional.empty();
            double epoch = Double.parseDouble(m.group(1));
            return Optional.of(new Reading(Math.min(1.0, epoch / epochs), OptionalLong.empty(), OptionalLong.empty()));
        }
    }

    /** Lightning's rich bar {@code Epoch 3/9 ━━ 450/1000 0:00:12 • 0:00:15 36.50it/s}, and its tqdm bar with a known epoch count. */
    static final class LightningReader implements Reader {
        static final Pattern RICH = Pattern.compile("^\\s*Epoch (\\d{1,9})/(\\d{1,9})\\b[^0-9]*?(\\d{1,15})/(\\d{1,15})\\b");
        static final Pattern BAR = Pattern.compile("^\\s*Epoch (\\d{1,9}):\\s*\\d{1,3}%\\|[^|]*\\|\\s*(\\d{1,15})/(\\d{1,15})\\s*\\[");
        static final Pattern MAX_EPOCHS = Pattern.compile("max_epochs=(\\d{1,9})");
        private long maxEpochs;

        @Override
        public Optional<Reading> read(String record) {
            Matcher max = MAX_EPOCHS.matcher(record);
            if (max.find()) maxEpochs = number(max.group(1)).orElse(0);
            Matcher r = RICH.matcher(record);
            if (r.find()) {
                // Epochs count from 0: "Epoch 3/9" is the fourth of ten.
                return share(number(r.group(1)), OptionalLong.of(number(r.group(2)).orElse(-1) + 1), number(r.group(3)),
                        number(r.group(4)));
            }
            Matcher b = BAR.matcher(record);
            if (b.find() && maxEpochs > 0) {
                return share(number(b.group(1)), OptionalLong.of(maxEpochs), number(b.group(2)), number(b.group(3)));
            }
            return Optional.empty();
        }

        static Optional<Reading> share(OptionalLong epoch, OptionalLong epochs, OptionalLong done, OptionalLong total) {
            if (epoch.isEmpty() || epochs.isEmpty() || done.isEmpty() || total.isEmpty()) return Optional.empty();
            long e = epoch.getAsLong(), n = epochs.getAsLong(), d = done.getAsLong(), t = total.getAsLong();
            if (n < 1 || t < 1 || e >= n || d > t) return Optional.empty();
            double fraction = (e + (double) d / t) / n;
            return Optional.of(new Reading(Math.min(1.0, fraction), OptionalLong.of(e * t + d), OptionalLong.of(n * t)));
        }
    }

    /** Keras: {@code Epoch 3/10} (from 1), then {@code 450/1000 [====>.....] - ETA: 15s - loss: ...}. */
    static final class KerasReader implements Reader {
        static final Pattern EPOCH = Pattern.compile("^\\s*Epoch (\\d{1,9})/(\\d{1,9})\\s*$");
        static final Pattern STEP = Pattern.compile("^\\s*(\\d{1,15})/(\\d{1,15}) \\[[=>.]*\\]");
        private long epoch;
        private long epochs;

        @Override
        public Optional<Reading> read(String record) {
            Matcher e = EPOCH.matcher(record);
            if (e.find()) {
                epoch = number(e.group(1)).orElse(0);
                epochs = number(e.group(2)).orElse(0);
                return Optional.empty();
            }
            if (epochs < 1 || epoch < 1) return Optional.empty();
            Matcher s = STEP.matcher(record);
            if (!s.find()) return Optional.empty();
            return LightningReader.share(OptionalLong.of(epoch - 1), OptionalLong.of(epochs), number(s.group(1)),
                    number(s.group(2)));
        }
    }

    /** DeepSpeed's engine log {@code [Rank 0] step=40, skipped=2, lr=[..]}: a step alone. */
    static final class DeepSpeedReader implements Reader {
        static final Pattern STEP = Pattern.compile("\\[Rank 0\\] step=(\\d{1,15}), skipped=");

        @Override
        public Optional<Reading> read(String record) {
            Matcher m = STEP.matcher(record);
            if (!m.find()) return Optional.empty();
            // No share without a total: the step alone travels (a job file's steps makes it one).
            return number(m.group(1)).stream().boxed().findFirst()
                    .map(step -> new Reading(Double.NaN, OptionalLong.of(step), OptionalLong.empty()));
        }
    }

    /** The job file's pattern: done/total, percent, or fraction, and optionally epoch/epochs (from 1). */
    static final class PatternReader implements Reader {
        /**
         * The most characters one record's match may read: a pattern that backtracks without end (a
         * submitter's {@code (a+)+b}) would otherwise hold the sampler, and every job's sampling, on
         * one line of output. A linear match reads a record a few times over; this is a thousand times
         * the longest record.
         */
        static final long MOST_READS = 1000L * OutputProgress.LONGEST_RECORD;

        private final Pattern pattern;
        /** Set once a match ran past {@link #MOST_READS}: the pattern is not used again. */
        private boolean runaway;

        PatternReader(Pattern pattern) {
            this.pattern = pattern;
        }

        /** Whether a match ran away and the pattern was given up. */
        boolean gaveUp() {
            return runaway;
        }

        @Override
        public Optional<Reading> read(String record) {
            if (runaway) return Optional.empty();
            Matcher m = pattern.matcher(new Budgeted(record, MOST_READS));
            try {
                if (!m.find()) return Optional.empty();
            } catch (Budgeted.Exhausted e) {
                runaway = true;
                return Optional.empty();
            }
            var named = pattern.namedGroups().keySet();
            double within;
            OptionalLong step = OptionalLong.empty(), total = OptionalLong.empty();
            try {
                if (named.contains("done") && named.contains("total") && m.group("done") != null && m.group("total") != null) {
                    OptionalLong d = number(m.group("done")), t = number(m.group("total"));
                    if (d.isEmpty() || t.isEmpty() || t.getAsLong() < 1 || d.getAsLong() > t.getAsLong()) return Optional.empty();
                    within = (double) d.getAsLong() / t.getAsLong();
                    step = d;
                    total = t;
                } else if (named.contains("percent") && m.group("percent") != null) {
                    within = Double.parseDouble(m.group("percent")) / 100;
                } else if (named.contains("fraction") && m.group("fraction") != null) {
                    within = Double.parseDouble(m.group("fraction"));
                } else {
                    return Optional.empty();
                }
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
            if (!(within >= 0 && within <= 1)) return Optional.empty();
            if (named.contains("epoch") && named.contains("epochs") && m.group("epoch") != null && m.group("epochs") != null) {
                OptionalLong e = number(m.group("epoch")), n = number(m.group("epochs"));
                if (e.isEmpty() || n.isEmpty() || e.getAsLong() < 1 || n.getAsLong() < e.getAsLong()) return Optional.empty();
                double f = (e.getAsLong() - 1 + within) / n.getAsLong();
                if (step.isPresent()) {
                    return Optional.of(new Reading(f, OptionalLong.of((e.getAsLong() - 1) * total.getAsLong() + step.getAsLong()),
                            OptionalLong.of(n.getAsLong() * total.getAsLong())));
                }
                return Optional.of(new Reading(f, OptionalLong.empty(), OptionalLong.empty()));
            }
            return Optional.of(new Reading(within, step, total));
        }
    }

    /** A record whose characters may be read at most a number of times, across every view of it. */
    static final class Budgeted implements CharSequence {
        static final class Exhausted extends RuntimeException {
            Exhausted() {
                super("the progress pattern read too much of one record", null, false, false);
            }
        }

        private final CharSequence text;
        private final long[] left;

        Budgeted(CharSequence text, long budget) {
            this(text, new long[] {budget});
        }

        private Budgeted(CharSequence text, long[] left) {
            this.text = text;
            this.left = left;
        }

        @Override
        public char charAt(int index) {
            if (--left[0] < 0) throw new Exhausted();
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Budgeted(text.subSequence(start, end), left);
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }
}
