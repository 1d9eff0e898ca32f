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
                    EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF)));
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
        // s2 says its own reason for its head: the memory it asks (its tightest instance, the 7g.40gb's
        // 40192 MiB) against the largest instance that could be made now (the 3g.20gb's 19968 MiB).
        assertThat(why.refusal()).isEqualTo(new Refusal(Refusal.Resource.MEMORY_MIB, 40192, 19968,
                "first in line: its tightest instance (7g.40gb) cannot be made now"));
        assertThat(why.message()).isEqualTo("first in line: its tightest instance (7g.40gb) cannot be made now;"
                + " needs 30000 MiB (oracle (true peak)); the largest instance that could exist"
                + " now holds 19968 MiB; blocked by busy gpu0:1g.5gb@0 (small)");
        assertThat(engine.explain("small")).isEmpty();
    }

    @Test
    void aQueueListing_getsEachWaitingJobsExplanation_workedOutOncePerNeed() {
        // As the first test, with two more jobs waiting behind: "big2" needs what "big" needs (the
        // capacity side of its reason is the same, worked out once), "mid" needs 15000 MiB (its own,
        // and it could fit a 3g.20gb). s2 says why both wait: behind "big", in arrival order. The
        // running "small" and an unknown id have none.
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
        String behind = "behind big (s2 starts jobs strictly in arrival order); ";
        assertThat(reasons.get("big2")).isEqualTo(behind + reasons.get("big").substring(reasons.get("big").indexOf("needs")));
        assertThat(reasons.get("mid")).startsWith(behind + "needs 15000 MiB").doesNotContain("holds it back");
        assertThat(engine.explain("mid").orElseThrow().refusal().resource()).isEqualTo(Refusal.Resource.QUEUE_ORDER);
    }

    @Test
    void migmSaysWhyEachJobWaits_theHeadsDrainAndAFollowerThatWouldRunPastIt_handWorked() {
        // One A100, migm:0 (a whole-GPU head gets its reservation at once), oracle, c = 0, start-up 1 s.
        //   t = 0: "a" (15000 MiB, 100 s) is placed on a 3g.20gb at slice 0 (one create, 0.13 s).
        //          "b" (30000 MiB, 50 s), "d" (3000 MiB, 200 s) and "c" (3000 MiB, 10 s) arrive while
        //          the GPU reconfigures.
        //   t = 0.13: a launches; the engine expects it to end at 0.13 + 1 + 100 = 101.13 s. b needs
        //          the 7g.40gb, whose slices a holds: it heads the queue and gets its reservation
        //          (every slice, free at 101.13). d would take 1 + 200 = 201 s, past the reservation
        //          (101.13 - 0.13 = 101 s away): it waits. c (11 s) backfills.
        TraceJob a = Jobs.aJob("a").duration(100).scaling(0, 1).flat(15000).build();
        TraceJob b = Jobs.aJob("b").duration(50).scaling(0, 1).flat(30000).build();
        TraceJob d = Jobs.aJob("d").duration(200).scaling(0, 1).flat(3000).build();
        TraceJob c = Jobs.aJob("c").duration(10).scaling(0, 1).flat(3000).build();
        Node node = Node.of("migm:0", a, b, d, c);
        Engine engine = node.engine();
        engine.handle(new EngineEvent.JobSubmitted(a.spec()));
        engine.schedule();
        for (TraceJob j : List.of(b, d, c)) engine.handle(new EngineEvent.JobSubmitted(j.spec()));
        engine.schedule();
        while (node.time().nowS() < 0.13 - 1e-9) {
            assertThat(node.time().runNextStep()).isTrue();
            engine.schedule();
        }
        assertThat(engine.explain("c")).as("c backfilled").isEmpty();
        Refusal head = engine.explain("b").orElseThrow().refusal();
        assertThat(head.resource()).isEqualTo(Refusal.Resource.MEMORY_MIB);
        assertThat(head.asked()).isEqualTo(30000);
        assertThat(head.free()).isEqualTo(19968); // a 3g.20gb on slices 4-7, beside a's at 0
        assertThat(head.why()).isEqualTo("no instance that could exist now holds it; first in line: gpu0 drains"
                + " for it, its slices expected free in 101 s");
        Unplaceable follower = engine.explain("d").orElseThrow();
        assertThat(follower.refusal().resource()).isEqualTo(Refusal.Resource.RESERVED_SLICES_S);
        assertThat(follower.refusal().asked()).isCloseTo(201, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(follower.refusal().free()).isCloseTo(101, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(follower.message()).startsWith("would run past the reservation for b on gpu0 (expected 201 s, its"
                + " slices are needed in 101 s); needs 3000 MiB");
        // The reasons stand until the job leaves the queue: once b runs, it has none.
        while (engine.jobs().stream().noneMatch(j -> j.spec().id().equals("b") && j.state() != JobState.QUEUED)) {
            assertThat(node.time().runNextStep()).isTrue();
            engine.schedule();
        }
        assertThat(engine.explain("b")).isEmpty();
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
        while (engine.jobs().stream().noneMatch(j -> j.spec().id().equals("a") && j.state() == JobState.DONE)) {
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
