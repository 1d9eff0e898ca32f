package dev.migm.cli;

import dev.migm.engine.JobClass;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.report.Report;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.SimResult;
import dev.migm.sim.Knobs;
import dev.migm.sim.MakespanExplainer;
import dev.migm.sim.Simulator;
import dev.migm.sim.Suites;
import dev.migm.sim.TraceReader;
import dev.migm.sim.Workload;
import dev.migm.workload.TraceJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code migm simulate}: runs policies on traces in the discrete-event simulator and compares them. */
@Command(name = "simulate", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm simulate --suite mixed", "  migm simulate examples/trace-small.csv --policies serial,migm --wide", "  migm simulate trace.csv --gpus 8 --estimate oracle --json > runs.json"},
        description = "Run scheduling policies on migm-trace v1 files (or bundled suites) in the"
        + " discrete-event simulator and compare makespan, throughput and energy.")
final class SimulateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "TRACE", arity = "0..*", description = "migm-trace v1 files, or batch files (.yaml) whose"
            + " jobs carry a workload: section")
    List<Path> traces = new ArrayList<>();

    @Option(names = "--suite", completionCandidates = Candidates.Suites.class, description = "bundled suite(s): scientific, ml, llm, mixed, mixed-online, alibaba (comma-separated)",
            split = ",")
    List<String> suites = new ArrayList<>();

    @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "GPU model, or a mix like A100-40GB:4,H100-80GB:4 (default ${DEFAULT-VALUE})")
    String gpu;

    @Option(names = "--gpus", defaultValue = "1", description = "number of GPUs of --gpu (default ${DEFAULT-VALUE})")
    int gpuCount;

    @Option(names = "--policies", completionCandidates = Candidates.Policies.class, defaultValue = "serial,static,s1,s2,migm", split = ",",
            description = "policies to compare, the first is the baseline of the ratios (default ${DEFAULT-VALUE});"
                    + " static takes a layout after a colon: static:balanced (default), static:7x1g, static:2x3g")
    List<String> policies;

    @Option(names = "--estimate", completionCandidates = Candidates.Estimates.class, defaultValue = "default",
            description = "estimates of memory and run time: oracle (the trace's truth, a reference no live"
                    + " system has), oracle-memory (true peaks, run times learned as live), declared (memory as declared), or default (memory from history, expression, llm,"
                    + " training, declared); run times are learned from finished runs unless oracle"
                    + " (default ${DEFAULT-VALUE})")
    String estimate;

    @Option(names = "--early-restart", defaultValue = "on", description = "stop and resize jobs whose projected peak"
            + " will not fit: on or off (default ${DEFAULT-VALUE})")
    String earlyRestart;

    @Option(names = "--reports-progress", paramLabel = "CLASSES", split = ",",
            description = "what-if: jobs of these classes (scientific, ml, llm, other, or all) write their progress"
                    + " where migm reads it, whatever the trace says; others are known only by elapsed time")
    List<String> reportsProgress = new ArrayList<>();

    @Option(names = "--progress-every", paramLabel = "DURATION", description = "what-if, with --reports-progress:"
            + " those jobs say their progress once every DURATION of their run (e.g. 60s, 10m), not at every sample")
    String progressEvery;

    @Option(names = "--explain-makespan", description = "split each run's makespan into the compute bound, profile"
            + " excess, start-up, failed attempts, reconfiguration, slices held for a drain, other idle slices while"
            + " jobs waited and idle slices with nothing to run (node-seconds; a table after the runs, or"
            + " `explanation` in --json)")
    boolean explainMakespan;

    @Option(names = "--tune", paramLabel = "NAME=VALUE", split = ",",
            description = "set a constant for this run, to sweep it: right_size_slack, history_quantile, margin,"
                    + " noise_floor, z, min_span, confidence, mig_mode_change_s (Infinity: modes never change; defaults in BENCHMARKS.md)")
    List<String> tune = new ArrayList<>();

    @Option(names = "--json", description = "JSON: an array of objects, one per trace and policy")
    boolean json;

    @Option(names = "--csv", description = "CSV output (every column)")
    boolean csv;

    @Option(names = "--wide", description = "show every column in the table (default: the ones people compare)")
    boolean wide;

    @Option(names = "--per-job", paramLabel = "FILE", description = "also write every job's outcome as CSV to FILE (attempts, slot,"
            + " peak, estimate and its source, energy_j by the chip-share model named in energy_model)")
    Path perJob;

    @Option(names = "--timeline", paramLabel = "FILE", description = "also write each run's timeline (instances over"
            + " time, board power, the queue, a line per job) as migm.timeline/v1 JSON to FILE, for migm report")
    Path timeline;

    @Option(names = "--quiet", description = "no progress line")
    boolean quiet;

    @Override
    public Integer call() {
        if (json && csv) {
            throw new InvalidInputException("simulate: choose one of --json and --csv");
        }
        List<GpuModel> gpus = node(gpu, gpuCount);
        List<String> names = new ArrayList<>();
        List<Workload> workloads = new ArrayList<>();
        for (String s : suites) {
            names.add(s);
            workloads.add(Workload.of(Suites.load(s.trim())));
        }
        for (Path t : traces) {
            names.add(t.getFileName().toString());
            String file = t.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            // A trace file is checked whole, then streamed run by run: a run holds only live jobs.
            workloads.add(file.endsWith(".yaml") || file.endsWith(".yml")
                    ? Workload.of(dev.migm.spec.BatchFile.traceJobs(dev.migm.spec.BatchFile.read(t), t.toString()))
                    : TraceReader.open(t));
        }
        if (workloads.isEmpty()) {
            throw new InvalidInputException("simulate: give a TRACE file or --suite NAME");
        }
        if (progressEvery != null && reportsProgress.isEmpty()) {
            throw new InvalidInputException("simulate: --progress-every: give --reports-progress CLASSES too");
        }
        if (!reportsProgress.isEmpty()) {
            java.util.Set<JobClass> reporting = reportingClasses(reportsProgress);
            double everyS = progressEvery == null ? 0
                    : dev.migm.spec.Units.seconds(progressEvery, "simulate: --progress-every: ");
            workloads.replaceAll(jobs -> jobs.map(j -> reporting.contains(j.spec().jobClass())
                    ? j.withProgress(true, everyS) : j));
        }
        Knobs knobs = Knobs.parse(tune);
        policies.forEach(p -> PolicyRegistry.create(p, gpus, knobs.rightSizeSlack()));
        Simulator.Options options = options(gpus, estimate, earlyRestart, knobs).withExplanation(explainMakespan)
                .withPerJob(perJob != null).withTimeline(timeline != null);
        PrintWriter err = spec.commandLine().getErr();
        boolean showProgress = !quiet && System.console() != null;
        Simulator.Progress progress = showProgress ? new ProgressLine(err) : Simulator.Progress.NONE;
        List<SimResult> results = new ArrayList<>();
        for (int t = 0; t < workloads.size(); t++) {
            SimResult baseline = null;
            for (String p : policies) {
                SimResult r = Simulator.run(names.get(t), workloads.get(t), PolicyRegistry.create(p, gpus,
                                knobs.rightSizeSlack()),
                        options.withProgress(progress));
                baseline = baseline == null ? r : baseline;
                results.add(r.withBaseline(baseline));
            }
        }
        if (showProgress) {
            err.print("\r" + " ".repeat(78) + "\r");
            err.flush();
        }
        if (perJob != null) {
            List<SimResult.JobRow> rows = results.stream().flatMap(r -> r.perJob().stream()).toList();
            try {
                java.nio.file.Files.writeString(perJob, Report.render(Report.rows(rows, SimResult.JobRow.METRICS,
                        Report.Format.CSV), Report.Format.CSV));
            } catch (java.io.IOException e) {
                throw new InvalidInputException(perJob + ": cannot write: " + e.getMessage());
            }
        }
        if (timeline != null) {
            try {
                dev.migm.report.Timeline.write(timeline, results.stream().map(SimResult::timeline).toList());
            } catch (java.io.IOException e) {
                throw new InvalidInputException(timeline + ": cannot write: " + e.getMessage());
            }
        }
        Report.Format format = json ? Report.Format.JSON : csv ? Report.Format.CSV
                : wide ? Report.Format.WIDE_TABLE : Report.Format.TABLE;
        PrintWriter out = spec.commandLine().getOut();
        List<java.util.Map<String, Object>> rows = Report.rows(results, SimResult.METRICS, format);
        if (format == Report.Format.JSON) {
            java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
            doc.put("schema", "migm.simulate/v1");
            if (explainMakespan) {
                for (int i = 0; i < rows.size(); i++) {
                    rows.get(i).put("explanation", explanationJson(results.get(i)));
                    rows.get(i).put("excess", excessJson(results.get(i)));
                }
            }
            doc.put("runs", rows);
            out.print(Report.json(doc));
            return 0;
        }
        boolean table = format != Report.Format.CSV;
        if (table) {
            out.println("node: " + results.getFirst().gpus() + "; estimate: " + estimate + "; early restart: "
                    + earlyRestart);
        }
        out.print(Report.render(rows, format));
        for (SimResult r : results) {
            if (table && !r.failures().isEmpty()) {
                out.println(r.policy() + " on " + r.trace() + ": " + r.failed() + " job(s) not completed"
                        + " (no ratios), e.g. " + r.failures().getFirst());
            }
        }
        if (explainMakespan && table) {
            out.println();
            out.println("makespan decomposed (node-seconds; they add up to the makespan; over_lp = makespan / lp bound):");
            StringBuilder header = new StringBuilder(String.format(java.util.Locale.ROOT, "%-14s %-16s %10s %10s %7s",
                    "trace", "policy", "makespan_s", "lp_bound_s", "over_lp"));
            results.getFirst().explanation().parts().forEach(p -> header.append(String.format(java.util.Locale.ROOT,
                    " %9s", p.column())));
            out.println(header);
            for (SimResult r : results) {
                StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT, "%-14s %-16s %10.0f %10.0f %7.3f",
                        r.trace(), r.policy(), r.makespanS(), r.lpBoundS(), r.makespanS() / r.lpBoundS()));
                r.explanation().parts().forEach(p -> line.append(String.format(java.util.Locale.ROOT, " %9.0f", p.seconds())));
                out.println(line);
            }
            out.println();
            out.println("the completed jobs' own profile excess by reason (node-seconds; "
                    + String.join("; ", MakespanExplainer.REASONS.entrySet().stream()
                    .map(e -> e.getKey() + ": " + e.getValue()).toList()) + "), and the jobs with the most:");
            for (SimResult r : results) {
                StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT, "%-14s %-16s", r.trace(),
                        r.policy()));
                // Rounding error of a part that is nothing must not print as "-0".
                r.explanation().excessByReason().forEach((k, v) -> line.append(String.format(java.util.Locale.ROOT,
                        " %s %.0f", k, Math.abs(v) < 0.5 ? 0.0 : v)));
                out.println(line);
                for (MakespanExplainer.JobExcess j : r.explanation().largestExcess()) {
                    out.printf(java.util.Locale.ROOT, "  %s %.1f on %s (cheapest %s): %s%n", j.jobId(), j.excessS(),
                            j.ranOn(), j.cheapest(), j.reason());
                }
            }
        }
        return 0;
    }

    private static java.util.Map<String, Object> explanationJson(SimResult r) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (MakespanExplainer.Part p : r.explanation().parts()) m.put(p.key(), Json.decimal(p.seconds(), 1));
        return m;
    }

    /** The completed jobs' own profile excess: node-seconds by reason, and the jobs with the most. */
    private static java.util.Map<String, Object> excessJson(SimResult r) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        java.util.Map<String, Object> byReason = new java.util.LinkedHashMap<>();
        r.explanation().excessByReason().forEach((k, v) -> byReason.put(k, Json.decimal(v, 1)));
        m.put("by_reason", byReason);
        List<java.util.Map<String, Object>> largest = new java.util.ArrayList<>();
        for (MakespanExplainer.JobExcess j : r.explanation().largestExcess()) {
            java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("job", j.jobId());
            row.put("ran_on", j.ranOn());
            row.put("cheapest", j.cheapest());
            row.put("excess_s", Json.decimal(j.excessS(), 1));
            row.put("reason", j.reason());
            largest.add(row);
        }
        m.put("largest", largest);
        return m;
    }

    /** Simulation options from the CLI's words. */
    static Simulator.Options options(List<GpuModel> gpus, String estimate, String earlyRestart) {
        return options(gpus, estimate, earlyRestart, Knobs.DEFAULT);
    }

    static Simulator.Options options(List<GpuModel> gpus, String estimate, String earlyRestart, Knobs knobs) {
        Simulator.Options base = Simulator.Options.of(gpus);
        base = switch (estimate) {
            case "oracle" -> base.withEstimation(Simulator.Estimation.ORACLE);
            case "oracle-memory" -> base.withEstimation(Simulator.Estimation.ORACLE_MEMORY);
            case "declared" -> base.withEstimation(Simulator.Estimation.honest("declared",
                    () -> EstimatorChain.declaredOnly(new InMemoryHistory(HISTORY))));
            case "default" -> base.withEstimation(Simulator.Estimation.honest("default",
                    () -> EstimatorChain.defaults(new InMemoryHistory(HISTORY), knobs.margin(), knobs.historyQuantile())));
            default -> throw new InvalidInputException("--estimate: expected oracle, oracle-memory, declared or default, got '"
                    + estimate + "'");
        };
        base = base.withMigModeChangeS(knobs.migModeChangeS());
        return switch (earlyRestart) {
            case "on" -> base.withEarlyRestart(knobs.earlyRestart(true));
            case "off" -> base.withEarlyRestart(knobs.earlyRestart(false));
            default -> throw new InvalidInputException("--early-restart: expected on or off, got " + dev.migm.io.TextFiles.quote(earlyRestart));
        };
    }

    static java.util.Set<JobClass> reportingClasses(List<String> words) {
        java.util.Set<JobClass> out = java.util.EnumSet.noneOf(JobClass.class);
        for (String w : words) {
            if (w.strip().equals("all")) {
                out.addAll(java.util.EnumSet.allOf(JobClass.class));
            } else {
                try {
                    out.add(JobClass.parse(w.strip()));
                } catch (InvalidInputException e) {
                    throw new InvalidInputException("--reports-progress: " + e.getMessage());
                }
            }
        }
        return out;
    }

    /** Observations kept per application by the history estimator. */
    static final int HISTORY = 50;

    /** The node: {@code A100-40GB} with a count, or {@code A100-40GB:4,H100-80GB:4}. */
    static List<GpuModel> node(String text, int count) {
        if (count < 1 || count > 4096) {
            throw new InvalidInputException("--gpus must be between 1 and 4096, got " + count);
        }
        List<GpuModel> gpus = new ArrayList<>();
        if (text.contains(":")) {
            for (String part : text.split(",")) {
                String[] nc = part.split(":");
                int n;
                try {
                    n = Integer.parseInt(nc[1].trim());
                } catch (RuntimeException e) {
                    throw new InvalidInputException("--gpu " + TextFiles.quote(text) + ": expected MODEL:COUNT,...");
                }
                if (n < 1 || n > 4096) {
                    throw new InvalidInputException("--gpu " + TextFiles.quote(text) + ": a count must be between 1 and 4096, got " + n);
                }
                if (gpus.size() + n > 4096) {
                    throw new InvalidInputException("--gpu " + TextFiles.quote(text) + ": at most 4096 GPUs in all");
                }
                GpuModel m = Catalog.builtin().get(nc[0]);
                for (int i = 0; i < n; i++) gpus.add(m);
            }
        } else {
            GpuModel m = Catalog.builtin().get(text);
            for (int i = 0; i < count; i++) gpus.add(m);
        }
        return gpus;
    }

    /** A progress line on stderr, rewritten in place at most a few times a second. */
    private static final class ProgressLine implements Simulator.Progress {
        private final PrintWriter err;
        private long lastNanos;

        ProgressLine(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void update(String policy, int done, int total, double nowS) {
            long t = System.nanoTime();
            if (t - lastNanos < 250_000_000L && done < total) return;
            lastNanos = t;
            err.print(String.format(Locale.ROOT, "\r%-12s %d/%d jobs ended, simulated time %.0f s   ", policy, done, total, nowS));
            err.flush();
        }
    }
}
