package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.estimate.OracleMemory;
import dev.migm.estimate.OracleRuntime;
import dev.migm.exec.ModelExecutor;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.MigmPolicy;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.Jobs;
import dev.migm.virtual.VirtualTime;
import dev.migm.workload.TraceJob;
import dev.migm.workload.Truth;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Slices a placement strands. The last compute slice of a GPU whose other slices are busy: migm
 * weighs a placement there by its compute share alone (the memory slices it takes have no other use
 * while it runs), and in a batch takes it when the job ends there before the node could work off the
 * rest of the queue. And a placement that leaves free compute slices no instance can reach pays for
 * them ({@link #aPlacementThatStrandsAComputeSlice_paysForIt}).
 *
 * <p>Worked by hand. Every job holds 8,000 MiB from its start (a 1g.10gb or a 2g.10gb holds it, a
 * 1g.5gb does not), scales fully ({@code c = 1, sat = 1}) and takes 1,000 s on the whole A100-40GB
 * (108 SMs), so {@code T(p) = 1000 * 108 / SM(p)}: 1g 7,714.3 s (14 SMs), 2g 3,857.1 s (28), 4g
 * 1,928.6 s (56), 7g 1,102.0 s (98). Slice-time of the scarcer resource, {@code T * max(g/7, m/8)}:
 * 2g.10gb, 4g.20gb and 7g.40gb 1,102.0 each, 3g.20gb 1,285.7, 1g.10gb {@code 7714.3 * 2/8} = 1,928.6
 * (1.75 times the cheapest: outside the right-size slack of 1.25). The first three jobs take the
 * 2g.10gb at slices 0, 2 and 4 (ties go to the plan that leaves the largest free run). Then only a 1g
 * fits the last compute slice, and a 1g.10gb there leaves the GPU no free compute slice: its cost is
 * {@code 7714.3 * 1/7} = 1,102.0, as cheap as the right-sized ones.
 */
final class StrandedSlicesTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final double T_1G = 1000.0 * 108 / 14;
    private static final double T_2G = 1000.0 * 108 / 28;
    private static final double CHEAPEST = 1000.0 * 108 / 98;

    private static List<TraceJob> batch(int n) {
        List<TraceJob> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            jobs.add(Jobs.aJob(String.format("j%02d", i)).flat(8000).scaling(1, 1).duration(1000).build());
        }
        return jobs;
    }

    /** An engine on one simulated A100 under migm with the oracle's estimates, and its clock. */
    private record Node(VirtualTime time, Engine engine) {
        /** The jobs submitted at 0, the input closed when asked, the first round made. */
        static Node of(List<TraceJob> jobs, boolean closeInput) {
            VirtualTime time = new VirtualTime();
            SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(A100), SimulatedGpuBackend.Latency.DEFAULT);
            Truth truth = Truth.of(jobs);
            ModelExecutor executor = new ModelExecutor(time, List.of(A100), backend, truth, 1.0, ModelExecutor.Sampling.OFF);
            Engine engine = new Engine(time, Journal.NONE, backend, executor, PolicyRegistry.create("migm", List.of(A100)),
                    new OracleMemory(truth), new OracleRuntime(truth), EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF));
            for (TraceJob j : jobs) engine.handle(new EngineEvent.JobSubmitted(j.spec()));
            if (closeInput) engine.handle(new EngineEvent.InputClosed(0));
            engine.schedule();
            return new Node(time, engine);
        }

        /** Runs the events before {@code untilS}, each followed by a round. */
        void runBefore(double untilS) {
            while (!time.isEmpty() && time.nextTimeS() < untilS && time.runNextStep()) engine.schedule();
        }
    }

    /** Runs the jobs (all submitted at 0) to their end; closes the input when asked. */
    private static Engine run(List<TraceJob> jobs, boolean closeInput) {
        Node node = Node.of(jobs, closeInput);
        node.runBefore(Double.POSITIVE_INFINITY);
        return node.engine();
    }

    private static Attempt firstAttempt(Engine engine, String id) {
        return engine.jobs().stream().filter(j -> j.spec().id().equals(id)).findFirst().orElseThrow()
                .attempts().getFirst();
    }

    private static String firstSlot(Engine engine, String id) {
        return firstAttempt(engine, id).slot().toString();
    }

    private static double firstLaunch(Engine engine, String id) {
        return firstAttempt(engine, id).launchS();
    }

    @Test
    void theCostsOfTheWorkedExample() {
        // 1g.10gb: 1.75 times the cheapest by its scarcer resource, the cheapest by its compute alone.
        assertThat(T_1G * 2 / 8 / CHEAPEST).isGreaterThan(MigmPolicy.DEFAULT_RIGHT_SIZE_SLACK);
        assertThat(T_1G / 7).isCloseTo(CHEAPEST, within(1e-9));
        assertThat(T_2G * 2 / 7).isCloseTo(CHEAPEST, within(1e-9));
    }

    @Test
    void inALongBatch_theLastComputeSliceTakesAJobAtOnce() {
        // Ten jobs. The GPU makes one instance at a time (0.13 s each), so "j03" is weighed when
        // "j00".."j02" run on the three 2g.10gb: what the node has left is their 3 x 1,102.0 s (each
        // holds 2/7 of the GPU for 3,857.1 s) and the 7 waiting jobs' 7 x 1,102.0 s, 11,020 s of one
        // GPU; less "j03"'s own, 9,918 s, more than its 7,714.3 s on the 1g.10gb. It ends there before
        // the node could work off the rest, so it starts now instead of waiting 3,857 s for a 2g.10gb.
        Engine engine = run(batch(10), true);
        assertThat(firstSlot(engine, "j00")).isEqualTo("gpu0:2g.10gb@0");
        assertThat(firstSlot(engine, "j01")).isEqualTo("gpu0:2g.10gb@2");
        assertThat(firstSlot(engine, "j02")).isEqualTo("gpu0:2g.10gb@4");
        assertThat(firstSlot(engine, "j03")).isEqualTo("gpu0:1g.10gb@6");
        assertThat(firstLaunch(engine, "j03")).isLessThan(10);
    }

    @Test
    void inAShortBatch_theJobWaitsForItsRightSizedInstance() {
        // Five jobs: the rest is 3 x 1,102.0 s going and 2 x 1,102.0 s waiting, 5,510 s, less "j03"'s
        // own: 4,408 s, less than the 7,714.3 s it would take on the 1g.10gb (it would end the batch).
        // It waits for a 2g.10gb to free (the first three end 3,857.1 s after their start) and ends
        // about 3,857 s later, at about 7,714 s, as it would have on the 1g. (Four jobs would not
        // show it: the last job waiting takes whatever instance ends it soonest, a rule of its own.)
        Engine engine = run(batch(5), true);
        assertThat(firstSlot(engine, "j03")).startsWith("gpu0:2g.10gb@");
        assertThat(firstLaunch(engine, "j03")).isGreaterThan(T_2G);
    }

    @Test
    void aJobKeptOffTheLastComputeSlice_saysWhy() {
        // The five jobs of the short batch, looked at once the first three run (the GPU makes one
        // instance at a time; the third starts at 1.39 s). "j03" would run 7,714.3 s on the last
        // compute slice, 7,715 s with the 1 s start-up; the node needs 4,408 s for the rest: the three
        // runs' 3 x 1,102.0 (each holds 2/7 of the GPU for 3,857.1 s) and the two waiting jobs'
        // 2 x 1,102.0, less its own 1,102.0.
        Node node = Node.of(batch(5), true);
        node.runBefore(1.5);
        Engine engine = node.engine();
        assertThat(engine.explain("j03").orElseThrow().refusal().detail())
                .startsWith("its right-sized instances cannot be had now; the last free compute slices of gpu0"
                        + " could hold it, but it would run 7715 s there, past the 4408 s the node needs for the"
                        + " rest of the batch");
    }

    @Test
    void online_theJobWaitsForItsRightSizedInstance() {
        // The same ten jobs with the input not closed: a job's own completion counts, and on the 1g it
        // would take twice its 2g time.
        Engine engine = run(batch(10), false);
        assertThat(firstSlot(engine, "j03")).startsWith("gpu0:2g.10gb@");
        assertThat(firstLaunch(engine, "j03")).isGreaterThan(T_2G);
    }

    /**
     * Worked by hand. Two jobs of 15,000 MiB (a 3g.20gb, 4g.20gb or 7g.40gb holds them) that take
     * 1,000 s on the whole A100-40GB and stop gaining beyond 40% of its 108 SMs ({@code c = 1,
     * sat = 0.4}): {@code T = 1000 * max(1, 0.4 * 108 / SM)}, 1,028.6 s on a 3g (42 SMs), 1,000 s on a
     * 4g (56) and on a 7g. Slice-time of the scarcer resource: 3g.20gb {@code 1028.6 * max(3/7, 4/8)}
     * = 514.3, 4g.20gb {@code 1000 * 4/7} = 571.4, 7g.40gb 1,000. On the empty GPU the planner's
     * 3g.20gb is at slice 0 (its two starts leave the same free run; the lower wins), where it takes
     * memory slices 0-3 and leaves four compute slices with memory 4-7, which hold at most three
     * ({@code UsableComputeTest}): counted, it costs {@code 1028.6 * max(4/7, 4/8)} = 587.8, more than
     * the 4g.20gb at slice 0, which takes the same memory and runs faster. The second job then takes
     * the 3g.20gb at slice 4, which strands nothing. Without the count the first took the 3g.20gb at 0.
     */
    @Test
    void aPlacementThatStrandsAComputeSlice_paysForIt() {
        Engine engine = run(List.of(
                Jobs.aJob("a").flat(15_000).scaling(1, 0.4).duration(1000).build(),
                Jobs.aJob("b").flat(15_000).scaling(1, 0.4).duration(1000).build()), false);
        assertThat(firstSlot(engine, "a")).isEqualTo("gpu0:4g.20gb@0");
        assertThat(firstSlot(engine, "b")).isEqualTo("gpu0:3g.20gb@4");
    }
}
