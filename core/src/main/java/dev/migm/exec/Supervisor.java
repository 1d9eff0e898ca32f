package dev.migm.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * The small supervisor each attempt runs under, which outlives migm (the pattern of containerd's
 * shim and conmon): a POSIX shell that starts the job in a session of its own, waits for it, and
 * writes its exit status to a file. A migm that dies while the job runs finds, when it starts again,
 * either the status (the job ended meanwhile) or a supervisor still alive (it re-attaches).
 *
 * <p>Files of attempt N of a job, next to each other in the job's directory, all starting with
 * {@code attempt-N}: {@code .out} and {@code .err} (the job's output), {@code .sup} (the supervisor's process id), {@code .pid} (the job's
 * process, leader of its own process group), {@code .exit} (its status: the exit code, or 128 plus
 * the signal that ended it), {@code .lock} (held by the supervisor while it lives, {@code flock(2)}),
 * {@code .abandoned} (migm gave the attempt up before it started; a supervisor that finds it runs
 * nothing), {@code .env} (the job's environment, mode 0600: the supervisor opens it for the job's
 * launcher as descriptor 3 and deletes it before the job starts, {@link RunAs}). The lock and the abandon marker make "never two attempts of a job at once" hold across a
 * crash between launching a supervisor and recording it: see {@link #abandonIfNotStarted}.
 *
 * <p>Needs {@code sh}, {@code setsid} and {@code flock} (util-linux).
 */
public final class Supervisor {
    private Supervisor() {
    }

    /** The supervisor script; {@code $1} is the attempt's path prefix, the rest the job's argv. */
    static final String SCRIPT = String.join("\n",
            "p=$1; shift",
            "exec 9>\"$p.lock\"",
            "flock -n 9 || exit 75",
            "[ -e \"$p.abandoned\" ] && { rm -f \"$p.env\"; exit 0; }",
            "exec 3<\"$p.env\" || exit 70",
            "rm -f \"$p.env\"",
            "echo $$ >\"$p.sup.tmp\" && mv \"$p.sup.tmp\" \"$p.sup\"",
            "setsid \"$@\" 9>&- </dev/null >\"$p.out\" 2>\"$p.err\" &",
            "child=$!",
            "exec 3<&-",
            "echo \"$child\" >\"$p.pid.tmp\" && mv \"$p.pid.tmp\" \"$p.pid\"",
            "wait \"$child\"; rc=$?",
            "echo \"$rc\" >\"$p.exit.tmp\" && mv \"$p.exit.tmp\" \"$p.exit\"",
            "");

    /** The path prefix of attempt {@code number} in a job's directory. */
    public static Path prefix(Path jobDir, int number) {
        return jobDir.resolve("attempt-" + number);
    }

    static Path file(Path prefix, String suffix) {
        return prefix.resolveSibling(prefix.getFileName() + suffix);
    }

    /** The command line that runs {@code argv} under a supervisor (itself in a session of its own). */
    static List<String> command(Path prefix, List<String> argv) {
        List<String> cmd = new ArrayList<>(List.of("setsid", "sh", "-c", SCRIPT, "migm-supervisor", prefix.toString()));
        cmd.addAll(argv);
        return cmd;
    }

    /** The job's exit status, once its supervisor recorded it. */
    public static OptionalInt exitStatus(Path prefix) {
        OptionalLong status = number(prefix, ".exit");
        return status.isPresent() ? OptionalInt.of((int) status.getAsLong()) : OptionalInt.empty();
    }

    /** The job's process id (leader of its process group), once its supervisor started it. */
    public static OptionalLong jobPid(Path prefix) {
        return number(prefix, ".pid");
    }

    /** The supervisor's process id, once it started. */
    public static OptionalLong supervisorPid(Path prefix) {
        return number(prefix, ".sup");
    }

    /** The number one of the attempt's files holds (written whole by a rename), once it is there. */
    private static OptionalLong number(Path prefix, String suffix) {
        try {
            String s = Files.readString(file(prefix, suffix), StandardCharsets.US_ASCII).strip();
            return s.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(s));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** Whether a supervisor holds the attempt's lock now (it is alive). */
    public static boolean alive(Path prefix) {
        Path lock = file(prefix, ".lock");
        if (!Files.exists(lock)) return false;
        try {
            Process p = new ProcessBuilder("flock", "-n", "-E", "75", lock.toString(), "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return true;
            }
            return p.exitValue() == 75;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot run flock (util-linux): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** What a restarted migm finds of an attempt its journal says was launched and had not ended. */
    public sealed interface Found {
        /** The supervisor recorded the job's exit status while migm was away. */
        record Exited(int status) implements Found {
        }

        /** The supervisor still runs: re-attach. {@code jobPid} is empty if it has not started the job yet. */
        record Running(OptionalLong jobPid) implements Found {
        }

        /**
         * No supervisor and no status: the attempt never started (marked abandoned, so a supervisor
         * started late runs nothing) or its supervisor was killed (reboot): {@code orphanPid} is the
         * job's process group if one may still run.
         */
        record Gone(Optional<Long> orphanPid) implements Found {
        }
    }

    /**
     * Finds out what became of an attempt, and makes sure an attempt migm gives up can never start
     * later: the abandon marker is created first, then the lock is tested. A supervisor that took the
     * lock before the marker existed is seen alive; one that takes it after sees the marker and exits.
     */
    public static Found abandonIfNotStarted(Path prefix) {
        OptionalInt status = exitStatus(prefix);
        if (status.isPresent()) return new Found.Exited(status.getAsInt());
        if (alive(prefix)) return new Found.Running(jobPid(prefix));
        try {
            Files.createDirectories(prefix.getParent());
            Files.createFile(file(prefix, ".abandoned"));
        } catch (FileAlreadyExistsException e) {
            // marked before
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (alive(prefix)) return new Found.Running(jobPid(prefix));
        status = exitStatus(prefix);
        if (status.isPresent()) return new Found.Exited(status.getAsInt());
        return new Found.Gone(orphan(prefix));
    }

    /**
     * The job's process if it still runs: the pid file's process, alive and started no later than the
     * file was written (after a reboot the same number is another process).
     */
    static Optional<Long> orphan(Path prefix) {
        OptionalLong pid = jobPid(prefix);
        if (pid.isEmpty()) return Optional.empty();
        try {
            java.time.Instant written = Files.getLastModifiedTime(file(prefix, ".pid")).toInstant();
            return ProcessHandle.of(pid.getAsLong()).filter(h -> dev.migm.io.Procs.alive(h.pid()))
                    .filter(h -> h.info().startInstant().map(s -> !s.isAfter(written.plusSeconds(2))).orElse(false))
                    .map(ProcessHandle::pid);
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
