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
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine's feed of changed GPUs ({@link SchedulingContext#takeChangedGpus}), which migm's policy
 * trusts instead of passing over every GPU each round: every GPU whose version moved since the last
 * round is in it, whatever moved it (placements, plans answered, runs ending, a whole-GPU job, mode
 * changes, a drain, a loss and a recovery).
 */
final class ChangedGpusTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @Test
    void everyGpuWhoseVersionMoved_isInTheNextRoundsFeed() {
        List<TraceJob> jobs = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            // small and middle jobs of different lengths, and every sixth one needing a whole GPU
            long mib = i % 6 == 5 ? 30000 : 3000 + 2500L * (i % 4);
            jobs.add(Jobs.aJob("j" + i).at(7.0 * i).flat(mib).scaling(0, 1).duration(40 + 13 * (i % 5)).build());
        }
        VirtualTime time = new VirtualTime();
        List<GpuModel> node = java.util.Collections.nCopies(4, A100);
        SimulatedGpuBackend gpus = new SimulatedGpuBackend(time, node, SimulatedGpuBackend.Latency.DEFAULT);
        Truth truth = Truth.of(jobs);
        Checking policy = new Checking(PolicyRegistry.create("migm", node));
        Engine engine = new Engine(time, new InMemoryJournal(), gpus,
                new ModelExecutor(time, node, gpus, truth, 1.0, ModelExecutor.Sampling.OFF), policy,
                new OracleMemory(truth), new OracleRuntime(truth), EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF));
        for (TraceJob j : jobs) time.at(j.spec().submitS(), () -> engine.handle(new EngineEvent.JobSubmitted(j.spec())));
        time.at(30, () -> engine.handle(new EngineEvent.DrainGpu(1, true)));
        time.at(60, () -> engine.handle(new EngineEvent.GpuLost(2, "NVML_ERROR_GPU_IS_LOST")));
        time.at(90, () -> engine.handle(new EngineEvent.DrainGpu(1, false)));
        time.at(120, () -> engine.handle(new EngineEvent.GpuRecovered(2)));
        while (time.runNextStep()) engine.schedule();

        assertThat(engine.jobs()).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.DONE));
        assertThat(policy.missed).as("GPUs whose version moved but were not in the feed").isEmpty();
        // The feed was not trivially every GPU: most rounds named a few.
        assertThat(policy.rounds).isGreaterThan(20);
        assertThat(policy.named).isLessThan(4L * policy.rounds);
        assertThat(policy.moved).isGreaterThan(0);
    }

    /** Migm's policy, given the feed through a context that first checks it against the GPUs' versions. */
    private static final class Checking implements SchedulingPolicy {
        final SchedulingPolicy inner;
        final List<String> missed = new ArrayList<>();
        long[] seen;
        int rounds;
        long named;
        long moved;

        Checking(SchedulingPolicy inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public boolean decidesMigModes() {
            return inner.decidesMigModes();
        }

        @Override
        public boolean movesRunsAtTheTail() {
            return inner.movesRunsAtTheTail();
        }

        @Override
        public java.util.Comparator<QueuedJob> queueOrder() {
            return inner.queueOrder();
        }

        @Override
        public void schedule(SchedulingContext ctx) {
            List<? extends GpuView> gpus = ctx.gpus();
            BitSet feed = ctx.takeChangedGpus();
            rounds++;
            named += feed.cardinality();
            if (seen != null) {
                for (GpuView g : gpus) {
                    if (g.version() == seen[g.index()]) continue;
                    moved++;
                    if (!feed.get(g.index())) missed.add("gpu" + g.index() + " in round " + rounds);
                }
            }
            BitSet[] first = {feed};
            SchedulingContext checked = (SchedulingContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {SchedulingContext.class}, (proxy, method, args) -> {
                        if (method.getName().equals("takeChangedGpus")) {
                            BitSet taken = ctx.takeChangedGpus();
                            if (first[0] != null) taken.or(first[0]);
                            first[0] = null;
                            return taken;
                        }
                        try {
                            return method.invoke(ctx, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            inner.schedule(checked);
            seen = new long[gpus.size()];
            for (GpuView g : gpus) seen[g.index()] = g.version();
        }
    }
}
