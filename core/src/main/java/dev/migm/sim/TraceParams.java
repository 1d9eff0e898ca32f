package dev.migm.sim;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code params} cell of a trace: a job's declared parameters (what memory expressions and the
 * framework estimators read, e.g. {@code model=llama-7b;batch=8}) as {@code key=value} pairs joined
 * by {@code ;}, in name order. Keys are names; in values {@code %}, {@code ,}, {@code ;} and {@code =} are written
 * {@code %25}, {@code %2C}, {@code %3B} and {@code %3D}, so that a cell never breaks the CSV row.
 */
public final class TraceParams {
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,63}");

    private TraceParams() {
    }

    public static String encode(Map<String, String> params) {
        StringBuilder out = new StringBuilder();
        // In name order: the same parameters make the same cell.
        for (var e : new java.util.TreeMap<>(params).entrySet()) {
            if (!KEY.matcher(e.getKey()).matches()) throw new IllegalArgumentException("param name " + e.getKey());
            if (!out.isEmpty()) out.append(';');
            out.append(e.getKey()).append('=').append(e.getValue().replace("%", "%25").replace(",", "%2C")
                    .replace(";", "%3B").replace("=", "%3D").replace("\n", " ").replace("\r", " "));
        }
        return out.toString();
    }

    /** Decodes a cell; {@code where} prefixes the one-line error (file, line, column). */
    public static Map<String, String> decode(String cell, String where) {
        Map<String, String> params = new LinkedHashMap<>();
        if (cell.isEmpty()) return params;
        for (String pair : cell.split(";", -1)) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (eq < 0 || !KEY.matcher(key).matches()) {
                throw new InvalidInputException(where + "expected name=value pairs joined by ';', got "
                        + TextFiles.quote(pair));
            }
            String value = pair.substring(eq + 1);
            if (value.matches(".*%(?!25|2C|3B|3D).*")) {
                throw new InvalidInputException(where + "expected %25, %2C, %3B or %3D after '%' in the value of " + key);
            }
            if (params.put(key, value.replace("%2C", ",").replace("%3B", ";").replace("%3D", "=").replace("%25", "%"))
                    != null) {
                throw new InvalidInputException(where + "param " + key + " given twice");
            }
        }
        return params;
    }
}
