package dev.migm.spec;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * YAML read into a tree that remembers where every key and value stood, so that an error names the
 * file, line and column of the field it is about. Duplicate keys, anchors beyond a small document
 * and non-UTF-8 text are refused; every error is one line.
 */
final class Yaml {
    /**
     * The most characters a YAML input may have: 64 Mi, a batch of {@link BatchFile#MAX_JOBS} jobs
     * with room to spare (the parser's own default, 3 Mi code points, holds about 50,000).
     */
    static final int MAX_CHARS = 64 << 20;
    /**
     * The longest line read: no job file or config needs a line of 64 Ki characters, and the
     * parser's scanner spends time out of proportion on a long one (a 10 MB comment line cost 20 s of
     * CPU), so a longer line is refused before parsing.
     */
    static final int MAX_LINE = 64 << 10;
    private static final YAMLMapper MAPPER = YAMLMapper.builder(tools.jackson.dataformat.yaml.YAMLFactory.builder()
                    .loadSettings(org.snakeyaml.engine.v2.api.LoadSettings.builder().setCodePointLimit(MAX_CHARS)
                            .build()).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /** Nesting deeper than this is no job file (and would be a stack-depth attack). */
    private static final int MAX_DEPTH = 32;

    private Yaml() {
    }

    /** A node and where it starts ({@code source:line:column}). */
    sealed interface Node permits Scalar, MapNode, ListNode {
        String where();
    }

    /** A scalar's text; {@code quoted} when it was a string, not a bare number, boolean or null. */
    record Scalar(String text, boolean string, boolean isNull, String where) implements Node {
    }

    /** A mapping in document order; {@code keys} holds where each key stood. */
    record MapNode(Map<String, Node> values, Map<String, String> keys, String where) implements Node {
    }

    record ListNode(List<Node> items, String where) implements Node {
    }

    static Node parse(String text, String source) {
        if (text.length() > MAX_CHARS) {
            throw new InvalidInputException(source + ": more than " + (MAX_CHARS >> 20) + " Mi characters (split the"
                    + " batch into several files)");
        }
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == '\n') {
                if (i - lineStart > MAX_LINE) {
                    throw new InvalidInputException(source + ":" + line + ": a line of more than " + MAX_LINE
                            + " characters (write a long command as a list, or over several lines in YAML's folded"
                            + " style)");
                }
                line++;
                lineStart = i + 1;
            }
        }
        try (JsonParser p = MAPPER.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new InvalidInputException(source + ": empty file (expected a YAML mapping)");
            }
            return read(p, t, source, 0);
        } catch (JacksonException e) {
            var loc = e.getLocation();
            String place = loc != null && loc.getLineNr() > 0 ? source + ":" + loc.getLineNr() + ":" + loc.getColumnNr()
                    : source;
            String what = String.valueOf(e.getOriginalMessage()).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("in reader") && !l.startsWith("^") && !l.startsWith("at ["))
                    .findFirst().map(dev.migm.io.TextFiles::withoutExceptionNames).orElse("cannot parse");
            // The scanner reports a tab where the token before it ended: that line or the next.
            for (int l = loc == null ? 0 : loc.getLineNr(); loc != null && l <= loc.getLineNr() + 1; l++) {
                if (startsWithTab(text, l)) {
                    throw new InvalidInputException(source + ":" + l + ": not valid YAML: a tab character in the"
                            + " indentation (YAML indents with spaces only)");
                }
            }
            throw new InvalidInputException(place + ": not valid YAML: " + (what.length() > 120 ? what.substring(0, 117)
                    + "..." : what));
        }
    }

    /** Whether line {@code number} (from 1) of the text has a tab among its leading blanks. */
    private static boolean startsWithTab(String text, int number) {
        if (number < 1) return false;
        String[] lines = text.split("\n", number + 1);
        if (lines.length < number) return false;
        String line = lines[number - 1];
        for (int i = 0; i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t'); i++) {
            if (line.charAt(i) == '\t') return true;
        }
        return false;
    }

    private static String where(JsonParser p, String source) {
        var loc = p.currentTokenLocation();
        return source + ":" + loc.getLineNr() + ":" + loc.getColumnNr();
    }

    private static Node read(JsonParser p, JsonToken t, String source, int depth) {
        if (depth > MAX_DEPTH) {
            throw new InvalidInputException(where(p, source) + ": nested more than " + MAX_DEPTH + " levels");
        }
        String at = where(p, source);
        switch (t) {
            case START_OBJECT -> {
                Map<String, Node> values = new LinkedHashMap<>();
                Map<String, String> keys = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    keys.put(name, where(p, source));
                    values.put(name, read(p, p.nextToken(), source, depth + 1));
                }
                return new MapNode(values, keys, at);
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_ARRAY; k = p.nextToken()) {
                    items.add(read(p, k, source, depth + 1));
                }
                return new ListNode(items, at);
            }
            case VALUE_NULL -> {
                return new Scalar("", false, true, at);
            }
            case VALUE_STRING -> {
                return new Scalar(p.getString(), true, false, at);
            }
            default -> {
                if (t.isScalarValue()) {
                    return new Scalar(p.getString(), false, false, at);
                }
                throw new InvalidInputException(at + ": unexpected " + TextFiles.quote(String.valueOf(t)));
            }
        }
    }
}
