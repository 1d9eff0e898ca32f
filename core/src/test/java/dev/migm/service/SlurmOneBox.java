package dev.migm.service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Slurm 22.05 (Debian's packages) on this machine, for the Slurm tests: munged (started only
 * if none answers), one slurmctld and one slurmd per node, each in the foreground of its own session
 * with every file under one directory, and stopped by pid (../shared/docs/slurm-onebox.md: no
 * systemd; slurmstepd outlives slurmd, so jobs are cancelled and waited for first). Several slurmd on
 * one host work in this build: each node has its own port, spool and log ({@code %n}).
 */
final class SlurmOneBox {
    /** Ports of their own, so that a Slurm already on the machine is not disturbed. */
    static final int CTLD_PORT = 16817;

    final Path dir;
    final Path conf;
    private final List<String> nodes;
    private final List<Process> daemons = new ArrayList<>();
    private Process munged;

    static boolean installed() {
        return Files.isExecutable(Path.of("/usr/sbin/slurmctld")) && Files.isExecutable(Path.of("/usr/sbin/slurmd"))
                && Files.isExecutable(Path.of("/usr/bin/sbatch")) && Files.isExecutable(Path.of("/usr/sbin/munged"));
    }

    /**
     * Writes slurm.conf and gres.conf: {@code nodeLines} are whole NodeName lines, {@code extra} the
     * lines {@code migm slurm config} printed for the cluster (GresTypes, Prolog, ...).
     */
    SlurmOneBox(Path dir, List<String> extra, List<String> nodeLines, List<String> gresLines, List<String> nodes)
            throws IOException {
        this.dir = dir;
        this.nodes = List.copyOf(nodes);
        for (String d : List.of("etc", "state/ctld", "log", "run")) Files.createDirectories(dir.resolve(d));
        for (String n : nodes) Files.createDirectories(dir.resolve("state/d").resolve(n));
        this.conf = dir.resolve("etc/slurm.conf");
        List<String> lines = new ArrayList<>(List.of(
                "ClusterName=migmtest",
                "SlurmctldHost=localhost(127.0.0.1)",
                "SlurmctldPort=" + CTLD_PORT,
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                "StateSaveLocation=" + dir.resolve("state/ctld"),
                "SlurmdSpoolDir=" + dir.resolve("state/d") + "/%n",
                "SlurmctldPidFile=" + dir.resolve("run/slurmctld.pid"),
                "SlurmdPidFile=" + dir.resolve("run") + "/slurmd-%n.pid",
                "SlurmctldLogFile=" + dir.resolve("log/slurmctld.log"),
                "SlurmdLogFile=" + dir.resolve("log") + "/slurmd-%n.log",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "MpiDefault=none",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "MailProg=/bin/true",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "ReturnToService=2",
                "SlurmdParameters=config_overrides",
                "MinJobAge=600"));
        lines.addAll(extra);
        lines.addAll(nodeLines);
        lines.add("PartitionName=debug Nodes=" + String.join(",", nodes) + " Default=YES MaxTime=INFINITE State=UP");
        Files.writeString(conf, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("etc/gres.conf"), String.join("\n", gresLines) + "\n", StandardCharsets.UTF_8);
    }

    /** Starts the daemons and waits until every node is idle. */
    void up() throws Exception {
        if (run(List.of("sh", "-c", "munge -n </dev/null >/dev/null 2>&1"), 10).rc() != 0) {
            Path run = Path.of("/run/munge");
            Files.createDirectories(run);
            exec("chown", "munge:munge", run.toString());
            if (!Files.exists(Path.of("/etc/munge/munge.key"))) {
                exec("mungekey", "-c", "-k", "/etc/munge/munge.key");
                exec("chown", "munge:munge", "/etc/munge/munge.key");
            }
            munged = start(List.of("setpriv", "--reuid=munge", "--regid=munge", "--clear-groups", "/usr/sbin/munged", "-F"),
                    "munged.out");
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (run(List.of("sh", "-c", "munge -n </dev/null >/dev/null 2>&1"), 10).rc() != 0) {
                if (System.nanoTime() > until) throw new AssertionError("munged did not start: " + log("munged.out"));
                Thread.sleep(100);
            }
        }
        daemons.add(start(List.of("/usr/sbin/slurmctld", "-D", "-i"), "ctld.out"));
        for (String n : nodes) daemons.add(start(List.of("/usr/sbin/slurmd", "-D", "-N", n), "slurmd-" + n + ".out"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            for (Process p : daemons) {
                if (!p.isAlive()) throw new AssertionError("a Slurm daemon died: " + log("ctld.out") + log("slurmctld.log"));
            }
            Result r = slurm(List.of("sinfo", "-h", "-N", "-o", "%N %T"), 10);
            if (r.rc() == 0 && r.out().lines().filter(l -> l.endsWith(" idle")).count() == nodes.size()) return;
            if (System.nanoTime() > until) throw new AssertionError("nodes not idle: " + r.out() + log("slurmctld.log"));
            Thread.sleep(200);
        }
    }

    record Result(int rc, String out) {
    }

    /** A Slurm command with this box's configuration, as root. */
    Result slurm(List<String> cmd, int timeoutS) throws Exception {
        return run(cmd, timeoutS, Map.of("SLURM_CONF", conf.toString()));
    }

    /** A Slurm command as {@code nobody} (uid 65534, no other group), from {@code cwd}. */
    Result asNobody(Path cwd, List<String> cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                "env", "-C", cwd.toString(), "SLURM_CONF=" + conf));
        all.addAll(cmd);
        return run(all, 30);
    }

    /** {@code scontrol show job}'s field, e.g. {@code JobState} or {@code Restarts}. */
    String field(String job, String name) throws Exception {
        String show = slurm(List.of("scontrol", "show", "job", job), 10).out();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:^|\\s)" + name + "=(\\S*)").matcher(show);
        return m.find() ? m.group(1) : "";
    }

    /** Waits until the job's state is one of {@code states}; false on time-out. */
    boolean awaitState(String job, long timeoutMs, String... states) throws Exception {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < until) {
            if (List.of(states).contains(field(job, "JobState"))) return true;
            Thread.sleep(200);
        }
        return false;
    }

    String log(String name) {
        try {
            Path f = dir.resolve("log").resolve(name);
            if (!Files.exists(f)) return "";
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            return "\n--- " + name + "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /** Cancels every job and waits for its steps, then stops slurmd, slurmctld and the munged it started. */
    void close() throws Exception {
        if (!daemons.isEmpty() && daemons.getFirst().isAlive()) {
            slurm(List.of("scancel", "--full", "-p", "debug"), 10);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < until) {
                boolean steps;
                try (var s = Files.walk(dir.resolve("state/d"))) {
                    steps = s.anyMatch(p -> p.getFileName().toString().contains("_"));
                }
                if (slurm(List.of("squeue", "-h"), 10).out().isBlank() && !steps) break;
                Thread.sleep(200);
            }
        }
        List<Process> order = new ArrayList<>(daemons.reversed());
        if (munged != null) order.add(munged);
        for (Process p : order) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        daemons.clear();
    }

    private Process start(List<String> cmd, String logName) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").resolve(logName).toFile());
        pb.environment().put("SLURM_CONF", conf.toString());
        return pb.start();
    }

    private static void exec(String... cmd) throws Exception {
        Result r = run(List.of(cmd), 30);
        if (r.rc() != 0) throw new AssertionError(String.join(" ", cmd) + ": " + r.out());
    }

    static Result run(List<String> cmd, int timeoutS) throws Exception {
        return run(cmd, timeoutS, Map.of());
    }

    static Result run(List<String> cmd, int timeoutS, Map<String, String> env) throws Exception {
        List<String> bounded = new ArrayList<>(List.of("timeout", "-k", "5", Integer.toString(timeoutS)));
        bounded.addAll(cmd);
        ProcessBuilder pb = new ProcessBuilder(bounded).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return new Result(p.exitValue(), out);
    }

    /** A directory every user may write (jobs' output). */
    static Path sharedDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }
}
