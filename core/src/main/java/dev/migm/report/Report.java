package dev.migm.report;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Renders rows of named metrics as an aligned table, CSV or JSON. Generic over the metrics: a
 * result type registers its metrics once ({@link Metric}: name, accessor, precision, visibility)
 * and every format follows (after the Caffeine simulator's {@code PolicyStats} and reporters).
 *
 * <p>The contract every format keeps: keys are snake_case and in the metrics' order; a number
 * has its metric's decimals in every row and every format (no float noise); an undefined value
 * (NaN, infinite, absent) is {@code null} in JSON, empty in CSV and {@code -} in tables, never
 * {@code NaN}.
 */
public final class Report {
    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Report() {
    }

    /** Where a metric appears: always, in wide tables only, or only in JSON (lists, objects). */
    public enum Shown { ALWAYS, WIDE, JSON_ONLY }

    /**
     * A named metric of a result type.
     *
     * @param decimals decimals of a number (0 for counts and whole seconds), ignored for text
     */
    public record Metric<T>(String name, Function<T, Object> value, int decimals, Shown shown) {
        public Metric {
            if (!name.matches("[a-z][a-z0-9_]*")) throw new IllegalArgumentException("not snake_case: " + name);
        }

        /** Text or a count: shown as it is. */
        public static <T> Metric<T> of(String name, Function<T, Object> value) {
            return new Metric<>(name, value, 0, Shown.ALWAYS);
        }

        /** A number with this many decimals. */
        public static <T> Metric<T> number(String name, Function<T, Object> value, int decimals) {
            return new Metric<>(name, value, decimals, Shown.ALWAYS);
        }

        public Metric<T> wide() {
            return new Metric<>(name, value, decimals, Shown.WIDE);
        }

        public Metric<T> jsonOnly() {
            return new Metric<>(name, value, decimals, Shown.JSON_ONLY);
        }
    }

    /** Output formats; {@code WIDE_TABLE} shows every column, {@code TABLE} the ones people compare. */
    public enum Format { TABLE, WIDE_TABLE, CSV, JSON }

    /** One row per result, columns in metric order, values normalised (see the class contract). */
    public static <T> List<Map<String, Object>> rows(List<T> results, List<Metric<T>> metrics, Format format) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (T r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (Metric<T> m : metrics) {
                boolean show = switch (m.shown()) {
                    case ALWAYS -> true;
                    case WIDE -> format != Format.TABLE;
                    case JSON_ONLY -> format == Format.JSON;
                };
                if (show) {
                    row.put(m.name(), normalise(m.value().apply(r), m.decimals()));
                }
            }
            rows.add(row);
        }
        return rows;
    }

    /** Numbers rounded to their metric's decimals (as exact decimals); NaN and infinities become null. */
    static Object normalise(Object v, int decimals) {
        if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) return null;
            return BigDecimal.valueOf(d).setScale(decimals, RoundingMode.HALF_EVEN);
        }
        if (v instanceof Float f) {
            return normalise((double) f, decimals);
        }
        return v;
    }

    public static String render(List<Map<String, Object>> rows, Format format) {
        return switch (format) {
            case JSON -> json(rows);
            case CSV -> csv(rows);
            case TABLE, WIDE_TABLE -> table(rows);
        };
    }

    /** Any value as pretty JSON, with a final newline. */
    public static String json(Object value) {
        return JSON.writeValueAsString(value) + "\n";
    }

    static String cell(Object v) {
        if (v == null) return "-";
        if (v instanceof BigDecimal b) return b.toPlainString();
        return v.toString();
    }

    private static String csv(List<Map<String, Object>> rows) {
        if (rows.isEmpty()) return "";
        StringBuilder sb = new StringBuilder(String.join(",", rows.getFirst().keySet())).append('\n');
        for (Map<String, Object> row : rows) {
            List<String> cells = new ArrayList<>();
            for (Object v : row.values()) {
                String s = v == null ? "" : v instanceof BigDecimal b ? b.toPlainString() : v.toString();
                cells.add(s.contains(",") || s.contains("\"") || s.contains("\n")
                        ? "\"" + s.replace("\"", "\"\"") + "\"" : s);
            }
            sb.append(String.join(",", cells)).append('\n');
        }
        return sb.toString();
    }

    private static String table(List<Map<String, Object>> rows) {
        if (rows.isEmpty()) return "";
        List<String> keys = new ArrayList<>(rows.getFirst().keySet());
        int[] width = new int[keys.size()];
        for (int k = 0; k < keys.size(); k++) {
            width[k] = keys.get(k).length();
            for (Map<String, Object> row : rows) {
                width[k] = Math.max(width[k], cell(row.get(keys.get(k))).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < keys.size(); k++) {
            sb.append(k == 0 ? "" : "  ").append(pad(keys.get(k), width[k], k == 0));
        }
        sb.append('\n');
        for (Map<String, Object> row : rows) {
            for (int k = 0; k < keys.size(); k++) {
                Object v = row.get(keys.get(k));
                boolean left = k == 0 || !(v == null || v instanceof Number);
                sb.append(k == 0 ? "" : "  ").append(pad(cell(v), width[k], left));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String pad(String s, int w, boolean left) {
        String fill = " ".repeat(Math.max(0, w - s.length()));
        return left ? s + fill : fill + s;
    }
}
