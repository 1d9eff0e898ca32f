package dev.migm.cli;

import dev.migm.engine.JobState;
import dev.migm.engine.JobView;
import dev.migm.backend.LiveBackend;
import dev.migm.engine.Engine;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EngineLoop;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.InMemoryJournal;
import dev.migm.engine.JobSpec;
import dev.migm.exec.ProcessExecutor;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.spec.BatchFile;
import dev.migm.spec.SubmittedJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code migm run}: runs a job file to completion in one process, with real processes, on emulated
 * MIG GPUs ({@code --backend emulated}, the default) or this node's MIG GPUs through NVML ({@code
 * --backend nvml}), with the engine, policies, estimators and restart logic the simulator runs. On
 * the emulated GPU, jobs that carry a {@code workload:} section are played by {@code migm workload}
 * (their command names a program this machine does not have); every other job, and every job on
 * real GPUs, runs its command.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run a job file to completion with real processes, on"
        + " emulated MIG GPUs or the node's own through NVML.", footerHeading = "%nExamples:%n",
        footer = {"  migm run examples/batch-demo.yaml --time-scale 20",
                "  migm run jobs.yaml --gpu A100-40GB:2 --policy migm --json",
                "  migm run jobs.yaml --backend nvml      (the node's MIG GPUs; jobs run their command)"})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "JOBS", description = "a job file (version: v1)")
    Path file;

    @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "emulated GPU model, or a mix like A100-40GB:2"
            + " (default ${DEFAULT-VALUE})")
    String gpu;

    @Option(names = "--gpus", defaultValue = "1", description = "number of GPUs of --gpu (default ${DEFAULT-VALUE})")
    int gpuCount;

    @Option(names = "--policy", completionCandidates = Candidates.Policies.class, defaultValue = "migm", description = "scheduling policy (default ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--time-scale", defaultValue = "1", description = "modelled seconds per second for the emulated GPU"
            + " and the workload helper; reported times are modelled (default ${DEFAULT-VALUE})")
    double timeScale;

    @Option(names = "--home", description = "migm's home: run directories and the emulated GPU's state (default:"
            + " $MIGM_HOME, else ./.migm)")
    Path home;

    @Option(names = "--backend", defaultValue = "emulated", description = "emulated (MIG GPUs of --gpu, emulated,"
            + " with real processes), nvml (this node's GPUs with MIG on, through NVML; every job runs its command,"
            + " --time-scale must be 1) or auto (nvml when NVML has a GPU migm can drive, else emulated, saying why)"
            + " (default ${DEFAULT-VALUE})")
    String backendName;

    @Option(names = "--allow-mig-mode-change", description = "let migm turn MIG off and on on idle GPUs of this node"
            + " (NVML; Hopper and newer, which need no reset; root). Without it migm never changes a real GPU's mode")
    boolean allowMigModeChange;

    @Option(names = "--nvml-library", defaultValue = dev.migm.nvml.Nvml.DEFAULT_LIBRARY,
            description = "the NVML library for --backend nvml (default ${DEFAULT-VALUE})")
    String nvmlLibrary;

    @picocli.CommandLine.Mixin
    ExecutorOptions executorOptions = new ExecutorOptions();

    @Option(names = "--json", description = "JSON summary: {schema, run: (the keys of a simulate row), jobs}")
    boolean json;

    @Option(names = "--quiet", description = "no line per event")
    boolean quiet;

    @Option(names = "--view", defaultValue = "auto", description = "live (a view redrawn in place: jobs by state, each"
            + " GPU's layout and who runs where), events (one line per event) or auto (live on a terminal, else"
            + " events) (default ${DEFAULT-VALUE})")
    String view;

    @Override
    public Integer call() throws Exception {
        List<SubmittedJob> jobs = BatchFile.read(file);
        double sampleS = executorOptions.sampleS();
        double graceS = executorOptions.graceS();
        if (!List.of("auto", "live", "events").contains(view)) {
            throw new InvalidInputException("--view: expected auto, live or events, got " + dev.migm.io.TextFiles.quote(view));
        }
        boolean live = !json && !quiet && (view.equals("live")
                || view.equals("auto") && System.console() != null && System.console().isTerminal());
        Path base = home(home);
        prepareHome(base, home != null ? "--home" : System.getenv("MIGM_HOME") != null ? "MIGM_HOME" : "home");
        PrintWriter out = spec.commandLine().getOut();
        LiveBackends.Opened opened = LiveBackends.open(backendName, gpu, gpuCount, base, timeScale, nvmlLibrary,
                json ? line -> { } : out::println, spec.commandLine().getErr(), dev.migm.emu.FaultInjector.NONE,
                allowMigModeChange);
        dev.migm.nvml.Nvml nvml = opened.nvml();
        boolean emulated = opened.emulated();
        LiveBackend backend = opened.backend();
        List<GpuModel> models = backend.gpus();
        dev.migm.backend.BoardMeter meter = new dev.migm.backend.BoardMeter(backend);
        dev.migm.report.Timeline.Recorder timeline = new dev.migm.report.Timeline.Recorder(models);
        Map<String, Double> jobJoules = new LinkedHashMap<>();
        Path runDir = base.resolve("runs").resolve(java.time.LocalDateTime.now().format(
                java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + ProcessHandle.current().pid());
        Files.createDirectories(runDir);
        Map<String, SubmittedJob> byName = new LinkedHashMap<>();
        jobs.forEach(j -> byName.put(j.name(), j));
        InMemoryJournal journal = new InMemoryJournal();
        double[] t0 = new double[1];
        // What this run learns stays under the home, for the next run and for migm history.
        dev.migm.service.LiveNode.RunHistory history = dev.migm.service.LiveNode.RunHistory.open(base,
                "run-" + runDir.getFileName(), models);
        dev.migm.service.LiveNode node = dev.migm.service.LiveNode.start(new dev.migm.service.LiveNode.Parts(runDir,
                backend, name -> launch(byName.get(name), emulated), policy, timeScale, sampleS, graceS, record -> {
                    journal.append(record);
                    timeline.append(record);
                    history.learned(record);
                    if (!json && !quiet && !live) event(out, record, t0[0]);
                }, history.history(), 0, e -> e, dev.migm.service.LiveNode.runtimeOf(history.journal(), models)));
        ProcessExecutor executor = node.executor();
        EngineLoop loop = node.loop();
        // The engine's clock and the wall clock at one moment: a record's modelled time gives its wall time.
        double[] anchor = {loop.timers().nowS(), System.currentTimeMillis() / 1000.0};
        // Ctrl-C: the engine stops deciding first (nothing is requeued or relaunched), then every job's
        // process group gets SIGTERM and SIGKILL after the grace period, then the instances go.
        java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
        dev.migm.nvml.Nvml nvmlToClose = nvml;
        Thread cleanup = new Thread(() -> {
            interrupted.set(true);
            node.close();
            executor.close();
            backend.close();
            history.close();
            if (nvmlToClose != null) nvmlToClose.close();
            out.println("interrupted: every job's processes stopped, " + backend.closingNote() + "; run directory " + runDir);
            out.flush();
        });
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            // The node's door, as the daemon's: needs no GPU here can hold, commands that cannot start.
            dev.migm.service.Admission.Largest largest = dev.migm.service.Admission.largest(models,
                    loop.ask(Engine::largestSlotsMib).get(30, TimeUnit.SECONDS));
            dev.migm.exec.CommandCheck.User self = dev.migm.exec.CommandCheck.User.self();
            for (SubmittedJob j : jobs) {
                dev.migm.service.Admission.checkFits(file.toString(), j.toJobSpec(), j.name(), largest);
                dev.migm.service.Admission.checkCanStart(file.toString(), j.name(), launch(j, emulated),
                        runDir.toAbsolutePath(), self, System.getenv().getOrDefault("PATH",
                                dev.migm.exec.CommandCheck.RESET_PATH));
            }
            t0[0] = loop.timers().nowS();
            lastTickS = t0[0];
            double lastSubmitS = t0[0];
            for (SubmittedJob j : jobs) {
                JobSpec s = j.toJobSpec();
                JobSpec at = s.at(s.id(), t0[0] + s.submitS());
                loop.timers().at(at.submitS(), new EngineEvent.JobSubmitted(at), loop::post);
                lastSubmitS = Math.max(lastSubmitS, at.submitS());
            }
            // The file is the whole input: after its last job, nothing more comes (TailGrowth may act).
            loop.timers().at(lastSubmitS, new EngineEvent.InputClosed(lastSubmitS), loop::post);
            int drawn = 0;
            long lastDrawNanos = 0;
            while (!interrupted.get()) {
                long ended = meterTick(loop, meter, jobJoules, timeline);
                if (live && (ended == jobs.size() || System.nanoTime() - lastDrawNanos >= 1_000_000_000L)) {
                    drawn = draw(out, loop, backend, t0[0], drawn);
                    lastDrawNanos = System.nanoTime();
                }
                if (ended == jobs.size()) break;
                Thread.sleep(pollMillis(timeScale));
            }
            meterTick(loop, meter, jobJoules, timeline);
            double energy = backend.energyJoules();
            var views = loop.ask(Engine::jobs).get(30, TimeUnit.SECONDS);
            var counted = loop.ask(Engine::counters).get(30, TimeUnit.SECONDS);
            double endS = loop.timers().nowS();
            // The peak each job's completed attempt showed, as the engine learned it.
            Map<String, Long> peaks = new java.util.HashMap<>();
            for (EngineRecord r : journal.records()) {
                if (r instanceof EngineRecord.Learned l && l.what().equals("completed")) peaks.put(l.jobId(), l.mib());
            }
            List<dev.migm.report.Timeline.JobLine> lines = new ArrayList<>();
            for (JobView v : views) {
                lines.add(new dev.migm.report.Timeline.JobLine(v.spec().id(), v.spec().id(), System.getProperty("user.name"),
                        v.state().name().toLowerCase(Locale.ROOT),
                        v.attempts().size(), v.attempts().isEmpty() ? "" : v.attempts().getLast().slot().toString(),
                        v.needMib(), v.needSource(), peaks.getOrDefault(v.spec().id(), 0L),
                        jobJoules.getOrDefault(v.spec().id(), 0.0)));
            }
            dev.migm.report.Timeline.write(runDir.resolve("timeline.json"), List.of(timeline.build(file.getFileName()
                    .toString(), policy, emulated ? "emulated" : "nvml", t0[0], endS, lines,
                    dev.migm.energy.ChipShareAttribution.NAME).withFigures(makespan(views, t0[0]), energy)));
            return summarize(out, new ArrayList<>(views), t0[0], energy, counted, runDir, models,
                    jobJoules, meter.idleJ());
        } finally {
            if (!interrupted.get()) {
                node.close();
                executor.close();
                backend.close();
                history.close();
                if (nvmlToClose != null) nvmlToClose.close();
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
            writeEvents(runDir, journal.records(), anchor[0], anchor[1], timeScale, t0[0]);
        }
    }

    /** A duration option ({@code 10s}, {@code 2m}, {@code 500ms}) in seconds within [min, max]. */
    static double seconds(String option, String text, double min, double max) {
        double s;
        try {
            s = dev.migm.spec.Units.seconds(text, option);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(option + ": expected a duration like 10s, 2m or 500ms, got "
                    + dev.migm.io.TextFiles.quote(text));
        }
        if (!(s >= min && s <= max)) {
            throw new InvalidInputException(option + ": expected between " + min + " s and " + max + " s, got " + text);
        }
        return s;
    }

    /**
     * Makes sure {@code home} is a directory migm can use, creating it if needed: a path that is a
     * file, or cannot be created, is refused in one line naming the option.
     */
    static void prepareHome(Path home, String option) {
        if (Files.exists(home) && !Files.isDirectory(home)) {
            throw new InvalidInputException(option + ": " + home + " is not a directory");
        }
        try {
            Files.createDirectories(home);
        } catch (java.io.IOException e) {
            throw new InvalidInputException(option + ": cannot create " + home + " ("
                    + (e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage()) + ")");
        }
        if (!Files.isWritable(home)) {
            throw new InvalidInputException(option + ": " + home + " is not writable by " + System.getProperty("user.name"));
        }
    }

    /** Refuses a group the system does not know ({@code getent group}), naming the option it came from. */
    static void requireGroup(String group, String option) {
        if (group.isBlank() || group.startsWith("-") || group.contains(":")
                || dev.migm.io.Procs.output("getent", "group", group).isEmpty()) {
            throw new InvalidInputException(option + ": no group " + dev.migm.io.TextFiles.quote(group) + " on this system"
                    + " (getent group); create it (groupadd --system " + (group.matches("[A-Za-z0-9_.-]+") ? group
                    : "NAME") + ") or leave the option out");
        }
    }

    /**
     * migm's home: {@code --home}, else {@code $MIGM_HOME}, else the user's state directory by the XDG
     * base directory convention ({@code $XDG_STATE_HOME/migm}, {@code ~/.local/state/migm} without it),
     * never the directory one stands in. The Debian package's daemon has its own ({@code /var/lib/migm},
     * from {@code /etc/migm/migm.yaml}).
     */
    static Path home(Path option) {
        return home(option, System::getenv, System.getProperty("user.home"));
    }

    /** {@link #home(Path)} with the environment and the user's home directory given (tests). */
    static Path home(Path option, java.util.function.UnaryOperator<String> env, String userHome) {
        if (option != null) return option;
        String named = env.apply("MIGM_HOME");
        if (named != null && !named.isBlank()) return Path.of(named);
        // The XDG base directory specification: a relative XDG_STATE_HOME is invalid and ignored.
        String xdg = env.apply("XDG_STATE_HOME");
        Path state = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg)
                : Path.of(userHome, ".local", "state");
        return state.resolve("migm");
    }

    /** Redraws the live view over the {@code drawn} lines of the last one; the new view's line count. */
    private int draw(PrintWriter out, EngineLoop loop, LiveBackend backend, double t0, int drawn) throws Exception {
        List<JobView> views = new ArrayList<>(loop.ask(Engine::jobs).get(30, TimeUnit.SECONDS));
        List<dev.migm.gpu.Layout> layouts = new ArrayList<>();
        for (int g = 0; g < backend.gpus().size(); g++) layouts.add(backend.layout(g));
        List<String> lines = LiveView.render(file.getFileName().toString(), loop.timers().nowS() - t0, views, layouts);
        out.print(LiveView.rewind(drawn) + String.join("\n", lines) + "\n");
        out.flush();
        return lines.size();
    }

    /**
     * How often the run integrates board energy and checks for the end: once per modelled second, at
     * most ten times a wall second. Each poll reads every instance's usage (on the emulated GPU, a file
     * per process), so polling faster than the modelled second costs CPU without changing the energy:
     * the activity it integrates changes at most once per sample, and samples come once per modelled
     * second (BENCHMARKS.md section 9: 100 jobs at 1x took 6.1% of a core with a 100 ms poll).
     */
    static long pollMillis(double timeScale) {
        return Math.max(100L, Math.round(1000 / timeScale));
    }

    static ProcessExecutor.Launch launch(SubmittedJob job, boolean emulated) {
        return dev.migm.exec.Launches.of(job, emulated ? dev.migm.exec.Launches.helperCommand(Main.class.getName())
                : List.of(), null);
    }

    /**
     * The run's records for people ({@code events.log}: each line its wall-clock time in ISO-8601,
     * the modelled seconds since the run began, its kind and its words) and for tools
     * ({@code events.jsonl}: each record as the journal's typed JSON).
     */
    private static void writeEvents(Path runDir, List<EngineRecord> records, double anchorS, double anchorWallS,
                                    double timeScale, double t0) throws IOException {
        StringBuilder log = new StringBuilder();
        StringBuilder json = new StringBuilder();
        for (EngineRecord r : records) {
            log.append(String.format(Locale.ROOT, "%s %+10.1f s  %s: %s%n",
                    dev.migm.store.Times.iso(anchorWallS + (r.atS() - anchorS) / timeScale), r.atS() - t0,
                    r.getClass().getSimpleName(), dev.migm.engine.RecordText.describe(r)));
            json.append(dev.migm.store.RecordCodec.encode(r)).append('\n');
        }
        Files.writeString(runDir.resolve("events.log"), log);
        Files.writeString(runDir.resolve("events.jsonl"), json);
    }

    /** One line per event worth a person's attention while the run goes (in words: {@link dev.migm.engine.RecordText}). */
    private static void event(PrintWriter out, EngineRecord r, double t0) {
        boolean shown = switch (r) {
            case EngineRecord.Submitted _, EngineRecord.ReconfigurationPlanned _, EngineRecord.ReconfigurationFailed _,
                 EngineRecord.AttemptLaunched _, EngineRecord.AttemptExited _, EngineRecord.MigModeChangeRequested _,
                 EngineRecord.MigModeChangeEnded _, EngineRecord.StopRequested _, EngineRecord.Done _,
                 EngineRecord.Failed _ -> true;
            default -> false;
        };
        if (shown) {
            out.printf(Locale.ROOT, "%9.1f s  %s%n", r.atS() - t0, dev.migm.engine.RecordText.describe(r));
            out.flush();
        }
    }


    /** When the last energy tick was read, on the engine's clock. */
    private double lastTickS;

    /**
     * One energy tick: the board energy since the last split among the attempts holding instances
     * now ({@link dev.migm.backend.BoardMeter}), added to their jobs, and each GPU's mean power over
     * it into the timeline; returns how many jobs ended.
     */
    private long meterTick(EngineLoop loop, dev.migm.backend.BoardMeter meter, Map<String, Double> jobJoules,
                           dev.migm.report.Timeline.Recorder timeline) throws Exception {
        record State(double nowS, long ended, Map<Object, dev.migm.engine.Slot> holders) {
        }
        State s = loop.ask(e -> {
            long ended = 0;
            Map<Object, dev.migm.engine.Slot> holders = new LinkedHashMap<>();
            for (JobView v : e.jobs()) {
                switch (v.state()) {
                    case DONE, FAILED, CANCELLED -> ended++;
                    default -> v.holding().ifPresent(a -> holders.put(v.spec().id(), a.slot()));
                }
            }
            return new State(loop.timers().nowS(), ended, holders);
        }).get(30, TimeUnit.SECONDS);
        dev.migm.backend.BoardMeter.Tick tick = meter.tick(s.holders());
        tick.byHolder().forEach((job, j) -> jobJoules.merge((String) job, j, Double::sum));
        timeline.meanPower(lastTickS, s.nowS(), tick.gpuJoules());
        lastTickS = s.nowS();
        return s.ended();
    }

    /** The run's makespan as it prints it: from its start to the end of its last completed job. */
    static double makespan(java.util.Collection<JobView> views, double t0) {
        double makespan = 0;
        for (JobView v : views) if (v.state() == JobState.DONE) makespan = Math.max(makespan, v.endS() - t0);
        return makespan;
    }

    private int summarize(PrintWriter out, List<JobView> views, double t0, double energy,
                          dev.migm.engine.EngineState.Counters counted, Path runDir, List<GpuModel> models,
                          Map<String, Double> jobJoules, double idleJ) throws IOException {
        double makespan = makespan(views, t0);
        int completed = 0;
        List<Map<String, Object>> failures = new ArrayList<>();
        List<Map<String, Object>> jobRows = new ArrayList<>();
        for (JobView v : views) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", v.spec().id());
            row.put("state", v.state().name().toLowerCase(Locale.ROOT));
            row.put("attempts", v.attempts().size());
            row.put("slot", v.attempts().isEmpty() ? null : v.attempts().getLast().slot().toString());
            row.put("end_s", Double.isNaN(v.endS()) ? null : Json.decimal(v.endS() - t0, 1));
            row.put("reason", v.lastReason());
            row.put("energy_j", Json.decimal(jobJoules.getOrDefault(v.spec().id(), 0.0), 0));
            jobRows.add(row);
            if (v.state() == JobState.DONE) {
                completed++;
            } else {
                failures.add(Map.of("id", v.spec().id(), "reason", v.lastReason()));
            }
        }
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("trace", file.getFileName().toString());
        run.put("policy", policy);
        run.put("node", models.size() + "x" + models.getFirst().name());
        run.put("estimate", "default");
        run.put("early_restart", "on");
        run.put("jobs", views.size());
        run.put("completed", completed);
        run.put("unfinished", views.size() - completed);
        run.put("makespan_s", Json.decimal(makespan, 0));
        run.put("energy_j", Json.decimal(energy, 0));
        run.put("reconfigurations", counted.reconfigurations());
        run.put("restarts", counted.restarts());
        run.put("oom_kills", counted.oomKills());
        run.put("early_restarts", counted.earlyRestarts());
        run.put("preemptions", counted.preemptions());
        run.put("run_dir", runDir.toString());
        run.put("failures", failures);
        run.put("energy_attribution", dev.migm.energy.ChipShareAttribution.NAME);
        run.put("unattributed_energy_j", Json.decimal(idleJ, 0));
        Map<String, Object> doc = Json.doc("run");
        doc.put("run", run);
        doc.put("jobs", jobRows);
        Files.writeString(runDir.resolve("summary.json"), Json.write(doc) + "\n");
        if (json) {
            out.println(Json.write(doc));
        } else {
            out.printf(Locale.ROOT, "%d of %d jobs done in %.0f s (modelled), %.0f J, %d reconfigurations, %d OOM kills,"
                    + " %d early restarts%s; run directory %s%n", completed, views.size(), makespan, energy,
                    counted.reconfigurations(), counted.oomKills(), counted.earlyRestarts(),
                    counted.preemptions() == 0 ? "" : ", " + counted.preemptions() + " runs stopped at their checkpoint"
                            + " for a waiting job", runDir);
            failures.forEach(f -> out.println("failed " + f.get("id") + ": " + f.get("reason")));
            List<Map.Entry<String, Double>> byEnergy = new ArrayList<>(jobJoules.entrySet());
            byEnergy.sort(Map.Entry.<String, Double>comparingByValue().reversed());
            int shown = Math.min(byEnergy.size(), 10);
            out.printf(Locale.ROOT, "energy by job (model %s: each GPU's board energy by chip share and activity)%s: %s;"
                            + " idle GPUs %.0f J%n", dev.migm.energy.ChipShareAttribution.NAME, shown < byEnergy.size() ? ", top " + shown + " (all in summary.json)" : "",
                    byEnergy.subList(0, shown).stream().map(e -> String.format(Locale.ROOT, "%s %.0f J", e.getKey(), e.getValue()))
                            .collect(java.util.stream.Collectors.joining(", ")), idleJ);
        }
        return completed == views.size() ? Main.OK : Main.FOUND_A_PROBLEM;
    }
}
