package dev.migm.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Transport;
import tools.jackson.databind.json.JsonMapper;

/** A client of the node service's API on its Unix-domain socket (Jetty's HTTP client). */
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
    private final HttpClient http;
    /** The largest answer read (a queue of 100,000 jobs is about 40 MiB of JSON). */
    static final int MAX_ANSWER = 256 << 20;

    public ApiClient(Path socket) {
        this.socket = socket;
        this.http = new HttpClient();
        http.setName("migm-client");
        try {
            http.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the HTTP client: " + e.getMessage(), e);
        }
    }

    public Answer get(String path) {
        return send(HttpMethod.GET, path, null);
    }

    public Answer post(String path, Map<String, Object> body) {
        return send(HttpMethod.POST, path, body == null ? "{}" : JSON.writeValueAsString(body));
    }

    @SuppressWarnings("unchecked")
    private Answer send(HttpMethod method, String path, String body) {
        if (!Files.exists(socket)) {
            throw new Unreachable("no migm daemon at " + socket + " (start one with 'migm daemon', or set MIGM_HOME"
                    + " or --socket)");
        }
        try {
            var request = http.newRequest("http://localhost" + path).transport(new Transport.TCPUnix(socket))
                    .method(method).timeout(120, TimeUnit.SECONDS);
            if (body != null) request.body(new StringRequestContent("application/json", body));
            // Jetty buffers 2 MiB of an answer by default; a queue of 10,000 jobs is more.
            ContentResponse r = new org.eclipse.jetty.client.CompletableResponseListener(request, MAX_ANSWER).send()
                    .get(120, TimeUnit.SECONDS);
            Map<String, Object> doc;
            try {
                doc = JSON.readValue(r.getContentAsString(), Map.class);
            } catch (RuntimeException e) {
                doc = Map.of("error", "the daemon answered something that is not JSON (HTTP " + r.getStatus() + ")");
            }
            return new Answer(r.getStatus(), doc);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            String why = cause instanceof IOException io ? io.getMessage() : String.valueOf(cause);
            throw new Unreachable("no answer from the migm daemon at " + socket + ": " + why);
        }
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            // closing
        }
    }
}
