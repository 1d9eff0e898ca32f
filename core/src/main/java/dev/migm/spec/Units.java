package dev.migm.spec;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes and durations as people write them in job files: {@code 20GiB}, {@code 512 MiB}, {@code 3GB}
 * (powers of 1024 for the {@code i} units and, as GPU tools print them, for the bare ones too:
 * {@code GB} is a GiB in {@code nvidia-smi}'s and the MIG profiles' naming); {@code 600s},
 * {@code 30m}, {@code 2h}, {@code 1h30m}, {@code 1.5h}. A bare number is MiB or seconds.
 */
public final class Units {
    private static final Pattern SIZE = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([a-zA-Z]*)\\s*");
    private static final Pattern DURATION_PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m|h|d)?");
    /** Largest size a job may hint: 1 PiB. */
    static final double MAX_MIB = 1024.0 * 1024 * 1024;
    /** Longest duration: ten years. */
    static final double MAX_S = 10 * 365.25 * 86400;

    private Units() {
    }

    public static long mib(String text, String where) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new InvalidInputException(where + "expected a size like 20GiB or 512MiB, got " + TextFiles.quote(text));
        }
        double v = Double.parseDouble(m.group(1));
        double factor = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "mib", "mb", "m" -> 1;
            case "b" -> 1.0 / (1 << 20);
            case "kib", "kb", "k" -> 1.0 / 1024;
            case "gib", "gb", "g" -> 1024;
            case "tib", "tb", "t" -> 1024 * 1024;
            default -> throw new InvalidInputException(where + "unknown unit " + TextFiles.quote(m.group(2))
                    + " (B, KiB, MiB, GiB, TiB)");
        };
        double mib = v * factor;
        if (!(mib >= 0 && mib <= MAX_MIB)) {
            throw new InvalidInputException(where + "size out of range: " + TextFiles.quote(text));
        }
        return (long) Math.ceil(mib);
    }

    public static double seconds(String text, String where) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
            throw new InvalidInputException(where + "expected a duration like 600s, 30m or 2h, got ''");
        }
        Matcher m = DURATION_PART.matcher(t);
        double total = 0;
        int at = 0;
        while (at < t.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new InvalidInputException(where + "expected a duration like 600s, 30m or 2h, got "
                        + TextFiles.quote(text));
            }
            double v = Double.parseDouble(m.group(1));
            total += v * switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> 0.001;
                case "m" -> 60;
                case "h" -> 3600;
                case "d" -> 86400;
                default -> 1;
            };
            at = m.end();
            while (at < t.length() && t.charAt(at) == ' ') at++;
        }
        if (!(total > 0 && total <= MAX_S)) {
            throw new InvalidInputException(where + "duration out of range (0, 10 years]: " + TextFiles.quote(text));
        }
        return total;
    }
}
