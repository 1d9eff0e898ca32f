package dev.migm.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.json.JsonMapper;

/**
 * A client of the node service's API on its Unix-domain socket: one HTTP/1.1 exchange per request
 * ({@code Connection: close}, RFC 9112), on the JDK's own socket channel. Every CLI verb, and Slurm's
 * Prolog and Epilog, start a JVM for one or two requests; Jetty's client cost each of them about half
 * a second of start-up (BENCHMARKS.md section 20).
 */
public final class ApiClient implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** An answer: the HTTP status and the JSON document. */
    public record Answer(int status, Map<String, Object> body) {
        public boolean ok() {
            return status / 100 == 2;
        }

        /** The error's one line (for a status that is not 2xx). */
        public String error() {
            Object e = body.get("error");
            return e == null ? "HTTP " + status : e.toString();
        }
    }

    /** The daemon cannot be reached. */
    public static final class Unreachable extends RuntimeException {
        Unreachable(String message) {
            super(message);
        }
    }

    private final Path socket;
    /** The largest answer read (a queue of 100,000 jobs is about 40 MiB of JSON). */
    static final int MAX_ANSWER = 256 << 20;
    /** How long an answer may take before the client gives up. */
    static final long TIMEOUT_S = 120;
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "migm-client-timeout");
        t.setDaemon(true);
        return t;
    });

    public ApiClient(Path socket) {
        this.socket = socket;
    }

    public Answer get(String path) {
        return send("GET", path, null);
    }

    public Answer post(String path, Map<String, Object> body) {
        return send("POST", path, body == null ? "{}" : JSON.writeValueAsString(body));
    }

    @SuppressWarnings("unchecked")
    private Answer send(String method, String path, String body) {
        if (!Files.exists(socket)) {
            throw new Unreachable("no migm daemon at " + socket + " (start one with 'migm daemon', or set MIGM_HOME"
                    + " or --socket)");
        }
        byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // A blocked read ends when the channel is closed under it (by the watchdog, on time-out).
            java.nio.channels.Channel underIt = channel;
            var timeout = WATCHDOG.schedule(() -> {
                try {
                    underIt.close();
                } catch (IOException e) {
                    // closed already
                }
            }, TIMEOUT_S, TimeUnit.SECONDS);
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
                String head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                        + "Accept: application/json\r\n" + (body == null ? "" : "Content-Type: application/json\r\n"
                        + "Content-Length: " + payload.length + "\r\n") + "\r\n";
                ByteBuffer out = ByteBuffer.allocate(head.length() + payload.length);
                out.put(head.getBytes(StandardCharsets.US_ASCII)).put(payload).flip();
                while (out.hasRemaining()) channel.write(out);
                Response r = read(new java.io.BufferedInputStream(Channels.newInputStream(channel), 64 * 1024));
                Map<String, Object> doc;
                try {
                    doc = JSON.readValue(r.body(), Map.class);
                } catch (RuntimeException e) {
                    doc = null;
                }
                if (doc == null) {
                    doc = Map.of("error", "the daemon answered something that is not JSON (HTTP " + r.status() + ")");
                }
                return new Answer(r.status(), doc);
            } finally {
                timeout.cancel(false);
            }
        } catch (java.nio.channels.AsynchronousCloseException e) {
            throw new Unreachable("no answer from the migm daemon at " + socket + " in " + TIMEOUT_S + " s");
        } catch (IOException e) {
            throw new Unreachable("no answer from the migm daemon at " + socket + ": " + e.getMessage());
        }
    }

    private record Response(int status, String body) {
    }

    /** An HTTP/1.1 response: status line, headers, a body by Content-Length, chunks, or up to the end. */
    private static Response read(InputStream in) throws IOException {
        String status = line(in);
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IOException("not an HTTP answer: " + status);
        int code;
        try {
            code = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP answer: " + status);
        }
        long length = -1;
        boolean chunked = false;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (colon < 0) continue;
            String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).strip();
            if (name.equals("content-length")) length = Long.parseLong(value);
            if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            for (long size = Long.parseLong(line(in).split(";")[0].strip(), 16); size > 0;
                 size = Long.parseLong(line(in).split(";")[0].strip(), 16)) {
                copy(in, body, size);
                line(in);
            }
        } else if (length >= 0) {
            copy(in, body, length);
        } else {
            copy(in, body, Long.MAX_VALUE);
        }
        return new Response(code, body.toString(StandardCharsets.UTF_8));
    }

    private static void copy(InputStream in, ByteArrayOutputStream to, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                if (n == Long.MAX_VALUE) return;
                throw new IOException("the answer ended early");
            }
            if (to.size() + r > MAX_ANSWER) throw new IOException("an answer over " + (MAX_ANSWER >> 20) + " MiB");
            to.write(buf, 0, r);
            left -= r;
        }
    }

    /** One header line without its CRLF (at most 64 KiB). */
    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) throw new IOException("the answer ended early");
            if (b.length() > 65_536) throw new IOException("a header line over 64 KiB");
            if (c != '\r') b.append((char) c);
        }
        return b.toString();
    }

    @Override
    public void close() {
        // one connection per request: nothing held between them
    }
}
