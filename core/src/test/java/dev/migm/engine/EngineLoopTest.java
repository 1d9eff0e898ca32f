package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.estimate.LearnedRuntime;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import dev.migm.schedule.PolicyRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The engine as an actor under real threads: a backend and an executor that answer from their own
 * threads after real delays, and submits from several threads at once. Every job ends done, the
 * engine is only ever touched by its owner thread, and the journal replays to its state.
 */
final class EngineLoopTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    /** MIG GPUs that apply plans on their own thread after a few milliseconds, like NVML calls. */
    private static final class ThreadedBackend implements GpuBackend {
        final List<GpuModel> models;
        final Map<Integer, Layout> layouts = new ConcurrentHashMap<>();

        ThreadedBackend(List<GpuModel> models) {
            this.models = models;
            for (int i = 0; i < models.size(); i++) layouts.put(i, Layout.empty(models.get(i)));
        }

        @Override public List<GpuModel> gpus() { return models; }
        @Override public Layout layout(int gpu) { return layouts.get(gpu); }
        @Override public void setMigEnabled(int gpu, boolean enabled) { }
        @Override public double energyJoules() { return 0; }

        @Override
        public void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink) {
            Thread.ofVirtual().start(() -> {
                sleep(3);
                Layout l = layouts.get(gpu);
                for (PlanOp op : plan.ops()) {
                    l = op instanceof PlanOp.Create c ? l.with(c.instance()) : l.without(op.instance());
                }
                layouts.put(gpu, l);
                sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket, Optional.empty()));
            });
        }
    }

    /** Processes that come up after 2 ms and finish after 10-30 ms, on their own threads. */
    private static final class ThreadedExecutor implements Executor {
        @Override
        public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
            Thread.ofVirtual().start(() -> {
                sleep(2);
                sink.deliver(new EngineEvent.AttemptRunning(attempt.jobId(), attempt.number()));
                sink.deliver(new EngineEvent.MemorySample(attempt.jobId(), attempt.number(), 1000, java.util.Optional.empty(),
                        0));
                sleep(10 + Math.floorMod(spec.id().hashCode(), 20));
                sink.deliver(new EngineEvent.AttemptExited(attempt.jobId(), attempt.number(),
                        new Outcome.Completed(1000, 1000)));
            });
        }

        @Override
        public void stop(Attempt attempt, String why) {
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void jobsSubmittedFromManyThreads_allEndDone_withTheEngineConfinedToItsThread() throws Exception {
        List<GpuModel> node = List.of(A100, A100);
        InMemoryJournal journal = new InMemoryJournal();
        try (EngineLoop loop = new EngineLoop("engine", timers -> new Engine(timers, journal, new ThreadedBackend(node),
                new ThreadedExecutor(), PolicyRegistry.create("migm", node),
                EstimatorChain.defaults(new InMemoryHistory(50)), new LearnedRuntime(), EngineSettings.DEFAULT))) {
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int base = t * 10;
                submitters.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 10; i++) {
                        long mib = 1000L * (1 + (base + i) % 15);
                        loop.post(new EngineEvent.JobSubmitted(new JobSpec("j" + (base + i), 0, "app" + (i % 3),
                                JobClass.OTHER, OptionalLong.of(mib), Map.of(), false, OptionalDouble.empty())));
                    }
                }));
            }
            for (Thread s : submitters) s.join();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            List<JobView> jobs;
            do {
                sleep(20);
                jobs = List.copyOf(loop.ask(Engine::jobs).get(5, TimeUnit.SECONDS));
            } while (jobs.stream().anyMatch(j -> j.state() != JobState.DONE) && System.nanoTime() < deadline);
            assertThat(loop.errors()).isEmpty();
            assertThat(jobs).hasSize(40).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.DONE));
            EngineState live = loop.ask(Engine::snapshot).get(5, TimeUnit.SECONDS);
            List<EngineRecord> records = loop.ask(e -> journal.records()).get(5, TimeUnit.SECONDS);
            assertThat(JournalReplay.replay(records)).isEqualTo(live);
            // Only the owner thread may touch the engine.
            Engine engine = loop.ask(e -> e).get(5, TimeUnit.SECONDS);
            assertThatThrownBy(engine::schedule).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("confined to engine");
        }
    }
}
