package dev.migm.fuzz;

import dev.migm.io.InvalidInputException;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The input contract every parser keeps, checked by the fuzz tests: an input is accepted, or refused
 * with an {@link InvalidInputException} whose message is one line, says where (the file and line, or
 * the field or option: {@code placed}), is short, and shows no leaked exception (a qualified exception
 * class, a stack frame, or the class of the exception it wraps) that the input did not contain itself
 * (a message may echo the input); anything else a parser throws
 * (another exception, an error) escapes to the fuzzer as a finding.
 */
final class Contract {
    private Contract() {
    }

    /**
     * What a leaked exception shows: a package-qualified exception or error class
     * ({@code java.lang.NumberFormatException}) or a stack frame ({@code (Yaml.java:42)}).
     */
    private static final Pattern JAVA_NAME = Pattern.compile(
            "\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b|\\([A-Z][A-Za-z0-9_$]*\\.java:[0-9]+\\)");

    /**
     * Runs {@code parse} on {@code input}; returns whether it accepted it, or throws an
     * {@link AssertionError} naming what is wrong with its refusal.
     */
    static boolean acceptsOrRefusesClearly(String what, String input, Runnable parse, Predicate<String> placed) {
        try {
            parse.run();
            return true;
        } catch (InvalidInputException refused) {
            String m = refused.getMessage();
            String leaked = null;
            if (m != null) {
                Matcher names = JAVA_NAME.matcher(m);
                while (leaked == null && names.find()) {
                    if (!input.contains(names.group())) leaked = names.group();
                }
                // The class of an exception the refusal wraps, named in its message.
                for (Throwable t = refused.getCause(); leaked == null && t != null; t = t.getCause()) {
                    String simple = t.getClass().getSimpleName();
                    if (!simple.isEmpty() && m.contains(simple) && !input.contains(simple)) leaked = simple;
                }
            }
            String problem = m == null || m.isBlank() ? "an empty message"
                    : m.contains("\n") || m.contains("\r") ? "a message of several lines"
                    : leaked != null ? "a message naming " + leaked
                    : m.length() >= 600 ? "a message of " + m.length() + " characters"
                    : !placed.test(m) ? "a message that does not say where" : null;
            if (problem != null) throw new AssertionError(what + ": " + problem + ": " + m, refused);
            return false;
        }
    }

    /** A message that starts with {@code source} and a colon or space (the file, then its line). */
    static Predicate<String> startsWith(String source) {
        return m -> m.startsWith(source + ":") || m.startsWith(source + " ");
    }
}
