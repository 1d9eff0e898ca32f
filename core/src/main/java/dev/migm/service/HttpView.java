package dev.migm.service;

import dev.migm.spec.ListenAddress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The daemon's read-only HTTP view on a loopback address ({@link ListenAddress}): {@code GET
 * /metrics} (Prometheus text format) and {@code GET /}, the live view (the report of
 * {@code migm report} for the node's last hours, reloading itself). Only GET and HEAD are served; every change goes through the
 * Unix socket ({@link ApiServer}), where callers are known by their credentials.
 */
public final class HttpView implements AutoCloseable {
    private final Server server;
    private final ListenAddress bound;

    private HttpView(Server server, ListenAddress bound) {
        this.server = server;
        this.bound = bound;
    }

    /** Serves {@code service}'s views on {@code address} (port 0: any free port; {@link #address} says which). */
    public static HttpView start(NodeService service, ListenAddress address) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(8, 2);
        threads.setName("http");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost(address.host());
        connector.setPort(address.port());
        server.addConnector(connector);
        server.setHandler(new Routes(service));
        server.setStopTimeout(1000);
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        return new HttpView(server, new ListenAddress(address.host(), connector.getLocalPort()));
    }

    /** Where it listens (the port it got when asked for 0). */
    public ListenAddress address() {
        return bound;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            // stopping: nothing left to do
        }
    }

    private static final class Routes extends Handler.Abstract {
        private final NodeService service;

        Routes(NodeService service) {
            this.service = service;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String method = request.getMethod();
            String path = request.getHttpURI().getPath();
            String host = request.getHeaders().get(HttpHeader.HOST);
            if (host != null && !loopbackName(host)) {
                // A page elsewhere that got a browser to resolve its name to 127.0.0.1 (DNS rebinding)
                // still sends its own name: only loopback names are this view's.
                return plain(response, callback, 421, "this view answers only to localhost or a loopback address\n");
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return plain(response, callback, 405, "read-only: changes go through migm's Unix socket\n");
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            String type;
            try {
                if (path.equals("/metrics")) {
                    service.metrics().write(body);
                    type = NodeMetrics.contentType();
                } else if (path.equals("/")) {
                    body.writeBytes(service.liveReport().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    type = "text/html; charset=utf-8";
                } else {
                    return plain(response, callback, 404, "not found: " + path + " (this view serves / and /metrics)\n");
                }
            } catch (IOException | RuntimeException e) {
                return plain(response, callback, 503, "unavailable: " + e.getMessage() + "\n");
            }
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.write(true, method.equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(body.toByteArray()),
                    callback);
            return true;
        }

        /**
         * Whether a {@code Host} header names this machine's loopback: {@code localhost}, or an IPv4
         * address in 127.0.0.0/8, or {@code [::1]}, with or without a port.
         */
        static boolean loopbackName(String host) {
            String h = host.strip().toLowerCase(java.util.Locale.ROOT);
            if (h.startsWith("[")) {
                int end = h.indexOf(']');
                return end > 0 && h.substring(1, end).equals("::1") && (end == h.length() - 1 || h.charAt(end + 1) == ':');
            }
            int colon = h.indexOf(':');
            String name = colon < 0 ? h : h.substring(0, colon);
            if (colon >= 0 && !h.substring(colon + 1).matches("[0-9]{1,5}")) return false;
            return name.equals("localhost") || name.matches("127\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]"
                    + "|2[0-4][0-9]|1?[0-9]?[0-9])){2}");
        }

        private static boolean plain(Response response, Callback callback, int status, String text) {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            response.write(true, ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)), callback);
            return true;
        }
    }
}
