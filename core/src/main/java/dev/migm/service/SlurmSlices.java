package dev.migm.service;

import dev.migm.exec.OomClassifier;
import dev.migm.exec.RunAs;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Profile;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.store.NodeJournal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Slices of the node's GPUs for jobs that Slurm runs (docs/slurm.md). Slurm admits a job on the
 * node's total {@code gpumem}; its root Prolog asks here ({@link #prepare}) and waits until migm has
 * placed a slice; its Epilog gives it back ({@link #release}).
 *
 * <p>A slice is an ordinary migm job, so the one engine places, packs and accounts it like any other:
 * a <em>holder</em>, named {@code slurm-JOB-RESTART}, declared at the job's {@code gpumem}, run as the
 * Slurm job's user, whose process only waits for its release file and exits with the Slurm job's
 * status (an OOM's evidence on stderr when the job died of one, which the engine records and learns
 * from as from any OOM). Holders have one attempt: the engine never relaunches one on its own, since
 * only Slurm may start the job again (a relaunched holder would hold memory Slurm believes free). The
 * engine does not judge a holder's memory samples (no early restart: the process on the instance is
 * Slurm's, not migm's).
 *
 * <p>When the job died of an OOM and the admin allows it ({@code slurm_requeue_oom}), migm requeues it
 * through Slurm with the engine's rule after an OOM (at least one MiB more than the slice it had: the
 * next larger instance this node offers) as its new {@code gpumem}; same job id, the next restart
 * count, and its checkpoints ({@code MIGM_CHECKPOINT_DIR}, one directory per Slurm job) are kept.
 *
 * <p>Every request is an admin's (the Prolog and Epilog run as root). Both are idempotent: a Prolog
 * asks again until its slice runs; an Epilog for a job that never had a slice is answered "nothing
 * held".
 */
public final class SlurmSlices implements AutoCloseable {
    /** The submission source of every holder: {@code slurm:JOB}. */
    static final String SOURCE_PREFIX = "slurm:";
    private static final Pattern JOB_ID = Pattern.compile("[0-9]{1,10}(_[0-9]{1,10})?");
    private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}\\$?", Pattern.CASE_INSENSITIVE);
    /** How often a holder looks for its release file: the latency a release adds before the next job. */
    static final double HOLDER_POLL_S = 0.5;
    /** How long after an Epilog's release a requeue waits before it looks at the job (its Epilog exits). */
    static final long EPILOG_EXIT_MS = 3000;
    /** How long a requeue waits for the job's completion (its Epilog) to end and for Slurm to accept it. */
    private static final long REQUEUE_RETRY_MS = 120_000;

    /**
     * How the node works with Slurm.
     *
     * @param requeueOom a job that died of an OOM is requeued with a larger gpumem ({@code slurm_requeue_oom})
     * @param reconcileS how often open slices are checked against Slurm ({@code slurm_reconcile_s}): a
     *                   slice whose job Slurm no longer runs here (its Epilog lost with a slurmd that
     *                   died, a job requeued and restarted) is released after being seen so twice
     */
    public record Settings(boolean requeueOom, double reconcileS) {
        public static final Settings DEFAULTS = new Settings(false, 30);

        public Settings {
            if (!(reconcileS > 0 && reconcileS <= 86_400)) {
                throw new IllegalArgumentException("slurm_reconcile_s must be in (0, 86400]");
            }
        }
    }

    /** A Prolog's request: the Slurm job, its restart count, its per-node {@code gpumem} in bytes, its user. */
    public record Prepare(String job, int restart, long bytes, String user, Optional<String> slurmConf) {
    }

    /** An open slice: its holder, since when migm has it, since when Slurm shows its job ended (0: not). */
    private static final class Holder {
        final String id;
        final long sinceMs = System.currentTimeMillis();
        long endSeenMs;

        Holder(String id) {
            this.id = id;
        }
    }

    /**
     * An Epilog's report: the Slurm job and restart, its exit ({@code SLURM_JOB_EXIT_CODE2}, {@code CODE:SIGNAL}),
     * an OOM's evidence from its output if any, and the {@code SLURM_CONF} to requeue it with.
     */
    public record Release(String job, int restart, String exit, Optional<String> oomEvidence, Optional<String> slurmConf) {
    }

    private final NodeService service;
    private final Path home;
    private final Settings settings;
    /** Open holders by {@code JOB-RESTART}; rebuilt from the journal at start. */
    private final Map<String, Holder> holders = new LinkedHashMap<>();
    /** The Slurm configuration the last Prolog or Epilog ran with (empty: scontrol's default). */
    private volatile Optional<String> slurmConf = Optional.empty();
    private final ExecutorService requeuer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "slurm-requeue");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.ScheduledExecutorService reconciler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "slurm-reconcile");
        t.setDaemon(true);
        return t;
    });

    SlurmSlices(NodeService service, Path home, Settings settings, List<NodeJournal.JobRow> openHolders) {
        this.service = service;
        this.home = home;
        this.settings = settings;
        for (NodeJournal.JobRow r : openHolders) holders.put(r.name().substring("slurm-".length()), new Holder(r.id()));
        long periodMs = Math.round(settings.reconcileS() * 1000);
        reconciler.scheduleWithFixedDelay(this::reconcile, periodMs, periodMs, TimeUnit.MILLISECONDS);
        try {
            for (Path d : List.of(home.resolve("slurm"), releaseDir(), home.resolve("slurm").resolve("jobs"))) {
                Files.createDirectories(d);
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up " + home.resolve("slurm") + ": " + e.getMessage(), e);
        }
    }


    private Path releaseDir() {
        return home.resolve("slurm").resolve("release");
    }

    /** The directory every attempt of a Slurm job checkpoints into ({@code MIGM_CHECKPOINT_DIR}). */
    Path checkpointDir(String job) {
        return home.resolve("slurm").resolve("jobs").resolve(job).resolve("checkpoints");
    }

    /**
     * The status of a request this node can never serve as the Slurm job asks (a gpumem above every
     * GPU's largest instance, a user the node does not run): 422, Unprocessable Content. The Prolog
     * then cancels that job with the reason and keeps the node in service; every other failure is
     * the node's, which Slurm answers by draining it.
     */
    public static final int USERS_REQUEST = 422;

    /**
     * Asks for the slice of a Slurm job (submitting its holder on the first call). Answers the holder's
     * id and state and, once it runs, the {@code export NAME=VALUE} lines of its tasks' environment;
     * while it waits, why. Refused ({@link #USERS_REQUEST}) when the request can never fit one GPU of this
     * node or its user is not run here, and (409) when the holder ended without running (the reason is
     * in the answer).
     */
    public synchronized Map<String, Object> prepare(String caller, Prepare p) {
        checkAdmin(caller);
        validate(p.job(), p.restart());
        if (p.bytes() <= 0) throw new InvalidInputException("gpumem: expected a positive number of bytes, got " + p.bytes());
        if (!USER.matcher(p.user()).matches()) throw new InvalidInputException("user: expected a user name, got "
                + TextFiles.quote(p.user()));
        p.slurmConf().ifPresent(c -> slurmConf = Optional.of(c));
        String key = p.job() + "-" + p.restart();
        Holder h = holders.get(key);
        String id = h == null ? null : h.id;
        long mib = Math.ceilDiv(p.bytes(), 1L << 20);
        if (id == null) {
            long largest = service.gpus().stream().map(GpuModel::largestProfile).mapToLong(Profile::memoryMib).max().orElse(0);
            if (mib > largest) {
                throw new NodeService.Refused(USERS_REQUEST, "Slurm job " + p.job() + " asks for gpumem " + mib + " MiB,"
                        + " more than any one GPU of this node holds (its largest instance has " + largest + " MiB); a"
                        + " job runs on one GPU: ask for at most " + largest + "M");
            }
            Optional<RunAs> user = RunAs.lookup(p.user());
            if (user.isEmpty()) throw new NodeService.Refused(USERS_REQUEST, "no user " + p.user() + " on this node");
            makeCheckpointDir(p.job(), user.get());
            String text = holderFile(key, p.job(), mib);
            try {
                id = service.submitSlice(p.user(), SOURCE_PREFIX + p.job(), "/", text);
            } catch (NodeService.Refused e) {
                // The node refuses the job's user (root, where root's jobs are not allowed): the user's
                // request, not the node, is at fault.
                throw new NodeService.Refused(e.status() == 403 ? USERS_REQUEST : e.status(), e.getMessage());
            }
            holders.put(key, new Holder(id));
        }
        NodeJournal.JobRow row = service.journal().job(id).orElseThrow();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("id", id);
        doc.put("state", row.state());
        if (row.ended()) {
            holders.remove(key);
            throw new NodeService.Refused(409, "migm's slice for Slurm job " + p.job() + " (job " + id + ") ended "
                    + row.state() + (row.reason() == null ? "" : ": " + row.reason()));
        }
        List<NodeJournal.AttemptRow> attempts = service.journal().attempts(id);
        NodeJournal.AttemptRow last = attempts.isEmpty() ? null : attempts.getLast();
        if (last != null && last.runningAtS() != null && last.endedAtS() == null && last.device() != null) {
            doc.put("instance", last.instance());
            doc.put("gpu", last.gpu());
            doc.put("env", environment(p.job(), last.device()));
        } else {
            service.whyWaiting(id).ifPresent(u -> doc.put("waiting_because", u.message()));
        }
        return doc;
    }

    /** The lines a TaskProlog prints: Slurm sets each {@code NAME} to the rest of its line, verbatim. */
    private List<String> environment(String job, String device) {
        Map<String, String> vars = new LinkedHashMap<>(service.deviceEnvironment());
        vars.put("CUDA_VISIBLE_DEVICES", device);
        vars.put("MIGM_CHECKPOINT_DIR", checkpointDir(job).toString());
        List<String> lines = new ArrayList<>();
        vars.forEach((k, v) -> lines.add("export " + k + "=" + v));
        return lines;
    }

    /**
     * Gives back the slice of a Slurm job that ended (any end: done, failed, cancelled, timed out,
     * requeued, or a Prolog that failed), and requeues it larger after an OOM when the admin allows it.
     */
    public synchronized Map<String, Object> release(String caller, Release r) {
        checkAdmin(caller);
        validate(r.job(), r.restart());
        int status = exitStatus(r.exit());
        Optional<String> oom = r.oomEvidence().flatMap(OomClassifier::classify);
        r.slurmConf().ifPresent(c -> slurmConf = Optional.of(c));
        String key = r.job() + "-" + r.restart();
        Holder h = holders.get(key);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("job", r.job());
        if (h == null) {
            doc.put("result", "nothing held");
            return doc;
        }
        String id = h.id;
        doc.put("id", id);
        // The evidence as the job printed it: the holder prints it again, and the engine classifies it as
        // it classifies any attempt's output.
        String verdict = oom.isPresent() ? "oom " + r.oomEvidence().orElseThrow().replaceAll("[\\r\\n]", " ")
                : Integer.toString(status);
        letGo(key, h, verdict, "Slurm job " + r.job() + " (restart " + r.restart() + ") ended with exit " + r.exit()
                + oom.map(e -> ", out of GPU memory: " + e).orElse("") + "; its slice is released", caller);
        doc.put("result", "released");
        if (oom.isPresent()) {
            List<NodeJournal.AttemptRow> attempts = service.journal().attempts(id);
            Optional<Long> next = attempts.isEmpty() ? Optional.empty() : nextLargerMib(attempts.getLast());
            if (!settings.requeueOom()) {
                doc.put("requeue", "off (slurm_requeue_oom is not set)");
            } else if (next.isEmpty()) {
                doc.put("requeue", "none: it ran out of memory on the largest instance this node offers");
                service.journal().note(service.nowS(), "SlurmRequeue", id, "Slurm job " + r.job()
                        + " not requeued: out of memory on the largest instance this node offers");
            } else {
                String gres = "gpumem:" + next.get() + "M";
                doc.put("requeue", gres);
                requeuer.submit(() -> requeue(id, r.job(), gres, r.slurmConf()));
            }
        }
        return doc;
    }

    /**
     * Ends a holder: its process reads {@code verdict} from its release file and exits with it; a holder
     * still waiting in migm's queue is cancelled; the journal says why.
     */
    private void letGo(String key, Holder h, String verdict, String note, String by) {
        holders.remove(key, h);
        String id = h.id;
        Path file = releaseDir().resolve(id);
        try {
            Path tmp = file.resolveSibling(id + ".tmp");
            Files.writeString(tmp, verdict + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        NodeJournal.JobRow row = service.journal().job(id).orElseThrow();
        if (row.state().equals("queued") || row.state().equals("submitted")) service.cancelSlice(id, by);
        service.journal().note(service.nowS(), "SlurmReleased", id, note);
    }

    /** Slurm's job states of a job that has ended (squeue(1) "JOB STATE CODES"). */
    private static final java.util.Set<String> ENDED = java.util.Set.of("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT",
            "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT");
    private static final Pattern STATE = Pattern.compile("\\bJobState=(\\S+)");
    private static final Pattern RESTARTS = Pattern.compile("\\bRestarts=(\\d+)");

    /**
     * Releases the slices whose Epilog will not come: Slurm no longer knows the job, has restarted it,
     * or shows it ended (and no longer completing) at two checks in a row. A check that cannot ask
     * Slurm changes nothing. Each slice is left alone for its first period.
     */
    void reconcile() {
        try {
            Map<String, Holder> open;
            synchronized (this) {
                open = new LinkedHashMap<>(holders);
            }
            long now = System.currentTimeMillis();
            long periodMs = Math.round(settings.reconcileS() * 1000);
            for (var e : open.entrySet()) {
                Holder h = e.getValue();
                if (now - h.sinceMs < periodMs) continue;
                String key = e.getKey();
                String job = key.substring(0, key.lastIndexOf('-'));
                int restart = Integer.parseInt(key.substring(key.lastIndexOf('-') + 1));
                List<String> lines = new ArrayList<>();
                Optional<String> err = run(slurmConf, lines, "scontrol", "show", "job", job);
                String why = null;
                if (err.isPresent()) {
                    if (err.get().contains("Invalid job id")) why = "Slurm no longer knows job " + job;
                } else {
                    String show = String.join("\n", lines);
                    java.util.regex.Matcher state = STATE.matcher(show);
                    java.util.regex.Matcher restarts = RESTARTS.matcher(show);
                    if (restarts.find() && Integer.parseInt(restarts.group(1)) > restart) {
                        why = "Slurm restarted job " + job + " (restart " + restarts.group(1) + ")";
                    } else if (state.find() && ENDED.contains(state.group(1)) && !show.contains("COMPLETING")) {
                        if (h.endSeenMs == 0) {
                            h.endSeenMs = now;
                        } else {
                            why = "Slurm job " + job + " ended " + state.group(1) + " and its Epilog did not release"
                                    + " the slice";
                        }
                    } else {
                        h.endSeenMs = 0;
                    }
                }
                if (why != null) {
                    synchronized (this) {
                        if (holders.get(key) == h) letGo(key, h, "0", why + "; its slice is released", "migm");
                    }
                }
            }
        } catch (RuntimeException e) {
            // the journal closing with the service, or a bug: the next check tries again
            System.err.println("migm daemon: checking Slurm's jobs failed: " + e);
        }
    }

    /**
     * The next larger instance's memory after an OOM on the attempt's instance: the engine's rule
     * ({@code EstimatorChain.afterOom}: at least one MiB more than the slice), in the tightest instance
     * any GPU of the node offers; empty on the largest.
     */
    private Optional<Long> nextLargerMib(NodeJournal.AttemptRow a) {
        if (a.gpu() < 0 || a.gpu() >= service.gpus().size() || a.instance() == null) return Optional.empty();
        String profile = a.instance().substring(0, a.instance().indexOf('@') < 0 ? a.instance().length()
                : a.instance().indexOf('@'));
        long slot;
        try {
            slot = service.gpus().get(a.gpu()).profile(profile).memoryMib();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        return service.gpus().stream().flatMap(m -> m.plainProfiles().stream()).mapToLong(Profile::memoryMib)
                .filter(m -> m > slot).min().stream().boxed().findFirst();
    }

    /** {@code scontrol requeue}, then the larger {@code gpumem}, then eligible at once (not after Slurm's 120 s). */
    private void requeue(String id, String job, String gres, Optional<String> slurmConf) {
        long until = System.currentTimeMillis() + REQUEUE_RETRY_MS;
        String last = "";
        boolean requeued = false;
        // The Epilog that asked for this waits for its answer and then exits; Slurm gives no signal that
        // it did, and may show the job ended before (a CI run requeued it that early, and Slurm started
        // it again without its Prolog). So not before EPILOG_EXIT_MS after the answer.
        try {
            Thread.sleep(EPILOG_EXIT_MS);
        } catch (InterruptedException e) {
            return;
        }
        while (System.currentTimeMillis() < until) {
            // Not while the job completes (its Epilog, which asked for this, still runs): Slurm accepts
            // that requeue but then starts the job again without its Prolog, so without a slice.
            if (!hasEnded(slurmConf, job)) {
                last = "job " + job + " still completing";
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            Optional<String> err = scontrol(slurmConf, "requeue", job);
            if (err.isEmpty()) {
                requeued = true;
                break;
            }
            last = err.get();
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
        }
        String text;
        if (!requeued) {
            text = "Slurm job " + job + " could not be requeued: " + last;
        } else {
            Optional<String> err = scontrol(slurmConf, "update", "jobid=" + job, "Gres=" + gres);
            // Slurm sets a requeued job's begin time (120 s on) when its completion ends: only then
            // does StartTime=now hold.
            long pendingBy = System.currentTimeMillis() + REQUEUE_RETRY_MS;
            while (err.isEmpty() && !isPending(slurmConf, job) && System.currentTimeMillis() < pendingBy) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (err.isEmpty()) err = scontrol(slurmConf, "update", "jobid=" + job, "StartTime=now");
            text = err.map(e -> "Slurm job " + job + " requeued, but: " + e)
                    .orElse("Slurm job " + job + " requeued with " + gres + " after running out of GPU memory");
        }
        try {
            service.journal().note(service.nowS(), "SlurmRequeue", id, text);
        } catch (RuntimeException e) {
            // the service is closing
        }
    }

    /** Whether Slurm shows the job ended, its completion (Epilog) over. */
    private static boolean hasEnded(Optional<String> slurmConf, String job) {
        List<String> out = new ArrayList<>();
        Optional<String> err = run(slurmConf, out, "squeue", "-h", "-t", "all", "-j", job, "-o", "%T");
        return err.isEmpty() && out.size() == 1 && ENDED.contains(out.getFirst().strip());
    }

    /** Whether Slurm shows the job pending and no longer completing. */
    private static boolean isPending(Optional<String> slurmConf, String job) {
        List<String> out = new ArrayList<>();
        Optional<String> err = run(slurmConf, out, "squeue", "-h", "-j", job, "-o", "%T");
        return err.isEmpty() && out.size() == 1 && out.getFirst().strip().equals("PENDING");
    }

    /** Runs {@code scontrol ARGS}; the error it printed, or empty on success. */
    private static Optional<String> scontrol(Optional<String> slurmConf, String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "scontrol";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return run(slurmConf, new ArrayList<>(), cmd);
    }

    /** Runs a Slurm command, its output's lines into {@code lines}; the error it printed, or empty on success. */
    private static Optional<String> run(Optional<String> slurmConf, List<String> lines, String... command) {
        List<String> cmd = List.of(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        slurmConf.ifPresent(c -> pb.environment().put("SLURM_CONF", c));
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            out.lines().forEach(lines::add);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.of(String.join(" ", cmd) + " did not answer in 30 s");
            }
            return p.exitValue() == 0 ? Optional.empty() : Optional.of(String.join(" ", cmd) + ": "
                    + (out.isEmpty() ? "exit status " + p.exitValue() : out.lines().findFirst().orElse("")));
        } catch (IOException e) {
            return Optional.of("cannot run " + command[0] + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        }
    }

    /** {@code CODE:SIGNAL} as a shell's exit status (128 plus the signal). */
    static int exitStatus(String exit) {
        String[] f = exit.split(":", -1);
        try {
            int code = Integer.parseInt(f[0]);
            int signal = f.length > 1 && !f[1].isEmpty() ? Integer.parseInt(f[1]) : 0;
            if (code < 0 || code > 255 || signal < 0 || signal > 64) throw new NumberFormatException();
            return signal > 0 ? 128 + signal : code;
        } catch (NumberFormatException e) {
            throw new InvalidInputException("exit: expected CODE:SIGNAL as SLURM_JOB_EXIT_CODE2 gives it, got "
                    + TextFiles.quote(exit));
        }
    }

    /**
     * The holder's job file. Its process waits for its release file and exits with the verdict in it:
     * the Slurm job's exit status, or 1 with the OOM's evidence on stderr.
     */
    private String holderFile(String key, String job, long mib) {
        String script = "f=\"$1/$MIGM_JOB_ID\"; while [ ! -e \"$f\" ]; do sleep " + HOLDER_POLL_S + "; done; v=$(cat \"$f\");"
                + " case \"$v\" in oom\\ *) printf '%s\\n' \"${v#oom }\" >&2; exit 1;; esac; exit \"$v\"";
        String command = "[" + String.join(", ", List.of("sh", "-c", script, "migm-slice", releaseDir().toString())
                .stream().map(SlurmSlices::yamlQuoted).toList()) + "]";
        return String.format(Locale.ROOT, """
                version: v1
                jobs:
                  - name: slurm-%s
                    app: slurm-%s
                    memory: %dMiB
                    memory_exact: true
                    max_attempts: 1
                    command: %s
                """, key, job, mib, command);
    }

    /** A YAML double-quoted scalar. */
    private static String yamlQuoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private void makeCheckpointDir(String job, RunAs user) {
        Path dir = checkpointDir(job);
        try {
            Files.createDirectories(dir.getParent());
            Files.setPosixFilePermissions(dir.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
            if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(dir);
            if (RunAs.processIsRoot()) {
                user.own(dir, "rwx------");
            } else {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make " + dir + ": " + e.getMessage(), e);
        }
    }

    private void checkAdmin(String caller) {
        if (!service.isAdmin(caller)) {
            throw new NodeService.Refused(403, "only an admin (root, the daemon's user or its admin group) may ask for"
                    + " or release a Slurm job's slice; Slurm's Prolog and Epilog run as root");
        }
    }

    private static void validate(String job, int restart) {
        if (job == null || !JOB_ID.matcher(job).matches()) {
            throw new InvalidInputException("job: expected a Slurm job id, got " + TextFiles.quote(String.valueOf(job)));
        }
        if (restart < 0) throw new InvalidInputException("restart: expected a restart count >= 0, got " + restart);
    }

    @Override
    public void close() {
        reconciler.shutdownNow();
        requeuer.shutdownNow();
    }

    private static final java.util.regex.Pattern HOLDER_NAME = java.util.regex.Pattern.compile("slurm-(\\d+)-\\d+");

    /** The Slurm job a holder's name ({@code slurm-JOB-RESTART}) stands for; empty for any other job. */
    public static java.util.Optional<String> slurmJobOf(String jobName) {
        java.util.regex.Matcher m = HOLDER_NAME.matcher(jobName == null ? "" : jobName);
        return m.matches() ? java.util.Optional.of(m.group(1)) : java.util.Optional.empty();
    }
}
