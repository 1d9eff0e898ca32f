package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node service's promise, end to end: a batch runs through {@code migm daemon} on two emulated
 * A100s while the daemon is killed with SIGKILL at four points (during a reconfiguration, during an
 * attempt, between two attempts of a job, in the middle of a burst of submits) and restarted each
 * time. Afterwards every acknowledged job completed exactly once, no two attempts of a job ran at
 * the same time, and no MIG instance leaked.
 *
 * <p>The evidence is not only the journal: each attempt's supervisor files ({@code attempt-N.pid}
 * written when the job started, {@code attempt-N.exit} when it ended) say when its process really
 * lived, and the emulated GPU's device files say which instances exist.
 */
final class DaemonCrashTest {
    private static final String BATCH = """
            version: v1
            defaults: {class: ml, max_attempts: 8}
            jobs:
              - {name: a, command: [x], memory: 3GiB, workload: {work: 40s, c: 0.5, sat: 0.5, mem: 3GiB, checkpoint_every: 10s}}
              # b outgrows instance after instance (OOM or early restart) until one holds 26 GiB
              - {name: b, command: [x], memory: 2GiB, workload: {work: 60s, c: 0.5, sat: 0.5, mem: 2GiB, grow_to: 26GiB, checkpoint_every: 5s}}
              - {name: c, command: [x], memory: 8GiB, workload: {work: 40s, c: 0.5, sat: 0.5, mem: 8GiB}}
              - {name: d, command: [x], memory: 12GiB, workload: {work: 60s, c: 0.5, sat: 0.5, mem: 12GiB, checkpoint_every: 10s}}
              - {name: e, command: [x], memory: 3GiB, workload: {work: 30s, c: 0.3, sat: 0.3, mem: 3GiB}}
              - {name: f, command: [x], memory: 16GiB, workload: {work: 40s, c: 0.6, sat: 0.6, mem: 14GiB}}
            """;
    private static final String[] NODE = {"--gpu", "A100-40GB", "--gpus", "2", "--time-scale", "40"};

    @Test
    @org.junit.jupiter.api.Timeout(300)
    void killedAtFourPoints_everyAcknowledgedJobCompletesExactlyOnce_noOverlap_noLeak(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        Set<String> acknowledged = Collections.synchronizedSet(new HashSet<>());
        List<String> story = new ArrayList<>();

        // 1. During a reconfiguration: the first plan on each GPU answers 40 s (1 s at 40x) late.
        try (DaemonProcess d = DaemonProcess.start(home, concat(NODE, "--emulated-faults", "stuck:0:40,stuck:1:40"))) {
            acknowledged.addAll(submit(d, "batch.yaml", BATCH));
            boolean inFlight = DaemonProcess.await(home, "SELECT (SELECT count(*) FROM events WHERE kind="
                    + "'ReconfigurationPlanned') > (SELECT count(*) FROM events WHERE kind IN ('ReconfigurationApplied',"
                    + " 'ReconfigurationFailed'))", 5000);
            assertThat(inFlight).as("a reconfiguration was in flight").isTrue();
            d.kill9();
            story.add("killed with a reconfiguration in flight");
        }

        // 2. During attempts.
        try (DaemonProcess d = DaemonProcess.start(home, NODE)) {
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM attempts WHERE running_at IS NOT NULL AND"
                    + " ended_at IS NULL", 20_000)).as("an attempt runs").isTrue();
            // At once: jobs of 30-60 modelled seconds last a second or so at 40x, and under a loaded
            // CI every attempt once ended within a 300 ms pause, leaving nothing to re-attach.
            d.kill9();
            story.add("killed with attempts running");
        }

        // 3. Between two attempts of a job: g outgrows its first instance; once it runs, both GPUs are
        // drained, so after its OOM (or early restart) it waits for its next attempt. The drain is kept
        // across the restart.
        try (DaemonProcess d = DaemonProcess.start(home, NODE)) {
            assertThat(d.output()).as("attempts killed with their daemon were re-attached or found ended")
                    .containsPattern("recovered \\d+ unfinished jobs: (\\d*[1-9]\\d* running|\\d+ running \\(re-attached\\),"
                            + " \\d*[1-9]\\d* ended)");
            String g = submit(d, "g.yaml", """
                    version: v1
                    jobs:
                      - {name: g, command: [grower], memory: 1GiB, workload: {work: 40s, mem: 1GiB, grow_to: 36GiB}}
                    """).getFirst();
            acknowledged.add(g);
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM attempts WHERE job=" + g + " AND running_at IS"
                    + " NOT NULL", 20_000)).as("g runs").isTrue();
            try (ApiClient api = d.client()) {
                assertThat(api.post("/v1/gpus/0/drain", null).ok()).isTrue();
                assertThat(api.post("/v1/gpus/1/drain", null).ok()).isTrue();
            }
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs j WHERE id=" + g + " AND state='queued'"
                    + " AND attempts >= 1 AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.job=j.id AND a.ended_at IS"
                    + " NULL)", 60_000)).as("g waits between two attempts\n" + d.output() + DaemonProcess.rows(home,
                    "SELECT at, kind, substr(text, 1, 300) FROM events WHERE job='" + g + "' ORDER BY seq")).isTrue();
            d.kill9();
            story.add("killed with a job between attempts");
        }

        // 4. In the middle of a burst of submits from four clients.
        try (DaemonProcess d = DaemonProcess.start(home, NODE)) {
            try (ApiClient api = d.client()) {
                Map<String, Object> gpus = api.get("/v1/gpus").body();
                assertThat(gpus.toString()).as("the drain survived the restart").contains("status=draining");
                api.post("/v1/gpus/0/resume", null);
                api.post("/v1/gpus/1/resume", null);
            }
            AtomicInteger acked = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(4);
            for (int c = 0; c < 4; c++) {
                int client = c;
                clients.execute(() -> {
                    try (ApiClient api = d.client()) {
                        for (int i = 0; i < 40; i++) {
                            String text = "version: v1\njobs:\n  - {name: burst-" + client + "-" + i + ", command: [x],"
                                    + " memory: 1GiB, workload: {work: 5s, mem: 1GiB}}\n";
                            acknowledged.addAll(submit(api, "burst.yaml", text));
                            acked.incrementAndGet();
                        }
                    } catch (RuntimeException e) {
                        // the daemon died under this client: what it acknowledged before counts
                    }
                });
            }
            while (acked.get() < 30) Thread.sleep(1);
            d.kill9();
            clients.shutdown();
            assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
            story.add("killed after " + acked.get() + " acknowledged submits of a burst");
        }

        // 5. Restart and let everything finish.
        try (DaemonProcess d = DaemonProcess.start(home, NODE)) {
            boolean finished = DaemonProcess.await(home, "SELECT count(*) = 0 FROM jobs WHERE state NOT IN ('done',"
                    + " 'failed', 'cancelled')", 120_000);
            assertThat(finished).as(String.join("; ", story) + "\n" + d.output()).isTrue();
            story.add("recovered: " + d.output().lines().filter(l -> l.startsWith("recovery:")).toList());
            d.kill9();
        }

        // Every acknowledged job is in the journal once and done; nothing else is there but what a
        // killed burst may have committed without acknowledging.
        List<List<String>> jobs = DaemonProcess.rows(home, "SELECT id, name, state, reason FROM jobs ORDER BY id");
        Map<String, List<String>> byId = new LinkedHashMap<>();
        jobs.forEach(r -> byId.put(r.get(0), r));
        assertThat(byId.keySet()).containsAll(acknowledged);
        assertThat(jobs.stream().map(r -> r.get(1)).distinct().count()).as("no job twice").isEqualTo(jobs.size());
        for (List<String> j : jobs) {
            assertThat(j.get(2)).as(String.join(" ", j)).isEqualTo("done");
        }
        // Exactly one attempt of each job completed, by the journal and by the supervisors' exit files,
        // and no two attempts of a job lived at the same time (pid file written at start, exit at end).
        for (String id : byId.keySet()) {
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM attempts WHERE job=" + id
                    + " AND outcome='completed'")).as("job " + id + ": " + DaemonProcess.rows(home, "SELECT number, launched_at,"
                    + " running_at, ended_at, outcome, detail FROM attempts WHERE job=" + id) + "\n" + DaemonProcess.rows(home,
                    "SELECT at, kind, substr(text, 1, 120) FROM events WHERE job='" + id + "' OR kind IN ('ServiceStarted', 'Started') ORDER BY seq"))
                    .isEqualTo(1);
            Path jobDir = home.resolve("jobs").resolve(id);
            int zeroExits = 0;
            long lastEnd = Long.MIN_VALUE;
            long attempts = DaemonProcess.count(home, "SELECT max(number) FROM attempts WHERE job=" + id);
            for (int n = 1; n <= attempts; n++) {
                Path pid = jobDir.resolve("attempt-" + n + ".pid");
                Path exit = jobDir.resolve("attempt-" + n + ".exit");
                if (!Files.exists(pid)) continue;
                long start = Files.getLastModifiedTime(pid).toMillis();
                assertThat(start).as("job " + id + " attempt " + n + " started after the one before ended")
                        .isGreaterThanOrEqualTo(lastEnd);
                if (Files.exists(exit)) {
                    lastEnd = Files.getLastModifiedTime(exit).toMillis();
                    if (Files.readString(exit, StandardCharsets.US_ASCII).strip().equals("0")) zeroExits++;
                }
            }
            assertThat(zeroExits).as("job " + id + " ran to completion once").isEqualTo(1);
        }

        // No leak: a restart destroys the idle instances migm created and finds none it did not.
        try (DaemonProcess d = DaemonProcess.start(home, NODE)) {
            assertThat(d.output()).doesNotContain("did not create");
            try (ApiClient api = d.client()) {
                assertThat(api.get("/v1/gpus").body().toString()).doesNotContain("MIG-");
            }
            d.terminate();
        }
        try (var left = Files.list(home.resolve("emulated/mig"))) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(DaemonProcess.count(home, "SELECT count(*) FROM instances WHERE destroyed_at IS NULL")).isZero();
        assertThat(liveJobProcesses(home)).isEmpty();
        System.out.println("DaemonCrashTest: " + String.join("; ", story) + "; " + jobs.size() + " jobs, "
                + DaemonProcess.count(home, "SELECT count(*) FROM attempts") + " attempts");
    }

    static List<String> submit(DaemonProcess d, String source, String text) {
        try (ApiClient api = d.client()) {
            return submit(api, source, text);
        }
    }

    @SuppressWarnings("unchecked")
    static List<String> submit(ApiClient api, String source, String text) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("source", source);
        body.put("cwd", "/tmp");
        body.put("text", text);
        ApiClient.Answer a = api.post("/v1/jobs", body);
        if (!a.ok()) throw new AssertionError(a.error());
        return (List<String>) a.body().get("ids");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Processes whose environment names this home's emulated devices (jobs and their supervisors). */
    static List<Long> liveJobProcesses(Path home) {
        String marker = "MIGM_EMULATED_DIR=" + home.resolve("emulated");
        List<Long> out = new ArrayList<>();
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            try {
                byte[] env = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
                if (new String(env, StandardCharsets.UTF_8).contains(marker) && dev.migm.io.Procs.alive(p.pid())) out.add(p.pid());
            } catch (java.io.IOException | SecurityException e) {
                // gone, or not ours to read
            }
        }
        return out;
    }
}
