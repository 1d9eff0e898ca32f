package dev.migm.spec;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.ParameterException;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Reads a batch of jobs ({@code version: v1}): {@code defaults} shared by every job, then {@code jobs}.
 * A file is accepted whole or refused whole: the first bad field stops it with
 * {@code file:line:column: field: what was expected}, so nothing of a batch starts when any job in it
 * is invalid. Unknown fields are errors (a typo must not silently drop a setting).
 *
 * <pre>
 * version: v1
 * defaults: {class: ml, checkpoint: true}
 * jobs:
 *   - name: bert-1
 *     command: [python, train.py, --epochs, "3"]    # or a shell line: "python train.py --epochs 3"
 *     memory: 20GiB                                 # or expr/params, llm: {...}, training: {...}
 *     expected: 30m
 *     workload: {work: 600s, c: 0.6, mem: 9GiB, grow_to: 12GiB, checkpoint_every: 60s}   # for simulate
 * </pre>
 */
public final class BatchFile {
    /** A NUL byte cannot reach a process's arguments or environment. */
    private static void noNul(Yaml.Node n, String field) {
        if (n instanceof Yaml.Scalar s && s.text().indexOf('\0') >= 0) {
            throw new InvalidInputException(s.where() + ": " + field + ": a NUL character cannot be passed to a process");
        }
    }

    private static final Set<String> TOP = Set.of("version", "defaults", "jobs");
    private static final Set<String> JOB = Set.of("name", "command", "workdir", "env", "class", "app", "memory", "expr",
            "params", "llm", "training", "checkpoint", "max_attempts", "time_limit", "expected", "submit_at", "workload",
            "memory_exact", "progress", "steps");
    private static final Set<String> DEFAULTS = JOB.stream().filter(k -> !k.equals("name") && !k.equals("command"))
            .collect(java.util.stream.Collectors.toSet());
    private static final Set<String> WORKLOAD = Set.of("work", "c", "sat", "mem", "grow_to", "activity",
            "checkpoint_every", "progress", "prints", "progress_every");
    private static final Set<String> LLM = Set.of("params_b", "layers", "kv_heads", "head_dim", "tokens", "batch",
            "bytes_per_param", "kv_bytes", "workspace_mib");
    private static final Set<String> TRAINING = Set.of("params_b", "params_m", "trainable_params_m", "optimizer",
            "precision", "batch", "activation_mib_per_sample", "activations_mib", "frozen_bytes_per_param");
    /** More jobs than this in one file is a mistake, or an attack on the queue. */
    public static final int MAX_JOBS = 100_000;

    private BatchFile() {
    }

    /** The largest job file read, in bytes (as many characters as the YAML reader takes at most). */
    public static final long MAX_BYTES = Yaml.MAX_CHARS;

    public static List<SubmittedJob> read(Path path) {
        return parse(TextFiles.read(path, MAX_BYTES), path.toString());
    }

    public static List<SubmittedJob> parse(String text, String source) {
        Yaml.Node root = Yaml.parse(text, source);
        Yaml.MapNode top = map(root, "the file");
        known(top, TOP, "");
        Yaml.Node version = top.values().get("version");
        if (version == null || !(version instanceof Yaml.Scalar v) || !v.text().equals("v1")) {
            throw new InvalidInputException((version == null ? top.where() : version.where())
                    + ": version: expected v1" + (version instanceof Yaml.Scalar v2 ? ", got " + TextFiles.quote(v2.text())
                    : ""));
        }
        Yaml.MapNode defaults = top.values().containsKey("defaults") ? map(top.values().get("defaults"), "defaults")
                : new Yaml.MapNode(Map.of(), Map.of(), top.where());
        known(defaults, DEFAULTS, "defaults.");
        Yaml.Node jobsNode = top.values().get("jobs");
        if (!(jobsNode instanceof Yaml.ListNode list) || list.items().isEmpty()) {
            throw new InvalidInputException((jobsNode == null ? top.where() : jobsNode.where())
                    + ": jobs: expected a non-empty list of jobs");
        }
        if (list.items().size() > MAX_JOBS) {
            throw new InvalidInputException(list.where() + ": jobs: at most " + MAX_JOBS + " jobs in one file");
        }
        List<SubmittedJob> jobs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.items().size(); i++) {
            Yaml.MapNode j = map(list.items().get(i), "jobs[" + i + "]");
            known(j, JOB, "jobs[" + i + "].");
            SubmittedJob job = job(j, defaults, i);
            if (!names.add(job.name())) {
                throw new InvalidInputException(j.values().get("name").where() + ": jobs[" + i + "].name: duplicate name "
                        + TextFiles.quote(job.name()));
            }
            jobs.add(job);
        }
        return List.copyOf(jobs);
    }

    /** The jobs with their workload models, for the simulator; each must have a {@code workload}. */
    public static List<dev.migm.workload.TraceJob> traceJobs(List<SubmittedJob> jobs, String source) {
        List<dev.migm.workload.TraceJob> out = new ArrayList<>();
        for (SubmittedJob j : jobs) {
            out.add(j.toTraceJob().orElseThrow(() -> new InvalidInputException(source + ": job " + TextFiles.quote(j.name())
                    + " has no workload: section; the simulator needs one to model it")));
        }
        return out;
    }

    private static SubmittedJob job(Yaml.MapNode j, Yaml.MapNode defaults, int i) {
        String at = "jobs[" + i + "].";
        Field f = new Field(j, defaults, at);
        String name = f.scalar("name").map(Yaml.Scalar::text).orElseThrow(() -> new InvalidInputException(j.where() + ": "
                + at + "name: required"));
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new InvalidInputException(f.where("name") + "expected letters, digits, '.', '_' or '-' (at most 64),"
                    + " got " + TextFiles.quote(name));
        }
        Yaml.Node command = j.values().get("command");
        List<String> argv = new ArrayList<>();
        if (command == null) {
            throw new InvalidInputException(j.where() + ": " + at + "command: required (a list of arguments or a shell"
                    + " line)");
        } else if (command instanceof Yaml.Scalar s && !s.isNull() && !s.text().isBlank()) {
            noNul(s, at + "command");
            argv.addAll(List.of("/bin/sh", "-c", s.text()));
        } else if (command instanceof Yaml.ListNode l && !l.items().isEmpty()) {
            for (Yaml.Node a : l.items()) {
                if (!(a instanceof Yaml.Scalar s) || s.isNull()) {
                    throw new InvalidInputException(a.where() + ": " + at + "command: each argument must be text");
                }
                noNul(s, at + "command");
                argv.add(s.text());
            }
        } else {
            throw new InvalidInputException(command.where() + ": " + at + "command: expected a non-empty list of"
                    + " arguments or a shell line");
        }
        JobClass jobClass = f.scalar("class").map(s -> {
            try {
                return JobClass.parse(s.text());
            } catch (InvalidInputException e) {
                throw new InvalidInputException(s.where() + ": " + at + "class: " + e.getMessage());
            }
        }).orElse(JobClass.OTHER);
        String app = f.scalar("app").map(Yaml.Scalar::text).orElse(AppIdentity.of(argv, name));
        if (app.isBlank()) app = name;
        OptionalLong memory = f.scalar("memory").map(s -> OptionalLong.of(Units.mib(s.text(), s.where() + ": " + at
                + "memory: "))).orElse(OptionalLong.empty());
        Map<String, String> params = new LinkedHashMap<>();
        f.map("params").ifPresent(m -> {
            // The memory expression's variables: numbers, which its evaluation reads.
            params.putAll(scalars(m, null, at + "params."));
            for (var e : m.values().entrySet()) {
                Yaml.Scalar s = (Yaml.Scalar) e.getValue();
                if (s.isNull() || !Double.isFinite(parseOrNaN(s.text()))) {
                    throw new InvalidInputException(s.where() + ": " + at + "params." + e.getKey()
                            + ": expected a number (a variable of the memory expression), got " + TextFiles.quote(s.text()));
                }
            }
        });
        f.map("llm").ifPresent(m -> params.putAll(scalars(m, LLM, at + "llm.")));
        f.map("training").ifPresent(m -> params.putAll(scalars(m, TRAINING, at + "training.")));
        f.scalar("expr").ifPresent(s -> params.put("mem_expr", s.text()));
        if (f.scalar("memory_exact").map(s -> bool(s, at + "memory_exact")).orElse(false)) {
            if (memory.isEmpty()) {
                throw new InvalidInputException(f.where("memory_exact") + "needs memory (the size to give exactly)");
            }
            params.put(JobSpec.MEMORY_EXACT, "true");
        }
        Optional<SubmittedJob.Workload> workload = f.map("workload").map(m -> workload(m, at + "workload."));
        boolean checkpoints = f.scalar("checkpoint").map(s -> bool(s, at + "checkpoint"))
                .orElse(workload.map(w -> w.checkpointEveryS() > 0).orElse(false));
        if (workload.isPresent() && checkpoints != workload.get().checkpointEveryS() > 0) {
            throw new InvalidInputException(f.where("checkpoint") + "the job " + (checkpoints ? "checkpoints" : "does not"
                    + " checkpoint") + " but its workload " + (checkpoints ? "has no checkpoint_every" : "has one"));
        }
        Map<String, String> env = new LinkedHashMap<>();
        f.map("env").ifPresent(m -> {
            for (var e : scalars(m, null, at + "env.").entrySet()) {
                if (!e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw new InvalidInputException(m.keys().get(e.getKey()) + ": " + at + "env: not a variable name: "
                            + TextFiles.quote(e.getKey()));
                }
                if (e.getKey().equals("CUDA_VISIBLE_DEVICES") || e.getKey().startsWith("MIGM_")) {
                    throw new InvalidInputException(m.keys().get(e.getKey()) + ": " + at + "env: " + e.getKey()
                            + " is set by migm for each attempt (CUDA_VISIBLE_DEVICES and MIGM_* cannot be given)");
                }
                noNul(m.values().get(e.getKey()), at + "env." + e.getKey());
                env.put(e.getKey(), e.getValue());
            }
        });
        f.scalar("workdir").ifPresent(s -> noNul(s, at + "workdir"));
        SubmittedJob job = new SubmittedJob(name, argv, f.scalar("workdir").map(Yaml.Scalar::text), env, jobClass, app, memory,
                params, checkpoints,
                f.scalar("max_attempts").map(s -> OptionalDouble.of(number(s, at + "max_attempts", 1, 100, true)))
                        .orElse(OptionalDouble.empty()),
                f.scalar("time_limit").map(s -> OptionalDouble.of(Units.seconds(s.text(), s.where() + ": " + at
                        + "time_limit: "))).orElse(OptionalDouble.empty()),
                f.scalar("expected").map(s -> OptionalDouble.of(Units.seconds(s.text(), s.where() + ": " + at
                        + "expected: "))).orElse(OptionalDouble.empty()),
                f.scalar("submit_at").map(s -> s.text().strip().equals("0") ? 0.0
                        : Units.seconds(s.text(), s.where() + ": " + at + "submit_at: ")).orElse(0.0),
                workload, f.scalar("progress").map(s -> progress(s, at + "progress")).orElse("auto"),
                f.scalar("steps").map(s -> java.util.OptionalLong.of((long) number(s, at + "steps", 1, 1e15, true)))
                        .orElse(java.util.OptionalLong.empty()));
        checkEstimates(job, f);
        return job;
    }

    /**
     * Runs the estimators that read the job's declarations ({@link EstimatorChain#declaredNeed}), the
     * same code that sizes its first attempt: a parameter they cannot use (an expression that divides
     * by zero or overflows, a negative model size, an unknown optimizer) refuses the file here, at
     * the field it came from, instead of failing on the engine's thread after it was accepted.
     */
    private static void checkEstimates(SubmittedJob job, Field f) {
        try {
            EstimatorChain.declaredNeed(job.toJobSpec());
        } catch (ParameterException e) {
            String p = e.parameter();
            String field = p.equals("mem_expr") ? "expr"
                    : f.map("llm").filter(m -> m.values().containsKey(p)).isPresent() ? "llm"
                    : f.map("training").filter(m -> m.values().containsKey(p)).isPresent() ? "training"
                    : f.map("params").filter(m -> m.values().containsKey(p)).isPresent() ? "params" : null;
            if (field == null) throw new InvalidInputException(f.where("name") + e.getMessage());
            Yaml.Node at = field.equals("expr") ? f.node("expr").orElseThrow()
                    : f.map(field).orElseThrow().values().get(p);
            throw new InvalidInputException(at.where() + ": " + f.at() + field + (field.equals("expr") ? "" : "." + p)
                    + ": " + e.problem());
        }
    }

    private static double parseOrNaN(String text) {
        try {
            return Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static SubmittedJob.Workload workload(Yaml.MapNode m, String at) {
        known(m, WORKLOAD, at);
        Map<String, Yaml.Node> v = m.values();
        Yaml.Scalar work = scalar(v.get("work"), at + "work");
        Yaml.Scalar mem = scalar(v.get("mem"), at + "mem");
        if (work == null || mem == null) {
            throw new InvalidInputException(m.where() + ": " + at + "work and mem are required");
        }
        double workS = Units.seconds(work.text(), work.where() + ": " + at + "work: ");
        long memMib = Units.mib(mem.text(), mem.where() + ": " + at + "mem: ");
        Yaml.Scalar grow = scalar(v.get("grow_to"), at + "grow_to");
        long growTo = grow == null ? memMib : Units.mib(grow.text(), grow.where() + ": " + at + "grow_to: ");
        if (growTo < memMib) {
            throw new InvalidInputException(grow.where() + ": " + at + "grow_to: must be at least mem");
        }
        Yaml.Scalar every = scalar(v.get("checkpoint_every"), at + "checkpoint_every");
        boolean reports = v.get("progress") != null && bool(scalar(v.get("progress"), at + "progress"), at + "progress");
        Optional<String> prints = prints(scalar(v.get("prints"), at + "prints"), at + "prints");
        Yaml.Scalar progressEvery = scalar(v.get("progress_every"), at + "progress_every");
        double progressEveryS = 0;
        if (progressEvery != null) {
            progressEveryS = Units.seconds(progressEvery.text(), progressEvery.where() + ": " + at + "progress_every: ");
            if (!reports && prints.isEmpty() && progressEveryS > 0) {
                throw new InvalidInputException(progressEvery.where() + ": " + at + "progress_every: the workload says"
                        + " no progress (give progress: true or prints: FORMAT)");
            }
        }
        return new SubmittedJob.Workload(workS, number(scalar(v.get("c"), at + "c"), at + "c", 0, 1, 0.5),
                number(scalar(v.get("sat"), at + "sat"), at + "sat", 0.01, 1, 1.0), memMib, growTo,
                number(scalar(v.get("activity"), at + "activity"), at + "activity", 0, 1, 0.5),
                every == null ? 0 : Units.seconds(every.text(), every.where() + ": " + at + "checkpoint_every: "),
                reports, prints, progressEveryS);
    }

    /** A job's {@code progress}: how its output says its progress ({@link dev.migm.progress.ProgressFormats}). */
    private static String progress(Yaml.Scalar s, String field) {
        try {
            dev.migm.progress.ProgressFormats.check(s.text());
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(s.where() + ": " + field + ": expected " + e.getMessage());
        }
        return s.text().strip();
    }

    /** A workload's {@code prints}: a format {@code migm workload} prints its progress in. */
    private static Optional<String> prints(Yaml.Scalar s, String field) {
        if (s == null) return Optional.empty();
        String f = s.text().strip();
        if (!dev.migm.progress.ProgressPrinter.FORMATS.contains(f)) {
            throw new InvalidInputException(s.where() + ": " + field + ": expected one of "
                    + String.join(", ", dev.migm.progress.ProgressPrinter.FORMATS) + ", got " + TextFiles.quote(f));
        }
        return Optional.of(f);
    }

    /** Reads a field of a job, falling back to the defaults. */
    private record Field(Yaml.MapNode job, Yaml.MapNode defaults, String at) {
        Optional<Yaml.Node> node(String key) {
            Yaml.Node n = job.values().get(key);
            return Optional.ofNullable(n != null ? n : defaults.values().get(key));
        }

        Optional<Yaml.Scalar> scalar(String key) {
            return node(key).map(n -> BatchFile.scalar(n, at + key)).filter(s -> !s.isNull());
        }

        Optional<Yaml.MapNode> map(String key) {
            return node(key).map(n -> BatchFile.map(n, at + key));
        }

        String where(String key) {
            return node(key).map(Yaml.Node::where).orElse(job.where()) + ": " + at + key + ": ";
        }
    }

    private static Yaml.Scalar scalar(Yaml.Node n, String field) {
        if (n == null) return null;
        if (!(n instanceof Yaml.Scalar s)) {
            throw new InvalidInputException(n.where() + ": " + field + ": expected a single value");
        }
        return s;
    }

    private static Yaml.MapNode map(Yaml.Node n, String field) {
        if (!(n instanceof Yaml.MapNode m)) {
            throw new InvalidInputException(n.where() + ": " + field + ": expected a mapping of name: value");
        }
        return m;
    }

    private static void known(Yaml.MapNode m, Set<String> allowed, String at) {
        for (var k : m.keys().entrySet()) {
            if (!allowed.contains(k.getKey())) {
                throw new InvalidInputException(k.getValue() + ": " + at + TextFiles.quote(k.getKey()).replace("'", "")
                        + ": unknown field (expected one of " + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private static Map<String, String> scalars(Yaml.MapNode m, Set<String> allowed, String at) {
        if (allowed != null) known(m, allowed, at);
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : m.values().entrySet()) {
            Yaml.Scalar s = scalar(e.getValue(), at + e.getKey());
            out.put(e.getKey(), s.text());
        }
        return out;
    }

    private static boolean bool(Yaml.Scalar s, String field) {
        return switch (s.text().strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new InvalidInputException(s.where() + ": " + field + ": expected true or false, got "
                    + TextFiles.quote(s.text()));
        };
    }

    private static double number(Yaml.Scalar s, String field, double min, double max, double orElse) {
        return s == null ? orElse : number(s, field, min, max, false);
    }

    private static double number(Yaml.Scalar s, String field, double min, double max, boolean whole) {
        double v;
        try {
            v = Double.parseDouble(s.text().strip());
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (!(v >= min && v <= max) || whole && v != Math.rint(v)) {
            throw new InvalidInputException(s.where() + ": " + field + ": expected " + (whole ? "a whole number" : "a number")
                    + " in [" + fmt(min) + ", " + fmt(max) + "], got " + TextFiles.quote(s.text()));
        }
        return v;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
