package dev.migm.estimate;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.Locale;
import java.util.Map;

/**
 * A safe evaluator for memory expressions, the form a compile-time analysis of a program's
 * {@code cudaMalloc} calls yields: {@code 3 * n * n * 8 + 512MiB}. Grammar:
 * <pre>
 * expr   = term { ('+' | '-') term }
 * term   = factor { ('*' | '/') factor }
 * factor = unary [ '^' factor ]
 * unary  = '-' unary | atom
 * atom   = number [unit] | name | name '(' expr { ',' expr } ')' | '(' expr ')'
 * unit   = B | KiB | MiB | GiB | TiB | KB | MB | GB | TB   (case-insensitive)
 * </pre>
 * A bare number is a plain count; the value of the whole expression is bytes. Names are the job's
 * parameters; functions are {@code min}, {@code max}, {@code ceil}, {@code floor}. Nothing else is
 * evaluated: no reflection, no scripting engine. Errors name the position.
 */
public final class MemoryExpression {
    private final String text;
    private final java.util.function.Function<String, Double> vars;
    private final java.util.function.Supplier<java.util.Collection<String>> names;
    private int pos;

    private MemoryExpression(String text, java.util.function.Function<String, Double> vars,
                             java.util.function.Supplier<java.util.Collection<String>> names) {
        this.text = text;
        this.vars = vars;
        this.names = names;
    }

    /** The expression's value in bytes, with these numbers for its names. */
    public static double bytes(String text, Map<String, Double> vars) {
        return evaluate(new MemoryExpression(text, vars::get, vars::keySet));
    }

    /**
     * The expression's value in bytes, with the job's parameters (as text) for its names: a name the
     * expression uses must be a parameter whose value is a finite number, else the evaluation fails
     * with a {@link ParameterException} naming that parameter.
     */
    public static double ofParams(String text, Map<String, String> params) {
        java.util.function.Function<String, Double> number = name -> {
            String v = params.get(name);
            if (v == null) return null;
            double d;
            try {
                d = Double.parseDouble(v.strip());
            } catch (NumberFormatException e) {
                d = Double.NaN;
            }
            if (!Double.isFinite(d)) {
                throw new ParameterException(name, "expected a number (the memory expression "
                        + TextFiles.quote(text) + " uses it), got " + TextFiles.quote(v));
            }
            return d;
        };
        return evaluate(new MemoryExpression(text, number, () -> params.keySet().stream()
                .filter(k -> !k.equals("mem_expr")).sorted().toList()));
    }

    private static double evaluate(MemoryExpression e) {
        String text = e.text;
        double v = e.expr();
        e.skipSpace();
        if (e.pos != text.length()) {
            throw e.error("unexpected " + TextFiles.quote(String.valueOf(text.charAt(e.pos))) + "");
        }
        if (!Double.isFinite(v)) {
            throw new InvalidInputException("memory expression " + TextFiles.quote(String.valueOf(text)) + " is not finite");
        }
        return v;
    }

    private double expr() {
        double v = term();
        while (true) {
            skipSpace();
            if (eat('+')) v += term();
            else if (eat('-')) v -= term();
            else return v;
        }
    }

    private double term() {
        double v = factor();
        while (true) {
            skipSpace();
            if (eat('*')) v *= factor();
            else if (eat('/')) {
                double d = factor();
                if (d == 0) throw error("division by zero");
                v /= d;
            } else return v;
        }
    }

    private double factor() {
        double base = unary();
        skipSpace();
        if (eat('^')) {
            return Math.pow(base, factor());
        }
        return base;
    }

    private double unary() {
        skipSpace();
        if (eat('-')) return -unary();
        return atom();
    }

    private double atom() {
        skipSpace();
        if (eat('(')) {
            double v = expr();
            skipSpace();
            if (!eat(')')) throw error("expected ')'");
            return v;
        }
        if (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
            int start = pos;
            while (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '.'
                    || ((text.charAt(pos) == 'e' || text.charAt(pos) == 'E') && pos + 1 < text.length()
                    && (Character.isDigit(text.charAt(pos + 1)) || text.charAt(pos + 1) == '-')))) {
                if (text.charAt(pos) == 'e' || text.charAt(pos) == 'E') pos++;
                pos++;
            }
            double v;
            try {
                v = Double.parseDouble(text.substring(start, pos));
            } catch (NumberFormatException e) {
                throw error("bad number " + TextFiles.quote(text.substring(start, pos)));
            }
            return v * unit();
        }
        if (pos < text.length() && (Character.isLetter(text.charAt(pos)) || text.charAt(pos) == '_')) {
            int start = pos;
            while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) pos++;
            String name = text.substring(start, pos);
            skipSpace();
            if (eat('(')) {
                double a = expr();
                skipSpace();
                double b = Double.NaN;
                if (eat(',')) {
                    b = expr();
                    skipSpace();
                }
                if (!eat(')')) throw error("expected ')' after arguments of " + name);
                return switch (name) {
                    case "min" -> requireTwo(name, b) ? Math.min(a, b) : 0;
                    case "max" -> requireTwo(name, b) ? Math.max(a, b) : 0;
                    case "ceil" -> Math.ceil(a);
                    case "floor" -> Math.floor(a);
                    default -> throw error("unknown function " + TextFiles.quote(String.valueOf(name)) + " (min, max, ceil, floor)");
                };
            }
            Double v = vars.apply(name);
            if (v == null) {
                java.util.Collection<String> known = names.get();
                throw error("unknown parameter " + TextFiles.quote(String.valueOf(name))
                        + (known.isEmpty() ? " (give it under params:)" : " (job parameters: " + known + ")"));
            }
            return v;
        }
        throw error(pos >= text.length() ? "unexpected end" : "unexpected " + TextFiles.quote(String.valueOf(text.charAt(pos))) + "");
    }

    private boolean requireTwo(String name, double b) {
        if (Double.isNaN(b)) throw error(name + " needs two arguments");
        return true;
    }

    private double unit() {
        int start = pos;
        while (pos < text.length() && Character.isLetter(text.charAt(pos))) pos++;
        String u = text.substring(start, pos).toLowerCase(Locale.ROOT);
        return switch (u) {
            case "" -> 1;
            case "b" -> 1;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "tb" -> 1e12;
            default -> {
                pos = start;
                throw error("unknown unit " + TextFiles.quote(String.valueOf(u)) + " (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
            }
        };
    }

    private boolean eat(char c) {
        if (pos < text.length() && text.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
    }

    private InvalidInputException error(String what) {
        return new InvalidInputException("memory expression " + TextFiles.quote(String.valueOf(text)) + " at position " + (pos + 1) + ": " + what);
    }
}
