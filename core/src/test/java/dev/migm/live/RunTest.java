package dev.migm.live;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code migm run} end to end on an emulated A100 with real processes ({@code migm workload}) at 50
 * modelled seconds per second: a job that fits, one whose declaration is too low and that grows past
 * its 1g.5gb (it dies with PyTorch's out-of-memory text, is requeued on a larger instance and
 * resumes from its checkpoint), and one that needs a 3g. Afterwards no process and no emulated
 * instance is left.
 */
final class RunTest {
    /** Runs {@code migm ARGS --json}, asserts it exits 0 (its stderr as the reason), and returns the document. */
    private static Map<String, Object> runJson(String... args) throws Exception {
        String[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
        withJson[args.length] = "--json";
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(withJson, new PrintWriter(out), new PrintWriter(err));
        assertThat(rc).as(err.toString()).isZero();
        return JsonMapper.builder().build().readValue(out.toString(), new TypeReference<>() { });
    }

    @Test
    void aBatchOfRealProcesses_runsThroughAnOomToCompletion_andLeavesNothingBehind(@TempDir Path dir) throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: fits
                    command: [x]
                    memory: 3GiB
                    workload: {work: 20s, c: 0.5, mem: 3GiB}
                  - name: too-low
                    command: [x]
                    memory: 2GiB
                    steps: 40
                    workload: {work: 40s, c: 0.5, mem: 3GiB, grow_to: 7GiB, checkpoint_every: 5s}
                  - name: big
                    command: [x]
                    memory: 15GiB
                    workload: {work: 20s, c: 0.5, mem: 15GiB}
                """);
        Path home = dir.resolve("home");
        Map<String, Object> doc = runJson("run", jobs.toString(), "--home", home.toString(), "--time-scale", "50");
        assertThat(doc.get("schema")).isEqualTo("migm.run/v1");
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) doc.get("run");
        assertThat(run).containsEntry("jobs", 3).containsEntry("completed", 3);
        assertThat(((Number) run.get("oom_kills")).intValue()).isGreaterThanOrEqualTo(1);
        assertThat(((Number) run.get("energy_j")).doubleValue()).isPositive();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) doc.get("jobs");
        // Per-job energy (chip-share model) and the idle GPUs' share add up to the board's energy
        // within 1% (the meter starts with the run, the board's count with the backend).
        assertThat(run).containsEntry("energy_attribution", "chip-share");
        double attributed = rows.stream().mapToDouble(r -> ((Number) r.get("energy_j")).doubleValue()).sum()
                + ((Number) run.get("unattributed_energy_j")).doubleValue();
        double board = ((Number) run.get("energy_j")).doubleValue();
        assertThat(attributed).isCloseTo(board, org.assertj.core.api.Assertions.within(0.01 * board));
        assertThat(rows).allSatisfy(r -> assertThat(((Number) r.get("energy_j")).doubleValue()).isPositive());
        Map<String, Object> tooLow = rows.stream().filter(r -> r.get("id").equals("too-low")).findFirst().orElseThrow();
        assertThat(tooLow.get("attempts")).isEqualTo(2);
        assertThat((String) tooLow.get("slot")).doesNotContain("1g.5gb");
        Path runDir = Path.of((String) run.get("run_dir"));
        assertThat(Files.readString(runDir.resolve("jobs/too-low/attempt-1.err")))
                .startsWith("torch.OutOfMemoryError: CUDA out of memory.");
        // The second attempt resumed from the checkpoint the first one wrote: its step (one per
        // second of work) of the 40 steps the job file declared.
        String events = Files.readString(runDir.resolve("events.log"));
        assertThat(events).containsPattern("AttemptLaunched: too-low attempt 2 launched on \\S+, resumed from its checkpoint"
                + " at step [1-9][0-9]? \\(about [1-9][0-9]?% of its work\\)");
        // Each line starts with the wall-clock time (ISO-8601) and the modelled seconds since the start.
        assertThat(events.lines().findFirst().orElseThrow()).matches("20\\d\\d-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"
                + " +[-+]\\d+\\.\\d s  Started: engine started: gpu0 .*");
        // events.jsonl: the same records as the journal's typed JSON, read back by field.
        List<String> json = Files.readAllLines(runDir.resolve("events.jsonl"));
        assertThat(json).hasSameSizeAs(events.lines().toList());
        assertThat(json).anySatisfy(l -> {
            var r = dev.migm.store.RecordCodec.tree(l);
            assertThat(r.path("type").asString()).isEqualTo("AttemptLaunched");
            assertThat(r.path("job_id").asString()).isEqualTo("too-low");
            assertThat(r.path("attempt").asInt()).isEqualTo(2);
            assertThat(r.path("start_progress").asDouble()).isPositive();
        });
        // Nothing left: no child process, no emulated instance.
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
        try (var left = Files.list(home.resolve("emulated/mig"))) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void aRunThatCheckpoints_yieldsItsGpuToAWholeGpuJob_andResumesOnTheOtherGpu(@TempDir Path dir) throws Exception {
        // SimulatorTest's move, with real processes on two emulated A100s: "a" (15 GiB, does not
        // checkpoint) takes gpu0's 3g.20gb, "l" (3 GiB, checkpoints) a 1g.5gb on gpu1; "w" (30 GiB: a
        // 7g.40gb) arrives at 150 s (3 wall seconds at this time scale: "l"'s process is up and has
        // written checkpoints, even on a loaded machine).
        // migm:0 reserves for it at once; gpu1 is held only by "l", which fits gpu0's free slices: "l"
        // gets SIGTERM, saves its checkpoint, and resumes on gpu0 from it while "w" runs on gpu1, long
        // before "a" (600 s) or "l" (450 s) would have freed a GPU.
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: a
                    command: [x]
                    memory: 15GiB
                    workload: {work: 600s, c: 0, mem: 15GiB}
                  - name: l
                    command: [x]
                    memory: 3GiB
                    checkpoint: true
                    workload: {work: 450s, c: 0, mem: 3GiB, checkpoint_every: 5s}
                  - name: w
                    command: [x]
                    memory: 30GiB
                    submit_at: 150s
                    workload: {work: 20s, c: 0, mem: 30GiB}
                """);
        Path home = dir.resolve("home");
        Map<String, Object> doc = runJson("run", jobs.toString(), "--home", home.toString(), "--gpus", "2", "--policy",
                "migm:0", "--time-scale", "50");
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) doc.get("run");
        assertThat(run).containsEntry("completed", 3).containsEntry("preemptions", 1);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) doc.get("jobs");
        Map<String, Map<String, Object>> byId = new java.util.HashMap<>();
        rows.forEach(r -> byId.put((String) r.get("id"), r));
        assertThat((String) byId.get("w").get("slot")).isEqualTo("gpu1:7g.40gb@0");
        assertThat(((Number) byId.get("w").get("end_s")).doubleValue()).isLessThan(350);
        assertThat(byId.get("l").get("attempts")).isEqualTo(2);
        assertThat((String) byId.get("l").get("slot")).startsWith("gpu0:1g.5gb");
        String events = Files.readString(Path.of((String) run.get("run_dir")).resolve("events.log"));
        assertThat(events).contains("stopping l attempt 1: stopped at its checkpoint for w:")
                .containsPattern("l attempt 2 launched on gpu0:1g.5gb@\\d, resumed from its checkpoint at step [1-9]");
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
    }

    @Test
    void whatARunLearned_isThereForTheNextRun(@TempDir Path dir) throws Exception {
        // Three runs of one application peak at 3 GiB on a 1g.5gb each. Nothing is declared, so the
        // first run sizes them with nothing; its three completions go into the home's journal, and the
        // next run's jobs are sized from that history (three observations: its minimum, HistoryEstimator).
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: a, app: stencil, command: [x], workload: {work: 8s, mem: 3GiB}}
                  - {name: b, app: stencil, command: [x], workload: {work: 8s, mem: 3GiB}}
                  - {name: c, app: stencil, command: [x], workload: {work: 8s, mem: 3GiB}}
                """);
        Path home = dir.resolve("home");
        List<String> sources = new java.util.ArrayList<>();
        for (int run = 0; run < 2; run++) {
            Map<String, Object> doc = runJson("run", jobs.toString(), "--home", home.toString(), "--time-scale", "50");
            @SuppressWarnings("unchecked")
            Map<String, Object> summary = (Map<String, Object>) doc.get("run");
            String timeline = Files.readString(Path.of((String) summary.get("run_dir")).resolve("timeline.json"));
            sources.add(timeline);
        }
        assertThat(sources.get(0)).doesNotContain("history of stencil");
        assertThat(sources.get(1)).contains("history of stencil");
        try (var journal = dev.migm.store.NodeJournal.open(home.resolve("journal.db"))) {
            assertThat(journal.learned("stencil")).hasSize(6).allSatisfy(l -> assertThat(l.jobId()).startsWith("run-"));
            // Their run times too: each of the six completed attempts with its instance and the time
            // from its report to its exit (8 s of work at 50x, start-up aside: a few modelled seconds
            // at least), which the next run's run-time estimate starts from.
            assertThat(journal.completedRuns("stencil")).hasSize(6).allSatisfy(r -> {
                assertThat(r.jobId()).startsWith("run-");
                assertThat(r.instance()).isEqualTo("1g.5gb@" + r.instance().substring(7));
                assertThat(r.runS()).isGreaterThan(4);
            });
            var runtime = dev.migm.service.LiveNode.runtimeOf(journal,
                    List.of(dev.migm.gpu.Catalog.builtin().get("A100-40GB")));
            var spec = new dev.migm.engine.JobSpec("next", 0, "stencil", dev.migm.engine.JobClass.OTHER,
                    java.util.OptionalLong.empty(), false);
            assertThat(runtime.expect(spec).source()).startsWith("history of stencil (6 runs");
            assertThat(runtime.expect(spec).grounded()).isTrue();
        }
        // migm history reads it without a daemon.
        StringWriter out = new StringWriter();
        assertThat(Main.run(new String[] {"history", "stencil", "--home", home.toString()}, new PrintWriter(out),
                new PrintWriter(new StringWriter()))).isZero();
        assertThat(out.toString().lines().filter(l -> l.contains("completed")).count()).isEqualTo(6);
        // ... each with the time it ran and where, and the run-time estimate its runs give the next job.
        assertThat(out.toString().lines().filter(l -> l.contains("completed") && l.matches(".*\\d+ s +gpu0:1g\\.5gb@\\d.*")))
                .hasSize(6);
        assertThat(out.toString()).containsPattern("run time: \\d+ s alone on a whole GPU .*from history of stencil \\(6 runs");
    }
    @Test
    void progressPrintedByTheJob_isRead_andLetsEarlyRestartFireBeforeTheOom(@TempDir Path dir) throws Exception {
        // Declared 2 GiB, the job grows 3 -> 9 GiB over 60 s of work: on its 1g.5gb (4864 MiB) it would
        // die at (4864 - 3072) / (9216 - 3072) = 29% of its work. It prints a Keras progress bar
        // (Epoch e/4, step/steps), which the executor reads from its stdout as it is written: memory
        // against that progress projects a peak past the instance within the first samples, so the
        // attempt is stopped early and restarted larger, with no OOM.
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: prints
                    command: [python, infer.py, --model, vit-b16]
                    memory: 2GiB
                    progress: keras
                    workload: {work: 60s, c: 0.5, mem: 3GiB, grow_to: 9GiB, prints: keras}
                """);
        Path home = dir.resolve("home");
        Map<String, Object> doc = runJson("run", jobs.toString(), "--home", home.toString(), "--time-scale", "20");
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) doc.get("run");
        assertThat(run).containsEntry("completed", 1);
        assertThat(((Number) run.get("early_restarts")).intValue()).isEqualTo(1);
        assertThat(((Number) run.get("oom_kills")).intValue()).isZero();
        Path runDir = Path.of((String) run.get("run_dir"));
        assertThat(Files.readString(runDir.resolve("jobs/prints/attempt-1.out"))).contains("Epoch 1/4");
        // It is learned as its script and model, never as "python"; migm history finds it so.
        StringWriter history = new StringWriter();
        assertThat(Main.run(new String[] {"history", "infer.py --model vit-b16", "--home", home.toString()},
                new PrintWriter(history), new PrintWriter(new StringWriter()))).isZero();
        assertThat(history.toString()).contains("projected").contains("completed");
    }

    @Test
    void progressPrintedEverySixSeconds_isStampedWhenPrinted_andStillRestartsTheJobBeforeItsOom(@TempDir Path dir)
            throws Exception {
        // The same growth as above over 100 s of work (3 -> 9 GiB on a 1g.5gb: the OOM at 29%, 29 s of
        // work), but the job prints its tqdm bar once every 6 s of its run, as a trainer that logs every
        // N steps does. Each line is stamped when the file says it was written, not when it was read;
        // from the second line (6 s) the executor's samples carry the last share and its age, and the
        // engine carries it forward at the rate between the two lines: the window's 10 samples spanning
        // 2% are there near 16 s, and the attempt is stopped early, with no OOM.
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: sparse
                    command: [python, train.py, --model, vit-b16]
                    memory: 2GiB
                    progress: tqdm
                    workload: {work: 100s, c: 0.5, mem: 3GiB, grow_to: 9GiB, prints: tqdm, progress_every: 6s}
                """);
        Map<String, Object> doc = runJson("run", jobs.toString(), "--home", dir.resolve("home").toString(),
                "--time-scale", "20");
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) doc.get("run");
        assertThat(run).containsEntry("completed", 1);
        assertThat(((Number) run.get("early_restarts")).intValue()).isEqualTo(1);
        assertThat(((Number) run.get("oom_kills")).intValue()).isZero();
        // Its first attempt ran under 29 s of work, so it printed at most at 0, 6, ..., 24 s: a bar a
        // second (one per step of 100) would be 16 or more.
        String err = Files.readString(Path.of((String) run.get("run_dir")).resolve("jobs/sparse/attempt-1.err"));
        long bars = java.util.regex.Pattern.compile("\\d+/100 \\[").matcher(err).results().count();
        assertThat(bars).isBetween(2L, 5L);
    }
}
