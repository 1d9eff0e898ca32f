package dev.migm.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The user a job runs as when migm runs as root and the job is someone else's: its numbers from
 * the system's user database ({@code getent passwd}, so NSS and LDAP users count), and how a
 * supervisor drops to it. The supervisor stays root (it must signal and record the job); the job is
 * started by {@code setpriv --reuid --regid --init-groups --reset-env} (util-linux), so it runs with
 * the user's uid, primary group and supplementary groups, in a clean environment (HOME, USER,
 * LOGNAME, SHELL from the user's entry, PATH {@code /usr/local/bin:/bin:/usr/bin}), then
 * {@code env -C DIR} changes to its working directory as that user (a directory the user cannot
 * reach fails the attempt with env's message) and sets migm's variables and the job's own. No shell
 * is built from user strings: every user value is one argument.
 */
public record RunAs(String user, long uid, long gid) {
    /** The user's entry, or empty when the system knows no such user. */
    public static Optional<RunAs> lookup(String user) {
        if (user == null || user.isEmpty() || user.startsWith("-") || user.contains(":")) return Optional.empty();
        return dev.migm.io.Procs.output("getent", "passwd", user).flatMap(line -> {
            String[] f = line.lines().findFirst().orElse("").split(":", -1);
            if (f.length < 7 || !f[0].equals(user)) return Optional.empty();
            try {
                return Optional.of(new RunAs(user, Long.parseLong(f[2]), Long.parseLong(f[3])));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /** Whether this process runs as root (its effective uid, as {@code /proc/self} is owned). */
    public static boolean processIsRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue() == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /**
     * The command that runs {@code argv} as this user in {@code workdir} with {@code env} added to the
     * clean environment. A command whose name contains {@code =} goes through {@code sh -c 'exec "$@"'}
     * (env would take it for a variable); its words stay separate arguments.
     */
    public List<String> command(Path workdir, Map<String, String> env, List<String> argv) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
                "--reset-env", "--"));
        cmd.addAll(sameUserCommand(workdir, env, argv));
        return cmd;
    }

    /**
     * The command that runs {@code argv} as the supervisor's own user, in {@code workdir}, with
     * {@code env} added to the supervisor's environment for the job alone.
     */
    public static List<String> sameUserCommand(Path workdir, Map<String, String> env, List<String> argv) {
        List<String> cmd = new ArrayList<>(List.of("env", "-C", workdir.toString()));
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        if (argv.getFirst().contains("=")) cmd.addAll(List.of("sh", "-c", "exec \"$@\"", "migm-job"));
        cmd.addAll(argv);
        return cmd;
    }

    /**
     * Makes {@code path} this user's with the given mode ({@code rwx------} style); the directory it
     * is in stays root's, so the user can write the file but never swap it for a link root follows.
     */
    public void own(Path path, String mode) throws IOException {
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        view.setOwner(lookup.lookupPrincipalByName(Long.toString(uid)));
        view.setGroup(lookup.lookupPrincipalByGroupName(Long.toString(gid)));
        view.setPermissions(PosixFilePermissions.fromString(mode));
    }
}
