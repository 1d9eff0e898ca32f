package dev.migm.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a job's command can start as its user, checked when it is submitted, before the node
 * accepts it: its working directory exists and the user may enter it, and its program
 * ({@link RunAs#programOf}) exists where the user may run it (a path, or a name in the job's
 * {@code PATH}). The check reads file modes and owners the way the kernel grants execute and search
 * permission (owner, then group, then others; root may enter any directory and run any file with an
 * execute bit; ACLs are not read). It refuses only what it can tell for certain: a path that does not
 * exist, or whose modes deny the user. Where migm itself cannot read a directory (a network file
 * system that squashes root), it says nothing, and the launcher's check as the user
 * ({@link RunAs#LAUNCHER}) fails the job when it runs, at once and without a retry.
 */
public final class CommandCheck {
    private CommandCheck() {
    }

    /**
     * The user a job runs as: uid and every group it has (primary and supplementary).
     *
     * @param name for messages
     */
    public record User(String name, long uid, Set<Long> gids) {
        public User {
            gids = Set.copyOf(gids);
        }

        /** This process's own user (a daemon that runs its jobs as itself). */
        public static User self() {
            long uid;
            try {
                uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            } catch (IOException | RuntimeException e) {
                uid = -1;
            }
            return new User(System.getProperty("user.name"), uid, dev.migm.io.Procs.output("id", "-G")
                    .map(CommandCheck::numbers).orElse(Set.of()));
        }

        /** A user of the system database with their groups ({@code id -G}), or empty when unknown. */
        public static Optional<User> of(RunAs user) {
            return dev.migm.io.Procs.output("id", "-G", "--", user.user())
                    .map(out -> new User(user.user(), user.uid(), numbers(out)));
        }
    }

    private static Set<Long> numbers(String out) {
        java.util.Set<Long> gids = new java.util.HashSet<>();
        for (String w : out.strip().split("\\s+")) {
            try {
                gids.add(Long.parseLong(w));
            } catch (NumberFormatException e) {
                // not a number: not a group id
            }
        }
        return gids;
    }

    /** The PATH of a job started by setpriv --reset-env (util-linux's default). */
    public static final String RESET_PATH = "/usr/local/bin:/bin:/usr/bin";

    /**
     * Why the command cannot start as {@code user}, when that is certain; empty when it can, or when
     * migm cannot tell.
     *
     * @param workdir an absolute working directory
     * @param argv    the command as it will run
     * @param path    the {@code PATH} the job will have
     */
    public static Optional<String> problem(Path workdir, List<String> argv, String path, User user) {
        Access dir = enter(workdir, user);
        if (dir == Access.MISSING) return Optional.of("working directory " + workdir + " does not exist");
        if (dir == Access.DENIED) {
            return Optional.of("working directory " + workdir + " cannot be entered by " + user.name());
        }
        String program = RunAs.programOf(argv);
        if (program.isEmpty() || dir == Access.UNKNOWN) return Optional.empty();
        if (program.contains("/")) {
            Path p = workdir.resolve(program).normalize();
            return switch (run(p, user)) {
                case MISSING -> Optional.of("no such program: " + p);
                case DENIED -> Optional.of(p + " is not a program " + user.name() + " may run");
                default -> Optional.empty();
            };
        }
        boolean unknown = false;
        for (String d : path.split(":", -1)) {
            if (d.isEmpty() || !d.startsWith("/")) {
                unknown = true; // the working directory itself, or a relative entry: not worth guessing
                continue;
            }
            Access a = run(Path.of(d).resolve(program), user);
            if (a == Access.YES) return Optional.empty();
            unknown |= a == Access.UNKNOWN;
        }
        return unknown ? Optional.empty() : Optional.of("command not found: " + program + " (PATH " + path + ")");
    }

    private enum Access { YES, MISSING, DENIED, UNKNOWN }

    /** Whether {@code user} may enter the directory (search permission on it and every directory above). */
    static Access enter(Path dir, User user) {
        Path p = dir.toAbsolutePath().normalize();
        Access parent = searchable(p.getParent(), user);
        if (parent != Access.YES) return parent;
        return mode(p, user, true);
    }

    /** Whether {@code user} may run the file: every directory above searchable, the file executable. */
    static Access run(Path file, User user) {
        Access parent = searchable(file.getParent(), user);
        if (parent != Access.YES) return parent;
        return mode(file, user, false);
    }

    private static Access searchable(Path dir, User user) {
        if (dir == null) return Access.YES;
        Access above = searchable(dir.getParent(), user);
        return above != Access.YES ? above : mode(dir, user, true);
    }

    /** Execute (search, for a directory) permission of one path, following links as exec(2) and chdir(2) do. */
    private static Access mode(Path p, User user, boolean directory) {
        int mode;
        long owner;
        long group;
        boolean isDirectory;
        try {
            var attrs = Files.readAttributes(p, "unix:mode,uid,gid");
            mode = ((Number) attrs.get("mode")).intValue();
            owner = ((Number) attrs.get("uid")).longValue();
            group = ((Number) attrs.get("gid")).longValue();
            isDirectory = Files.isDirectory(p);
        } catch (NoSuchFileException e) {
            return Access.MISSING;
        } catch (IOException | RuntimeException e) {
            return Access.UNKNOWN;
        }
        if (directory != isDirectory) return directory ? Access.MISSING : Access.DENIED;
        int x;
        if (user.uid() == 0) {
            x = directory ? 1 : ((mode & 0111) != 0 ? 1 : 0);
        } else if (user.uid() == owner) {
            x = (mode >> 6) & 1;
        } else if (user.gids().contains(group)) {
            x = (mode >> 3) & 1;
        } else {
            x = mode & 1;
        }
        return x == 1 ? Access.YES : Access.DENIED;
    }
}
