package dev.migm.service;

import dev.migm.exec.RunAs;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Who may do what on the node, and whom each job runs as. Callers are known by the socket's peer
 * credentials (never by what a request says). The rules ({@code docs/api.md}, "Users"):
 *
 * <ul>
 *   <li>A daemon that runs as root runs each job as its submitter ({@link RunAs}); a job of root runs
 *       as root only where the admin allows it ({@code allow_root_jobs}), else its submit is refused.
 *   <li>A daemon that runs as another user can run jobs only as itself, so it refuses submits from
 *       anyone else (a group on its socket lets them connect, to watch).
 *   <li>Everyone who can connect sees every job's state; cancelling a job and reading its logs are for
 *       its submitter and the admins; draining and resuming GPUs are for the admins. Admins are root,
 *       the daemon's own user and the members of {@code admin_group}.
 * </ul>
 *
 * Users and group memberships are read from the system's databases ({@code getent}, {@code id}) and
 * kept for {@link #CACHE_S} seconds.
 */
final class Users {
    /** How long a user's entry and groups are kept before they are read again. */
    static final long CACHE_S = 60;

    private final boolean runAsSubmitter;
    private final boolean allowRootJobs;
    private final Optional<String> adminGroup;
    private final String daemonUser;
    private final Map<String, Cached<Optional<RunAs>>> entries = new ConcurrentHashMap<>();
    private final Map<String, Cached<Set<String>>> groups = new ConcurrentHashMap<>();

    private record Cached<T>(T value, long atNanos) {
        boolean fresh() {
            return System.nanoTime() - atNanos < TimeUnit.SECONDS.toNanos(CACHE_S);
        }
    }

    Users(NodeService.Access access) {
        this.runAsSubmitter = access.runAsSubmitter();
        this.allowRootJobs = access.allowRootJobs();
        this.adminGroup = access.adminGroup();
        this.daemonUser = System.getProperty("user.name");
    }

    /** Refuses a submit the node cannot run as its submitter (see the class comment). */
    void checkMaySubmit(String user) {
        if (!runAsSubmitter) {
            if (!user.equals(daemonUser)) {
                throw new NodeService.Refused(403, "this daemon runs as " + daemonUser + " and can run jobs only as "
                        + daemonUser + ", not as " + user + "; run it as root to run each job as its submitter");
            }
            return;
        }
        if (user.equals("root")) {
            if (!allowRootJobs) {
                throw new NodeService.Refused(403, "jobs submitted by root would run as root, which this node does not"
                        + " allow (allow_root_jobs: true in the daemon's config, or --allow-root-jobs); submit as a user");
            }
            return;
        }
        if (entry(user).isEmpty()) {
            throw new NodeService.Refused(403, "user " + user + " is not in this node's user database (getent passwd)");
        }
    }

    /** The user a job of {@code submitter} runs as; empty: the daemon's own user. */
    Optional<RunAs> runAs(String submitter) {
        if (!runAsSubmitter || submitter.equals("root")) return Optional.empty();
        Optional<RunAs> u = entry(submitter);
        if (u.isEmpty()) {
            throw new IllegalStateException("its submitter " + submitter + " is no longer in this node's user database");
        }
        return u;
    }

    /**
     * Whom a job of {@code submitter} runs as, with their groups, for the door's check of its command
     * ({@link dev.migm.exec.CommandCheck}); empty when the system cannot say.
     */
    Optional<dev.migm.exec.CommandCheck.User> commandUser(String submitter) {
        Optional<RunAs> as = runAs(submitter);
        if (as.isEmpty()) {
            return Optional.of(self.updateAndGet(c -> c != null && c.fresh() ? c
                    : new Cached<>(dev.migm.exec.CommandCheck.User.self(), System.nanoTime())).value());
        }
        Cached<Optional<dev.migm.exec.CommandCheck.User>> c = checkUsers.get(submitter);
        if (c != null && c.fresh()) return c.value();
        Optional<dev.migm.exec.CommandCheck.User> u = dev.migm.exec.CommandCheck.User.of(as.get());
        checkUsers.put(submitter, new Cached<>(u, System.nanoTime()));
        return u;
    }

    /** The PATH a job of {@code submitter} starts with: setpriv's reset one, or the daemon's own. */
    String jobPath(String submitter) {
        return runAs(submitter).isPresent() ? dev.migm.exec.CommandCheck.RESET_PATH
                : System.getenv().getOrDefault("PATH", dev.migm.exec.CommandCheck.RESET_PATH);
    }

    private final java.util.concurrent.atomic.AtomicReference<Cached<dev.migm.exec.CommandCheck.User>> self =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final Map<String, Cached<Optional<dev.migm.exec.CommandCheck.User>>> checkUsers = new ConcurrentHashMap<>();

    /** Whether {@code user} may run jobs here as someone else, drain GPUs and act on any job. */
    boolean isAdmin(String user) {
        if (user.equals("root") || user.equals(daemonUser)) return true;
        return adminGroup.isPresent() && groupsOf(user).contains(adminGroup.get());
    }

    /** Refuses {@code what} on a job of {@code owner} to anyone but its owner and the admins. */
    void checkOwnerOrAdmin(String user, String owner, String jobId, String what) {
        if (!user.equals(owner) && !isAdmin(user)) {
            throw new NodeService.Refused(403, "job " + jobId + " belongs to " + owner + "; only they or an admin"
                    + adminGroup.map(g -> " (root or group " + g + ")").orElse(" (root)") + " may " + what);
        }
    }

    private Optional<RunAs> entry(String user) {
        Cached<Optional<RunAs>> c = entries.get(user);
        if (c != null && c.fresh()) return c.value();
        Optional<RunAs> u = RunAs.lookup(user);
        entries.put(user, new Cached<>(u, System.nanoTime()));
        return u;
    }

    private Set<String> groupsOf(String user) {
        Cached<Set<String>> c = groups.get(user);
        if (c != null && c.fresh()) return c.value();
        // No id(1), or no such user: nobody is an admin by group.
        Set<String> names = dev.migm.io.Procs.output("id", "-Gn", "--", user)
                .map(out -> Arrays.stream(out.split("\\s+")).filter(g -> !g.isEmpty()).collect(Collectors.toSet()))
                .orElse(Set.of());
        groups.put(user, new Cached<>(names, System.nanoTime()));
        return names;
    }
}
