package dev.migm.cli;

import dev.migm.exec.OomClassifier;
import dev.migm.io.InvalidInputException;
import dev.migm.service.ApiClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code migm slurm}: Slurm on top, migm on each node (docs/slurm.md). Slurm admits jobs on a node's
 * total {@code gpumem} (a count-only GRES); the root Prolog asks the node's daemon for a slice and
 * waits until it is placed; the TaskProlog puts the slice into every task's environment; the Epilog
 * gives it back. {@code config} prints the node's slurm.conf and gres.conf lines and installs the
 * three scripts; {@code prolog} and {@code epilog} are what the scripts run.
 */
@Command(name = "slurm", mixinStandardHelpOptions = true, description = "Run Slurm's GPU jobs on MIG slices that migm"
        + " cuts to each job (docs/slurm.md).", subcommands = {SlurmCommands.Config.class, SlurmCommands.Prolog.class,
        SlurmCommands.Epilog.class})
final class SlurmCommands implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Slurm's per-node count of a job's gpumem in {@code scontrol show job -d}: {@code JOB_GRES=gpumem:BYTES}. */
    private static final Pattern JOB_GRES = Pattern.compile("JOB_GRES=(?:\\S*,)?gpumem(?::[^:,\\s]+)?:(\\d+)");
    private static final Pattern STD_FILE = Pattern.compile("^\\s*Std(?:Out|Err)=(/\\S.*)$", Pattern.MULTILINE);
    /** How long a Prolog or Epilog keeps trying to reach a daemon that is down (restarting). */
    static final long UNREACHABLE_RETRY_MS = 60_000;
    /**
     * How often a waiting Prolog asks again: often for its first {@link #FAST_POLL_FOR_MS} (a slice
     * that fits is placed within tens of ms: BENCHMARKS.md section 20), then every {@link #POLL_MS}.
     */
    static final long FAST_POLL_MS = 20;
    static final long FAST_POLL_FOR_MS = 2000;
    static final long POLL_MS = 250;
    /** How often a waiting Prolog asks Slurm whether its job was cancelled meanwhile. */
    static final long CANCEL_CHECK_MS = 2000;

    /** The daemon's socket, where {@code %n} stands for the Slurm node's name. */
    static final class NodeSocket {
        @Option(names = "--socket", required = true, description = "the node daemon's socket; %%n stands for the Slurm"
                + " node's name (several nodes on one host)")
        String socket;

        Path forNode(String node) {
            return Path.of(socket.replace("%n", node));
        }
    }

    @Command(name = "config", mixinStandardHelpOptions = true, description = "Print the slurm.conf and gres.conf lines"
            + " for this node, from its daemon's view of its GPUs; with --install, write the Prolog, TaskProlog and"
            + " Epilog scripts.", footerHeading = "%nExamples:%n", footer = {
            "  migm slurm config --socket /run/migm/migm.sock --node gpu01 --install"})
    static final class Config implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        NodeSocket where = new NodeSocket();

        @Option(names = "--node", required = true, description = "the node's name in slurm.conf (NodeName)")
        String node;

        @Option(names = "--scripts", defaultValue = "/etc/slurm/migm", description = "where the Prolog, TaskProlog and"
                + " Epilog scripts are (default ${DEFAULT-VALUE}); the same on every node")
        Path scripts;

        @Option(names = "--install", description = "write prolog.sh, taskprolog.sh and epilog.sh into --scripts (and env/"
                + " for the jobs' environments), and job_submit.lua into --lua-dir")
        boolean install;

        @Option(names = "--lua-dir", description = "where slurmctld reads job_submit.lua: the directory of slurm.conf"
                + " (default: that of $SLURM_CONF, else /etc/slurm)")
        Path luaDir;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            if (!node.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new InvalidInputException("--node: expected a Slurm node name, got " + node);
            }
            Map<String, Object> answer;
            try (ApiClient api = new ApiClient(where.forNode(node))) {
                ApiClient.Answer a = api.get("/v1/gpus");
                if (!a.ok()) {
                    spec.commandLine().getErr().println("migm: " + a.error());
                    return Main.FOUND_A_PROBLEM;
                }
                answer = a.body();
            } catch (ApiClient.Unreachable e) {
                spec.commandLine().getErr().println("migm: " + e.getMessage());
                return Main.FOUND_A_PROBLEM;
            }
            long total = 0;
            long largest = 0;
            java.util.TreeSet<Long> sizes = new java.util.TreeSet<>();
            Map<Long, java.util.LinkedHashSet<String>> profilesBySize = new java.util.TreeMap<>();
            List<String> models = new ArrayList<>();
            for (Map<?, ?> g : ServiceCommands.maps(answer.get("gpus"))) {
                long l = ((Number) g.get("largest_instance_mib")).longValue();
                total += l;
                largest = Math.max(largest, l);
                if (g.get("instance_sizes_mib") instanceof List<?> s) {
                    for (Object o : s) sizes.add(((Number) o).longValue());
                }
                for (Map<?, ?> p : ServiceCommands.maps(g.get("instance_profiles"))) {
                    profilesBySize.computeIfAbsent(((Number) p.get("memory_mib")).longValue(),
                            k -> new java.util.LinkedHashSet<>()).add(String.valueOf(p.get("name")));
                }
                models.add(String.valueOf(g.get("model")));
            }
            Path dir = scripts.toAbsolutePath();
            out.println("# slurm.conf: migm on node " + node + " (" + String.join(", ", models) + "); gpumem counts the"
                    + " largest instance of each GPU, in MiB");
            out.println("GresTypes=gpumem");
            out.println("PrologFlags=Alloc");
            out.println("Prolog=" + dir.resolve("prolog.sh"));
            out.println("TaskProlog=" + dir.resolve("taskprolog.sh"));
            out.println("Epilog=" + dir.resolve("epilog.sh"));
            out.println("JobSubmitPlugins=lua");
            out.println("# on this node's NodeName line:");
            out.println("NodeName=" + node + " Gres=gpumem:" + total + "M");
            out.println("# gres.conf");
            out.println("NodeName=" + node + " Name=gpumem Count=" + total + "M");
            out.println("# sizes users may ask for (--gres=gpumem:SIZE; a job gets the smallest instance that holds it): "
                    + String.join(", ", sizes.stream().map(s -> s + "M").toList()));
            String guide = sizesGuide(node, models, profilesBySize);
            guide.lines().forEach(l -> out.println("#   " + l));
            if (install) {
                install(dir);
                write(dir.resolve("gpumem-sizes.txt"), guide, "rw-r--r--");
                out.println("# installed " + dir.resolve("gpumem-sizes.txt") + " (the sizes above, for the node's users)");
                Path lua = (luaDir != null ? luaDir : Path.of(Optional.ofNullable(System.getenv("SLURM_CONF"))
                        .filter(c -> !c.isBlank()).map(c -> Path.of(c).toAbsolutePath().getParent().toString())
                        .orElse("/etc/slurm"))).resolve("job_submit.lua");
                Files.createDirectories(lua.getParent());
                script(lua, jobSubmitLua(largest, List.copyOf(sizes)));
                out.println("# installed " + lua + " (JobSubmitPlugins=lua): refuses at submit a gpumem above " + largest
                        + "M; on a cluster of several GPU models, install it from a node of the largest");
            }
            return Main.OK;
        }

        private void install(Path dir) throws IOException {
            Path env = dir.resolve("env");
            Files.createDirectories(env);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(env, PosixFilePermissions.fromString("rwxr-xr-x"));
            String migm = installedLauncher().map(l -> "env MIGM_HEAP=128m " + shellQuoted(l.toString()))
                    .orElseGet(() -> String.join(" ", checkoutCommand(dir).stream().map(SlurmCommands::shellQuoted).toList()));
            String common = " --socket " + shellQuoted(where.socket) + " --env-dir " + shellQuoted(env.toString());
            script(dir.resolve("prolog.sh"), """
                    #!/bin/sh
                    # Slurm Prolog (root, at allocation: PrologFlags=Alloc): asks the node's migm daemon for a
                    # slice of its GPUs for the job's gpumem and waits until it is placed. Written by migm slurm config.
                    exec %s slurm prolog%s
                    """.formatted(migm, common));
            script(dir.resolve("taskprolog.sh"), """
                    #!/bin/sh
                    # Slurm TaskProlog (the job's user, before every task): the slice's environment, as
                    # "export NAME=VALUE" lines. Written by migm slurm config.
                    f=%s/"$SLURM_JOB_ID".env
                    [ -r "$f" ] && cat "$f"
                    exit 0
                    """.formatted(shellQuoted(env.toString())));
            script(dir.resolve("epilog.sh"), """
                    #!/bin/sh
                    # Slurm Epilog (root, at every job end): gives the job's slice back to migm (a job that
                    # had none is answered "nothing held"). Written by migm slurm config.
                    exec %s slurm epilog%s
                    """.formatted(migm, common));
            spec.commandLine().getOut().println("# installed " + dir.resolve("prolog.sh") + ", taskprolog.sh, epilog.sh");
        }

        private static void script(Path file, String text) throws IOException {
            write(file, text, "rwxr-xr-x");
        }

        /** Replaces {@code file} whole (a reader sees the old text or the new, never a part). */
        private static void write(Path file, String text, String permissions) throws IOException {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(permissions));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * What a node's users should ask for: each size of instance its GPUs offer, the profiles of that
     * size, and the rounding that surprises (Slurm's {@code G} is 1024 MiB, and MIG's "10gb" profiles
     * hold 9856 MiB: {@code gpumem:10G} is 10240 MiB and gets the next size up).
     */
    static String sizesGuide(String node, List<String> models, Map<Long, ? extends java.util.Collection<String>> profilesBySize) {
        StringBuilder b = new StringBuilder();
        b.append("GPU memory on Slurm node ").append(node).append(" (").append(String.join(", ", models))
                .append("), as migm cuts it into MIG instances\n");
        b.append("Ask for one of these sizes (sbatch --gres=gpumem:SIZE); a job gets the smallest instance that holds it.\n");
        List<Long> sizes = List.copyOf(profilesBySize.keySet());
        for (int i = 0; i + 1 < sizes.size(); i++) {
            long mib = sizes.get(i);
            long roundG = (mib + 1023) / 1024;
            if (roundG * 1024 > mib) {
                b.append("Slurm's G is 1024M: gpumem:").append(roundG).append("G (").append(roundG * 1024).append("M) gets a ")
                        .append(sizes.get(i + 1)).append("M instance; ask for ").append(mib).append("M to get a ")
                        .append(String.join(" or ", profilesBySize.get(mib))).append(".\n");
                break;
            }
        }
        b.append(String.format(Locale.ROOT, "%-10s %s%n", "SIZE", "INSTANCE"));
        profilesBySize.forEach((mib, names) -> b.append(String.format(Locale.ROOT, "%-10s %s%n", mib + "M", String.join(", ", names))));
        return b.toString();
    }

    /**
     * slurmctld's {@code job_submit/lua} filter: refuses at submit (and at a user's modification) a
     * gpumem larger than any MIG instance of the node's GPUs holds, with the sizes users may ask for,
     * so that such a job never reaches a Prolog. Slurm counts gpumem in bytes; a count without a
     * suffix is bytes, K/M/G/T/P multiply by powers of 1024 (gres.conf.5). Root's modifications pass
     * (migm's own OOM requeue sets the next size with {@code scontrol update}; an admin may set any).
     */
    static String jobSubmitLua(long largestMib, List<Long> sizesMib) {
        return """
                -- job_submit/lua for migm (written by migm slurm config): a job's gpumem must fit one MIG
                -- instance of this cluster's GPUs, or no node can give it a slice.
                local LARGEST_MIB = %d
                local SIZES = "%s"
                local UNITS = { K = 1024, M = 1048576, G = 1073741824, T = 1099511627776, P = 1125899906842624 }

                -- The gpumem of a TRES string such as "gres:gpumem:20G" or "gres/gpumem:20G" in bytes;
                -- nil without one, -1 for a count that is not a number with a unit.
                local function gpumem_bytes(spec)
                  if spec == nil then return nil end
                  for item in string.gmatch(spec, "[^,]+") do
                    local rest = string.match(item, "^gres[:/]gpumem[:=](.+)$") or string.match(item, "^gpumem[:=](.+)$")
                    if rest ~= nil then
                      local count = string.match(rest, "([^:]+)$")
                      local number, unit = string.match(count, "^(%%d+)([KMGTP]?)$")
                      if number == nil then return -1 end
                      local bytes = tonumber(number)
                      if unit ~= "" then bytes = bytes * UNITS[unit] end
                      return bytes
                    end
                  end
                  return nil
                end

                local function check(job_desc)
                  for _, field in ipairs({ "tres_per_node", "tres_per_job", "tres_per_task", "tres_per_socket" }) do
                    local bytes = gpumem_bytes(job_desc[field])
                    if bytes ~= nil and (bytes < 0 or bytes > LARGEST_MIB * 1048576) then
                      slurm.log_user("migm: gpumem " .. tostring(job_desc[field]) .. " is more than any one MIG instance"
                        .. " holds (the largest is " .. LARGEST_MIB .. "M); a job runs on one GPU: ask for one of "
                        .. SIZES)
                      return slurm.ERROR
                    end
                  end
                  return slurm.SUCCESS
                end

                function slurm_job_submit(job_desc, part_list, submit_uid)
                  return check(job_desc)
                end

                function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
                  if modify_uid == 0 then return slurm.SUCCESS end
                  return check(job_desc)
                end
                """.formatted(largestMib, String.join(", ", sizesMib.stream().map(s -> s + "M").toList()));
    }

    /**
     * The launcher the package installed ({@code /usr/bin/migm}, named by its {@code -Dmigm.launcher}):
     * a path that outlives upgrades, with the package's runtime and AOT cache behind it. Empty when
     * this migm runs from a checkout.
     */
    static Optional<Path> installedLauncher() {
        String launcher = System.getProperty("migm.launcher", "");
        return launcher.isBlank() || !Files.isExecutable(Path.of(launcher)) ? Optional.empty() : Optional.of(Path.of(launcher));
    }

    /**
     * This migm from a checkout, for the scripts: the running JVM and its class path, with a
     * class-data archive beside the scripts (made by the first run, remade when the jar changes) that
     * starts each Prolog's and Epilog's JVM about a quarter sooner (BENCHMARKS.md section 20). The
     * JVM archives only jars: a class path with directories (a build tree) goes without. Rebuilding
     * or moving the checkout breaks the scripts: nodes install the package.
     */
    private static List<String> checkoutCommand(Path scriptsDir) {
        List<String> self = new ArrayList<>(selfCommand());
        boolean jarsOnly = java.util.Arrays.stream(System.getProperty("java.class.path").split(":"))
                .allMatch(e -> Files.isRegularFile(Path.of(e)));
        if (jarsOnly) {
            self.add(1, "-XX:SharedArchiveFile=" + scriptsDir.resolve("migm-cds.jsa"));
            self.add(1, "-XX:+AutoCreateSharedArchive");
        }
        return self;
    }

    /** This migm, as a command line: the running JVM, its class path and the CLI's main class. */
    static List<String> selfCommand() {
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName());
    }

    static String shellQuoted(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** What the Prolog and Epilog share: the job from Slurm's environment, the daemon, the env files. */
    abstract static class Script implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        NodeSocket where = new NodeSocket();

        @Option(names = "--env-dir", required = true, description = "where the TaskProlog reads each job's environment")
        Path envDir;

        String job;
        int restart;

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        String env(String name, String fallback) {
            String v = System.getenv(name);
            return v == null || v.isBlank() ? fallback : v;
        }

        void readJob() {
            job = env("SLURM_JOB_ID", null);
            if (job == null || !job.matches("[0-9]{1,10}")) {
                throw new InvalidInputException("SLURM_JOB_ID: expected a Slurm job id (run by Slurm as a Prolog or"
                        + " Epilog), got " + job);
            }
            String r = env("SLURM_JOB_RESTART_COUNT", env("SLURM_RESTART_COUNT", "0"));
            try {
                restart = Integer.parseInt(r);
            } catch (NumberFormatException e) {
                throw new InvalidInputException("SLURM_JOB_RESTART_COUNT: expected a number, got " + r);
            }
        }

        Path socket() {
            return where.forNode(env("SLURMD_NODENAME", "localhost"));
        }

        Path envFile() {
            return envDir.resolve(job + ".env");
        }

        /** Posts to the daemon, trying again while it cannot be reached (a restart) for up to a minute. */
        ApiClient.Answer post(String path, Map<String, Object> body) throws InterruptedException {
            long until = System.currentTimeMillis() + UNREACHABLE_RETRY_MS;
            while (true) {
                try (ApiClient api = new ApiClient(socket())) {
                    return api.post(path, body);
                } catch (ApiClient.Unreachable e) {
                    if (System.currentTimeMillis() > until) throw e;
                    Thread.sleep(1000);
                }
            }
        }
    }

    @Command(name = "prolog", mixinStandardHelpOptions = true, description = "Slurm's Prolog (root): a slice for the"
            + " job's gpumem, waited for; its environment for the TaskProlog. Exits non-zero (Slurm drains the node and"
            + " holds the job) only when the daemon is down or the job can never fit one GPU.")
    static final class Prolog extends Script {
        @Override
        public Integer call() throws InterruptedException, IOException {
            readJob();
            Files.deleteIfExists(envFile());
            String show;
            try {
                show = scontrol("show", "job", "-d", job);
            } catch (IOException e) {
                err().println("migm slurm prolog: job " + job + ": " + e.getMessage());
                return Main.FOUND_A_PROBLEM;
            }
            OptionalLong bytes = gpumemBytes(show);
            if (bytes.isEmpty()) return Main.OK; // no gpumem asked for: no slice
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("job", job);
            body.put("restart", restart);
            body.put("bytes", bytes.getAsLong());
            body.put("user", env("SLURM_JOB_USER", ""));
            String conf = System.getenv("SLURM_CONF");
            if (conf != null && !conf.isBlank()) body.put("slurm_conf", conf);
            String told = null;
            long started = System.currentTimeMillis();
            long nextCheck = started + CANCEL_CHECK_MS;
            try {
                while (true) {
                    ApiClient.Answer a = post("/v1/slurm/prepare", body);
                    if (a.status() == dev.migm.service.SlurmSlices.USERS_REQUEST) {
                        return refuse(a.error());
                    }
                    if (!a.ok()) {
                        err().println("migm slurm prolog: job " + job + ": " + a.error());
                        comment("migm: " + a.error());
                        return Main.FOUND_A_PROBLEM;
                    }
                    Object env = a.body().get("env");
                    if (env instanceof List<?> lines) {
                        writeEnv(lines);
                        err().println("migm slurm prolog: job " + job + " on gpu" + a.body().get("gpu") + " "
                                + a.body().get("instance") + " (migm job " + a.body().get("id") + ")");
                        if (told != null) comment("");
                        return Main.OK;
                    }
                    String why = String.valueOf(a.body().getOrDefault("waiting_because", "queued"));
                    if (System.currentTimeMillis() >= nextCheck) {
                        // Waiting for more than a moment: the job's comment says why.
                        if (told == null) {
                            told = why;
                            comment("migm: waiting for a slice: " + why);
                        }
                        // Slurm lets a cancelled job's Prolog run on: the slice it waits for goes back now.
                        nextCheck = System.currentTimeMillis() + CANCEL_CHECK_MS;
                        if (ended()) {
                            Map<String, Object> release = new LinkedHashMap<>(Map.of("job", job, "restart", restart,
                                    "exit", "0:0"));
                            ApiClient.Answer r = post("/v1/slurm/release", release);
                            err().println("migm slurm prolog: job " + job + " ended while it waited for its slice: "
                                    + (r.ok() ? r.body().get("result") : r.error()));
                            return Main.OK;
                        }
                    }
                    Thread.sleep(System.currentTimeMillis() - started < FAST_POLL_FOR_MS ? FAST_POLL_MS : POLL_MS);
                }
            } catch (ApiClient.Unreachable e) {
                err().println("migm slurm prolog: job " + job + ": " + e.getMessage());
                comment("migm: the node's daemon cannot be reached");
                return Main.FOUND_A_PROBLEM;
            }
        }

        /**
         * A request the node can never serve as asked (the user's, not the node's fault): the job is
         * cancelled with the reason as its comment ({@code scontrol show job}, {@code squeue -o %k}),
         * its tasks, should one start before the cancel lands, see no GPU and print the reason, and
         * the Prolog exits 0, so Slurm keeps the node in service (a failing Prolog drains it).
         */
        private int refuse(String why) throws IOException {
            err().println("migm slurm prolog: job " + job + " refused: " + why);
            comment("migm: refused: " + why);
            writeEnv(List.of("export CUDA_VISIBLE_DEVICES=", "print migm: this job was refused: " + why.replace('\n', ' ')));
            try {
                slurmCommand("scancel", job);
            } catch (IOException e) {
                err().println("migm slurm prolog: job " + job + ": could not cancel it: " + e.getMessage());
            }
            return Main.OK;
        }

        private void writeEnv(List<?> lines) throws IOException {
            StringBuilder text = new StringBuilder();
            for (Object l : lines) text.append(l).append('\n');
            Files.createDirectories(envDir);
            Path tmp = envDir.resolve(job + ".env.tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, envFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }

        /** Whether Slurm shows the job ended (cancelled while this Prolog waited); false if it cannot say. */
        private boolean ended() {
            try {
                Matcher m = Pattern.compile("\\bJobState=(\\S+)").matcher(scontrol("show", "job", job));
                return m.find() && !Set.of("PENDING", "CONFIGURING", "RUNNING", "REQUEUED", "RESIZING", "SUSPENDED")
                        .contains(m.group(1));
            } catch (IOException e) {
                return false;
            }
        }

        /** Best effort: the job's Comment, which {@code squeue -o %k} and {@code scontrol show job} show its user. */
        private void comment(String text) {
            try {
                scontrol("update", "jobid=" + job, "Comment=" + text);
            } catch (IOException e) {
                // a comment is a courtesy; the daemon's log and the node's state say the rest
            }
        }
    }

    @Command(name = "epilog", mixinStandardHelpOptions = true, description = "Slurm's Epilog (root): gives the job's"
            + " slice back; after an OOM (its output says so) the daemon may requeue it larger.")
    static final class Epilog extends Script {
        @Override
        public Integer call() throws InterruptedException, IOException {
            readJob();
            Files.deleteIfExists(envFile());
            String exit = env("SLURM_JOB_EXIT_CODE2", "0:0");
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("job", job);
            body.put("restart", restart);
            body.put("exit", exit);
            if (!exit.equals("0:0")) oomEvidence().ifPresent(e -> body.put("oom_evidence", e));
            String conf = System.getenv("SLURM_CONF");
            if (conf != null && !conf.isBlank()) body.put("slurm_conf", conf);
            try {
                ApiClient.Answer a = post("/v1/slurm/release", body);
                if (!a.ok()) {
                    err().println("migm slurm epilog: job " + job + ": " + a.error());
                    return Main.FOUND_A_PROBLEM;
                }
                if (a.body().containsKey("requeue")) {
                    err().println("migm slurm epilog: job " + job + " ran out of GPU memory; requeue: " + a.body().get("requeue"));
                }
                return Main.OK;
            } catch (ApiClient.Unreachable e) {
                err().println("migm slurm epilog: job " + job + ": " + e.getMessage());
                return Main.FOUND_A_PROBLEM;
            }
        }

        /**
         * The OOM line of the job's output, if its stdout or stderr (as Slurm names them) says it ran out
         * of GPU memory ({@link OomClassifier}). Read as root, so only regular files the job's user owns,
         * not through links, their last 64 KiB.
         */
        private Optional<String> oomEvidence() {
            String show;
            try {
                show = scontrol("show", "job", "-d", job);
            } catch (IOException e) {
                return Optional.empty();
            }
            long uid;
            try {
                uid = Long.parseLong(env("SLURM_JOB_UID", "-1"));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
            Matcher m = STD_FILE.matcher(show);
            while (m.find()) {
                Path f = Path.of(m.group(1).strip());
                try {
                    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)
                            || ((Number) Files.getAttribute(f, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue() != uid) {
                        continue;
                    }
                    Optional<String> oom = OomClassifier.classify(dev.migm.exec.ProcessExecutor.tail(f, 64 * 1024));
                    if (oom.isPresent()) return Optional.of(oom.get().substring(oom.get().indexOf(": ") + 2));
                } catch (IOException | RuntimeException e) {
                    // unreadable output: no evidence
                }
            }
            return Optional.empty();
        }
    }

    /** The per-node gpumem of a job in bytes, from {@code scontrol show job -d}; empty when it asked for none. */
    static OptionalLong gpumemBytes(String show) {
        Matcher m = JOB_GRES.matcher(show);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /** {@code scontrol ARGS}'s output; an IOException with its message when it fails. */
    static String scontrol(String... args) throws IOException {
        String[] all = new String[args.length + 1];
        all[0] = "scontrol";
        System.arraycopy(args, 0, all, 1, args.length);
        return slurmCommand(all);
    }

    /** A Slurm command's output ({@code scontrol}, {@code scancel}); an IOException with its message when it fails. */
    static String slurmCommand(String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(command));
        String[] args = java.util.Arrays.copyOfRange(command, 1, command.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command[0] + " " + String.join(" ", args) + " did not answer in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.format(Locale.ROOT, "%s %s: %s", command[0], String.join(" ", args),
                    out.strip().lines().findFirst().orElse("exit status " + p.exitValue())));
        }
        return out;
    }
}
