package dev.migm.spec;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Where the daemon's read-only HTTP view ({@code /metrics}) listens: {@code HOST:PORT} on a loopback
 * address ({@code 127.0.0.1:9410}, {@code [::1]:9410}, {@code localhost:0} for any free port), or
 * {@code off}. Loopback only: the view shows who runs what on the node and has no authentication;
 * a Prometheus server elsewhere scrapes it through a local agent or a reverse proxy the site
 * already trusts. Every change to migm goes through the Unix socket.
 */
public record ListenAddress(String host, int port) {
    /** The default: on, IPv4 loopback, a port next to DCGM-exporter's 9400 that it does not take. */
    public static final ListenAddress DEFAULT = new ListenAddress("127.0.0.1", 9410);

    /**
     * Parses {@code text}; empty for {@code off}. {@code where} names the file and line (or the flag)
     * for the one-line error.
     */
    public static Optional<ListenAddress> parse(String text, String where) {
        String t = text.strip();
        if (t.equals("off")) return Optional.empty();
        int colon = t.lastIndexOf(':');
        if (colon <= 0) throw bad(where, t);
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw bad(where, t);
        }
        if (port < 0 || port > 65535 || host.isEmpty()) throw bad(where, t);
        boolean loopback;
        try {
            // Literal addresses and localhost are answered without a name service.
            loopback = (host.equals("localhost") || host.chars().allMatch(c -> Character.digit(c, 16) >= 0
                    || c == '.' || c == ':')) && InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            throw new InvalidInputException(where + ": expected a loopback address (127.0.0.1, [::1] or localhost):"
                    + " the HTTP view has no authentication; got " + TextFiles.quote(t));
        }
        return Optional.of(new ListenAddress(host, port));
    }

    private static InvalidInputException bad(String where, String t) {
        return new InvalidInputException(where + ": expected HOST:PORT on loopback (e.g. 127.0.0.1:9410) or off, got "
                + TextFiles.quote(t));
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
