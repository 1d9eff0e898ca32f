package dev.migm.service;

import dev.migm.engine.JobState;
import dev.migm.engine.JobView;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import dev.migm.io.InvalidInputException;
import dev.migm.store.NodeJournal;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import tools.jackson.databind.json.JsonMapper;

/**
 * The node service's API: versioned JSON over HTTP/1.1 on a Unix-domain socket (Jetty), so that
 * {@code curl --unix-socket} works as well as {@code migm}. The socket is created with mode 0600
 * (0660 with a group given), so only its owner (and that group) can connect; each caller is known
 * by the socket's peer credentials ({@code SO_PEERCRED}), never by what the request says.
 *
 * <p>Routes ({@code docs/api.md}): {@code GET /v1/health}, {@code POST /v1/jobs} (a job or batch
 * file), {@code GET /v1/jobs[?all=true]}, {@code GET /v1/jobs/ID}, {@code POST /v1/jobs/ID/cancel},
 * {@code GET /v1/jobs/ID/logs?attempt=N&stream=out|err&offset=K}, {@code GET /v1/history/APP},
 * {@code GET /v1/gpus}, {@code POST /v1/gpus/N/drain|resume}. Errors: a status and
 * {@code {schema: migm.error/v1, error: "one line"}}.
 */
public final class ApiServer implements AutoCloseable {
    /** Largest request body accepted (a batch file of 100,000 small jobs fits). */
    static final int MAX_BODY = 32 << 20;
    /** Largest piece of a log sent in one answer. */
    static final int MAX_LOG_CHUNK = 1 << 20;

    /** Leaves the response's stream open after a document, for the newline that ends it. */
    static final JsonMapper JSON = JsonMapper.builder()
            .disable(tools.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET).build();
    private static final Pattern JOB = Pattern.compile("/v1/jobs/([0-9]{1,18})(/cancel|/logs)?");
    private static final Pattern GPU = Pattern.compile("/v1/gpus/([0-9]{1,5})/(drain|resume)");
    private static final Pattern HISTORY = Pattern.compile("/v1/history/([^/]{1,200})");

    private final NodeService service;
    private final Server server;
    private final Path socket;

    private ApiServer(NodeService service, Server server, Path socket) {
        this.service = service;
        this.server = server;
        this.socket = socket;
    }

    /**
     * Serves {@code service} on {@code socket}; {@code group} (may be null) is the group allowed to
     * connect besides the owner.
     */
    public static ApiServer start(NodeService service, Path socket, String group) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("api");
        threads.setVirtualThreadsExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(threads);
        if (socket.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length > 100) {
            throw new InvalidInputException(socket + ": a Unix socket path must be under 100 bytes; choose a shorter one");
        }
        // Bound in a private directory, restricted, then moved into place: nobody else can connect
        // in between (the JVM cannot set a umask).
        Path parent = socket.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path privateDir = Files.createTempDirectory(parent, ".sock-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path bound = privateDir.resolve("s");
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server);
        connector.setUnixDomainPath(bound);
        connector.setAcceptQueueSize(256);
        server.addConnector(connector);
        ApiServer api = new ApiServer(service, server, socket);
        server.setHandler(api.new Routes());
        server.setStopTimeout(2000);
        try {
            server.start();
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString(group == null ? "rw-------" : "rw-rw----"));
            if (group != null) {
                var lookup = bound.getFileSystem().getUserPrincipalLookupService();
                Files.getFileAttributeView(bound, java.nio.file.attribute.PosixFileAttributeView.class)
                        .setGroup(lookup.lookupPrincipalByGroupName(group));
            }
            Files.move(bound, socket, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (Exception e) {
            server.stop();
            throw e;
        } finally {
            Files.deleteIfExists(bound);
            Files.deleteIfExists(privateDir);
        }
        return api;
    }

    public Path socket() {
        return socket;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            // stopping: nothing left to do
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // a stale socket is removed by the next daemon
        }
    }

    /** Who is calling, from the socket's peer credentials. */
    static String caller(Request request) {
        EndPoint ep = request.getConnectionMetaData().getConnection().getEndPoint();
        if (ep instanceof SocketChannelEndPoint s) {
            try {
                var p = s.getChannel().getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
                return p.user().getName();
            } catch (IOException | UnsupportedOperationException e) {
                return "unknown";
            }
        }
        return "unknown";
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            int status = 200;
            Object body;
            try {
                body = route(request);
            } catch (NodeService.Refused e) {
                status = e.status();
                body = error(e.getMessage());
            } catch (InvalidInputException e) {
                status = 400;
                body = error(e.getMessage());
            } catch (NodeJournal.JournalException e) {
                status = 503;
                body = error("the journal failed: " + e.getMessage());
            } catch (RuntimeException e) {
                // A bug: the trace goes to the daemon's log (stderr: journald under systemd), the caller
                // gets one line.
                System.err.println("migm daemon: internal error serving " + request.getMethod() + " "
                        + request.getHttpURI().getPath());
                e.printStackTrace();
                status = 500;
                body = error("internal error (a bug; details in the daemon's log): " + e.getMessage());
            }
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            // Written as it is generated (handlers run on virtual threads, so blocking here is fine): a
            // listing of 80,000 jobs is never held whole in memory.
            try (java.io.OutputStream out = Content.Sink.asOutputStream(response)) {
                JSON.writeValue(out, body);
                out.write('\n');
            } catch (IOException | RuntimeException e) {
                callback.failed(e);
                return true;
            }
            callback.succeeded();
            return true;
        }

        private Object route(Request request) {
            String path = request.getHttpURI().getPath();
            String method = request.getMethod();
            Fields query = Request.extractQueryParameters(request);
            if (path.equals("/v1/health") && method.equals("GET")) return health();
            if (path.equals("/v1/jobs") && method.equals("POST")) return submit(request);
            if (path.equals("/v1/jobs") && method.equals("GET")) {
                return queue("true".equals(query.getValue("all")), JobFilter.of(query.getValue("user"),
                        query.getValue("state"), query.getValue("since")));
            }
            if (path.equals("/v1/gpus") && method.equals("GET")) return gpus();
            if (path.equals("/v1/trace") && method.equals("GET")) return trace(query.getValue("since"));
            if (path.equals("/v1/slurm/prepare") && method.equals("POST")) {
                Map<?, ?> in = jsonBody(request);
                Map<String, Object> doc = doc("slurm-prepare");
                doc.putAll(service.slurm().prepare(caller(request), new SlurmSlices.Prepare(string(in, "job"),
                        (int) number(in, "restart"), number(in, "bytes"), string(in, "user"),
                        optionalString(in, "slurm_conf"))));
                return doc;
            }
            if (path.equals("/v1/slurm/release") && method.equals("POST")) {
                Map<?, ?> in = jsonBody(request);
                Map<String, Object> doc = doc("slurm-release");
                doc.putAll(service.slurm().release(caller(request), new SlurmSlices.Release(string(in, "job"),
                        (int) number(in, "restart"), string(in, "exit"), optionalString(in, "oom_evidence"),
                        optionalString(in, "slurm_conf"))));
                return doc;
            }
            Matcher m = JOB.matcher(path);
            if (m.matches()) {
                String id = m.group(1);
                String what = m.group(2) == null ? "" : m.group(2);
                return switch (what) {
                    case "" -> method.equals("GET") ? show(id) : notAllowed(method, path);
                    case "/cancel" -> method.equals("POST") ? cancel(caller(request), id) : notAllowed(method, path);
                    default -> method.equals("GET") ? logs(caller(request), id, query) : notAllowed(method, path);
                };
            }
            m = GPU.matcher(path);
            if (m.matches() && method.equals("POST")) {
                int gpu = Integer.parseInt(m.group(1));
                service.drain(caller(request), gpu, m.group(2).equals("drain"));
                Map<String, Object> doc = doc("gpu");
                doc.put("gpu", gpu);
                doc.put("status", m.group(2).equals("drain") ? "draining" : "ok");
                return doc;
            }
            m = HISTORY.matcher(path);
            if (m.matches() && method.equals("GET")) {
                return history(service.journal(), service.models(), pathSegment(m.group(1)), JobFilter.of(query.getValue("user"), null,
                        query.getValue("since")));
            }
            throw new NodeService.Refused(404, "no such API route: " + method + " " + path);
        }

        private Object notAllowed(String method, String path) {
            throw new NodeService.Refused(405, method + " is not allowed on " + path);
        }

        private Map<?, ?> jsonBody(Request request) {
            String text = body(request);
            Map<?, ?> in;
            try {
                in = JSON.readValue(text, Map.class);
            } catch (RuntimeException e) {
                in = null;
            }
            if (in == null) throw new InvalidInputException("request body: expected a JSON object");
            return in;
        }

        private Object submit(Request request) {
            SubmitRequest in = SubmitRequest.parse(body(request));
            List<String> ids = service.submit(caller(request), in.source(), in.cwd(), in.text());
            Map<String, Object> doc = doc("submit");
            doc.put("ids", ids);
            return doc;
        }

        private String body(Request request) {
            long length = request.getLength();
            if (length > MAX_BODY) throw new InvalidInputException("request body over " + (MAX_BODY >> 20) + " MiB");
            String text;
            try {
                text = Content.Source.asString(request, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new InvalidInputException("cannot read the request body: " + e.getMessage());
            }
            if (text.length() > MAX_BODY) throw new InvalidInputException("request body over " + (MAX_BODY >> 20) + " MiB");
            return text;
        }
    }

    private Map<String, Object> health() {
        Map<String, Object> doc = doc("health");
        doc.put("ready", true);
        doc.put("pid", ProcessHandle.current().pid());
        doc.put("journal", service.journal().file().toString());
        doc.put("jobs", service.journal().countsByState());
        doc.put("recovery", service.recoveryReport());
        doc.put("http", service.httpAddress().orElse(null));
        doc.put("clock_s", service.nowS());
        return doc;
    }

    private Map<String, Object> queue(boolean all, JobFilter filter) {
        List<NodeJournal.JobRow> jobs = service.journal().jobs(all || filter.wantsEnded());
        if (!filter.equals(JobFilter.NONE)) jobs = jobs.stream().filter(filter::matches).toList();
        Map<String, String> why = service.waitingReasons(jobs.stream()
                .filter(r -> r.state().equals("queued")).map(NodeJournal.JobRow::id).toList());
        Map<String, Object> doc = doc("queue");
        doc.put("jobs", new QueueRows(jobs, why));
        return doc;
    }

    /** A job's row as the API shows it, in order: the one definition behind {@link #jobRow} and {@link QueueRows}. */
    private static final List<Map.Entry<String, java.util.function.Function<NodeJournal.JobRow, Object>>> JOB_FIELDS = List.of(
            Map.entry("id", NodeJournal.JobRow::id),
            Map.entry("name", NodeJournal.JobRow::name),
            Map.entry("user", NodeJournal.JobRow::user),
            Map.entry("state", NodeJournal.JobRow::state),
            Map.entry("attempts", NodeJournal.JobRow::attempts),
            Map.entry("slot", NodeJournal.JobRow::slot),
            Map.entry("estimate_mib", NodeJournal.JobRow::needMib),
            Map.entry("estimate_source", NodeJournal.JobRow::needSource),
            Map.entry("progress", NodeJournal.JobRow::progress),
            Map.entry("submitted_at", NodeJournal.JobRow::submittedAtS),
            Map.entry("ended_at", NodeJournal.JobRow::endedAtS),
            Map.entry("reason", NodeJournal.JobRow::reason));

    /**
     * The queue's rows, written field by field as the document is serialized: {@link #jobRow} plus
     * {@code waiting_because}, without a map per job (a queue of 80,000 jobs is polled once a second
     * under issue 14's load; its garbage set the submits' GC pauses).
     */
    record QueueRows(List<NodeJournal.JobRow> jobs, Map<String, String> why)
            implements tools.jackson.databind.JacksonSerializable {
        @Override
        public void serialize(tools.jackson.core.JsonGenerator g, tools.jackson.databind.SerializationContext ctx) {
            g.writeStartArray();
            for (NodeJournal.JobRow r : jobs) {
                g.writeStartObject();
                for (var field : JOB_FIELDS) {
                    g.writeName(field.getKey());
                    switch (field.getValue().apply(r)) {
                        case null -> g.writeNull();
                        case String text -> g.writeString(text);
                        case Integer n -> g.writeNumber(n);
                        case Long n -> g.writeNumber(n);
                        case Double x -> g.writeNumber(x);
                        case Object other -> throw new IllegalStateException("no JSON for " + other.getClass());
                    }
                }
                String waiting = why.get(r.id());
                if (waiting != null) g.writeStringProperty("waiting_because", waiting);
                g.writeEndObject();
            }
            g.writeEndArray();
        }

        @Override
        public void serializeWithType(tools.jackson.core.JsonGenerator g, tools.jackson.databind.SerializationContext ctx,
                                      tools.jackson.databind.jsontype.TypeSerializer typeSer) {
            serialize(g, ctx);
        }
    }

    static Map<String, Object> jobRow(NodeJournal.JobRow r) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (var field : JOB_FIELDS) row.put(field.getKey(), field.getValue().apply(r));
        return row;
    }

    private Map<String, Object> show(String id) {
        NodeJournal.JobRow r = service.journal().job(id).orElseThrow(() -> new NodeService.Refused(404, "no job " + id));
        Map<String, Object> doc = doc("show");
        Map<String, Object> job = jobRow(r);
        List<Map<String, Object>> attempts = new ArrayList<>();
        for (NodeJournal.AttemptRow a : service.journal().attempts(id)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("number", a.number());
            m.put("gpu", a.gpu());
            m.put("instance", a.instance());
            m.put("device", a.device());
            m.put("launched_at", a.launchedAtS());
            m.put("running_at", a.runningAtS());
            m.put("ended_at", a.endedAtS());
            m.put("outcome", a.outcome());
            m.put("detail", a.detail());
            m.put("peak_mib", a.peakMib());
            m.put("start_progress", a.startProgress());
            m.put("supervisor_pid", a.supervisorPid());
            m.put("energy_j", a.energyJ());
            m.put("energy_model", NodeService.ENERGY_MODEL);
            m.put("log_out", Path.of("attempt-" + a.number() + ".out").toString());
            attempts.add(m);
        }
        job.put("attempts_detail", attempts);
        job.put("directory", service.jobDir(id).toString());
        if (r.state().equals("queued")) {
            service.whyWaiting(id).ifPresent(u -> {
                Map<String, Object> why = new LinkedHashMap<>();
                why.put("need_mib", u.needMib());
                why.put("largest_now_mib", u.largestNowMib());
                why.put("blockers", u.blockers());
                if (u.refusal() != null) {
                    Map<String, Object> policy = new LinkedHashMap<>();
                    policy.put("resource", u.refusal().resource().label());
                    policy.put("asked", u.refusal().asked());
                    policy.put("free", u.refusal().free());
                    policy.put("why", u.refusal().why());
                    why.put("policy", policy);
                }
                why.put("message", u.message());
                job.put("waiting_because", why);
            });
        }
        job.put("events", service.journal().events(id, 200));
        doc.put("job", job);
        return doc;
    }

    private Map<String, Object> cancel(String user, String id) {
        String what = service.cancel(user, id);
        Map<String, Object> doc = doc("cancel");
        doc.put("id", id);
        doc.put("result", what);
        return doc;
    }

    private Map<String, Object> logs(String user, String id, Fields query) {
        NodeJournal.JobRow r = service.journal().job(id).orElseThrow(() -> new NodeService.Refused(404, "no job " + id));
        service.checkMayReadLogs(user, r);
        List<NodeJournal.AttemptRow> attempts = service.journal().attempts(id);
        int attempt = query.getValue("attempt") == null ? (attempts.isEmpty() ? 0 : attempts.getLast().number())
                : parseInt(query.getValue("attempt"), "attempt");
        String stream = query.getValue("stream") == null ? "out" : query.getValue("stream");
        if (!stream.equals("out") && !stream.equals("err")) throw new InvalidInputException("stream: expected out or err");
        long offset = query.getValue("offset") == null ? 0 : parseInt(query.getValue("offset"), "offset");
        Map<String, Object> doc = doc("logs");
        doc.put("id", id);
        doc.put("attempt", attempt);
        doc.put("stream", stream);
        doc.put("offset", offset);
        String data = "";
        long next = offset;
        if (attempt > 0) {
            if (attempts.stream().noneMatch(a -> a.number() == attempt)) {
                throw new NodeService.Refused(404, "job " + id + " has no attempt " + attempt);
            }
            Path file = service.jobDir(id).resolve("attempt-" + attempt + "." + stream);
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                long from = Math.min(offset, f.length());
                byte[] b = new byte[(int) Math.min(MAX_LOG_CHUNK, f.length() - from)];
                f.seek(from);
                f.readFully(b);
                data = new String(b, StandardCharsets.UTF_8);
                next = from + b.length;
            } catch (IOException e) {
                // not written yet
            }
        }
        doc.put("next_offset", next);
        doc.put("data", data);
        NodeJournal.AttemptRow last = attempts.isEmpty() ? null : attempts.getLast();
        boolean attemptEnded = attempt == 0 || attempts.stream().anyMatch(a -> a.number() == attempt && a.endedAtS() != null);
        doc.put("attempt_ended", attemptEnded);
        doc.put("job_ended", r.ended());
        doc.put("latest_attempt", last == null ? 0 : last.number());
        return doc;
    }

    private static int parseInt(String s, String field) {
        try {
            int v = Integer.parseInt(s);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new InvalidInputException(field + ": expected a non-negative integer");
        }
    }

    /**
     * A path segment as sent percent-encoded ({@code migm history "train.py --model x"}); one the
     * server already decoded has no escapes left, and a '+' is itself.
     */
    static String pathSegment(String raw) {
        try {
            return java.net.URLDecoder.decode(raw.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new NodeService.Refused(400, "a malformed escape in the path");
        }
    }

    /**
     * What the estimators learned of an application, as {@code GET /v1/history/APP} answers it:
     * from a daemon, or read from a home's journal when no daemon serves it ({@code migm history}).
     */
    public static Map<String, Object> history(NodeJournal journal, List<dev.migm.gpu.GpuModel> models, String app,
                                              JobFilter filter) {
        // A completed observation's run: what the run-time estimate learned of it (the node service's
        // attempts and those of migm run, kept with their SMs).
        Map<String, NodeJournal.CompletedRun> runs = new java.util.HashMap<>();
        List<NodeJournal.CompletedRun> completed = journal.completedRuns(app);
        for (NodeJournal.CompletedRun r : completed) runs.put(r.jobId() + "#" + r.attempt(), r);
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, String> users = new java.util.HashMap<>();
        for (NodeJournal.Learned l : journal.learned(app)) {
            if (filter.sinceS().isPresent() && l.atS() < filter.sinceS().getAsDouble()) continue;
            if (filter.user().isPresent() && !filter.user().get().equals(users.computeIfAbsent(l.jobId(),
                    id -> journal.job(id).map(NodeJournal.JobRow::user).orElse("")))) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("job", l.jobId());
            m.put("attempt", l.attempt());
            m.put("what", l.what());
            m.put("class", l.jobClass());
            m.put("mib", l.mib());
            m.put("slot_mib", l.slotMib());
            m.put("at", l.atS());
            NodeJournal.CompletedRun run = l.what().equals("completed") ? runs.get(l.jobId() + "#" + l.attempt()) : null;
            m.put("run_s", run == null ? null : run.runS());
            m.put("instance", run == null ? null : run.instance() == null ? "whole GPU " + run.gpu()
                    : "gpu" + run.gpu() + ":" + run.instance());
            m.put("start_progress", run == null ? null : run.startProgress());
            rows.add(m);
        }
        Map<String, Object> doc = doc("history");
        doc.put("app", app);
        doc.put("observations", rows);
        doc.put("run_time", runTime(completed, models, app));
        return doc;
    }

    /**
     * The run-time estimate the application's completed runs give ({@link dev.migm.estimate.LearnedRuntime}
     * on all of them, whatever the filter), as the next job of it would get it: its whole-GPU time, the
     * log-normal spread around it, the scaling and whether the runs measured it; null when no run
     * could be read (none completed, or only the node service's with no GPU models to read them on).
     */
    static Map<String, Object> runTime(List<NodeJournal.CompletedRun> runs, List<dev.migm.gpu.GpuModel> models,
                                       String app) {
        if (runs.isEmpty()) return null;
        dev.migm.engine.JobClass jobClass;
        try {
            jobClass = dev.migm.engine.JobClass.parse(runs.getLast().jobClass());
        } catch (RuntimeException e) {
            return null;
        }
        dev.migm.engine.RuntimeExpectation e = LiveNode.runtimeOf(runs, models).expect(new dev.migm.engine.JobSpec(
                "history", 0, app, jobClass, java.util.OptionalLong.empty(), false));
        if (!e.grounded()) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("whole_gpu_s", e.wholeGpuS());
        m.put("log_spread", e.logSpread());
        m.put("c", e.c());
        m.put("sat", e.sat());
        m.put("scaling_measured", e.scalingKnown());
        m.put("source", e.source());
        return m;
    }

    /** The finished jobs as a trace for what-if replay ({@code migm replay}). */
    private Map<String, Object> trace(String since) {
        double sinceS = 0;
        if (since != null) {
            try {
                sinceS = Double.parseDouble(since);
            } catch (NumberFormatException e) {
                sinceS = Double.NaN;
            }
            if (!Double.isFinite(sinceS)) {
                throw new InvalidInputException("since: expected seconds on the journal's clock, got "
                        + dev.migm.io.TextFiles.quote(since));
            }
        }
        NodeService.ExportedTrace t = service.exportTrace(sinceS);
        Map<String, Object> doc = doc("trace-export");
        doc.put("jobs", t.jobs());
        doc.put("gpus", t.gpus());
        doc.put("first_submit_s", t.firstSubmitS());
        doc.put("last_end_s", t.lastEndS());
        doc.put("trace", t.text());
        return doc;
    }

    private Map<String, Object> gpus() {
        Map<String, String> bySlot = new HashMap<>();
        for (JobView v : service.engineJobs()) {
            if ((v.state() == JobState.RUNNING || v.state() == JobState.STARTING) && !v.attempts().isEmpty()) {
                bySlot.put(v.attempts().getLast().slot().toString(), v.spec().id());
            }
        }
        List<String> status = service.gpuStatus();
        List<Map<String, Object>> gpus = new ArrayList<>();
        for (int g = 0; g < service.gpus().size(); g++) {
            Layout layout = service.layout(g);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("gpu", g);
            m.put("model", service.gpus().get(g).name());
            m.put("largest_instance_mib", service.gpus().get(g).largestProfile().memoryMib());
            m.put("instance_sizes_mib", service.gpus().get(g).plainProfiles().stream().map(Profile::memoryMib).distinct()
                    .sorted().toList());
            List<Map<String, Object>> profiles = new ArrayList<>();
            for (Profile p : service.gpus().get(g).plainProfiles()) {
                profiles.add(Map.of("name", p.name(), "memory_mib", p.memoryMib()));
            }
            m.put("instance_profiles", profiles);
            m.put("status", status.get(g));
            m.put("layout", layout.toString());
            List<Map<String, Object>> instances = new ArrayList<>();
            for (Instance i : layout.instances()) {
                Map<String, Object> im = new LinkedHashMap<>();
                im.put("instance", i.toString());
                im.put("device", service.deviceName(g, i));
                String job = bySlot.get("gpu" + g + ":" + i);
                im.put("job", job);
                if (job != null) service.journal().job(job).ifPresent(r -> {
                    im.put("name", r.name());
                    im.put("user", r.user());
                });
                instances.add(im);
            }
            m.put("instances", instances);
            gpus.add(m);
        }
        Map<String, Object> doc = doc("gpus");
        doc.put("gpus", gpus);
        return doc;
    }

    /** A submit's body: {@code {source, cwd, text}}, the file as text, its name, the directory it came from. */
    public record SubmitRequest(String source, String cwd, String text) {
        /** Reads a body; anything else than three strings, an absolute {@code cwd} among them, is refused. */
        public static SubmitRequest parse(String body) {
            Map<?, ?> in;
            try {
                in = JSON.readValue(body, Map.class);
            } catch (RuntimeException e) {
                throw new InvalidInputException("request body: expected a JSON object {source, cwd, text}");
            }
            if (in == null) throw new InvalidInputException("request body: expected a JSON object {source, cwd, text}");
            if (!(in.get("source") instanceof String s) || !(in.get("cwd") instanceof String c)
                    || !(in.get("text") instanceof String f)) {
                throw new InvalidInputException("request body: expected string fields source, cwd and text");
            }
            if (!c.startsWith("/") || c.indexOf('\0') >= 0) {
                throw new InvalidInputException("cwd: expected an absolute path");
            }
            if (s.length() > 255 || s.isBlank() || s.chars().anyMatch(ch -> ch < 0x20)) {
                throw new InvalidInputException("source: expected a file name of 1 to 255 printable characters");
            }
            return new SubmitRequest(s, c, f);
        }
    }

    private static String string(Map<?, ?> in, String field) {
        if (!(in.get(field) instanceof String v) || v.length() > 4096) {
            throw new InvalidInputException(field + ": expected a string");
        }
        return v;
    }

    private static Optional<String> optionalString(Map<?, ?> in, String field) {
        return in.get(field) == null ? Optional.empty() : Optional.of(string(in, field));
    }

    private static long number(Map<?, ?> in, String field) {
        if (!(in.get(field) instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new InvalidInputException(field + ": expected a whole number");
        }
        return n.longValue();
    }

    static Map<String, Object> doc(String verb) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schema", "migm." + verb + "/v1");
        return doc;
    }

    private static Map<String, Object> error(String message) {
        Map<String, Object> doc = doc("error");
        String m = message == null ? "" : message.replaceAll("\\R", " ");
        doc.put("error", m.length() > 300 ? m.substring(0, 297) + "..." : m);
        return doc;
    }
}
