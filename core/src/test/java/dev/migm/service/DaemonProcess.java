package dev.migm.service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A {@code migm daemon} in its own JVM, as a node runs it, for tests that kill it. */
final class DaemonProcess implements AutoCloseable {
    final Process process;
    final Path home;
    final Path output;

    private DaemonProcess(Process process, Path home, Path output) {
        this.process = process;
        this.home = home;
        this.output = output;
    }

    private static int started;

    /**
     * Starts a daemon on {@code home} and waits until it says it is ready. Tests run as root on CI,
     * so their jobs are root's, which a daemon run as root runs only when allowed: it is.
     */
    static DaemonProcess start(Path home, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--allow-root-jobs");
        return startExactly(home, all.toArray(String[]::new));
    }

    /** Starts a daemon with exactly these arguments (besides its home). */
    static DaemonProcess startExactly(Path home, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), "dev.migm.cli.Main", "daemon", "--home", home.toString()));
        cmd.addAll(List.of(args));
        Path out = home.resolveSibling("daemon-" + (++started) + ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        DaemonProcess d = new DaemonProcess(p, home, out);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!d.output().contains("migm daemon ready")) {
            if (!p.isAlive()) throw new AssertionError("the daemon exited " + p.exitValue() + ":\n" + d.output());
            if (System.nanoTime() > deadline) throw new AssertionError("the daemon did not get ready:\n" + d.output());
            Thread.sleep(20);
        }
        return d;
    }

    String output() {
        try {
            return Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    ApiClient client() {
        return new ApiClient(home.resolve("migm.sock"));
    }

    /** SIGKILL: no shutdown hook, no flush, as a crash or the OOM killer. */
    void kill9() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void terminate() throws Exception {
        process.destroy();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (process.isAlive()) kill9();
    }

    /** One number the journal answers (read on a connection of its own, as any reader may). */
    static long count(Path home, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("journal.db"));
             ResultSet r = c.createStatement().executeQuery(sql)) {
            return r.next() ? r.getLong(1) : 0;
        }
    }

    /** Rows of strings the journal answers. */
    static List<List<String>> rows(Path home, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("journal.db"));
             ResultSet r = c.createStatement().executeQuery(sql)) {
            List<List<String>> out = new ArrayList<>();
            int n = r.getMetaData().getColumnCount();
            while (r.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) row.add(r.getString(i));
                out.add(row);
            }
            return out;
        }
    }

    /** Waits until {@code sql} counts at least one, polling; false on time-out. */
    static boolean await(Path home, String sql, long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            try {
                if (count(home, sql) > 0) return true;
            } catch (SQLException e) {
                // busy: try again
            }
            Thread.sleep(5);
        }
        return false;
    }
}
