package dev.migm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code migm aot-training} (hidden): the training run of the ahead-of-time cache the Debian package
 * makes at install (JDK 25, {@code -XX:AOTCacheOutput}; JEP 483 and 514). It runs, in this one JVM,
 * the calls people make most: {@code --version}, help, {@code check} of a job file, and {@code
 * submit}, {@code queue} and {@code show} against a stand-in for the daemon on a socket of its own,
 * answering what the daemon answers, so that the classes those calls load (picocli's model of the
 * verb, the socket client, Jackson, the YAML door, the table) are in the cache. Nothing outside a
 * temporary directory is touched; its output is dropped.
 */
@Command(name = "aot-training", hidden = true, description = "the training run of the package's AOT cache")
final class AotTrainingCommand implements Callable<Integer> {
    /** The stand-in daemon's answers, by request line prefix: shaped as the daemon's (docs/api.md). */
    private static final String JOB = "{\"id\":\"1\",\"name\":\"train\",\"user\":\"alice\",\"state\":\"running\","
            + "\"attempts\":1,\"slot\":\"gpu0:1g.5gb@0\",\"estimate_mib\":1076,\"estimate_source\":\"declared +5%\","
            + "\"directory\":\"/var/lib/migm/jobs/1\",\"attempts_detail\":[{\"number\":1,\"gpu\":0,\"instance\":"
            + "\"1g.5gb@0\",\"device\":\"MIG-0\",\"launched_at\":1.7e9,\"peak_mib\":1024,\"energy_j\":12.5,"
            + "\"detail\":\"\"}]}";

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("migm-aot");
        Path socket = dir.resolve("migm.sock");
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, """
                version: v1
                jobs:
                  - {name: train, command: ["python", "train.py", "--model", "bert-base"], memory: 1GiB}
                """);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread daemon = Thread.ofPlatform().daemon().start(() -> serve(server));
            String s = socket.toString();
            List<List<String>> calls = List.of(List.of("--version"), List.of("--help"), List.of("queue", "--help"),
                    List.of("check", job.toString()), List.of("submit", job.toString(), "--socket", s),
                    List.of("queue", "--socket", s), List.of("queue", "--all", "--json", "--socket", s),
                    List.of("show", "1", "--socket", s), List.of("show", "1", "--json", "--socket", s));
            StringWriter sink = new StringWriter();
            PrintWriter w = new PrintWriter(sink);
            for (List<String> call : calls) {
                Main.run(call.toArray(String[]::new), w, w);
            }
            daemon.interrupt();
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(job);
            Files.deleteIfExists(dir);
        }
        return Main.OK;
    }

    private static void serve(ServerSocketChannel server) {
        while (true) {
            try (SocketChannel c = server.accept()) {
                ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                String request = "";
                while (c.read(in) > 0) {
                    request = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
                    int head = request.indexOf("\r\n\r\n");
                    if (head >= 0 && request.length() >= head + 4 + contentLength(request)) break;
                }
                String body = request.startsWith("POST /v1/jobs ") ? "{\"ids\":[\"1\"]}"
                        : request.startsWith("GET /v1/jobs/") ? "{\"job\":" + JOB + "}"
                        : "{\"jobs\":[" + JOB + "]}";
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                c.write(ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + b.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
                c.write(ByteBuffer.wrap(b));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static int contentLength(String request) {
        for (String line : request.split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) return Integer.parseInt(line.substring(15).trim());
        }
        return 0;
    }
}
