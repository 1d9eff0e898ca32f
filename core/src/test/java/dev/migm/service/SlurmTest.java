package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.migm.exec.RunAs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Slurm on top, migm on each node, for real: Debian's Slurm 22.05 daemons on this machine (two nodes,
 * a slurmd each), a migm daemon per node on emulated A100-40GBs (n1: one GPU, n2: two), the Prolog,
 * TaskProlog and Epilog that {@code migm slurm config --install} wrote, and jobs submitted with
 * {@code sbatch --gres=gpumem:...} by an unprivileged user ({@code nobody}). Needs root and the
 * Slurm packages ({@code ./test} installs them); skipped elsewhere.
 *
 * <p>Sizes, from the A100-40GB catalog (1g.5gb 4864 MiB, 1g.10gb and 2g.10gb 9856 MiB, 3g.20gb and
 * 4g.20gb 19968 MiB, 7g.40gb 40192 MiB) and the declared estimate's 5% margin: 4G (4300 MiB) fits a
 * 1g.5gb, 8G (8602) a 10gb instance, 16G (17203) a 20gb one, 24G (25805) only a 7g.40gb. A node's
 * gpumem is the sum of its GPUs' largest instances: n1 40192M, n2 80384M.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlurmTest {
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
    /** Runs in the suite: a few; {@code bench/slurm-overhead.sh} runs more. */
    private static final int OVERHEAD_RUNS = Integer.getInteger("migm.slurm.overheadRuns", 3);
    /** How often the daemons check their slices against Slurm (30 s by default; short here). */
    private static final double RECONCILE_S = 2;
    private static Path base;
    private static Path out;
    private static String classPath;
    private static final Map<String, DaemonProcess> migm = new TreeMap<>();
    private static SlurmOneBox slurm;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(RunAs.processIsRoot(), "needs root: Slurm's daemons and migm's run as root");
        assumeTrue(SlurmOneBox.installed(), "needs Debian's slurmctld, slurmd, slurm-client and munge (./test installs them)");
        assumeTrue(RunAs.lookup("nobody").isPresent(), "needs the user nobody");
        base = Files.createTempDirectory("migm-slurm-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        classPath = PublicClassPath.copyTo(base.resolve("cp"));
        out = SlurmOneBox.sharedDir(base.resolve("out"));
        Files.createDirectories(base.resolve("migm"));
        for (var node : Map.of("n1", "1", "n2", "2").entrySet()) {
            // As a site runs it: root's jobs are not run (allow_root_jobs off), every other user's are.
            migm.put(node.getKey(), DaemonProcess.startExactly(base.resolve("migm").resolve(node.getKey()), "--gpu", "A100-40GB",
                    "--gpus", node.getValue(), "--time-scale", "20", "--http-listen", "off", "--slurm-requeue-oom",
                    "--slurm-reconcile-s", Double.toString(RECONCILE_S)));
        }
        // The lines migm prints for each node, from its daemon's view of its GPUs; n1's run installs the scripts.
        String socket = base.resolve("migm") + "/%n/migm.sock";
        List<String> cluster = new ArrayList<>();
        List<String> nodeLines = new ArrayList<>();
        List<String> gres = new ArrayList<>();
        int port = SlurmOneBox.CTLD_PORT + 1;
        for (String n : migm.keySet()) {
            List<String> args = new ArrayList<>(List.of("slurm", "config", "--socket", socket, "--node", n, "--scripts",
                    base.resolve("etc-migm").toString(), "--lua-dir", base.resolve("slurm/etc").toString()));
            if (n.equals("n1")) args.add("--install");
            SlurmOneBox.Result config = migmCli(args);
            assertThat(config.rc()).as(config.out()).isZero();
            for (String line : config.out().lines().toList()) {
                if (line.startsWith("#") || line.isBlank()) continue;
                if (line.contains("Name=gpumem")) {
                    gres.add(line);
                } else if (line.startsWith("NodeName=")) {
                    nodeLines.add(line + " NodeHostname=localhost NodeAddr=127.0.0.1 Port=" + port++
                            + " CPUs=8 RealMemory=2000 Weight=" + n.substring(1) + " State=UNKNOWN");
                } else if (!cluster.contains(line)) {
                    cluster.add(line);
                }
            }
        }
        assertThat(nodeLines).containsExactly(
                "NodeName=n1 Gres=gpumem:40192M NodeHostname=localhost NodeAddr=127.0.0.1 Port=16818 CPUs=8 RealMemory=2000"
                        + " Weight=1 State=UNKNOWN",
                "NodeName=n2 Gres=gpumem:80384M NodeHostname=localhost NodeAddr=127.0.0.1 Port=16819 CPUs=8 RealMemory=2000"
                        + " Weight=2 State=UNKNOWN");
        slurm = new SlurmOneBox(base.resolve("slurm"), cluster, nodeLines, gres, List.of("n1", "n2"));
        slurm.up();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (slurm != null) slurm.close();
        } finally {
            for (DaemonProcess d : migm.values()) d.close();
            if (base != null && !Boolean.getBoolean("migm.slurm.keep")) {
                try (Stream<Path> all = Files.walk(base)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        }
    }

    private static SlurmOneBox.Result migmCli(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-Xmx128m", "-cp", classPath, "dev.migm.cli.Main"));
        cmd.addAll(args);
        return SlurmOneBox.run(cmd, 60);
    }

    /** What each job prints first: its slice's device, its checkpoint directory, its restart count. */
    private static final String SHOW = "echo \"dev=$CUDA_VISIBLE_DEVICES ckpt=$MIGM_CHECKPOINT_DIR restart=$SLURM_RESTART_COUNT\"; ";

    /** {@code sbatch} as nobody: the job's id. */
    private static String sbatch(String node, String gpumem, String script) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sbatch", "--parsable", "-o", out + "/%j.out"));
        if (node != null) cmd.addAll(List.of("-w", node));
        if (gpumem != null) cmd.add("--gres=gpumem:" + gpumem);
        cmd.addAll(List.of("--wrap", script));
        SlurmOneBox.Result r = slurm.asNobody(out, cmd);
        assertThat(r.rc()).as(r.out()).isZero();
        return r.out().strip().split(";")[0];
    }

    private static String output(String job) throws Exception {
        Path f = out.resolve(job + ".out");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    /** Waits until the job's task started (its first line printed). */
    private static void awaitTask(String job) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!output(job).contains("dev=")) {
            assertThat(System.nanoTime()).as("job " + job + " started; " + slurm.field(job, "JobState") + slurm.log("slurmctld.log"))
                    .isLessThan(until);
            Thread.sleep(100);
        }
    }

    /** Waits until the node is idle again (its last Epilog done), not drained. */
    private static void awaitIdle(String node) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String state;
        while (!(state = nodeState(node)).equals("IDLE")) {
            if (System.nanoTime() > until) {
                throw new AssertionError(node + " is " + state + ": " + slurm.slurm(List.of("squeue", "-a", "-o",
                        "%i %T %R %N %b"), 10).out() + slurm.slurm(List.of("scontrol", "show", "node", node), 10).out());
            }
            Thread.sleep(200);
        }
    }

    /** The node's state as the controller has it: IDLE, MIXED, IDLE+DRAIN, ... */
    private static String nodeState(String node) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\bState=(\\S+)")
                .matcher(slurm.slurm(List.of("scontrol", "show", "node", node), 10).out());
        return m.find() ? m.group(1) : "";
    }

    private static void awaitEnd(String job, String state) throws Exception {
        assertThat(slurm.awaitState(job, 180_000, "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"))
                .as("job " + job + " ended").isTrue();
        assertThat(slurm.field(job, "JobState")).as("job " + job + ": " + output(job)).isEqualTo(state);
    }

    /** The holder of a Slurm job's slice in its node's journal: name, state, reason, instance, running_at, ended_at, gpu. */
    private static List<String> holder(String node, String job, int restart) throws Exception {
        Path home = base.resolve("migm").resolve(node);
        String name = "slurm-" + job + "-" + restart;
        assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE name='" + name + "' AND ended_at IS NOT NULL",
                30_000)).as(name + " ended on " + node).isTrue();
        List<List<String>> rows = DaemonProcess.rows(home, "SELECT j.name, j.state, j.reason, a.instance, a.running_at,"
                + " a.ended_at, a.gpu FROM jobs j LEFT JOIN attempts a ON a.job = j.id WHERE j.name = '" + name + "'");
        assertThat(rows).as(name).hasSize(1);
        return rows.getFirst();
    }

    /** The holder's instance profile; "whole" for a whole GPU (MIG off). */
    private static String profile(List<String> holder) {
        String instance = holder.get(3);
        return instance == null || instance.isEmpty() ? "whole" : instance.substring(0, instance.indexOf('@'));
    }

    private static String device(String output) {
        return output.lines().filter(l -> l.startsWith("dev=")).findFirst().orElse("").split(" ")[0].substring(4);
    }

    @Test
    @Order(1)
    @Timeout(300)
    void jobsRunSideBySideOnSlicesOfTheirSize_andEverySliceIsReleased() throws Exception {
        // One after the other, largest first, so that each finds the GPU as the one before left it: a
        // 20gb instance, then a 10gb one beside it, then a 1g.5gb in what is left.
        String c = sbatch("n1", "16G", SHOW + "sleep 20");
        awaitTask(c);
        String b = sbatch("n1", "8G", SHOW + "sleep 15");
        awaitTask(b);
        String a = sbatch("n1", "4G", SHOW + "sleep 10");
        awaitTask(a);
        // Beside them, on what is left of the GPU: one that fails and one cancelled while it runs.
        String failing = sbatch("n1", "2G", SHOW + "exit 3");
        String cancelled = sbatch("n1", "2G", SHOW + "sleep 300");
        awaitTask(cancelled);
        assertThat(slurm.asNobody(out, List.of("scancel", cancelled)).rc()).isZero();
        for (String j : List.of(a, b, c)) awaitEnd(j, "COMPLETED");
        awaitEnd(failing, "FAILED");
        awaitEnd(cancelled, "CANCELLED");

        // Each job saw its own MIG device, and its checkpoint directory, nobody's own.
        List<String> devices = Stream.of(a, b, c).map(j -> {
            try {
                return device(output(j));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
        assertThat(devices).allMatch(d -> d.startsWith("MIG-")).doesNotHaveDuplicates();
        Path ckpt = base.resolve("migm/n1/slurm/jobs").resolve(a).resolve("checkpoints");
        assertThat(output(a)).contains("ckpt=" + ckpt + " ");
        assertThat(((Number) Files.getAttribute(ckpt, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue()).isEqualTo(65534);

        // migm cut each a slice of its size and ran the three at once on the one GPU.
        List<String> ha = holder("n1", a, 0);
        List<String> hb = holder("n1", b, 0);
        List<String> hc = holder("n1", c, 0);
        assertThat(profile(ha)).isEqualTo("1g.5gb");
        assertThat(profile(hb)).isIn("1g.10gb", "2g.10gb");
        assertThat(profile(hc)).isIn("3g.20gb", "4g.20gb");
        double lastStart = Stream.of(ha, hb, hc).mapToDouble(h -> Double.parseDouble(h.get(4))).max().orElseThrow();
        double firstEnd = Stream.of(ha, hb, hc).mapToDouble(h -> Double.parseDouble(h.get(5))).min().orElseThrow();
        assertThat(lastStart).as("the three slices were held at once").isLessThan(firstEnd);
        for (List<String> h : List.of(ha, hb, hc)) assertThat(h.get(1)).as(h.toString()).isEqualTo("done");
        List<String> hf = holder("n1", failing, 0);
        assertThat(hf.get(1)).isEqualTo("failed");
        assertThat(hf.get(2)).contains("exit status 3");
        holder("n1", cancelled, 0);

        // Every slice is back: no job open in migm, no environment file left, the node in service.
        assertThat(DaemonProcess.count(base.resolve("migm/n1"), "SELECT count(*) FROM jobs WHERE ended_at IS NULL")).isZero();
        try (Stream<Path> env = Files.list(base.resolve("etc-migm/env"))) {
            assertThat(env.toList()).isEmpty();
        }
        awaitIdle("n1");
    }

    @Test
    @Order(2)
    @Timeout(300)
    void aJobOutOfGpuMemoryIsRequeuedLarger_andCompletes_inItsOneCheckpointDirectory() throws Exception {
        // 3 GiB growing to 7 GiB over 40 s of work: out of memory on a 1g.5gb (4864 MiB); the engine's
        // rule after an OOM asks for more than 4864 MiB, whose tightest instance is a 10gb one (9856 MiB).
        String job = sbatch("n1", "4G", SHOW + "exec " + JAVA + " -Xmx64m -XX:+UseSerialGC -cp " + classPath
                + " dev.migm.cli.Main workload --work 40s --mem 3GiB --grow-to 7GiB --checkpoint-every 4s");
        // It fails first (FAILED, restart 0); migm requeues it once its Epilog is over.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!(slurm.field(job, "Restarts").equals("1")
                && List.of("COMPLETED", "FAILED", "CANCELLED").contains(slurm.field(job, "JobState")))) {
            assertThat(System.nanoTime()).as("job " + job + " requeued and ended; " + slurm.field(job, "JobState")
                    + " restarts " + slurm.field(job, "Restarts") + "; " + output(job)).isLessThan(until);
            Thread.sleep(200);
        }
        assertThat(slurm.field(job, "JobState")).as(output(job)).isEqualTo("COMPLETED");
        assertThat(slurm.field(job, "Restarts")).isEqualTo("1");
        assertThat(slurm.field(job, "TresPerNode")).isEqualTo("gres:gpumem:9856M");
        assertThat(output(job)).contains("restart=1");

        List<String> first = holder("n1", job, 0);
        assertThat(first.get(1)).isEqualTo("failed");
        assertThat(first.get(2)).contains("out of memory on gpu0:1g.5gb").contains("CUDA out of memory");
        assertThat(profile(first)).isEqualTo("1g.5gb");
        List<String> second = holder("n1", job, 1);
        assertThat(second.get(1)).isEqualTo("done");
        assertThat(profile(second)).isIn("1g.10gb", "2g.10gb");
        Path home = base.resolve("migm/n1");
        assertThat(DaemonProcess.count(home, "SELECT count(*) FROM events WHERE kind = 'SlurmRequeue' AND text LIKE"
                + " '%requeued with gpumem:9856M%'")).isEqualTo(1);
        // Both runs had the Slurm job's one checkpoint directory, nobody's, and a checkpoint is in it.
        Path checkpoint = home.resolve("slurm/jobs").resolve(job).resolve("checkpoints/checkpoint");
        assertThat(checkpoint).exists();
        assertThat(((Number) Files.getAttribute(checkpoint, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue()).isEqualTo(65534);
    }

    @Test
    @Order(3)
    @Timeout(300)
    void aJobThatFitsSlurmsTotalButNoOneGpuWaitsInTheProlog() throws Exception {
        // n2: two GPUs, 80384M in Slurm's count. Two 24G jobs take a whole GPU each; a 12G job fits
        // Slurm's count (60G of 78.5G) but no GPU until one of them ends.
        String big1 = sbatch("n2", "24G", SHOW + "sleep 10");
        String big2 = sbatch("n2", "24G", SHOW + "sleep 10");
        awaitTask(big1);
        awaitTask(big2);
        String small = sbatch("n2", "12G", SHOW + "true");
        String cancelled = sbatch("n2", "12G", SHOW + "true");
        Path home = base.resolve("migm/n2");
        assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE name = 'slurm-" + small + "-0' AND state ="
                + " 'queued'", 30_000)).as("its slice waits in migm's queue").isTrue();
        assertThat(slurm.field(small, "JobState")).as("allocated by Slurm, in its Prolog").isIn("CONFIGURING", "RUNNING");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!slurm.slurm(List.of("squeue", "-h", "-j", small, "-o", "%k"), 10).out().contains("migm: waiting for a slice")) {
            assertThat(System.nanoTime()).as("the job's comment says why it waits").isLessThan(until);
            Thread.sleep(100);
        }
        assertThat(output(small)).doesNotContain("dev=");
        // One of the two waiting is cancelled in its Prolog: its Epilog takes its slice out of migm's queue.
        assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE name = 'slurm-" + cancelled + "-0'",
                30_000)).isTrue();
        assertThat(slurm.asNobody(out, List.of("scancel", cancelled)).rc()).isZero();
        awaitEnd(cancelled, "CANCELLED");
        List<String> c = holder("n2", cancelled, 0);
        assertThat(c.get(1)).isEqualTo("cancelled");
        assertThat(c.get(4)).as("it never ran").isNull();
        awaitEnd(small, "COMPLETED");
        awaitEnd(big1, "COMPLETED");
        awaitEnd(big2, "COMPLETED");
        awaitIdle("n2");
        List<String> s = holder("n2", small, 0);
        double bigsFirstEnd = Math.min(Double.parseDouble(holder("n2", big1, 0).get(5)), Double.parseDouble(holder("n2", big2, 0).get(5)));
        assertThat(Double.parseDouble(s.get(4))).as("the small slice ran once a big one was released").isGreaterThanOrEqualTo(bigsFirstEnd);
    }

    @Test
    @Order(4)
    @Timeout(300)
    void slurmSpreadsJobsAcrossTheNodes_whileMigmPacksEach() throws Exception {
        // Four 16G jobs: Slurm puts two on n1 (Weight=1; 32G of 40192M, a third would not fit its count)
        // and the others on n2; migm packs n1's two on its one GPU (two 3g.20gb or 4g.20gb + 3g.20gb).
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) jobs.add(sbatch(null, "16G", SHOW + "sleep 6"));
        for (String j : jobs) awaitTask(j);
        Map<String, List<String>> byNode = new TreeMap<>();
        for (String j : jobs) byNode.computeIfAbsent(slurm.field(j, "NodeList"), k -> new ArrayList<>()).add(j);
        for (String j : jobs) awaitEnd(j, "COMPLETED");
        assertThat(byNode.keySet()).as(byNode.toString()).containsExactly("n1", "n2");
        List<List<String>> n1 = new ArrayList<>();
        for (String j : byNode.get("n1")) n1.add(holder("n1", j, 0));
        assertThat(n1).hasSize(2);
        assertThat(n1).allMatch(h -> h.get(6).equals("0") && profile(h).endsWith("g.20gb"));
        assertThat(Double.parseDouble(n1.get(0).get(4))).isLessThan(Double.parseDouble(n1.get(1).get(5)));
        assertThat(Double.parseDouble(n1.get(1).get(4))).isLessThan(Double.parseDouble(n1.get(0).get(5)));
        for (String j : byNode.get("n2")) assertThat(holder("n2", j, 0).get(1)).isEqualTo("done");
    }

    @Test
    @Order(5)
    @Timeout(300)
    void prologToTaskOverhead() throws Exception {
        // srun as nobody on n1, with and without gpumem: without, the Prolog and Epilog still run (a JVM
        // each, an scontrol call, the Epilog's call to the daemon) but migm places nothing.
        List<Double> withSlice = new ArrayList<>();
        List<Double> without = new ArrayList<>();
        for (int i = 0; i < OVERHEAD_RUNS; i++) {
            for (boolean slice : List.of(true, false)) {
                List<String> cmd = new ArrayList<>(List.of("srun", "-w", "n1"));
                if (slice) cmd.add("--gres=gpumem:4G");
                cmd.addAll(List.of("sh", "-c", "echo \"[$CUDA_VISIBLE_DEVICES]\""));
                long t0 = System.nanoTime();
                SlurmOneBox.Result r = slurm.asNobody(out, cmd);
                double s = (System.nanoTime() - t0) / 1e9;
                assertThat(r.rc()).as(r.out()).isZero();
                if (slice) {
                    assertThat(r.out()).contains("[MIG-");
                    withSlice.add(s);
                } else {
                    assertThat(r.out()).contains("[]");
                    without.add(s);
                }
            }
        }
        System.out.printf(Locale.ROOT, "SlurmTest overhead, %d runs each: srun --gres=gpumem:4G median %.2f s (min %.2f,"
                        + " max %.2f); srun without gpumem median %.2f s (min %.2f, max %.2f)%n", OVERHEAD_RUNS,
                median(withSlice), min(withSlice), max(withSlice), median(without), min(without), max(without));
    }

    @Test
    @Order(6)
    @Timeout(300)
    void requestsNoGpuCanServe_areRefusedWithTheirReason_andNeverDrainTheNode() throws Exception {
        // 41G fits n2's count (80384M) but no GPU (40192M at most). The job_submit/lua filter that
        // migm slurm config installed refuses it at submit, with the sizes one may ask for.
        SlurmOneBox.Result refused = slurm.asNobody(out, List.of("sbatch", "--parsable", "-w", "n2", "--gres=gpumem:41G",
                "--wrap", "true"));
        assertThat(refused.rc()).as(refused.out()).isNotZero();
        assertThat(refused.out()).contains("migm: gpumem").contains("the largest is 40192M")
                .contains("4864M, 9856M, 19968M, 40192M");

        // The same size reaching the Prolog (an admin set it on a held job; the filter lets root's changes
        // pass): the Prolog cancels the job with the reason and exits 0, so the node stays in service.
        String oversize = sbatchHeld("n2", "4G");
        assertThat(slurm.slurm(List.of("scontrol", "update", "jobid=" + oversize, "Gres=gpumem:41G"), 10).rc()).isZero();
        assertThat(slurm.slurm(List.of("scontrol", "release", oversize), 10).rc()).isZero();
        awaitEnd(oversize, "CANCELLED");
        assertThat(slurm.slurm(List.of("scontrol", "show", "job", oversize), 10).out()).as("the job says why")
                .contains("Comment=migm: refused: Slurm job " + oversize + " asks for gpumem 41984 MiB, more than any one"
                        + " GPU of this node holds");

        // A job of root's, which this node does not run (allow_root_jobs is off): cancelled the same way.
        SlurmOneBox.Result asRoot = slurm.slurm(List.of("sbatch", "--parsable", "-w", "n1", "-o", out + "/%j.out",
                "--gres=gpumem:4G", "--wrap", SHOW + "true"), 30);
        assertThat(asRoot.rc()).as(asRoot.out()).isZero();
        String rootJob = asRoot.out().strip().split(";")[0];
        awaitEnd(rootJob, "CANCELLED");
        assertThat(slurm.slurm(List.of("scontrol", "show", "job", rootJob), 10).out())
                .contains("Comment=migm: refused: jobs submitted by root would run as root");
        assertThat(output(rootJob)).doesNotContain("dev=MIG-");

        // Neither drained a node, and a small job on each runs after them.
        for (String node : List.of("n1", "n2")) {
            assertThat(nodeState(node)).as(node).doesNotContain("DRAIN");
            String small = sbatch(node, "2G", SHOW + "true");
            awaitEnd(small, "COMPLETED");
            // A slice: a MIG instance, or a whole GPU where migm turned MIG off (n2 ran whole-GPU jobs before).
            assertThat(device(output(small))).matches("(MIG|GPU)-[0-9a-f-]+");
        }
        for (String node : List.of("n1", "n2")) {
            awaitIdle(node);
            assertThat(slurm.slurm(List.of("scontrol", "show", "node", node), 10).out()).doesNotContain("Prolog error");
        }
    }

    /** {@code sbatch --hold} as nobody: the job's id, pending until released. */
    private static String sbatchHeld(String node, String gpumem) throws Exception {
        SlurmOneBox.Result r = slurm.asNobody(out, List.of("sbatch", "--parsable", "--hold", "-o", out + "/%j.out", "-w",
                node, "--gres=gpumem:" + gpumem, "--wrap", SHOW + "true"));
        assertThat(r.rc()).as(r.out()).isZero();
        return r.out().strip().split(";")[0];
    }

    @Test
    @Order(7)
    @Timeout(120)
    void aSliceWhoseEpilogNeverComesIsReleasedWhenSlurmNoLongerRunsItsJob() throws Exception {
        // A Prolog's request for a job Slurm does not know (as if its slurmd died before the Epilog and
        // the job was purged): the daemon's check against Slurm (every RECONCILE_S here) lets it go.
        Path home = base.resolve("migm/n1");
        try (ApiClient api = new ApiClient(home.resolve("migm.sock"))) {
            ApiClient.Answer a = api.post("/v1/slurm/prepare", Map.of("job", "999999", "restart", 0, "bytes", 4L << 30,
                    "user", "nobody", "slurm_conf", slurm.conf.toString()));
            assertThat(a.ok()).as(a.body().toString()).isTrue();
        }
        List<String> h = holder("n1", "999999", 0);
        assertThat(h.get(1)).isIn("done", "cancelled");
        assertThat(DaemonProcess.count(home, "SELECT count(*) FROM events WHERE kind = 'SlurmReleased' AND text LIKE"
                + " 'Slurm no longer knows job 999999%'")).isEqualTo(1);
    }

    private static double median(List<Double> v) {
        List<Double> s = v.stream().sorted().toList();
        return s.get(s.size() / 2);
    }

    private static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
