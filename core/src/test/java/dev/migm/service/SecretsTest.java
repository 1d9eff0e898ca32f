package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.backend.EmulatedGpuBackend;
import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.exec.Launches;
import dev.migm.gpu.Catalog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's {@code env:} (an {@code HF_TOKEN}, a password) reaches the job and nothing else a user of
 * the node can read: no process's argv ({@code /proc/PID/cmdline} is world-readable), and no file
 * other users may read. Issue 24 found the whole environment in the argv of the job's supervisor.
 * (As root, {@link TwoUsersTest} checks the same for a job another user submitted.)
 */
final class SecretsTest {
    /** Every process's command line now, as any user of the node can read them. */
    static List<String> everyArgv() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    out.add(new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' '));
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return out;
    }

    /** Regular files under {@code dir} that users other than their owner may read (group or others). */
    static List<Path> readableByOthers(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).filter(f -> {
                try {
                    int mode = ((Number) Files.getAttribute(f, "unix:mode")).intValue();
                    return (mode & 0044) != 0;
                } catch (IOException e) {
                    return false;
                }
            }).toList();
        }
    }

    static void assertNowhereButTheJob(String secret, Path home) throws IOException {
        assertThat(everyArgv()).as("argv of every process").noneMatch(a -> a.contains(secret));
        for (Path f : readableByOthers(home)) {
            assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).as(f + " (readable by others)").doesNotContain(secret);
        }
    }

    static String sha256(String text) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aJobsEnvironment_isInNoArgvAndNoFileOthersCanRead_yetReachesTheJob(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        String secret = "hf_" + UUID.randomUUID().toString().replace("-", "");
        EmulatedGpuBackend backend = new EmulatedGpuBackend(home.resolve("emulated"),
                List.of(Catalog.builtin().get("A100-40GB")), 20, SimulatedGpuBackend.Latency.DEFAULT);
        try (NodeService s = NodeService.start(new NodeService.Settings(home, backend,
                Launches.helperCommand("dev.migm.cli.Main"), "migm", 20))) {
            // It waits for a file the test writes, so that it is seen while it runs, then prints digests of
            // the token and of a value with a quote, a newline and a dollar: never the values themselves.
            Path go = dir.resolve("go");
            String tricky = "it's \"$HOME\"\nline two";
            String id = s.submit(System.getProperty("user.name"), "secret.yaml", dir.toString(), """
                    version: v1
                    jobs:
                      - name: secretive
                        memory: 1GiB
                        env: {HF_TOKEN: "%s", TRICKY: "it's \\"$HOME\\"\\nline two"}
                        command: ["sh", "-c", "while [ ! -e %s ]; do sleep 0.05; done; printf %%s \\"$HF_TOKEN\\" | sha256sum; printf %%s \\"$TRICKY\\" | sha256sum"]
                    """.formatted(secret, go)).getFirst();
            Path out = home.resolve("jobs").resolve(id).resolve("attempt-1.out");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (DaemonProcess.count(home, "SELECT count(*) FROM attempts WHERE job=" + id + " AND running_at IS NOT NULL") == 0) {
                assertThat(System.nanoTime()).as("the job runs").isLessThan(deadline);
                Thread.sleep(50);
            }
            Thread.sleep(300);
            assertNowhereButTheJob(secret, home);
            Files.writeString(go, "");
            while (Files.readString(out).lines().count() < 2 && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(Files.readString(out).lines().map(l -> l.split(" ")[0]).toList())
                    .containsExactly(sha256(secret), sha256(tricky));
            // No file of the attempt keeps it: the environment file was deleted once open.
            try (Stream<Path> files = Files.list(home.resolve("jobs").resolve(id))) {
                assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".env"));
            }
        }
    }
}
