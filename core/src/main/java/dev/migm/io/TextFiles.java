package dev.migm.io;

import dev.migm.io.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading the text files migm is given (traces, {@code nvidia-smi} output, YAML): UTF-8 only, at most
 * {@link #MAX_BYTES}, and every failure one line naming the file (and the line, for bytes that are
 * not UTF-8). Messages quote at most {@link #QUOTE} characters of input.
 */
public final class TextFiles {
    /** Larger inputs are refused: 1 GiB holds a trace of ten million jobs. */
    public static final long MAX_BYTES = 1L << 30;
    /** The most characters of input an error message quotes. */
    public static final int QUOTE = 40;

    private TextFiles() {
    }

    public static String read(Path path) {
        return read(path, MAX_BYTES);
    }

    /**
     * A file's text, refused without reading it when it is a device or a directory, or larger than
     * {@code maxBytes}; a pipe ({@code <(...)}, {@code /dev/stdin}) is read up to {@code maxBytes}
     * and refused beyond, so that no input, however endless, is read without bound.
     */
    public static String read(Path path, long maxBytes) {
        byte[] bytes;
        try {
            requireFile(path);
            if (Files.isRegularFile(path) && Files.size(path) > maxBytes) {
                throw new InvalidInputException(path + ": larger than " + size(maxBytes) + " (the most migm reads of"
                        + " such a file)");
            }
            try (var in = Files.newInputStream(path)) {
                bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            }
            if (bytes.length > maxBytes) {
                throw new InvalidInputException(path + ": more than " + size(maxBytes) + " (the most migm reads of such"
                        + " a file)");
            }
        } catch (IOException e) {
            throw unreadable(path, e);
        }
        return decode(bytes, path.toString());
    }

    private static String size(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }

    /**
     * A file of any size, line by line, as strict UTF-8: failures to open it are one line as with
     * {@link #read}; a byte that is not UTF-8 surfaces from {@code readLine} as a
     * {@link CharacterCodingException}, which {@link #notUtf8} turns into its line and column.
     */
    public static java.io.BufferedReader lines(Path path) {
        try {
            requireFile(path);
            return new java.io.BufferedReader(new java.io.InputStreamReader(Files.newInputStream(path), strictUtf8()),
                    1 << 16);
        } catch (IOException e) {
            throw unreadable(path, e);
        }
    }

    /**
     * Refuses, before anything is read, what is not a file or a pipe: a directory, and a device
     * ({@code /dev/zero} never ends, {@code /dev/tty} waits for a person).
     */
    private static void requireFile(Path path) {
        if (Files.isDirectory(path)) {
            throw new InvalidInputException(path + ": is a directory, expected a file");
        }
        if (Files.exists(path) && !Files.isRegularFile(path) && !isPipe(path)) {
            throw new InvalidInputException(path + ": is a device or special file, expected a file");
        }
    }

    /** Whether the path is a pipe or a socket-like stream a shell hands over ({@code <(...)}, {@code /dev/stdin}). */
    private static boolean isPipe(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode");
            return mode instanceof Integer m && (m & 0170000) == 0010000; // S_IFIFO
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** An I/O failure as one line naming the file. */
    public static InvalidInputException unreadable(Path path, IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> new InvalidInputException(path + ": no such file");
            case java.nio.file.AccessDeniedException x -> new InvalidInputException(path + ": permission denied");
            default -> new InvalidInputException(path + ": cannot read (" + e.getMessage() + ")");
        };
    }

    private static CharsetDecoder strictUtf8() {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** Strict UTF-8; a byte that is not names its line and column. */
    public static String decode(byte[] bytes, String source) {
        CharsetDecoder decoder = strictUtf8();
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes));
            String text = chars.toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            int bad = firstBadByte(bytes);
            int line = 1;
            int column = 1;
            for (int i = 0; i < bad; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
            throw new InvalidInputException(String.format(java.util.Locale.ROOT,
                    "%s:%d:%d: not UTF-8 text (byte 0x%02X); save the file as UTF-8", source, line, column,
                    bytes[bad] & 0xFF));
        }
    }

    /**
     * The error for a file that is not UTF-8, found by streaming it (for files read line by line, where
     * the decoder fails on a buffer ahead of the line being parsed): its first bad byte's line and
     * column, as {@link #decode} reports them.
     */
    public static InvalidInputException notUtf8(Path path) {
        CharsetDecoder decoder = strictUtf8();
        int line = 1;
        int column = 1;
        try (var in = Files.newInputStream(path)) {
            ByteBuffer bytes = ByteBuffer.allocate(1 << 16);
            CharBuffer chars = CharBuffer.allocate(1 << 16);
            boolean eof = false;
            while (true) {
                if (!eof) {
                    int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
                    if (n < 0) eof = true;
                    else bytes.position(bytes.position() + n);
                }
                bytes.flip();
                int from = bytes.position();
                var result = decoder.decode(bytes, chars, eof);
                for (int i = from; i < bytes.position(); i++) {
                    if (bytes.get(i) == '\n') {
                        line++;
                        column = 1;
                    } else {
                        column++;
                    }
                }
                if (result.isError()) {
                    return new InvalidInputException(String.format(java.util.Locale.ROOT,
                            "%s:%d:%d: not UTF-8 text (byte 0x%02X); save the file as UTF-8", path, line, column,
                            bytes.get(bytes.position()) & 0xFF));
                }
                chars.clear();
                bytes.compact();
                if (eof && bytes.position() == 0) break;
            }
        } catch (IOException e) {
            return unreadable(path, e);
        }
        return new InvalidInputException(path + ": not UTF-8 text; save the file as UTF-8");
    }

    private static int firstBadByte(byte[] bytes) {
        CharsetDecoder decoder = strictUtf8();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        var result = decoder.decode(in, out, true);
        return result.isError() ? in.position() : 0;
    }

    /**
     * A parser's message without the Java exception it wraps named in it (Jackson's YAML reader says
     * "Malformed numeric value '.nan: (java.lang.NumberFormatException) illegal syntax"): what a user
     * reads says what is wrong with the input, not which class found it.
     */
    public static String withoutExceptionNames(String message) {
        return message.replaceAll("\\((?:[a-z][\\w$]*\\.)+[A-Z][\\w$]*\\) ?", "");
    }

    /** Input quoted in a message: at most {@link #QUOTE} characters, control characters shown as '?'. */
    public static String quote(String text) {
        String t = text.length() > QUOTE ? text.substring(0, QUOTE) + "..." : text;
        return "'" + t.replaceAll("\\p{Cntrl}", "?") + "'";
    }

    /**
     * Replaces {@code file} with {@code text} (UTF-8) so that a reader, or a crash, sees either the
     * old content or the new, never a part: written beside it under a name of this process, then
     * renamed over it.
     */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp" + ProcessHandle.current().pid());
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
