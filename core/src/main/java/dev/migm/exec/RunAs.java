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
 * LOGNAME, SHELL from the user's entry, PATH {@code /usr/local/bin:/bin:/usr/bin}); then the
 * {@link #LAUNCHER}, as that user, sets migm's variables and the job's own, enters its working
 * directory and runs its command.
 *
 * <p>The job's variables (its {@code env:}, which may hold secrets such as {@code HF_TOKEN}) never
 * appear in an argv, which every user of the node can read ({@code ps}, {@code /proc/PID/cmdline}):
 * they are written to the attempt's {@code .env} file (mode 0600, the supervisor's user's), which the
 * supervisor opens as descriptor 3 and deletes before it starts the job; the launcher reads them from
 * that descriptor. No shell is built from user strings: every user value is one argument, or a value
 * in single quotes in that file ({@link #exportLine}).
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
    public List<String> command(Path workdir, List<String> argv) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
                "--reset-env", "--"));
        cmd.addAll(sameUserCommand(workdir, argv));
        return cmd;
    }

    /**
     * The program a command starts, to check before it runs: its first argument, or for a shell line
     * ({@code /bin/sh -c LINE}, as job files write one) the line's first word when it is a plain
     * word (a name or a path, not an assignment, a redirection or a construct); "" when there is
     * nothing simple to check.
     */
    public static String programOf(List<String> argv) {
        if (argv.size() == 3 && argv.get(0).equals("/bin/sh") && argv.get(1).equals("-c")) {
            String[] words = argv.get(2).strip().split("\\s+", 2);
            String first = words.length == 0 ? "" : words[0];
            return first.matches("[A-Za-z0-9_./+-]+") && !first.startsWith("-") ? first : "";
        }
        return argv.getFirst();
    }

    /**
     * What the launcher says on stderr, at the start of its one line, when the job cannot start; it
     * then exits {@value #CANNOT_START_STATUS}. The executor reads both ({@link #cannotStart}).
     */
    public static final String CANNOT_START = "migm: cannot start the job: ";

    /** The launcher's exit status when the job cannot start (125, as env(1) and container runtimes use). */
    public static final int CANNOT_START_STATUS = 125;

    /**
     * The launcher (POSIX sh; {@code $1} the working directory, {@code $2} the program to check, the
     * rest the job's argv), run as the job's user: reads the job's environment from descriptor 3
     * (export lines, {@link #exportLine}) and closes it, enters the working directory, checks that the
     * program exists and may be run (with the job's {@code PATH}), then becomes the job. What the
     * job's own user cannot do is said in one line starting {@link #CANNOT_START}: a fault of the job,
     * which no retry mends. The program checked is the command's first word, or a shell line's
     * ({@link #programOf}); none for a line that starts otherwise.
     */
    static final String LAUNCHER = String.join("\n",
            "MIGM_E=$(cat <&3) || { echo '" + CANNOT_START + "its environment could not be read' >&2; exit 125; }",
            "exec 3<&-",
            "eval \"$MIGM_E\" || { echo '" + CANNOT_START + "its environment could not be set' >&2; exit 125; }",
            "unset MIGM_E",
            "cd -- \"$1\" 2>/dev/null || { echo \"" + CANNOT_START + "its working directory $1 does not exist or"
                    + " cannot be entered by $(id -un 2>/dev/null || id -u)\" >&2; exit 125; }",
            "shift",
            "case $1 in",
            "'') ;;",
            "*/*) if [ ! -e \"$1\" ]; then echo \"" + CANNOT_START + "no such program: $1\" >&2; exit 125;",
            "     elif [ -d \"$1\" ] || [ ! -x \"$1\" ]; then echo \"" + CANNOT_START + "$1 is not a program"
                    + " $(id -un 2>/dev/null || id -u) may run\" >&2; exit 125; fi ;;",
            "*) command -v -- \"$1\" >/dev/null 2>&1 || { echo \"" + CANNOT_START + "command not found: $1 (PATH"
                    + " $PATH)\" >&2; exit 125; } ;;",
            "esac",
            "shift",
            "exec \"$@\"",
            "");

    /**
     * The command that runs {@code argv} as the supervisor's own user, in {@code workdir}, through the
     * {@link #LAUNCHER}; the job's environment comes from descriptor 3.
     */
    public static List<String> sameUserCommand(Path workdir, List<String> argv) {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", LAUNCHER, "migm-job", workdir.toString(),
                programOf(argv)));
        cmd.addAll(argv);
        return cmd;
    }

    /**
     * One variable as the launcher sets it: {@code export NAME='VALUE'}, the value in single quotes
     * (a quote inside written {@code '\''}), so that no character of it means anything to the shell.
     * Names are refused at the door unless they are identifiers ({@code [A-Za-z_][A-Za-z0-9_]*}).
     */
    static String exportLine(String name, String value) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("not a variable name: " + name);
        return "export " + name + "='" + value.replace("'", "'\\''") + "'\n";
    }

    /** The text of an attempt's {@code .env} file: the variables in order, one {@link #exportLine} each. */
    static String environmentFile(Map<String, String> env) {
        StringBuilder out = new StringBuilder();
        env.forEach((k, v) -> out.append(exportLine(k, v)));
        return out.toString();
    }

    /**
     * Why the job could not start, when its attempt ended with the launcher's status and line
     * ({@link #CANNOT_START}, {@link #CANNOT_START_STATUS}); empty for any other end.
     */
    public static java.util.Optional<String> cannotStart(int status, String errTail) {
        if (status != CANNOT_START_STATUS) return java.util.Optional.empty();
        String first = errTail.lines().findFirst().orElse("");
        return first.startsWith(CANNOT_START) ? java.util.Optional.of(first.substring(CANNOT_START.length()))
                : java.util.Optional.empty();
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
