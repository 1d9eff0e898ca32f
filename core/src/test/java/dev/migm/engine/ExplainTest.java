package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.estimate.OracleMemory;
import dev.migm.estimate.OracleRuntime;
import dev.migm.exec.ModelExecutor;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.Jobs;
import dev.migm.workload.TraceJob;
import dev.migm.workload.Truth;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The structured reason a waiting job carries (Fenzo-style AssignmentFailure). */
final class ExplainTest {
    @Test
    void waitingJob_isExplainedByItsNeedTheLargestPossibleInstanceAndTheBusyBlockers() {
        GpuModel a100 = Catalog.builtin().get("A100-40GB");
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(a100), SimulatedGpuBackend.Latency.DEFAULT);
        TraceJob small = Jobs.aJob("small").flat(3000).duration(100).build();
        TraceJob big = Jobs.aJob("big").flat(30000).duration(100).build();
        Truth truth = Truth.of(List.of(small, big));
        ModelExecutor executor = new ModelExecutor(time, List.of(a100), backend, truth, 1.0, ModelExecutor.Sampling.OFF);
        Engine engine = new Engine(time, Journal.NONE, backend, executor, PolicyRegistry.create("s2", List.of(a100)),
                new OracleMemory(truth), new OracleRuntime(truth),
                Engine.Settings.DEFAULT.withEarlyRestart(Engine.EarlyRestart.OFF));
        // s2 places "small" (3000 MiB) on a 1g.5gb at slice 0; "big" (30000 MiB) needs the 7g.40gb,
        // whose only placement (slices 0-7) holds the busy 1g.5gb: the largest instance that could
        // be created now without touching it is a 3g.20gb (19968 MiB) at slice 4.
        engine.handle(new EngineEvent.JobSubmitted(small.spec()));
        engine.handle(new EngineEvent.JobSubmitted(big.spec()));
        engine.schedule();
        time.runNextStep();
        engine.schedule();
        Unplaceable why = engine.explain("big").orElseThrow();
        assertThat(why.needMib()).isEqualTo(30000);
        assertThat(why.largestNowMib()).isEqualTo(19968);
        assertThat(why.blockers()).containsExactly("gpu0:1g.5gb@0 (small)");
        assertThat(why.message()).isEqualTo("needs 30000 MiB (oracle (true peak)); the largest instance that could exist"
                + " now holds 19968 MiB; blocked by busy gpu0:1g.5gb@0 (small)");
        assertThat(engine.explain("small")).isEmpty();
    }

    @Test
    void forget_dropsAnEndedJob_andRefusesALiveOne() {
        // A driver that streams a long trace keeps only live jobs: "a" runs 10 s on an A100, "b"
        // waits behind nothing but is still running when "a" has ended.
        GpuModel a100 = Catalog.builtin().get("A100-40GB");
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(a100), SimulatedGpuBackend.Latency.DEFAULT);
        TraceJob a = Jobs.aJob("a").flat(3000).duration(10).build();
        TraceJob b = Jobs.aJob("b").flat(3000).duration(1000).build();
        Truth truth = Truth.of(List.of(a, b));
        ModelExecutor executor = new ModelExecutor(time, List.of(a100), backend, truth, 1.0, ModelExecutor.Sampling.OFF);
        Engine engine = new Engine(time, Journal.NONE, backend, executor, PolicyRegistry.create("migm", List.of(a100)),
                new OracleMemory(truth), new OracleRuntime(truth),
                Engine.Settings.DEFAULT.withEarlyRestart(Engine.EarlyRestart.OFF));
        engine.handle(new EngineEvent.JobSubmitted(a.spec()));
        engine.handle(new EngineEvent.JobSubmitted(b.spec()));
        engine.schedule();
        while (engine.jobs().stream().noneMatch(j -> j.spec().id().equals("a") && j.state() == Engine.State.DONE)) {
            assertThat(time.runNextStep()).isTrue();
            engine.schedule();
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.forget("b"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not ended");
        engine.forget("a");
        assertThat(engine.jobs()).extracting(j -> j.spec().id()).containsExactly("b");
        assertThat(engine.snapshot().jobs()).containsOnlyKeys("b");
    }
}
