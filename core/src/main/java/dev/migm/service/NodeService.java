package dev.migm.service;

import dev.migm.engine.JobView;
import dev.migm.engine.EngineListener;
import dev.migm.backend.BoardMeter;
import dev.migm.backend.LiveBackend;
import dev.migm.engine.Attempt;
import dev.migm.engine.Checkpoint;
import dev.migm.engine.Engine;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EngineLoop;
import dev.migm.engine.EventSink;
import dev.migm.engine.Executor;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.Slot;
import dev.migm.engine.Unplaceable;
import dev.migm.estimate.LearnedRuntime;
import dev.migm.exec.Launches;
import dev.migm.exec.ProcessExecutor;
import dev.migm.exec.Supervisor;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.io.InvalidInputException;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.spec.BatchFile;
import dev.migm.spec.SubmittedJob;
import dev.migm.store.NodeJournal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The node service: the engine of {@code migm run}, fed from a durable {@link NodeJournal} instead of
 * a file, with jobs submitted, cancelled and inspected at any time. Every job's attempts run under
 * their own {@link Supervisor}, so the service can die at any moment: {@link #start} reconciles the
 * journal with the backend and the supervisors, adopts what still runs, requeues what was lost from
 * its checkpoint, destroys idle instances migm created that nobody owns, leaves other instances alone,
 * and says what it did.
 *
 * <p>Jobs run in {@code HOME/jobs/ID/} (logs {@code attempt-N.out|err}, {@code checkpoints/}); the
 * journal is {@code HOME/journal.db}.
 */
public final class NodeService implements AutoCloseable {
    /**
     * How the service is set up.
     *
     * @param helper  the command that plays jobs' {@code workload:} sections on the emulated GPU
     *                (empty on real GPUs: every job runs its own command)
     * @param sampleS how often each attempt's memory is sampled, modelled seconds
     * @param graceS  SIGTERM to SIGKILL when an attempt is stopped, modelled seconds
     * @param slurm   how the node works with Slurm ({@link SlurmSlices.Settings})
     */
    public record Settings(Path home, LiveBackend backend, List<String> helper, String policy, double timeScale,
                           double sampleS, double graceS, Access access, SlurmSlices.Settings slurm) {
        public Settings {
            helper = List.copyOf(helper);
        }

        /** Slurm's defaults ({@link SlurmSlices.Settings#DEFAULTS}). */
        public Settings(Path home, LiveBackend backend, List<String> helper, String policy, double timeScale,
                        double sampleS, double graceS, Access access) {
            this(home, backend, helper, policy, timeScale, sampleS, graceS, access, SlurmSlices.Settings.DEFAULTS);
        }

        /** Jobs run as the service's own user ({@link Access#OWN_USER}), sampled every second, 10 s grace. */
        public Settings(Path home, LiveBackend backend, List<String> helper, String policy, double timeScale) {
            this(home, backend, helper, policy, timeScale, 1.0, 10.0, Access.OWN_USER, SlurmSlices.Settings.DEFAULTS);
        }
    }

    /**
     * Whom jobs run as and who may act on them ({@link Users}).
     *
     * @param runAsSubmitter each job runs as its submitter (the service runs as root); otherwise every
     *                       job runs as the service's user, and only that user may submit
     * @param allowRootJobs  root's jobs may run as root
     * @param adminGroup     a group whose members may cancel any job, read any job's logs and drain GPUs
     */
    public record Access(boolean runAsSubmitter, boolean allowRootJobs, Optional<String> adminGroup) {
        /** Every job runs as the service's own user (a service run by a user for themselves). */
        public static final Access OWN_USER = new Access(false, false, Optional.empty());

        /** A daemon's: jobs run as their submitters when it runs as root. */
        public static Access forDaemon(boolean allowRootJobs, Optional<String> adminGroup) {
            return new Access(dev.migm.exec.RunAs.processIsRoot(), allowRootJobs, adminGroup);
        }
    }

    private final Settings settings;
    private final NodeJournal journal;
    private final LiveBackend backend;
    private final List<GpuModel> models;
    private final Map<String, SubmittedJob> submitted = new ConcurrentHashMap<>();
    private final Map<String, Path> submitDirs = new ConcurrentHashMap<>();
    private ProcessExecutor executor;
    private EngineLoop loop;
    /** The engine, its executor and health monitor, as {@link LiveNode} assembles them for run and daemon alike. */
    private LiveNode node;
    private dev.migm.backend.HealthMonitor health;
    private final List<String> recovery = new ArrayList<>();

    private final Users users;
    /** Jobs that hold a slice for a Slurm job ({@link SlurmSlices}): their memory is Slurm's job's, not judged. */
    private final java.util.Set<String> sliceJobs = ConcurrentHashMap.newKeySet();
    private SlurmSlices slurm;

    private NodeService(Settings settings, NodeJournal journal, BoardMeter meter) {
        this.settings = settings;
        this.users = new Users(settings.access());
        this.journal = journal;
        this.meter = meter;
        this.timeline = new dev.migm.report.Timeline.Recorder(settings.backend().gpus());
        this.backend = settings.backend();
        this.models = backend.gpus();
        this.metrics = new NodeMetrics(new NodeMetrics.Source() {
            @Override
            public NodeMetrics.EngineView engine() {
                return await(loop.ask(e -> {
                    java.util.Collection<JobView> jobs = e.jobs();
                    Map<Slot, String> occupants = new java.util.HashMap<>();
                    for (JobView v : jobs) v.holding().ifPresent(a -> occupants.put(a.slot(), v.spec().id()));
                    return new NodeMetrics.EngineView(NodeMetrics.countByState(jobs), occupants,
                            e.snapshot().gpuStatus(), e.counters().reconfigurations(),
                            e.counters().restarts(), e.counters().oomKills(), e.counters().earlyRestarts(),
                            e.counters().migModeChanges(), e.counters().preemptions());
                }));
            }

            @Override
            public List<NodeMetrics.GpuView> gpus() {
                List<NodeMetrics.GpuView> out = new ArrayList<>();
                for (int g = 0; g < models.size(); g++) {
                    out.add(new NodeMetrics.GpuView(backend.gpuUuid(g), models.get(g), backend.migEnabledNow(g),
                            backend.instanceIds(g)));
                }
                return out;
            }

            @Override
            public NodeMetrics.JobLabels jobLabels(String jobId) {
                return journal.job(jobId).map(r -> new NodeMetrics.JobLabels(jobId, r.user(),
                        SlurmSlices.slurmJobOf(r.name()).orElse(""))).orElse(new NodeMetrics.JobLabels(jobId, "", ""));
            }
        }, models.size());
    }

    private final NodeMetrics metrics;
    /** The largest slot of the node's GPUs in the modes the engine started them in, as it caps needs. */
    private volatile Admission.Largest largest;
    /** The live view's timeline: the last {@link #LIVE_WINDOW_S} of instances, power and queue. */
    private final dev.migm.report.Timeline.Recorder timeline;
    private double startedAtS;

    /** How far back the live view looks, in the engine's seconds. */
    public static final double LIVE_WINDOW_S = 6 * 3600;

    /** Jobs the live view lists at most (the newest). */
    static final int LIVE_JOBS = 500;

    /**
     * The live view ({@code GET /} on the HTTP view): the report of {@code migm report} for the node's
     * last {@link #LIVE_WINDOW_S} (or since the daemon started), with the jobs open or ended in it,
     * reloading itself every 2 s.
     */
    public String liveReport() {
        double now = nowS();
        double from = Math.max(startedAtS, now - LIVE_WINDOW_S);
        List<dev.migm.report.Timeline.JobLine> lines = new ArrayList<>();
        for (NodeJournal.JobSummary s : journal.recentJobs(from, LIVE_JOBS)) {
            NodeJournal.JobRow j = s.job();
            lines.add(new dev.migm.report.Timeline.JobLine(j.id(), j.name(), j.user(), j.state(), j.attempts(),
                    j.slot() == null ? "" : j.slot(),
                    j.needMib(), j.needSource() == null ? "" : j.needSource(), s.peakMib(), s.energyJ()));
        }
        dev.migm.report.Timeline.Run run = timeline.snapshot("node", settings.policy(), "live", from, now, lines,
                ENERGY_MODEL);
        return dev.migm.report.HtmlReport.render("migm on " + HOST, List.of(run), 2);
    }

    /** This machine's name, for the live view's title (the kernel's, as hostname(1) prints it). */
    private static final String HOST = hostName();

    private static String hostName() {
        try {
            String name = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!name.isEmpty()) return name;
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: ask the JDK
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "this node";
        }
    }

    private volatile String httpAddress;

    /** Where the read-only HTTP view listens ({@code HOST:PORT}), once it does. */
    public Optional<String> httpAddress() {
        return Optional.ofNullable(httpAddress);
    }

    /** Said by whoever started the HTTP view, for {@code GET /v1/health}. */
    public void httpListening(String address) {
        this.httpAddress = address;
    }

    /** The node's Prometheus metrics, for the HTTP view. */
    public NodeMetrics metrics() {
        return metrics;
    }

    /** Opens the journal under the home, recovers and starts the engine. */
    public static NodeService start(Settings settings) {
        PolicyRegistry.create(settings.policy(), settings.backend().gpus()); // refuse a bad policy before anything
        // The meter reads the boards from now on: the energy of the start-up is the idle node's.
        BoardMeter meter = new BoardMeter(settings.backend());
        try {
            java.nio.file.Files.createDirectories(settings.home().resolve("jobs"));
        } catch (java.io.IOException e) {
            throw new InvalidInputException(settings.home() + ": cannot create its jobs directory: " + e.getMessage());
        }
        if (settings.access().runAsSubmitter()) openHomeToJobs(settings.home());
        NodeJournal journal = NodeJournal.open(settings.home().resolve("journal.db"));
        NodeService s = new NodeService(settings, journal, meter);
        try {
            s.recover();
            s.slurm = new SlurmSlices(s, settings.home(), settings.slurm(), journal.jobs(false).stream()
                    .filter(r -> s.sliceJobs.contains(r.id())).toList());
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /**
     * Lets jobs of other users reach their directories: the home and its {@code jobs/} can be passed
     * through by everyone (listed by nobody else), while the journal, which holds every submission,
     * is the daemon's alone.
     */
    private static void openHomeToJobs(Path home) {
        try {
            java.nio.file.Files.createDirectories(home.resolve("jobs"));
            for (Path dir : List.of(home, home.resolve("jobs"))) {
                var perms = java.nio.file.Files.getPosixFilePermissions(dir);
                perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
                perms.add(java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE);
                java.nio.file.Files.setPosixFilePermissions(dir, perms);
            }
            for (String f : List.of("journal.db", "journal.db-wal", "journal.db-shm")) {
                Path p = home.resolve(f);
                // SQLite gives the WAL and shared-memory files it creates the database's mode.
                if (!java.nio.file.Files.exists(p)) {
                    if (!f.equals("journal.db")) continue;
                    java.nio.file.Files.createFile(p);
                }
                java.nio.file.Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot set up " + home + " for jobs of other users: " + e.getMessage(), e);
        }
    }

    /** What {@link #start} found and did, one line each, for the operator. */
    public List<String> recoveryReport() {
        return List.copyOf(recovery);
    }

    public NodeJournal journal() {
        return journal;
    }

    /** The node's GPU models, by index. */
    public List<GpuModel> models() {
        return models;
    }

    public List<GpuModel> gpus() {
        return models;
    }

    // ------------------------------------------------------------------ recovery

    /** Integrates board energy and attributes it to attempts; its own thread. */
    private final java.util.concurrent.ScheduledExecutorService energy = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "energy");
                t.setDaemon(true);
                return t;
            });
    private final BoardMeter meter;
    private double lastTickS;

    /** The per-attempt energy model, named next to every per-attempt figure. */
    public static final String ENERGY_MODEL = dev.migm.energy.ChipShareAttribution.NAME;

    /**
     * Attributes each GPU's board energy since the last tick to the attempts holding instances on it
     * ({@link BoardMeter}, model {@value #ENERGY_MODEL}); added to each attempt's {@code energy_j}
     * and to its instance's metric.
     */
    private void attributeEnergy() {
        try {
            double now = nowS();
            Map<Object, Slot> holders = new LinkedHashMap<>();
            for (JobView v : engineJobs()) {
                v.holding().ifPresent(a -> holders.put(v.spec().id() + "/" + a.number(), a.slot()));
            }
            BoardMeter.Tick tick = meter.tick(holders);
            double dt = now - lastTickS;
            timeline.meanPower(lastTickS, now, tick.gpuJoules());
            // The live view's window, kept whether or not anyone looks: a daemon runs for months.
            timeline.forgetBefore(now - LIVE_WINDOW_S);
            lastTickS = now;
            Map<String, Double> shares = new LinkedHashMap<>();
            List<NodeMetrics.Share> byJob = new ArrayList<>();
            tick.byHolder().forEach((key, joules) -> {
                if (joules > 0) {
                    String attempt = (String) key;
                    shares.put(attempt, joules);
                    byJob.add(new NodeMetrics.Share(holders.get(key), attempt.substring(0, attempt.lastIndexOf('/')), joules));
                }
            });
            metrics.energyTick(tick.counterJoules(), tick.idleJoules(), dt, byJob);
            if (!shares.isEmpty()) journal.addAttemptEnergy(shares);
        } catch (RuntimeException e) {
            // a tick lost (the journal busy, the service closing): the next one measures from here
        }
    }

    /** A job taken over from the journal, and what became of its open attempt while migm was away. */
    private record Taken(JobSpec spec, List<Attempt> attempts, boolean running, Optional<Outcome> endedAway,
                         NodeJournal.JobRow row) {
    }

    private void recover() {
        long startedNanos = System.nanoTime();
        recovery.addAll(journal.openingNotes());
        List<NodeJournal.JobRow> open = journal.jobs(false);
        List<Taken> taken = new ArrayList<>();
        int adopted = 0;
        int endedAway = 0;
        int lost = 0;
        int waiting = 0;
        Map<Integer, Set<Instance>> inUse = new LinkedHashMap<>();
        List<String> unreplayable = new ArrayList<>();
        for (NodeJournal.JobRow row : open) {
            SubmittedJob job;
            JobSpec spec;
            List<Attempt> attempts = new ArrayList<>();
            NodeJournal.AttemptRow last = null;
            try {
                job = submittedJob(row);
                spec = spec(row, job, row.submittedAtS());
                for (NodeJournal.AttemptRow a : journal.attempts(row.id())) {
                    attempts.add(new Attempt(row.id(), a.number(), slot(a), a.launchedAtS(), a.startProgress()));
                    last = a;
                }
            } catch (RuntimeException e) {
                // A record this migm cannot take over (accepted by a laxer migm, or damaged) fails its
                // job with the reason; it never keeps the node from starting. Its process, if one
                // still runs, is left alone: without its record migm cannot know it.
                String reason = JournalCheck.failedBecause(JournalCheck.oneLine(e));
                journal.append(new dev.migm.engine.EngineRecord.Failed(journal.lastClockS(), row.id(), reason));
                unreplayable.add(row.id());
                recovery.add("job " + row.id() + " failed: " + reason);
                continue;
            }
            if (last != null && last.endedAtS() != null && (row.state().equals("running") || row.state().equals("starting"))) {
                // migm died between recording the attempt's exit and what follows from it (done, a retry):
                // the recorded exit is handed to the engine again, so that a completed job ends done
                // instead of running a second time.
                taken.add(new Taken(spec, attempts, true, Optional.of(last.recordedOutcome(
                        recoveredCheckpoint(jobDir(row.id()).resolve("checkpoints"), job.steps()))), row));
                endedAway++;
                continue;
            }
            if (last == null || last.endedAtS() != null) {
                taken.add(new Taken(spec, attempts, false, Optional.empty(), row));
                waiting++;
                continue;
            }
            Attempt attempt = attempts.getLast();
            Path prefix = Supervisor.prefix(jobDir(row.id()), attempt.number());
            Path checkpoints = jobDir(row.id()).resolve("checkpoints");
            boolean instanceThere = attempt.slot().instance().map(i -> backend.layout(attempt.slot().gpu())
                    .instances().contains(i)).orElse(true);
            switch (Supervisor.abandonIfNotStarted(prefix)) {
                case Supervisor.Found.Running r when instanceThere -> {
                    taken.add(new Taken(spec, attempts, true, Optional.empty(), row));
                    attempt.slot().instance().ifPresent(i -> inUse.computeIfAbsent(attempt.slot().gpu(),
                            g -> new java.util.HashSet<>()).add(i));
                    adopted++;
                }
                case Supervisor.Found.Running r -> {
                    // its instance is gone (a GPU reset): the process cannot be using the GPU any more
                    r.jobPid().ifPresent(ProcessExecutor::killOrphan);
                    taken.add(new Taken(spec, attempts, true, Optional.of(new Outcome.Stopped(
                            "its instance " + attempt.slot() + " was gone when migm restarted",
                            recoveredCheckpoint(checkpoints, job.steps()))), row));
                    lost++;
                }
                case Supervisor.Found.Exited x -> {
                    String tail = ProcessExecutor.errTail(jobDir(row.id()), attempt.number());
                    taken.add(new Taken(spec, attempts, true, Optional.of(ProcessExecutor.outcome(attempt,
                            OptionalInt.of(x.status()), tail, recoveredCheckpoint(checkpoints, job.steps()), null, 0, 0)), row));
                    endedAway++;
                }
                case Supervisor.Found.Gone g -> {
                    g.orphanPid().ifPresent(ProcessExecutor::killOrphan);
                    taken.add(new Taken(spec, attempts, true, Optional.of(new Outcome.Stopped(
                            "its process was lost while migm was down (killed, or the node rebooted)",
                            recoveredCheckpoint(checkpoints, job.steps()))), row));
                    lost++;
                }
            }
        }
        reconcileInstances(inUse);
        // Each launch's device and supervisor are recorded with the attempt (what a restart re-attaches to).
        UnaryOperator<Executor> recording = process -> new Executor() {
            @Override
            public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
                process.launch(attempt, spec, sink);
                String device = backend.deviceName(attempt.slot());
                journal.attemptProcess(spec.id(), attempt.number(), device, executor.supervisorPid(spec.id()));
            }

            @Override
            public void stop(Attempt attempt, String why) {
                process.stop(attempt, why);
            }
        };
        // The metrics see each record as it is journaled (the engine's thread).
        node = LiveNode.start(new LiveNode.Parts(settings.home(), backend, this::launchOf, settings.policy(),
                settings.timeScale(), settings.sampleS(), settings.graceS(), LiveNode.all(List.of(journal, metrics::observe,
                timeline::append)), new dev.migm.store.JournalHistory(journal, LiveNode.HISTORY), journal.lastClockS(),
                recording, LiveNode.runtimeOf(journal, models)));
        executor = node.executor();
        executor.leaveMemoryUnjudged(sliceJobs::contains);
        loop = node.loop();
        List<Taken> order = taken;
        Set<String> refused = ConcurrentHashMap.newKeySet();
        // One transaction for the take-over: the engine launches nothing until it returns (its next
        // scheduling round), and 10,000 jobs are one commit instead of 20,000.
        Set<Integer> drained = journal.drainedGpus();
        await(loop.ask(engine -> {
            // An ended job lives on in the journal (status, logs, history read it there): the engine
            // forgets it, so that a daemon's memory holds its live jobs, not every job it ever ran.
            // Ids come from the journal and are never reused.
            engine.addListener(new EngineListener() {
                @Override
                public void jobEnded(JobView job) {
                    engine.forget(job.spec().id());
                }
            });
            journal.inOneTransaction(() -> {
                // Drains first: the first scheduling round must not place work on a drained GPU.
                for (int g : drained) {
                    if (g < models.size()) engine.handle(new EngineEvent.DrainGpu(g, true));
                }
                // The bounds on stops at a checkpoint for a waiting job (once per job, never chained)
                // hold across the restart: the journaled stops of the jobs taken back say who yielded to
                // whom (a job whose yielder had ended before is not marked: it may be yielded to again).
                Set<String> yielders = new java.util.HashSet<>();
                Set<String> yieldedTo = new java.util.HashSet<>();
                for (Taken t : order) {
                    List<String> forJobs = journal.yieldedFor(t.spec().id());
                    if (!forJobs.isEmpty()) yielders.add(t.spec().id());
                    yieldedTo.addAll(forJobs);
                }
                for (Taken t : order) {
                    try {
                        engine.recover(t.spec(), t.attempts(), t.running(), t.row().needMib(), t.row().needSource(),
                                t.row().progress(), t.row().reason(), yielders.contains(t.spec().id()),
                                yieldedTo.contains(t.spec().id()));
                    } catch (RuntimeException e) {
                        String reason = JournalCheck.failedBecause(JournalCheck.oneLine(e));
                        journal.append(new dev.migm.engine.EngineRecord.Failed(journal.lastClockS(), t.spec().id(),
                                reason));
                        refused.add(t.spec().id());
                        recovery.add("job " + t.spec().id() + " failed: " + reason);
                    }
                }
            });
            return null;
        }));
        largest = Admission.largest(models, await(loop.ask(Engine::largestSlotsMib)));
        health = node.health();
        for (Taken t : taken) {
            if (!t.running() || refused.contains(t.spec().id())) continue;
            Attempt a = t.attempts().getLast();
            if (t.endedAway().isPresent()) {
                loop.post(new EngineEvent.AttemptExited(t.spec().id(), a.number(), t.endedAway().get()));
            } else {
                executor.adopt(a, loop::post);
            }
        }
        // A cancel asked for before the crash still holds: asked again once the attempts are
        // re-attached (the engine stops the attempt, or ends the waiting job, as for any cancel).
        for (Taken t : taken) {
            if (refused.contains(t.spec().id())) continue;
            journal.cancelRequestedBy(t.spec().id()).ifPresent(by -> loop.post(new EngineEvent.CancelJob(t.spec().id(), by)));
        }
        if (!open.isEmpty() || adopted + endedAway + lost > 0) {
            recovery.add(String.format(java.util.Locale.ROOT, "recovered %d unfinished jobs: %d running (re-attached),"
                            + " %d ended while migm was down, %d lost (requeued from their checkpoints), %d waiting,"
                            + " %d failed (records this migm cannot replay), in %d ms", open.size(), adopted, endedAway,
                    lost, waiting, unreplayable.size() + refused.size(), (System.nanoTime() - startedNanos) / 1_000_000));
        }
        synchronized (parsedSubmissions) {
            parsedSubmissions.clear();
        }
        long periodMs = Math.max(1000, Math.round(1000 / settings.timeScale()));
        lastTickS = nowS();
        startedAtS = lastTickS;
        energy.scheduleAtFixedRate(this::attributeEnergy, periodMs, periodMs, TimeUnit.MILLISECONDS);
        // The engine's records wait at most this long for their commit when the engine is idle.
        energy.scheduleWithFixedDelay(() -> {
            try {
                journal.flush();
            } catch (RuntimeException e) {
                // the journal failing: the next append says so to the engine
            }
        }, NodeJournal.MAX_PENDING_MS, NodeJournal.MAX_PENDING_MS, TimeUnit.MILLISECONDS);
        journal.note(loop.timers().nowS(), "ServiceStarted", null, recovery.isEmpty() ? "started" : String.join("; ", recovery));
    }

    /**
     * Destroys idle instances migm created (the journal's instances table) that no adopted attempt
     * uses; leaves instances migm did not create alone and reports them; forgets created instances
     * that are gone (a reboot, a GPU reset).
     */
    private void reconcileInstances(Map<Integer, Set<Instance>> inUse) {
        // The journal's clock never goes back: a daemon run faster than the wall clock left it ahead.
        double now = Math.max(System.currentTimeMillis() / 1000.0, journal.lastClockS());
        for (int g = 0; g < models.size(); g++) {
            Layout layout = backend.layout(g);
            Set<String> created = journal.createdInstances(g);
            List<Instance> idleOurs = new ArrayList<>();
            List<String> foreign = new ArrayList<>();
            for (Instance i : layout.instances()) {
                boolean used = inUse.getOrDefault(g, Set.of()).contains(i);
                if (created.contains(i.toString())) {
                    if (!used) idleOurs.add(i);
                } else if (!used) {
                    foreign.add(i.toString());
                }
            }
            long gone = created.stream().filter(c -> layout.instances().stream().noneMatch(i -> i.toString().equals(c)))
                    .count();
            if (gone > 0) recovery.add("gpu" + g + ": " + gone + " instance(s) migm had created or planned are not there"
                    + " (a reboot, a reset, or a plan cut short)");
            if (!foreign.isEmpty()) {
                recovery.add("gpu" + g + ": left alone instance(s) migm did not create: " + String.join(", ", foreign));
            }
            if (!idleOurs.isEmpty()) {
                Layout result = layout;
                List<PlanOp> ops = new ArrayList<>();
                for (Instance i : idleOurs) {
                    ops.add(new PlanOp.Destroy(i));
                    result = result.without(i);
                }
                CompletableFuture<Optional<String>> done = new CompletableFuture<>();
                int gpu = g;
                backend.apply(g, new Plan.Possible(layout, Plan.Kind.TRANSITION, ops, Optional.empty(), result), 0,
                        event -> {
                            if (event instanceof EngineEvent.ReconfigurationFinished f && f.gpu() == gpu) {
                                done.complete(f.failure());
                            }
                        });
                Optional<String> failure;
                try {
                    failure = done.get(120, TimeUnit.SECONDS);
                } catch (Exception e) {
                    failure = Optional.of("no answer: " + e.getMessage());
                }
                recovery.add("gpu" + g + ": destroyed " + idleOurs.size() + " idle instance(s) migm had created"
                        + failure.map(f -> " (not all: " + f + ")").orElse(""));
            }
            journal.instancesNowAre(g, backend.layout(g), now);
        }
    }

    private Slot slot(NodeJournal.AttemptRow a) {
        return Slot.recorded(a.gpu(), models.get(a.gpu()), a.instance());
    }

    /** Submissions parsed during recovery, by id: a batch of n jobs is parsed once, not n times. */
    private final Map<Long, List<SubmittedJob>> parsedSubmissions = new java.util.HashMap<>();

    private SubmittedJob submittedJob(NodeJournal.JobRow row) {
        return submitted.computeIfAbsent(row.id(), id -> {
            NodeJournal.Submission s = journal.submission(row.submission());
            SubmittedJob job;
            synchronized (parsedSubmissions) {
                job = JournalCheck.replay(s, row.index(), parsedSubmissions);
            }
            submitDirs.put(id, Path.of(s.cwd()));
            if (s.source().startsWith(SlurmSlices.SOURCE_PREFIX)) sliceJobs.add(id);
            return job;
        });
    }

    /**
     * The checkpoint interval a replayed job that checkpoints is given: the journal keeps that it
     * checkpoints, not how often (it matters only to a replayed attempt that is stopped).
     */
    static final double REPLAY_CHECKPOINT_S = 300;

    /** A trace of the node's finished jobs, for what-if replay ({@link #exportTrace}). */
    public record ExportedTrace(String text, int jobs, String gpus, double firstSubmitS, double lastEndS) {
    }

    /**
     * The jobs that completed, submitted at or after {@code sinceS} (the journal's clock), as a
     * {@code migm-trace v1} trace: each job's real arrival (relative to the first), what its submitter
     * declared (memory, expected time, and the parameters its estimators read: the {@code params}
     * column, without which a replay estimates the jobs worse than the node did), its observed memory peak (flat: the trace knows no growth), and its observed run time
     * on its instance turned into time alone on a whole GPU by its class's scaling prior (the
     * scaling no single run measures; {@link dev.migm.estimate.LearnedRuntime}'s priors), with
     * activity 0.5 (nothing measures it per job) and, for a job that checkpoints, a checkpoint every
     * {@link #REPLAY_CHECKPOINT_S} s. Jobs that failed or were cancelled are left out:
     * their work is unknown.
     */
    public ExportedTrace exportTrace(double sinceS) {
        Map<Long, List<SubmittedJob>> parsed = new java.util.HashMap<>();
        List<dev.migm.workload.TraceJob> out = new ArrayList<>();
        double first = Double.POSITIVE_INFINITY;
        double last = Double.NEGATIVE_INFINITY;
        List<NodeJournal.JobRow> done = journal.jobs(true).stream()
                .filter(r -> r.state().equals("done") && r.submittedAtS() >= sinceS).toList();
        for (NodeJournal.JobRow row : done) first = Math.min(first, row.submittedAtS());
        for (NodeJournal.JobRow row : done) {
            NodeJournal.Submission s = journal.submission(row.submission());
            SubmittedJob job;
            try {
                job = JournalCheck.replay(s, row.index(), parsed);
            } catch (RuntimeException e) {
                continue; // a record this migm cannot read: its job is left out of the trace
            }
            JobSpec spec = spec(row, job, row.submittedAtS() - first);
            NodeJournal.AttemptRow completed = null;
            for (NodeJournal.AttemptRow a : journal.attempts(row.id())) {
                if ("completed".equals(a.outcome()) && a.endedAtS() != null) completed = a;
            }
            if (completed == null) continue;
            Slot slot = slot(completed);
            double start = completed.runningAtS() != null ? completed.runningAtS() : completed.launchedAtS();
            double workShare = Math.max(0.01, 1 - completed.startProgress());
            double[] prior = dev.migm.estimate.LearnedRuntime.priorScaling(spec.jobClass());
            double onSlotS = Math.max(0.1, completed.endedAtS() - start) / workShare;
            double wholeS = onSlotS / dev.migm.workload.RuntimeModel.slowdown(prior[0], prior[1], slot.sms(),
                    models.get(slot.gpu()).sms());
            long peak = completed.peakMib() != null && completed.peakMib() > 0 ? completed.peakMib() : row.needMib();
            out.add(new dev.migm.workload.TraceJob(spec, new dev.migm.workload.WorkloadModel(wholeS, prior[0], prior[1],
                    Math.max(1, peak), Math.max(1, peak), 0.5, spec.checkpoints() ? REPLAY_CHECKPOINT_S : 0, false)));
            last = Math.max(last, completed.endedAtS());
        }
        java.io.StringWriter text = new java.io.StringWriter();
        dev.migm.sim.TraceWriter w = new dev.migm.sim.TraceWriter(text);
        w.header();
        w.comment("replayed from " + journal.file() + ": " + out.size() + " completed jobs submitted at or after "
                + sinceS + " s of its clock; arrivals relative to the first; observed peaks; run times on their"
                + " instances as whole-GPU times by class scaling priors; activity 0.5");
        out.forEach(w::job);
        String gpus = String.join(",", models.stream().map(GpuModel::name).toList());
        return new ExportedTrace(text.toString(), out.size(), gpus, out.isEmpty() ? 0 : first,
                out.isEmpty() ? 0 : last);
    }

    /**
     * A job's checkpoint as a restarted node finds it: its step, as old as the attempt (the engine
     * restarts its reckoning of a recovered attempt when it takes it over, so a checkpoint's age before
     * that says nothing it could use).
     */
    private Checkpoint recoveredCheckpoint(Path checkpoints, java.util.OptionalLong declaredSteps) {
        return Checkpoint.written(dev.migm.exec.WorkloadHelper.readCheckpointStep(checkpoints), declaredSteps,
                Double.POSITIVE_INFINITY);
    }

    /** The engine's view of a submitted job: its id, its arrival and what the submitter declared. */
    private static JobSpec spec(NodeJournal.JobRow row, SubmittedJob job, double atS) {
        return job.toJobSpec().at(row.id(), atS);
    }

    /**
     * How a job starts: as its submitter when the service runs as root ({@link Users#runAs}), then by
     * default in the directory it was submitted from (as {@code sbatch} does: the job's directory is
     * root's), otherwise in its job directory.
     */
    private ProcessExecutor.Launch launchOf(String id) {
        SubmittedJob job = submitted.get(id);
        // The journal is read on the engine's thread only when the launch needs it: a job taken over
        // at start, or a submitter to run as.
        NodeJournal.JobRow row = job != null && !settings.access().runAsSubmitter() ? null
                : journal.job(id).orElseThrow(() -> new IllegalStateException("no job " + id));
        if (job == null) job = submittedJob(row);
        ProcessExecutor.Launch l = Launches.of(job, settings.helper(), submitDirs.get(id));
        if (row == null) return l;
        Optional<dev.migm.exec.RunAs> runAs = users.runAs(row.user());
        if (runAs.isEmpty()) return l;
        return l.as(runAs, l.workdir() != null ? l.workdir() : submitDirs.get(id));
    }

    /** The directory of a job's logs and checkpoints. */
    public Path jobDir(String id) {
        return settings.home().resolve("jobs").resolve(id);
    }

    // ------------------------------------------------------------------ requests

    /**
     * Accepts a job or batch file sent by {@code user} from {@code cwd}: all its jobs or none (any
     * invalid job refuses the whole file with the reason). Returns the new ids once they are durable.
     */
    public List<String> submit(String user, String source, String cwd, String text) {
        return submit(user, source, cwd, text, false);
    }

    /** Submits the holder of a Slurm job's slice ({@link SlurmSlices}) as {@code user}; its id. */
    String submitSlice(String user, String source, String cwd, String text) {
        return submit(user, source, cwd, text, true).getFirst();
    }

    private List<String> submit(String user, String source, String cwd, String text, boolean slice) {
        List<SubmittedJob> jobs = BatchFile.parse(text, source);
        users.checkMaySubmit(user);
        Optional<dev.migm.exec.CommandCheck.User> as = slice ? Optional.empty() : users.commandUser(user);
        for (SubmittedJob job : jobs) {
            Admission.checkFits(source, job.toJobSpec(), job.name(), largest);
            if (as.isPresent()) {
                Admission.checkCanStart(source, job.name(), Launches.of(job, settings.helper(), Path.of(cwd)),
                        settings.home().resolve("jobs").toAbsolutePath(), as.get(), users.jobPath(user));
            }
        }
        double now = loop.timers().nowS();
        List<String> ids = journal.submit(now, user, source, cwd, text,
                jobs.stream().map(j -> new NodeJournal.NewJob(j.name())).toList());
        for (int i = 0; i < jobs.size(); i++) {
            SubmittedJob job = jobs.get(i);
            String id = ids.get(i);
            submitted.put(id, job);
            submitDirs.put(id, Path.of(cwd));
            if (slice) sliceJobs.add(id);
            JobSpec s = job.toJobSpec();
            JobSpec at = s.at(id, now + s.submitS());
            if (s.submitS() > 0) {
                loop.timers().at(at.submitS(), new EngineEvent.JobSubmitted(at), loop::post);
            } else {
                loop.post(new EngineEvent.JobSubmitted(at));
            }
        }
        return ids;
    }

    /** Asks to cancel a job; only its submitter or an admin may. The answer says what happens. */
    public String cancel(String user, String id) {
        NodeJournal.JobRow row = journal.job(id).orElseThrow(() -> new Refused(404, "no job " + id));
        users.checkOwnerOrAdmin(user, row.user(), id, "cancel it");
        if (row.ended()) {
            throw new Refused(409, "job " + id + " already ended " + row.state());
        }
        loop.post(new EngineEvent.CancelJob(id, user));
        return row.state().equals("queued") || row.state().equals("submitted") ? "cancelled" : "stopping";
    }

    /** Cancels a slice's holder that never ran (its Slurm job ended while it waited). */
    void cancelSlice(String id, String user) {
        loop.post(new EngineEvent.CancelJob(id, user));
    }

    /** Whether {@code user} is one of the service's admins (root, its own user, its admin group). */
    boolean isAdmin(String user) {
        return users.isAdmin(user);
    }

    /** What every process on this node's GPUs needs in its environment (the backend's). */
    Map<String, String> deviceEnvironment() {
        return backend.environment();
    }

    /** Slices for Slurm's jobs on this node. */
    public SlurmSlices slurm() {
        return slurm;
    }

    /** Refuses reading a job's logs to anyone but its submitter and the admins. */
    public void checkMayReadLogs(String user, NodeJournal.JobRow job) {
        users.checkOwnerOrAdmin(user, job.user(), job.id(), "read its logs");
    }

    /** Drains a GPU (no new work; what runs finishes) or returns it to service; admins only. */
    public void drain(String user, int gpu, boolean drain) {
        if (!users.isAdmin(user)) {
            throw new Refused(403, "only an admin (root, the daemon's user or its admin group) may drain or resume a GPU");
        }
        if (gpu < 0 || gpu >= models.size()) {
            throw new Refused(404, "no gpu" + gpu + " (this node has " + models.size() + ")");
        }
        loop.post(new EngineEvent.DrainGpu(gpu, drain));
    }

    /** Why a waiting job does not run now, if the engine can say. */
    public Optional<Unplaceable> whyWaiting(String id) {
        return await(loop.ask(e -> e.explain(id)));
    }

    /** Why each of these waiting jobs does not run now, where the engine can say: one question for all. */
    public Map<String, String> waitingReasons(List<String> ids) {
        return await(loop.ask(e -> e.waitingReasons(ids)));
    }

    /** What the engine holds now (job states as the journal has them are also current). */
    public List<JobView> engineJobs() {
        return await(loop.ask(e -> List.copyOf(e.jobs())));
    }

    /** Each GPU's status: ok, draining or lost. */
    public List<String> gpuStatus() {
        return await(loop.ask(e -> e.snapshot().gpuStatus()));
    }

    /** The layout each GPU has now, read from the backend. */
    public Layout layout(int gpu) {
        return backend.layout(gpu);
    }

    /** The device name ({@code MIG-<uuid>}) of an instance. */
    public String deviceName(int gpu, Instance instance) {
        return backend.deviceName(Slot.of(gpu, instance));
    }

    /** The clock the journal's times are on. */
    public double nowS() {
        return loop.timers().nowS();
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the engine did not answer: " + e.getMessage(), e);
        }
    }

    /**
     * Stops the service and leaves the jobs running under their supervisors: the next service
     * re-attaches to them. Idle instances stay for it to reuse or destroy.
     */
    @Override
    public void close() {
        // First the engine stops starting anything: nothing is launched while the rest shuts down.
        if (loop != null) {
            try {
                loop.ask(e -> {
                    e.stopLaunching();
                    return null;
                }).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the engine's thread is gone or stuck: closing the loop below stops it either way
            }
        }
        if (backend instanceof dev.migm.backend.EmulatedGpuBackend emulated) emulated.keepInstancesOnClose();
        if (slurm != null) slurm.close();
        energy.shutdownNow();
        if (health != null) health.close();
        if (loop != null) loop.close();
        if (executor != null) executor.detach();
        journal.close();
    }

    /**
     * A request the service refuses, with the HTTP status the API answers: 404 no such job or GPU,
     * 403 not the caller's to do, 409 contradicts the job's state.
     */
    public static final class Refused extends RuntimeException {
        private final int status;

        public Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }
}
