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
 * A node service that restarts takes its jobs back from the journal ({@link Engine#recover}); the
 * bounds on stops at a checkpoint for a waiting job (a run yields once, a job yielded to stops nobody,
 * a yield costs no attempt) must hold across the restart, not start over.
 */
final class RecoveredStopsTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    private static Engine engine(TraceJob... jobs) {
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(A100), SimulatedGpuBackend.Latency.DEFAULT);
        Truth truth = Truth.of(List.of(jobs));
        ModelExecutor executor = new ModelExecutor(time, List.of(A100), backend, truth, 1.0, ModelExecutor.Sampling.OFF);
        return new Engine(time, Journal.NONE, backend, executor, PolicyRegistry.create("migm", List.of(A100)),
                new OracleMemory(truth), new OracleRuntime(truth), EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF));
    }

    @Test
    void aJobThatYieldedBeforeTheRestart_keepsItsExtraAttempt_andYieldsToNobodyAgain() {
        TraceJob yielder = Jobs.aJob("a").flat(3000).duration(100).build();
        TraceJob waiter = Jobs.aJob("b").flat(30000).duration(100).build();
        TraceJob other = Jobs.aJob("c").flat(3000).duration(100).build();
        Engine engine = engine(yielder, waiter, other);
        // "a" had attempt 1 stopped for "b" before the restart; "c" was never stopped nor stopped for.
        engine.recover(yielder.spec(), List.of(), false, 3000, "journal", 0.4, "stopped for b", true, false);
        engine.recover(waiter.spec(), List.of(), false, 30000, "journal", 0, "waiting", false, true);
        engine.recover(other.spec(), List.of(), false, 3000, "journal", 0, "waiting", false, false);
        // The default limit of 6 attempts: the yield is migm's stop, not the job's fault (+1).
        assertThat(engine.job("a").attemptBudget(6)).isEqualTo(7);
        assertThat(engine.job("c").attemptBudget(6)).isEqualTo(6);
        assertThat(engine.job("a").yielded).isTrue();
        assertThat(engine.job("b").yieldedTo).isTrue();
        assertThat(engine.job("c").yielded || engine.job("c").yieldedTo).isFalse();
    }
}
