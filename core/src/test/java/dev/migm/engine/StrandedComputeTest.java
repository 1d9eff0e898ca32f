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
import dev.migm.virtual.VirtualTime;
import dev.migm.workload.TraceJob;
import dev.migm.workload.Truth;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * migm counts the free compute slices a placement strands as part of its cost.
 *
 * <p>Worked by hand. Two jobs of 15,000 MiB (a 3g.20gb, 4g.20gb or 7g.40gb holds them) that take
 * 1,000 s on the whole A100-40GB and stop gaining beyond 40% of its 108 SMs ({@code c = 1,
 * sat = 0.4}): {@code T = 1000 * max(1, 0.4 * 108 / SM)}, 1,028.6 s on a 3g (42 SMs), 1,000 s on a 4g
 * (56) and on a 7g. Slice-time of the scarcer resource: 3g.20gb {@code 1028.6 * max(3/7, 4/8)} =
 * 514.3, 4g.20gb {@code 1000 * 4/7} = 571.4, 7g.40gb 1,000. On the empty GPU the planner's 3g.20gb
 * is at slice 0 (its two starts leave the same free run; the lower wins), where it takes memory
 * slices 0-3 and leaves four compute slices with memory 4-7, which hold at most three
 * ({@code UsableComputeTest}): counted, it costs {@code 1028.6 * max(4/7, 4/8)} = 587.8, more than
 * the 4g.20gb at slice 0, which takes the same memory and runs faster. The second job then takes the
 * 3g.20gb at slice 4, which strands nothing. Without the count the first took the 3g.20gb at 0.
 */
final class StrandedComputeTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @Test
    void aPlacementThatStrandsAComputeSlice_paysForIt() {
        List<TraceJob> jobs = List.of(
                Jobs.aJob("a").flat(15_000).scaling(1, 0.4).duration(1000).build(),
                Jobs.aJob("b").flat(15_000).scaling(1, 0.4).duration(1000).build());
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(A100), SimulatedGpuBackend.Latency.DEFAULT);
        Truth truth = Truth.of(jobs);
        ModelExecutor executor = new ModelExecutor(time, List.of(A100), backend, truth, 1.0, ModelExecutor.Sampling.OFF);
        Engine engine = new Engine(time, Journal.NONE, backend, executor, PolicyRegistry.create("migm", List.of(A100)),
                new OracleMemory(truth), new OracleRuntime(truth), EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF));
        for (TraceJob j : jobs) engine.handle(new EngineEvent.JobSubmitted(j.spec()));
        engine.schedule();
        while (time.runNextStep()) engine.schedule();
        assertThat(slot(engine, "a")).isEqualTo("gpu0:4g.20gb@0");
        assertThat(slot(engine, "b")).isEqualTo("gpu0:3g.20gb@4");
    }

    private static String slot(Engine engine, String id) {
        return engine.jobs().stream().filter(j -> j.spec().id().equals(id)).findFirst().orElseThrow()
                .attempts().getFirst().slot().toString();
    }
}
