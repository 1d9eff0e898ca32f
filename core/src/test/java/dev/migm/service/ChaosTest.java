package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile world, seeded: a stream of batches on four emulated A100s while the emulated GPU
 * injects every fault it knows at random ({@code --emulated-faults chaos:SEED:RATE}: creates refused
 * with INSUFFICIENT_RESOURCES, destroys refused with IN_USE, plans stuck past the engine's time-out,
 * GPUs falling off the bus for seconds) and the test adds its own: job processes killed with their
 * supervisors (a process that vanishes without an exit status) and the daemon killed with SIGKILL
 * and restarted (each time with the next seed). Then the daemon runs on without faults until every
 * job has ended, and:
 *
 * <ul>
 *   <li>every acknowledged job ended exactly once, done or failed with a reason;
 *   <li>no two attempts of a job overlapped;
 *   <li>no instance leaked: a restart finds none it did not create, and destroys the idle ones;
 *       no job process outlives the test;
 *   <li>every fault is in the journal: each injected fault's id (the emulated GPU's
 *       {@code HOME/faults.log}) in the event that reported it, each stuck plan as the time-out of
 *       its ticket, each killed job as its attempt's outcome; a fault injected in the last
 *       {@link #CUT_MS} before its daemon was killed may have been cut with the daemon and is
 *       counted apart.
 * </ul>
 *
 * The chaos is a seeded number of actions ({@code migm.chaos.actions}, default {@value #DEFAULT_ACTIONS};
 * {@code bench/chaos.sh} runs more and other seeds), then more until every kind of fault was
 * injected: the emulated GPU injects its faults at chosen operations of a seeded schedule (each
 * kind's first within its first three operations, {@code FaultInjector.Chaos}), not at chosen
 * times, so a loaded machine takes longer over the same run rather than running another one, and
 * the test asserts the same things on a fast machine and a slow one.
 */
final class ChaosTest {
    private static final long SEED = Long.getLong("migm.chaos.seed", 20261202L);
    static final int DEFAULT_ACTIONS = 30;
    private static final int ACTIONS = Integer.getInteger("migm.chaos.actions", DEFAULT_ACTIONS);
    /** Faults per operation of each kind ({@code FaultInjector.Chaos}: half as many stuck plans, a third as many losses). */
    private static final double RATE = 0.15;
    /** However loaded the machine, the chaos stops after this long, faults seen or not (the assertion then says so). */
    private static final long CAP_S = 600;
    /**
     * A fault injected this close to its daemon's SIGKILL may never have reached the journal: a stuck
     * plan times out 60 modelled s (2 s at 30x) after it started; any answer is journaled within ms.
     */
    private static final long CUT_MS = 3000;
    private static final String[] NODE = {"--gpu", "A100-40GB", "--gpus", "4", "--time-scale", "30",
            "--http-listen", "off"};

    /** One daemon's life: its pid and when it was killed (0: not killed). */
    private record Incarnation(long pid, long killedAtMs) {
    }

    @Test
    @Timeout(900) // the suite's 40 s of chaos take about a minute; bench/chaos.sh runs up to 600 s
    void underEveryFault_everyJobEndsOnce_nothingLeaks_everyFaultIsJournaled(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        SplittableRandom random = new SplittableRandom(SEED);
        Set<String> acknowledged = new LinkedHashSet<>();
        List<Incarnation> lives = new ArrayList<>();
        Map<String, Integer> actions = new TreeMap<>();
        int jobsMade = 0;
        List<String> killedAttempts = new ArrayList<>();

        DaemonProcess d = DaemonProcess.start(home, faulty(0));
        try {
            acknowledged.addAll(DaemonCrashTest.submit(d, "batch-0.yaml", batch(random, jobsMade, 16)));
            jobsMade += 16;
            long startNanos = System.nanoTime();
            long capNanos = startNanos + TimeUnit.SECONDS.toNanos(CAP_S);
            // ACTIONS seeded actions, then more until every kind of fault was injected (the faults
            // come with operations, which a loaded machine does more slowly but the same).
            for (int action = 0; action < ACTIONS
                    || System.nanoTime() < capNanos && !injectedKinds(home).containsAll(FAULT_KINDS); action++) {
                Thread.sleep(700 + random.nextInt(1300));
                double roll = random.nextDouble();
                if (roll < 0.25) {
                    long pid = d.process.pid();
                    d.kill9();
                    lives.add(new Incarnation(pid, System.currentTimeMillis()));
                    d = DaemonProcess.start(home, faulty(lives.size()));
                    actions.merge("daemon killed", 1, Integer::sum);
                } else if (roll < 0.6) {
                    String killed = killRunningJob(home, random);
                    if (killed != null) {
                        killedAttempts.add(killed);
                        actions.merge("job process killed", 1, Integer::sum);
                    }
                } else {
                    acknowledged.addAll(DaemonCrashTest.submit(d, "batch-" + jobsMade + ".yaml", batch(random, jobsMade, 3)));
                    jobsMade += 3;
                    actions.merge("batch submitted", 1, Integer::sum);
                }
            }
            // The faults stop; the node finishes its work.
            long pid = d.process.pid();
            d.kill9();
            lives.add(new Incarnation(pid, System.currentTimeMillis()));
            d = DaemonProcess.start(home, NODE);
            boolean finished = DaemonProcess.await(home, "SELECT count(*) = 0 FROM jobs WHERE ended_at IS NULL", 240_000);
            assertThat(finished).as(d.output()).isTrue();
            lives.add(new Incarnation(d.process.pid(), 0));
            d.terminate();
        } finally {
            d.close();
        }

        // Every acknowledged job ended exactly once, done or failed with a reason, and nothing else is there.
        List<List<String>> jobs = DaemonProcess.rows(home, "SELECT id, state, reason FROM jobs ORDER BY id");
        assertThat(jobs.stream().map(j -> j.get(0)).toList()).containsExactlyInAnyOrderElementsOf(acknowledged);
        Map<String, Integer> states = new TreeMap<>();
        for (List<String> j : jobs) {
            assertThat(j.get(1)).as(String.join(" ", j)).isIn("done", "failed");
            if (j.get(1).equals("failed")) assertThat(j.get(2)).as("job " + j.get(0) + " failed with a reason").isNotBlank();
            states.merge(j.get(1), 1, Integer::sum);
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM events WHERE job='" + j.get(0)
                    + "' AND kind IN ('Done', 'Failed', 'Cancelled')")).as("job " + j.get(0) + " ended once").isEqualTo(1);
            // Attempts one after another, never two at once.
            double lastEnd = Double.NEGATIVE_INFINITY;
            for (List<String> a : DaemonProcess.rows(home, "SELECT number, launched_at, ended_at FROM attempts WHERE job="
                    + j.get(0) + " ORDER BY number")) {
                assertThat(Double.parseDouble(a.get(1))).as("job " + j.get(0) + " attempt " + a.get(0)).isGreaterThanOrEqualTo(lastEnd);
                assertThat(a.get(2)).as("job " + j.get(0) + " attempt " + a.get(0) + " ended").isNotNull();
                lastEnd = Double.parseDouble(a.get(2));
            }
        }

        // Every fault is in the journal.
        List<List<String>> rows = DaemonProcess.rows(home, "SELECT kind, text, record FROM events ORDER BY seq");
        List<String> events = rows.stream().map(r -> r.get(0) + " " + r.get(1)).toList();
        // The events of each daemon's life: from its engine's Started record to the next one.
        List<List<List<String>>> byLife = new ArrayList<>();
        for (List<String> e : rows) {
            if (e.get(0).equals("Started")) byLife.add(new ArrayList<>());
            if (!byLife.isEmpty()) byLife.getLast().add(e);
        }
        assertThat(byLife).hasSize(lives.size());
        Map<Long, Integer> lifeOfPid = new HashMap<>();
        for (int i = 0; i < lives.size(); i++) lifeOfPid.put(lives.get(i).pid(), i);
        Map<String, int[]> faults = new TreeMap<>(); // kind -> {injected, journaled, cut by a kill}
        Path log = home.resolve("faults.log");
        List<String> missing = new ArrayList<>();
        for (String line : Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.<String>of()) {
            String[] f = line.split(" ", 5);
            long at = Long.parseLong(f[0]);
            String kind = f[1];
            int gpu = Integer.parseInt(f[2].substring(3));
            String id = f[3];
            Incarnation life = lives.get(lifeOfPid.get(Long.parseLong(id.substring(0, id.indexOf('-')))));
            int[] count = faults.computeIfAbsent(kind, k -> new int[3]);
            count[0]++;
            boolean found;
            if (kind.equals("stuck")) {
                // Its plan failed in the same daemon's life (tickets start again with each engine): timed
                // out, or overtaken by the GPU's loss.
                long ticket = Long.parseLong(f[4].substring("ticket=".length(), f[4].indexOf(' ')));
                found = byLife.get(lives.indexOf(life)).stream().anyMatch(e -> {
                    if (e.get(2) == null) return false;
                    var record = dev.migm.store.RecordCodec.tree(e.get(2));
                    return record.path("gpu").asInt() == gpu && record.path("ticket").asLong() == ticket
                            && (e.get(0).equals("ReconfigurationFailed") || e.get(0).equals("MigModeChangeEnded")
                            && !record.path("failure").isNull());
                });
            } else {
                found = events.stream().anyMatch(e -> e.contains("(injected fault " + id + ")"));
            }
            if (found) {
                count[1]++;
            } else if (life.killedAtMs() > 0 && life.killedAtMs() - at < CUT_MS) {
                count[2]++;
            } else {
                String mark = "\"gpu\":" + gpu + ",";
                missing.add(line + " in a life with " + byLife.get(lives.indexOf(life)).stream()
                        .filter(e -> e.get(2) != null && e.get(2).contains(mark) && !e.get(0).equals("SlicesHeld"))
                        .map(e -> e.get(0) + " " + e.get(1).substring(0, Math.min(e.get(1).length(), 200))).toList());
            }
        }
        assertThat(missing).as("faults not in the journal").isEmpty();
        assertThat(faults.keySet()).as("every kind of fault was injected").containsAll(FAULT_KINDS);
        // Each killed job process is its attempt's end without an exit status, or a signal's; unless
        // the engine had ended that attempt already, for its GPU's loss (a row read up to a group
        // commit late: the kill then meets an attempt that was over).
        for (String attempt : killedAttempts) {
            String[] ja = attempt.split("/");
            String detail = DaemonProcess.rows(home, "SELECT coalesce(detail, '') FROM attempts WHERE job=" + ja[0]
                    + " AND number=" + ja[1]).getFirst().getFirst();
            assertThat(detail).as("killed job process " + attempt + " in the journal").containsAnyOf(
                    "supervisor died without recording an exit status", "killed by signal 9",
                    "was lost while migm was down", "GPU lost");
        }

        // No leak: a restart destroys the idle instances migm created and finds none it did not.
        try (DaemonProcess again = DaemonProcess.start(home, NODE)) {
            assertThat(again.output()).doesNotContain("did not create");
            try (ApiClient api = again.client()) {
                assertThat(api.get("/v1/gpus").body().toString()).doesNotContain("MIG-");
            }
            again.terminate();
        }
        assertThat(DaemonProcess.count(home, "SELECT count(*) FROM instances WHERE destroyed_at IS NULL")).isZero();
        assertThat(DaemonCrashTest.liveJobProcesses(home)).isEmpty();

        StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
                "ChaosTest seed %d, %d actions: %d jobs acknowledged, %s; actions %s; faults (injected/journaled/cut"
                        + " by a kill):", SEED, actions.values().stream().mapToInt(Integer::intValue).sum(),
                acknowledged.size(), states, actions));
        faults.forEach((k, c) -> report.append(String.format(Locale.ROOT, " %s %d/%d/%d", k, c[0], c[1], c[2])));
        report.append("; attempts ").append(DaemonProcess.count(home, "SELECT count(*) FROM attempts"));
        System.out.println(report);
    }

    /** The kinds {@code FaultInjector.Chaos} injects, as {@code faults.log} names them. */
    private static final List<String> FAULT_KINDS = List.of("fail-create", "fail-destroy", "lose-gpu", "stuck");

    private static Set<String> injectedKinds(Path home) throws java.io.IOException {
        Path log = home.resolve("faults.log");
        if (!Files.exists(log)) return Set.of();
        Set<String> kinds = new java.util.HashSet<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            String[] f = line.split(" ", 3);
            if (f.length > 1) kinds.add(f[1]);
        }
        return kinds;
    }

    private static String[] faulty(int life) {
        String[] out = java.util.Arrays.copyOf(NODE, NODE.length + 2);
        out[NODE.length] = "--emulated-faults";
        out[NODE.length + 1] = "chaos:" + (SEED + life) + ":" + RATE;
        return out;
    }

    /**
     * {@code n} jobs that count to a few dozen in steps of 0.1 s, keeping their count in their
     * checkpoint directory (a resumed attempt goes on from it), of random memory sizes that fit one
     * GPU: from a 1g.5gb to a 3g.20gb and, now and then, a 7g.40gb.
     */
    private static String batch(SplittableRandom random, int first, int n) {
        StringBuilder b = new StringBuilder("version: v1\ndefaults: {checkpoint: true}\njobs:\n");
        long[] sizes = {2, 4, 4, 8, 8, 12, 16, 20, 30};
        for (int i = 0; i < n; i++) {
            int steps = 15 + random.nextInt(25);
            b.append(String.format(Locale.ROOT, "  - {name: j%d, memory: %dGiB, command: [sh, -c, 'f=\"$MIGM_CHECKPOINT_DIR/n\";"
                    + " n=$(cat \"$f\" 2>/dev/null || echo 0); while [ \"$n\" -lt %d ]; do sleep 0.1; n=$((n+1));"
                    + " echo \"$n\" >\"$f.tmp\" && mv \"$f.tmp\" \"$f\"; done']}%n", first + i,
                    sizes[random.nextInt(sizes.length)], steps));
        }
        return b.toString();
    }

    /**
     * Kills a running attempt's supervisor and job (SIGKILL): it vanishes without an exit status.
     * Returns its {@code job/number}, or null when none was killed.
     */
    private static String killRunningJob(Path home, SplittableRandom random) throws Exception {
        List<List<String>> running = DaemonProcess.rows(home, "SELECT job, number FROM attempts WHERE ended_at IS NULL"
                + " AND running_at IS NOT NULL ORDER BY job");
        if (running.isEmpty()) return null;
        List<String> a = running.get(random.nextInt(running.size()));
        Path prefix = home.resolve("jobs").resolve(a.get(0)).resolve("attempt-" + a.get(1));
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String suffix : List.of(".sup", ".pid")) {
            Path f = prefix.resolveSibling(prefix.getFileName() + suffix);
            if (Files.exists(f)) pids.put(suffix, Long.parseLong(Files.readString(f).strip()));
        }
        if (!pids.containsKey(".sup")) return null;
        Optional<ProcessHandle> supervisor = ProcessHandle.of(pids.get(".sup"));
        if (supervisor.isEmpty()) return null;
        supervisor.get().destroyForcibly();
        supervisor.get().onExit().get(10, TimeUnit.SECONDS);
        if (pids.containsKey(".pid")) {
            new ProcessBuilder("kill", "-KILL", "--", "-" + pids.get(".pid")).start().waitFor();
        }
        // A supervisor that wrote its job's exit status before it died (the job had just ended, or
        // the engine had just stopped it) leaves an attempt with an ordinary outcome: not counted.
        return Files.exists(prefix.resolveSibling(prefix.getFileName() + ".exit")) ? null : a.get(0) + "/" + a.get(1);
    }
}
