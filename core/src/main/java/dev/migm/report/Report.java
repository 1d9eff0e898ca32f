package dev.migm.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Renders rows of named metrics as an aligned table, CSV or JSON. Generic over the metrics: a
 * result type registers (name, accessor) pairs once ({@link Metric}) and every format follows
 * (after the Caffeine simulator's {@code PolicyStats} and reporters).
 */
public final class Report {
    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Report() {
    }

    /** A named metric of a result type. */
    public record Metric<T>(String name, Function<T, Object> value) {
    }

    /** Output formats. */
    public enum Format { TABLE, CSV, JSON }

    /** One row per result, columns in metric order. */
    public static <T> List<Map<String, Object>> rows(List<T> results, List<Metric<T>> metrics) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (T r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (Metric<T> m : metrics) {
                row.put(m.name(), m.value().apply(r));
            }
            rows.add(row);
        }
        return rows;
    }

    public static String render(List<Map<String, Object>> rows, Format format) {
        return switch (format) {
            case JSON -> JSON.writeValueAsString(rows) + "\n";
            case CSV -> csv(rows);
            case TABLE -> table(rows);
        };
    }

    static String cell(Object v) {
        if (v == null) return "";
        if (v instanceof Double d) {
            if (d.isNaN()) return "";
            double a = Math.abs(d);
            if (a >= 1000 || d == Math.rint(d) && a < 1e15) return String.format(Locale.ROOT, "%.0f", d);
            if (a >= 10) return String.format(Locale.ROOT, "%.1f", d);
            return String.format(Locale.ROOT, "%.3f", d);
        }
        return v.toString();
    }

    private static String csv(List<Map<String, Object>> rows) {
        if (rows.isEmpty()) return "";
        StringBuilder sb = new StringBuilder(String.join(",", rows.getFirst().keySet())).append('\n');
        for (Map<String, Object> row : rows) {
            List<String> cells = new ArrayList<>();
            for (Object v : row.values()) {
                String s = v instanceof Double d ? (d.isNaN() ? "" : Double.toString(d)) : v == null ? "" : v.toString();
                cells.add(s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s);
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
                sb.append(k == 0 ? "" : "  ").append(pad(cell(row.get(keys.get(k))), width[k], k == 0));
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
