package dev.migm.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.engine.EarlyRestart;
import dev.migm.engine.Engine;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.EngineSettings;
import dev.migm.engine.JobState;
import dev.migm.engine.JobStatus;
import dev.migm.engine.JournalReplay;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.estimate.LearnedRuntime;
import dev.migm.exec.ModelExecutor;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.virtual.VirtualTime;
import dev.migm.workload.TraceJob;
import dev.migm.workload.Truth;
import dev.migm.workload.WorkloadModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The job state machine is defined once ({@code JobTransitions}) and held three times: by the live
 * engine, by the node's SQLite journal (its jobs' rows) and by a replay of the journal's records.
 * Seeded random runs drive all three with the events a node meets (arrivals, OOMs and early restarts
 * from honest estimates, cancels of queued, placed and running jobs, drains, GPUs lost and back) and,
 * after every step of the run, every job's state, attempts, need, progress, slot and reason agree in
 * all three.
 */
final class StateMachineTest {
    private static final List<GpuModel> NODE = List.of(Catalog.builtin().get("A100-40GB"),
            Catalog.builtin().get("A100-40GB"));

    /** Jobs named 1..n, so that the journal's rows (numbered from 1) are theirs. */
    static List<TraceJob> jobs(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TraceJob> out = new ArrayList<>();
        double t = 0;
        for (int i = 1; i <= n; i++) {
            t += r.nextDouble() * 20;
            long base = 500 + r.nextInt(20000);
            long peak = base + (r.nextBoolean() ? 0 : r.nextInt(20000));
            WorkloadModel model = new WorkloadModel(20 + r.nextDouble() * 200, r.nextDouble(), 0.1 + 0.9 * r.nextDouble(),
                    base, peak, r.nextDouble(), r.nextBoolean() ? 0 : 10, false);
            out.add(new TraceJob(new dev.migm.engine.JobSpec(Integer.toString(i), t, "app" + r.nextInt(4),
                    dev.migm.engine.JobClass.ML, r.nextInt(3) == 0 ? OptionalLong.of(base) : OptionalLong.empty(),
                    model.checkpoints()), model));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13})
    void theEngine_theJournalsRows_andTheReplay_agreeAfterEveryStep(long seed, @TempDir Path dir) {
        List<TraceJob> jobs = jobs(seed, 40);
        List<EngineRecord> records = new ArrayList<>();
        try (NodeJournal journal = NodeJournal.open(dir.resolve("journal.db"))) {
            List<NodeJournal.NewJob> rows = jobs.stream().map(j -> new NodeJournal.NewJob("j" + j.spec().id())).toList();
            assertThat(journal.submit(0, "u", "r.yaml", "/", "text", rows)).first().isEqualTo("1");
            VirtualTime time = new VirtualTime();
            SimulatedGpuBackend backend = new SimulatedGpuBackend(time, NODE, SimulatedGpuBackend.Latency.DEFAULT);
            Truth truth = Truth.of(jobs);
            Engine engine = new Engine(time, r -> {
                records.add(r);
                journal.append(r);
            }, backend, new ModelExecutor(time, NODE, backend, truth, 1.0, ModelExecutor.Sampling.DEFAULT),
                    PolicyRegistry.create("migm", NODE), EstimatorChain.defaults(new InMemoryHistory(50)),
                    new LearnedRuntime(), EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.DEFAULT));
            for (TraceJob j : jobs) time.at(j.spec().submitS(), () -> engine.handle(new EngineEvent.JobSubmitted(j.spec())));
            // The node's own events, at random times: cancels, a drain and a GPU lost and back.
            SplittableRandom r = new SplittableRandom(seed * 7);
            for (int k = 0; k < 8; k++) {
                String id = Integer.toString(1 + r.nextInt(jobs.size()));
                time.at(r.nextDouble() * 600, () -> engine.handle(new EngineEvent.CancelJob(id, "admin")));
            }
            time.at(100 + r.nextDouble() * 100, () -> engine.handle(new EngineEvent.DrainGpu(1, true)));
            time.at(300, () -> engine.handle(new EngineEvent.DrainGpu(1, false)));
            time.at(200 + r.nextDouble() * 100, () -> engine.handle(new EngineEvent.GpuLost(0, "NVML_ERROR_GPU_IS_LOST")));
            time.at(450, () -> engine.handle(new EngineEvent.GpuRecovered(0)));
            int steps = 0;
            while (time.runNextStep()) {
                engine.schedule();
                if (++steps % 7 == 0) agree(engine, records, journal);
            }
            agree(engine, records, journal);
            Map<JobState, Integer> ends = new LinkedHashMap<>();
            engine.jobs().forEach(v -> ends.merge(v.state(), 1, Integer::sum));
            assertThat(ends.keySet()).as("the run met cancels and completions").contains(JobState.DONE, JobState.CANCELLED);
            assertThat(engine.counters().oomKills() + engine.counters().earlyRestarts()).as("and attempts that failed").isPositive();
        }
    }

    private static void agree(Engine engine, List<EngineRecord> records, NodeJournal journal) {
        journal.flush();
        Map<String, JobStatus> live = engine.snapshot().jobs();
        assertThat(JournalReplay.replay(records).jobs()).isEqualTo(live);
        for (NodeJournal.JobRow row : journal.jobs(true)) {
            JobStatus expected = live.getOrDefault(row.id(), JobStatus.SUBMITTED);
            JobStatus stored = new JobStatus(JobState.ofLabel(row.state()), row.attempts(), row.needMib(),
                    row.needSource(), row.progress(), Optional.ofNullable(row.slot()), row.reason());
            assertThat(stored).as("job " + row.id() + " in the journal").isEqualTo(expected);
            assertThat(row.endedAtS() != null).as("job " + row.id() + " ended_at").isEqualTo(expected.state().ended());
        }
    }
}
