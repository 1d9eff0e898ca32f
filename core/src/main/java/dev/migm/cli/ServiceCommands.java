package dev.migm.cli;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.service.ApiClient;
import dev.migm.service.ApiServer;
import dev.migm.service.HttpView;
import dev.migm.service.NodeService;
import dev.migm.spec.DaemonConfig;
import dev.migm.spec.ListenAddress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The node service's verbs: {@code migm daemon} serves a home; {@code submit}, {@code queue},
 * {@code show}, {@code cancel}, {@code logs}, {@code history}, {@code drain} and {@code resume} talk
 * to it over its socket. Exit statuses: 0 done; 1 the daemon refused (no such job, not yours, already
 * ended) or cannot be reached; 2 bad input (the daemon's one line names the file, line and field).
 */
final class ServiceCommands {
    private ServiceCommands() {
    }

    /**
     * Where the daemon's socket is: {@code --socket}, else {@code $MIGM_SOCKET}, else {@code HOME/migm.sock}
     * when a home is named ({@code --home}, {@code $MIGM_HOME}), else the node's daemon as the package
     * installs it ({@link #NODE_SOCKET}) when it runs, else the user's own home's.
     */
    static final class Where {
        /** The socket of the daemon the Debian package's unit runs ({@code /etc/migm/migm.yaml}). */
        static final Path NODE_SOCKET = Path.of("/run/migm/migm.sock");

        @Option(names = "--home", description = "migm's home (default: $MIGM_HOME, else $XDG_STATE_HOME/migm, i.e."
                + " ~/.local/state/migm); the socket is HOME/migm.sock")
        Path home;

        @Option(names = "--socket", description = "the daemon's socket (default: $MIGM_SOCKET, else HOME/migm.sock if a"
                + " home is named, else the node's daemon at /run/migm/migm.sock if it runs, else HOME/migm.sock)")
        Path socket;

        Path socket() {
            if (socket != null) return socket;
            String env = System.getenv("MIGM_SOCKET");
            if (env != null && !env.isBlank()) return Path.of(env);
            String homeEnv = System.getenv("MIGM_HOME");
            if (home == null && (homeEnv == null || homeEnv.isBlank()) && java.nio.file.Files.exists(NODE_SOCKET)) {
                return NODE_SOCKET;
            }
            return RunCommand.home(home).resolve("migm.sock");
        }
    }

    /** {@code --user} and {@code --since}, as queue and history take them. */
    static final class Filters {
        @Option(names = "--user", description = "only jobs this user submitted")
        String user;

        @Option(names = "--since", paramLabel = "TIME", description = "only jobs submitted or ended at or after TIME:"
                + " an age (90s, 30m, 2h, 7d) or a local date or time (2026-12-07, 2026-12-07T09:30)")
        String since;

        OptionalDouble sinceS() {
            return since == null ? OptionalDouble.empty()
                    : OptionalDouble.of(sinceEpochS(since, java.time.Instant.now(), java.time.ZoneId.systemDefault()));
        }

        List<String> query() {
            List<String> q = new ArrayList<>();
            if (user != null) q.add("user=" + encode(user));
            sinceS().ifPresent(t -> q.add("since=" + t));
            return q;
        }

        /** The same filter as the daemon builds from {@link #query}, for a journal read directly. */
        dev.migm.service.JobFilter jobFilter() {
            return new dev.migm.service.JobFilter(Optional.ofNullable(user).filter(u -> !u.isBlank()),
                    java.util.Set.of(), sinceS());
        }

        /** {@code path} with the query's parameters, if any. */
        static String withQuery(String path, List<String> query) {
            return query.isEmpty() ? path : path + "?" + String.join("&", query);
        }

        static String encode(String s) {
            return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static final java.util.regex.Pattern AGE = java.util.regex.Pattern.compile("(\\d{1,9})([smhd])");

    /**
     * {@code --since}: an age before {@code now} ({@code 90s}, {@code 30m}, {@code 2h}, {@code 7d}), a
     * date (its midnight) or a date and time in {@code zone}, or an instant with its offset; in
     * seconds since the Unix epoch (the journal's clock).
     */
    static double sinceEpochS(String text, java.time.Instant now, java.time.ZoneId zone) {
        String t = text.strip();
        java.util.regex.Matcher age = AGE.matcher(t);
        if (age.matches()) {
            long n = Long.parseLong(age.group(1));
            long seconds = switch (age.group(2)) {
                case "s" -> n;
                case "m" -> n * 60;
                case "h" -> n * 3600;
                default -> n * 86_400;
            };
            return now.getEpochSecond() + now.getNano() / 1e9 - seconds;
        }
        try {
            return dateOrTime(t.replace(' ', 'T'), zone).toEpochMilli() / 1000.0;
        } catch (java.time.format.DateTimeParseException e) {
            throw new InvalidInputException("--since: expected an age (90s, 30m, 2h, 7d) or a date or time"
                    + " (2026-12-07, 2026-12-07T09:30), got " + TextFiles.quote(t));
        }
    }

    /** What every client verb shares. */
    abstract static class Client implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Where where = new Where();

        @Option(names = "--json", description = "the daemon's JSON document (schema migm.VERB/v1)")
        boolean json;

        /** The streams when picocli did not build this verb ({@link DirectClientVerbs}); else the command line's. */
        PrintWriter directOut;
        PrintWriter directErr;

        PrintWriter out() {
            return directOut != null ? directOut : spec.commandLine().getOut();
        }

        PrintWriter err() {
            return directErr != null ? directErr : spec.commandLine().getErr();
        }

        abstract int talk(ApiClient api);

        @Override
        public Integer call() {
            try (ApiClient api = new ApiClient(where.socket())) {
                return talk(api);
            } catch (ApiClient.Unreachable e) {
                err().println("migm: " + e.getMessage());
                return Main.FOUND_A_PROBLEM;
            }
        }

        /** Prints the answer's error and returns the exit status for it; 0 if it is fine. */
        int failed(ApiClient.Answer a) {
            if (a.ok()) return Main.OK;
            err().println("migm: " + a.error());
            return a.status() == 400 ? Main.BAD_INPUT : Main.FOUND_A_PROBLEM;
        }

        int printJsonOr(ApiClient.Answer a, Runnable table) {
            int rc = failed(a);
            if (rc != Main.OK) return rc;
            if (json) {
                out().println(Json.write(a.body()));
            } else {
                table.run();
            }
            return Main.OK;
        }
    }

    @Command(name = "daemon", mixinStandardHelpOptions = true, description = "Run the node service in the foreground:"
            + " a durable queue (SQLite journal under the home) and the engine, serving the API on a Unix socket."
            + " Jobs run under supervisors that outlive it; a restarted daemon re-attaches to them.",
            footerHeading = "%nExamples:%n", footer = {"  migm daemon --gpu A100-40GB:2 --time-scale 20",
            "  MIGM_HOME=/tmp/node1 migm daemon &   then   MIGM_HOME=/tmp/node1 migm submit examples/batch-demo.yaml",
            "  migm daemon --config /etc/migm/migm.yaml      (packaging/migm.service runs this)"})
    static final class Daemon implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--config", description = "a daemon config file (version: v1; see packaging/migm.yaml)")
        Path config;

        @Option(names = "--home", description = "migm's home: journal, job directories, emulated GPU state (default:"
                + " the config's, else $MIGM_HOME, else ./.migm)")
        Path home;

        @Option(names = "--socket", description = "the API's socket (default: the config's, else HOME/migm.sock)")
        Path socket;

        @Option(names = "--socket-group", description = "a group whose members may use the socket besides its owner")
        String socketGroup;

        @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, description = "emulated GPU model, or a mix like A100-40GB:2 (default A100-40GB)")
        String gpu;

        @Option(names = "--gpus", defaultValue = "1", description = "number of GPUs of --gpu (default ${DEFAULT-VALUE})")
        int gpuCount;

        @Option(names = "--backend", description = "emulated, nvml or auto, as for migm run (default emulated)")
        String backend;

        @Option(names = "--policy", completionCandidates = Candidates.Policies.class, description = "scheduling policy (default migm)")
        String policy;

        @Option(names = "--time-scale", description = "modelled seconds per second on the emulated GPU (default 1)")
        Double timeScale;

        @Option(names = "--nvml-library", description = "the NVML library (default " + dev.migm.nvml.Nvml.DEFAULT_LIBRARY + ")")
        String nvmlLibrary;

        @Option(names = "--allow-mig-mode-change", description = "let migm turn MIG off and on on idle GPUs of this"
                + " node (NVML; Hopper and newer; root); also allow_mig_mode_change in the config file")
        boolean allowMigModeChange;

        @Option(names = "--http-listen", paramLabel = "HOST:PORT|off", description = "the read-only HTTP view"
                + " (/metrics), on loopback only (default: the config's http_listen, else "
                + "127.0.0.1:9410; port 0 takes any free port)")
        String httpListen;

        @Option(names = "--admin-group", description = "a group whose members may cancel any job, read any job's logs"
                + " and drain GPUs (root and the daemon's user always may; also admin_group in the config)")
        String adminGroup;

        @Option(names = "--allow-root-jobs", description = "run jobs that root submits as root (a daemon run as root"
                + " otherwise runs each job as its submitter and refuses root's; also allow_root_jobs in the config)")
        boolean allowRootJobs;

        @Option(names = "--slurm-requeue-oom", description = "requeue a Slurm job that ran out of GPU memory with a"
                + " larger gpumem (docs/slurm.md; also slurm_requeue_oom in the config)")
        boolean slurmRequeueOom;

        @Option(names = "--slurm-reconcile-s", description = "how often open Slurm slices are checked against Slurm, in"
                + " seconds (default 30; also slurm_reconcile_s in the config)")
        Double slurmReconcileS;

        @Mixin
        ExecutorOptions executorOptions = new ExecutorOptions();

        @Option(names = "--emulated-faults", description = "faults the emulated GPU injects (for testing recovery):"
                + " chaos:SEED[:RATE] (every fault at random), or once each, in order: stuck:GPU:SECONDS,"
                + " fail-create:GPU[:ERROR], fail-destroy:GPU[:ERROR], lose-gpu:GPU[:SECONDS]; each injected fault is"
                + " a line of HOME/faults.log")
        String emulatedFaults;

        @Override
        public Integer call() throws Exception {
            DaemonConfig cfg = config == null ? DaemonConfig.DEFAULTS : DaemonConfig.read(config);
            Optional<ListenAddress> listen = httpListen != null ? ListenAddress.parse(httpListen, "--http-listen")
                    : cfg.httpListen().orElse(Optional.of(ListenAddress.DEFAULT));
            if (slurmReconcileS != null && !(slurmReconcileS > 0 && slurmReconcileS <= 86_400)) {
                throw new InvalidInputException("--slurm-reconcile-s: expected seconds in (0, 86400], got " + slurmReconcileS);
            }
            double sampleS = executorOptions.sampleS();
            double graceS = executorOptions.graceS();
            Path base = home != null ? home : cfg.home().orElse(RunCommand.home(null)).toAbsolutePath();
            base = base.toAbsolutePath();
            Path sock = (socket != null ? socket : cfg.socket().orElse(base.resolve("migm.sock"))).toAbsolutePath();
            PrintWriter out = spec.commandLine().getOut();
            // Everything the daemon will need later is checked before it takes anything over.
            String group = socketGroup != null ? socketGroup : cfg.socketGroup().orElse(null);
            if (group != null) RunCommand.requireGroup(group, socketGroup != null ? "--socket-group" : "socket_group");
            Optional<String> admins = adminGroup != null ? Optional.of(adminGroup) : cfg.adminGroup();
            if (admins.isPresent()) RunCommand.requireGroup(admins.get(), adminGroup != null ? "--admin-group" : "admin_group");
            if (socket != null || cfg.socket().isPresent()) {
                Path dir = sock.getParent();
                if (!Files.isDirectory(dir)) {
                    throw new InvalidInputException((socket != null ? "--socket" : "socket") + ": " + dir + " is not a"
                            + " directory (create it with the permissions the socket's users need; systemd's"
                            + " RuntimeDirectory does)");
                }
            }
            RunCommand.prepareHome(base, home != null ? "--home" : "home");
            // One daemon per home: the lock is held for the daemon's life and released by the kernel when
            // it dies, however it dies; a socket left behind by a killed daemon is then stale.
            FileChannel lockFile = FileChannel.open(base.resolve("daemon.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.READ);
            FileLock lock = lockFile.tryLock();
            if (lock == null) {
                String pid = Files.readString(base.resolve("daemon.lock")).strip();
                lockFile.close();
                throw new InvalidInputException("another migm daemon serves " + base + (pid.isEmpty() ? "" : " (pid " + pid + ")"));
            }
            lockFile.truncate(0);
            lockFile.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            Files.deleteIfExists(sock);
            double scale = timeScale != null ? timeScale : cfg.timeScale().orElse(1);
            String gpuText = gpu != null ? gpu : cfg.gpu().orElse("A100-40GB");
            LiveBackends.Opened opened = LiveBackends.open(backend != null ? backend : cfg.backend().orElse("emulated"),
                    gpuText, gpuCount, base, scale, nvmlLibrary != null ? nvmlLibrary : cfg.nvmlLibrary()
                            .orElse(dev.migm.nvml.Nvml.DEFAULT_LIBRARY), out::println, spec.commandLine().getErr(),
                    emulatedFaults == null ? dev.migm.emu.FaultInjector.NONE
                            : dev.migm.emu.FaultInjector.parse(emulatedFaults, base.resolve("faults.log")),
                    allowMigModeChange || cfg.allowMigModeChange());
            NodeService service;
            try {
                service = NodeService.start(new NodeService.Settings(base, opened.backend(), opened.emulated()
                        ? dev.migm.exec.Launches.helperCommand(Main.class.getName()) : List.of(),
                        policy != null ? policy : cfg.policy().orElse("migm"), scale,
                        sampleS, graceS, NodeService.Access.forDaemon(allowRootJobs || cfg.allowRootJobs(), admins),
                        new dev.migm.service.SlurmSlices.Settings(slurmRequeueOom || cfg.slurmRequeueOom(),
                                slurmReconcileS != null ? slurmReconcileS : cfg.slurmReconcileS().orElse(
                                        dev.migm.service.SlurmSlices.Settings.DEFAULTS.reconcileS()))));
            } catch (RuntimeException e) {
                opened.close();
                throw e;
            }
            service.recoveryReport().forEach(line -> out.println("recovery: " + line));
            ApiServer api;
            try {
                api = ApiServer.start(service, sock, group);
            } catch (IOException e) {
                service.close();
                opened.close();
                throw new InvalidInputException(sock + ": cannot serve the API: " + (e.getMessage() == null
                        ? e.getClass().getSimpleName() : e.getMessage()));
            }
            // The HTTP view is a window, not the service: a port someone else holds costs the metrics,
            // not the node's jobs.
            HttpView http = null;
            if (listen.isPresent()) {
                try {
                    http = HttpView.start(service, listen.get());
                    service.httpListening(http.address().toString());
                } catch (Exception e) {
                    spec.commandLine().getErr().println("migm daemon: the HTTP view on " + listen.get()
                            + " did not start (" + e.getMessage() + "); no /metrics until the next start");
                }
            }
            HttpView httpView = http;
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (httpView != null) httpView.close();
                api.close();
                service.close();
                opened.close();
                out.println("migm daemon stopped; jobs still running go on under their supervisors");
                out.flush();
                stopped.countDown();
            }));
            out.printf(Locale.ROOT, "migm daemon ready: pid %d, home %s, socket %s, http %s, %d GPU(s) (%s), policy %s;"
                            + " %d jobs in the journal%n",
                    ProcessHandle.current().pid(), base, sock, service.httpAddress().orElse("off"), service.gpus().size(),
                    opened.emulated() ? "emulated " + gpuText : "NVML", policy != null ? policy : cfg.policy().orElse("migm"),
                    service.journal().countsByState().values().stream().mapToInt(Integer::intValue).sum());
            out.flush();
            stopped.await();
            lock.release();
            return Main.OK;
        }
    }

    @Command(name = "submit", mixinStandardHelpOptions = true, description = "Submit a job or batch file (version: v1)"
            + " to the daemon; prints the new job ids. Nothing of the file is accepted when any job in it is invalid.",
            footerHeading = "%nExamples:%n", footer = {"  migm submit examples/batch-demo.yaml", "  migm submit job.yaml --json"})
    static final class Submit extends Client {
        @Parameters(paramLabel = "FILE", description = "a job file (version: v1)")
        Path file;

        @Override
        int talk(ApiClient api) {
            String text = TextFiles.read(file, dev.migm.spec.BatchFile.MAX_BYTES);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("source", file.toString());
            body.put("cwd", Path.of("").toAbsolutePath().toString());
            body.put("text", text);
            ApiClient.Answer a = api.post("/v1/jobs", body);
            return printJsonOr(a, () -> out().println(String.join(" ", strings(a.body().get("ids")))));
        }
    }

    @Command(name = "queue", mixinStandardHelpOptions = true, description = "The daemon's jobs that have not ended (with"
            + " --all also those that have): id, name, user, state, where it runs, the memory estimate and its source,"
            + " and why it waits.", footerHeading = "%nExamples:%n", footer = {"  migm queue", "  migm queue --all --json",
            "  migm queue --state failed,cancelled --since 2h", "  migm queue --user alice --state running,queued"})
    static final class Queue extends Client {
        @Option(names = "--all", description = "include jobs that ended")
        boolean all;

        @Mixin
        Filters filters = new Filters();

        @Option(names = "--state", completionCandidates = Candidates.States.class, split = ",", paramLabel = "STATE", description = "only jobs in these states (submitted,"
                + " queued, placing, starting, running, done, failed, cancelled; an ended one named brings ended jobs in"
                + " without --all)")
        List<String> states;

        @Override
        int talk(ApiClient api) {
            List<String> query = new ArrayList<>(filters.query());
            if (all) query.addFirst("all=true");
            if (states != null && !states.isEmpty()) query.add("state=" + Filters.encode(String.join(",", states)));
            ApiClient.Answer a = api.get(Filters.withQuery("/v1/jobs", query));
            return printJsonOr(a, () -> {
                List<List<String>> rows = new ArrayList<>();
                rows.add(List.of("ID", "NAME", "USER", "STATE", "TRIES", "SLOT", "ESTIMATE", "SOURCE", "WHY"));
                for (Map<?, ?> j : maps(a.body().get("jobs"))) {
                    rows.add(List.of(str(j.get("id")), str(j.get("name")), str(j.get("user")), str(j.get("state")),
                            str(j.get("attempts")), str(j.get("slot")), mib(j.get("estimate_mib")),
                            str(j.get("estimate_source")), why(j)));
                }
                table(out(), rows);
            });
        }

        private static String why(Map<?, ?> j) {
            Object w = j.get("waiting_because");
            String s = w != null ? w.toString() : "queued".equals(j.get("state")) ? "" : str(j.get("reason"));
            return s.length() > 80 ? s.substring(0, 77) + "..." : s;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One job: its state, each attempt (instance,"
            + " device, times, exit classification, memory peak), why it waits, and its recent events.",
            footerHeading = "%nExamples:%n", footer = {"  migm show 12", "  migm show 12 --json"})
    static final class Show extends Client {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        int talk(ApiClient api) {
            ApiClient.Answer a = api.get("/v1/jobs/" + jobId(id));
            return printJsonOr(a, () -> {
                Map<?, ?> j = (Map<?, ?>) a.body().get("job");
                PrintWriter o = out();
                o.printf("job %s (%s) of %s: %s, %s attempt(s)%n", j.get("id"), j.get("name"), j.get("user"),
                        j.get("state"), j.get("attempts"));
                o.printf("  estimate %s (%s)%s%n", mib(j.get("estimate_mib")), str(j.get("estimate_source")),
                        str(j.get("reason")).isEmpty() ? "" : "; " + j.get("reason"));
                if (j.get("waiting_because") instanceof Map<?, ?> w) o.println("  waits: " + w.get("message"));
                o.println("  directory " + j.get("directory"));
                List<List<String>> rows = new ArrayList<>();
                rows.add(List.of("ATTEMPT", "SLOT", "DEVICE", "LAUNCHED", "ENDED", "OUTCOME", "PEAK", "ENERGY", "DETAIL"));
                for (Map<?, ?> t : maps(j.get("attempts_detail"))) {
                    rows.add(List.of(str(t.get("number")), "gpu" + t.get("gpu") + ":" + (t.get("instance") == null ? "whole"
                                    : t.get("instance")), str(t.get("device")), time(t.get("launched_at")),
                            time(t.get("ended_at")), t.get("ended_at") == null ? "running" : str(t.get("outcome")),
                            mib(t.get("peak_mib")), t.get("energy_j") instanceof Number n ? String.format(Locale.ROOT,
                                    "%.0f J", n.doubleValue()) : "", clip(str(t.get("detail")), 70)));
                }
                if (rows.size() > 1) {
                    table(o, rows);
                    o.println("  energy: board energy by compute-slice-seconds held (model " + NodeService.ENERGY_MODEL + ")");
                }
                List<?> events = j.get("events") instanceof List<?> l ? l : List.of();
                if (!events.isEmpty()) {
                    int from = Math.max(0, events.size() - SHOWN_EVENTS);
                    o.println("events" + (from > 0 ? " (the last " + SHOWN_EVENTS + " of " + events.size() + "; all with --json)" : "")
                            + ":");
                    for (Object e : events.subList(from, events.size())) o.println("  " + event(String.valueOf(e)));
                }
            });
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel jobs: a waiting one ends at once, a"
            + " running one is stopped (SIGTERM, SIGKILL after 10 s). Only the submitter or root may.",
            footerHeading = "%nExamples:%n", footer = {"  migm cancel 12 13"})
    static final class Cancel extends Client {
        @Parameters(paramLabel = "ID", arity = "1..*")
        List<String> ids;

        @Override
        int talk(ApiClient api) {
            int rc = Main.OK;
            List<Object> answers = new ArrayList<>();
            for (String id : ids) {
                ApiClient.Answer a = api.post("/v1/jobs/" + jobId(id) + "/cancel", null);
                int r = failed(a);
                if (r != Main.OK) {
                    rc = Math.max(rc, r);
                    continue;
                }
                answers.add(a.body());
                if (!json) out().println(id + ": " + a.body().get("result"));
            }
            if (json) {
                Map<String, Object> doc = Json.doc("cancel");
                doc.put("jobs", answers);
                out().println(Json.write(doc));
            }
            return rc;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "A job's output: the last attempt's stdout"
            + " (or --attempt N, --err); --follow waits for more until the job ends, following new attempts.",
            footerHeading = "%nExamples:%n", footer = {"  migm logs 12", "  migm logs 12 --attempt 1 --err", "  migm logs 12 --follow"})
    static final class Logs extends Client {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--attempt", description = "which attempt (default: the latest)")
        Integer attempt;

        @Option(names = "--err", description = "stderr instead of stdout")
        boolean err;

        @Option(names = {"-f", "--follow"}, description = "keep printing until the job ends")
        boolean follow;

        @Override
        int talk(ApiClient api) {
            int current = attempt == null ? 0 : attempt;
            long offset = 0;
            while (true) {
                ApiClient.Answer a = api.get("/v1/jobs/" + jobId(id) + "/logs?stream=" + (err ? "err" : "out")
                        + (current > 0 ? "&attempt=" + current : "") + "&offset=" + offset);
                int rc = failed(a);
                if (rc != Main.OK) return rc;
                Map<String, Object> b = a.body();
                if (current == 0) current = ((Number) b.get("attempt")).intValue();
                if (json) {
                    out().println(Json.write(b));
                } else {
                    out().print(str(b.get("data")));
                }
                out().flush();
                long next = ((Number) b.get("next_offset")).longValue();
                boolean more = next > offset;
                offset = next;
                if (!follow || more) {
                    if (!follow) return Main.OK;
                    continue;
                }
                int latest = ((Number) b.get("latest_attempt")).intValue();
                if (Boolean.TRUE.equals(b.get("attempt_ended")) && attempt == null && latest > current) {
                    current = latest;
                    offset = 0;
                    err().println("--- attempt " + current + " ---");
                    continue;
                }
                if (Boolean.TRUE.equals(b.get("job_ended")) && Boolean.TRUE.equals(b.get("attempt_ended"))) return Main.OK;
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Main.OK;
                }
            }
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "What the estimator learned about an"
            + " application: each completed attempt's peak, time and instance, each OOM and early-restart projection,"
            + " and the run-time estimate its runs give its next job.",
            footerHeading = "%nExamples:%n", footer = {"  migm history train-resnet", "  migm history \"train.py --model tiny\" --since 7d --user alice"})
    static final class History extends Client {
        @Parameters(paramLabel = "APP")
        String app;

        @Mixin
        Filters filters = new Filters();

        /**
         * The daemon's answer; with no daemon serving the home, its journal read directly (what
         * {@code migm run} learned is there too).
         */
        @Override
        public Integer call() {
            // An application is what a job file named, or its script with its model arguments
            // ("train.py --model resnet50"): spaces allowed, carried percent-encoded in the API's path.
            if (!app.matches("[^/\\p{Cntrl}]{1,200}")) {
                throw new InvalidInputException("APP: expected an application name (at most 200 characters, no '/')");
            }
            Path journal = RunCommand.home(where.home).resolve("journal.db");
            if (where.socket == null && System.getenv("MIGM_SOCKET") == null && !Files.exists(where.socket())
                    && Files.isRegularFile(journal)) {
                try (dev.migm.store.NodeJournal j = dev.migm.store.NodeJournal.open(journal)) {
                    return show(new ApiClient.Answer(200, dev.migm.service.ApiServer.history(j, List.of(), app,
                            filters.jobFilter())));
                }
            }
            return super.call();
        }

        @Override
        int talk(ApiClient api) {
            return show(api.get(Filters.withQuery("/v1/history/" + java.net.URLEncoder.encode(app,
                    java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"), filters.query())));
        }

        private int show(ApiClient.Answer a) {
            return printJsonOr(a, () -> {
                List<List<String>> rows = new ArrayList<>();
                rows.add(List.of("JOB", "ATTEMPT", "WHAT", "MEMORY", "INSTANCE MEMORY", "CLASS", "RAN", "ON"));
                for (Map<?, ?> o : maps(a.body().get("observations"))) {
                    rows.add(List.of(str(o.get("job")), str(o.get("attempt")), str(o.get("what")), mib(o.get("mib")),
                            mib(o.get("slot_mib")), str(o.get("class")),
                            o.get("run_s") instanceof Number n ? Math.round(n.doubleValue()) + " s" : "-",
                            o.get("instance") == null ? "-" : str(o.get("instance"))));
                }
                if (rows.size() == 1) {
                    out().println("nothing learned about " + app + " yet");
                } else {
                    table(out(), rows);
                }
                if (a.body().get("run_time") instanceof Map<?, ?> t && t.get("whole_gpu_s") instanceof Number d
                        && t.get("log_spread") instanceof Number spread && t.get("c") instanceof Number c
                        && t.get("sat") instanceof Number sat) {
                    out().println(String.format(java.util.Locale.ROOT, "run time: %s s alone on a whole GPU (median;"
                            + " log spread %.2f: 90%% of runs within %.1fx of it either way), scaling c=%.2f sat=%.2f (%s),"
                            + " from %s", Math.round(d.doubleValue()), spread.doubleValue(),
                            Math.exp(1.645 * spread.doubleValue()), c.doubleValue(), sat.doubleValue(),
                            Boolean.TRUE.equals(t.get("scaling_measured")) ? "measured" : "class prior", str(t.get("source"))));
                }
            });
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true, description = "What-if replay: the daemon's completed jobs"
            + " (real arrivals, observed run times on their instances, observed peaks) as a migm-trace v1 trace,"
            + " simulated under other policies or GPU counts (the simulate table; --export keeps the trace).",
            footerHeading = "%nExamples:%n", footer = {"  migm replay --policies serial,s1,migm",
            "  migm replay --last 7d --gpus 4 --policies migm --export week.csv",
            "  migm replay --policies migm --json      (compare with what happened: real_makespan_s)"})
    static final class Replay extends Client {
        @Option(names = "--since", paramLabel = "DATE", description = "jobs submitted at or after DATE (2026-11-25,"
                + " 2026-11-25T08:00, local time, or an offset like 2026-11-25T08:00Z) or SECONDS on the journal's clock"
                + " (Unix time on a daemon at time scale 1)")
        String since;

        @Option(names = "--last", paramLabel = "DURATION", description = "jobs submitted in the last DURATION (30m, 12h, 7d)")
        String last;

        @Option(names = "--policies", completionCandidates = Candidates.Policies.class, defaultValue = "migm", description = "policies to simulate (default ${DEFAULT-VALUE})")
        String policies;

        @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, description = "GPU model (default: the node's)")
        String gpu;

        @Option(names = "--gpus", description = "number of GPUs (default: the node's)")
        Integer gpus;

        @Option(names = "--estimate", completionCandidates = Candidates.Estimates.class, defaultValue = "default", description = "estimates in the simulation (default"
                + " ${DEFAULT-VALUE}: what the node had)")
        String estimate;

        @Option(names = "--export", paramLabel = "FILE", description = "also write the trace to FILE")
        Path export;

        @Override
        int talk(ApiClient api) {
            double sinceS = 0;
            if (since != null && last != null) throw new InvalidInputException("--since and --last: give one");
            if (since != null) sinceS = journalTime(since);
            if (last != null) {
                ApiClient.Answer h = api.get("/v1/health");
                int rc = failed(h);
                if (rc != Main.OK) return rc;
                sinceS = ((Number) h.body().getOrDefault("clock_s", 0)).doubleValue()
                        - RunCommand.seconds("--last", last, 1, 100 * 365.25 * 86400);
            }
            ApiClient.Answer a = api.get("/v1/trace?since=" + sinceS);
            int rc = failed(a);
            if (rc != Main.OK) return rc;
            int jobs = ((Number) a.body().get("jobs")).intValue();
            if (jobs == 0) {
                err().println("migm: no completed jobs to replay"
                        + (sinceS > 0 ? " since " + Math.round(sinceS) + " s" : ""));
                return Main.FOUND_A_PROBLEM;
            }
            String[] nodeGpus = ((String) a.body().get("gpus")).split(",");
            Path file = export;
            try {
                if (file == null) {
                    file = Files.createTempFile("migm-replay-", ".csv");
                    file.toFile().deleteOnExit();
                }
                dev.migm.io.TextFiles.writeAtomically(file, (String) a.body().get("trace"));
            } catch (IOException e) {
                throw new InvalidInputException((export != null ? export : "a temporary file") + ": cannot write: "
                        + e.getMessage());
            }
            double real = ((Number) a.body().get("last_end_s")).doubleValue()
                    - ((Number) a.body().get("first_submit_s")).doubleValue();
            if (!json) {
                out().printf(Locale.ROOT, "replaying %d completed jobs of %s (%d x %s); what happened: makespan %.0f s%n",
                        jobs, where.socket(), nodeGpus.length, nodeGpus[0], real);
                out().flush();
            }
            List<String> args = new ArrayList<>(List.of("simulate", file.toString(), "--policies", policies,
                    "--gpu", gpu != null ? gpu : nodeGpus[0], "--gpus", Integer.toString(gpus != null ? gpus : nodeGpus.length),
                    "--estimate", estimate, "--quiet"));
            if (json) args.add("--json");
            if (!json) return Main.run(args.toArray(String[]::new), out(), err());
            java.io.StringWriter sim = new java.io.StringWriter();
            int simRc = Main.run(args.toArray(String[]::new), new PrintWriter(sim), err());
            if (simRc != Main.OK) return simRc;
            Map<String, Object> doc = Json.doc("replay");
            doc.put("jobs", jobs);
            doc.put("real_makespan_s", Json.decimal(real, 0));
            doc.put("simulated", Json.MAPPER.readValue(sim.toString(), Map.class));
            out().println(Json.write(doc));
            return Main.OK;
        }
    }

    /**
     * A date ({@code 2026-11-25}: its midnight in {@code zone}), an ISO date and time in {@code zone},
     * or an instant with its offset ({@code Z}, {@code +01:00}): the forms {@code --since} takes.
     */
    static java.time.Instant dateOrTime(String t, java.time.ZoneId zone) {
        if (t.length() == 10) return java.time.LocalDate.parse(t).atStartOfDay(zone).toInstant();
        if (t.endsWith("Z") || t.matches(".*[+-]\\d\\d:\\d\\d$")) return java.time.OffsetDateTime.parse(t).toInstant();
        return java.time.LocalDateTime.parse(t).atZone(zone).toInstant();
    }

    /**
     * A time on the journal's clock: seconds as they are, or an ISO date or date-time (local time
     * unless it has an offset). The engine's clock is anchored at Unix time and runs at the time
     * scale, so a date means what it says on a daemon at time scale 1.
     */
    static double journalTime(String text) {
        String t = text.strip();
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException notSeconds) {
            // a date, below
        }
        try {
            return dateOrTime(t, java.time.ZoneId.systemDefault()).getEpochSecond();
        } catch (java.time.format.DateTimeParseException e) {
            throw new InvalidInputException("--since: expected a date like 2026-11-25 or 2026-11-25T08:00, or seconds,"
                    + " got " + TextFiles.quote(t));
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true, description = "Maintenance: no new work on a GPU; what runs"
            + " there finishes. Kept across restarts until resume.", footerHeading = "%nExamples:%n", footer = {"  migm drain 1"})
    static final class Drain extends Client {
        @Parameters(paramLabel = "GPU", description = "the GPU's index")
        int gpu;

        @Override
        int talk(ApiClient api) {
            ApiClient.Answer a = api.post("/v1/gpus/" + gpu + "/drain", null);
            return printJsonOr(a, () -> out().println("gpu" + gpu + ": draining"));
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Return a drained GPU to service.",
            footerHeading = "%nExamples:%n", footer = {"  migm resume 1"})
    static final class Resume extends Client {
        @Parameters(paramLabel = "GPU", description = "the GPU's index")
        int gpu;

        @Override
        int talk(ApiClient api) {
            ApiClient.Answer a = api.post("/v1/gpus/" + gpu + "/resume", null);
            return printJsonOr(a, () -> out().println("gpu" + gpu + ": in service"));
        }
    }

    /** The daemon's live layout with who runs where ({@code migm gpus --backend daemon}). */
    static int daemonGpus(PrintWriter out, PrintWriter errOut, Path socket, boolean json) {
        try (ApiClient api = new ApiClient(socket)) {
            ApiClient.Answer a = api.get("/v1/gpus");
            if (!a.ok()) {
                errOut.println("migm: " + a.error());
                return Main.FOUND_A_PROBLEM;
            }
            if (json) {
                out.println(Json.write(a.body()));
                return Main.OK;
            }
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("GPU", "MODEL", "STATUS", "INSTANCE", "DEVICE", "JOB", "NAME", "USER"));
            for (Map<?, ?> g : maps(a.body().get("gpus"))) {
                List<Map<?, ?>> instances = maps(g.get("instances"));
                if (instances.isEmpty()) {
                    rows.add(List.of(str(g.get("gpu")), str(g.get("model")), str(g.get("status")), "-", "", "", "", ""));
                }
                for (Map<?, ?> i : instances) {
                    rows.add(List.of(str(g.get("gpu")), str(g.get("model")), str(g.get("status")), str(i.get("instance")),
                            str(i.get("device")), str(i.get("job")), str(i.get("name")), str(i.get("user"))));
                }
            }
            table(out, rows);
            return Main.OK;
        } catch (ApiClient.Unreachable e) {
            errOut.println("migm: " + e.getMessage());
            return Main.FOUND_A_PROBLEM;
        }
    }

    private static String jobId(String id) {
        if (!id.matches("[0-9]{1,18}")) throw new InvalidInputException("ID: expected a job id (a number), got " + TextFiles.quote(id));
        return id;
    }

    static List<Map<?, ?>> maps(Object o) {
        List<Map<?, ?>> out = new ArrayList<>();
        if (o instanceof List<?> l) for (Object e : l) if (e instanceof Map<?, ?> m) out.add(m);
        return out;
    }

    static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> l) for (Object e : l) out.add(String.valueOf(e));
        return out;
    }

    private static String clip(String s, int max) {
        return s.length() > max ? s.substring(0, max - 3) + "..." : s;
    }

    static String str(Object o) {
        return o == null ? "" : o.toString();
    }

    private static String mib(Object o) {
        if (!(o instanceof Number n) || n.longValue() <= 0) return "";
        return n.longValue() >= 1024 ? String.format(Locale.ROOT, "%.1f GiB", n.longValue() / 1024.0) : n + " MiB";
    }

    /** How many of a job's events {@code migm show} prints (the daemon sends up to 200). */
    static final int SHOWN_EVENTS = 15;

    /**
     * An event as the daemon sends it ({@code "2026-12-07T07:14:24.273Z Queued: 1 waits ..."}, with
     * {@code " (modelled T)"} after the wall-clock time when an emulated GPU runs faster than the
     * clock: store.Times) for a person: the local time on the engine's clock (the clock of the
     * attempts' times above it) and the words, without the record's type.
     */
    static String event(String e) {
        java.util.regex.Matcher m = EVENT.matcher(e);
        if (!m.matches()) return e;
        try {
            java.time.Instant at = java.time.Instant.parse(m.group(2) != null ? m.group(2) : m.group(1));
            return time(at.toEpochMilli() / 1000.0) + "  " + m.group(3);
        } catch (java.time.format.DateTimeParseException notATime) {
            return e;
        }
    }

    private static final java.util.regex.Pattern EVENT = java.util.regex.Pattern.compile(
            "(\\S+)(?: \\(modelled (\\S+)\\))? (?:[A-Za-z]+: )?(.*)", java.util.regex.Pattern.DOTALL);

    private static String time(Object o) {
        if (!(o instanceof Number n)) return "";
        return java.time.format.DateTimeFormatter.ofPattern("MM-dd HH:mm:ss").withZone(java.time.ZoneId.systemDefault())
                .format(java.time.Instant.ofEpochMilli((long) (n.doubleValue() * 1000)));
    }

    static void table(PrintWriter out, List<List<String>> rows) {
        int[] width = new int[rows.getFirst().size()];
        for (List<String> r : rows) for (int i = 0; i < r.size(); i++) width[i] = Math.max(width[i], r.get(i).length());
        for (List<String> r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                b.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + width[i] + "s  ", r.get(i)));
            }
            out.println(b.toString().stripTrailing());
        }
    }
}
