package dev.migm.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** What Linux says about a process, by pid; and a system tool's answer. */
public final class Procs {
    private Procs() {
    }

    /**
     * Whether process {@code pid} runs: it exists and is not a zombie (state {@code Z} or {@code X} in
     * {@code /proc/PID/stat}, proc(5)). A process that died while its parent was dead stays a zombie
     * until PID 1 reaps it, and a container's PID 1 may never do so: {@link ProcessHandle#isAlive}
     * (which asks {@code kill(pid, 0)}) counts such a zombie alive.
     */
    public static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    /**
     * What a system tool prints (its first 64 KiB, stripped) when it exits 0 within 10 s; empty when
     * it is missing, fails or hangs (the system's user database through {@code getent} and {@code id}).
     */
    public static java.util.Optional<String> output(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readNBytes(64 * 1024), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return java.util.Optional.empty();
            }
            return p.exitValue() == 0 ? java.util.Optional.of(out) : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Optional.empty();
        }
    }
}
