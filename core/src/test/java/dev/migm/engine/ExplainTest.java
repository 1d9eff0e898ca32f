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
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    /** An engine on one simulated A100 with the oracle's estimates, and its clock. */
    private record Node(VirtualTime time, Engine engine) {
        static Node of(String policy, TraceJob... jobs) {
            VirtualTime time = new VirtualTime();
            SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(A100), SimulatedGpuBackend.Latency.DEFAULT);
            Truth truth = Truth.of(List.of(jobs));
            ModelExecutor executor = new ModelExecutor(time, List.of(A100), backend, truth, 1.0, ModelExecutor.Sampling.OFF);
            return new Node(time, new Engine(time, Journal.NONE, backend, executor, PolicyRegistry.create(policy, List.of(A100)),
                    new OracleMemory(truth), new OracleRuntime(truth),
                    Engine.Settings.DEFAULT.withEarlyRestart(Engine.EarlyRestart.OFF)));
        }
    }

    @Test
    void waitingJob_isExplainedByItsNeedTheLargestPossibleInstanceAndTheBusyBlockers() {
        TraceJob small = Jobs.aJob("small").flat(3000).duration(100).build();
        TraceJob big = Jobs.aJob("big").flat(30000).duration(100).build();
        Node node = Node.of("s2", small, big);
        VirtualTime time = node.time();
        Engine engine = node.engine();
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
    void aQueueListing_getsEachWaitingJobsExplanation_workedOutOncePerNeed() {
        // As the first test, with two more jobs waiting behind: "big2" needs what "big" needs (its
        // reason is the same text, worked out once), "mid" needs 15000 MiB (its own reason, and it
        // could fit a 3g.20gb: the policy holds it back). The running "small" and an unknown id have none.
        TraceJob small = Jobs.aJob("small").flat(3000).duration(100).build();
        TraceJob big = Jobs.aJob("big").flat(30000).duration(100).build();
        TraceJob big2 = Jobs.aJob("big2").flat(30000).duration(100).build();
        TraceJob mid = Jobs.aJob("mid").flat(15000).duration(100).build();
        Node node = Node.of("s2", small, big, big2, mid);
        Engine engine = node.engine();
        for (TraceJob j : List.of(small, big, big2, mid)) engine.handle(new EngineEvent.JobSubmitted(j.spec()));
        engine.schedule();
        node.time().runNextStep();
        engine.schedule();
        var reasons = engine.waitingReasons(List.of("small", "big", "big2", "mid", "nobody"));
        assertThat(reasons).containsOnlyKeys("big", "big2", "mid");
        for (String id : reasons.keySet()) {
            assertThat(reasons.get(id)).as(id).isEqualTo(engine.explain(id).orElseThrow().message());
        }
        assertThat(reasons.get("big2")).isSameAs(reasons.get("big"));
        assertThat(reasons.get("mid")).startsWith("needs 15000 MiB").contains("the policy holds it back");
    }

    @Test
    void forget_dropsAnEndedJob_andRefusesALiveOne() {
        // A driver that streams a long trace keeps only live jobs: "a" runs 10 s on an A100, "b"
        // waits behind nothing but is still running when "a" has ended.
        TraceJob a = Jobs.aJob("a").flat(3000).duration(10).build();
        TraceJob b = Jobs.aJob("b").flat(3000).duration(1000).build();
        Node node = Node.of("migm", a, b);
        VirtualTime time = node.time();
        Engine engine = node.engine();
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
