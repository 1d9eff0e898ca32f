package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.workload.TraceJob;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-worked scenarios that pin the simulator's models (models.md), numbers derived in comments. */
final class SimulatorTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    static SimResult run(String policy, List<TraceJob> jobs) {
        return run(policy, jobs, List.of(A100));
    }

    static SimResult run(String policy, List<TraceJob> jobs, List<GpuModel> gpus) {
        return Simulator.run("test", jobs, PolicyRegistry.create(policy, gpus), Simulator.Options.of(gpus));
    }

    @Test
    void serial_oneJob_energyIsIdleDuringStartupThenTheModelPower() {
        // A100-40GB, MIG off: start-up 1 s at P_idle = 55 W, then 100 s (duration on the whole GPU)
        // at P = 55 + (400 - 55) * 0.5 * min(108, 1 * 108) / 108 = 227.5 W.
        // Energy = 55 * 1 + 227.5 * 100 = 22805 J; makespan = 101 s.
        SimResult r = run("serial", List.of(Jobs.aJob("a").duration(100).scaling(0.6, 1).activity(0.5).build()));
        assertThat(r.makespanS()).isCloseTo(101.0, within(1e-9));
        assertThat(r.energyJ()).isCloseTo(22805.0, within(1e-6));
        assertThat(r.busySliceShare()).isCloseTo(1.0, within(1e-9));
    }

    @Test
    void migm_oneSmallJob_paysOneInstanceCreationThenStartupThenItsRuntimeOn1g() {
        // The GPU starts empty. migm creates a 1g.5gb (130 ms), launches (1 s start-up) and the job
        // runs T(1g) = 50 * max(1, 0.1 * 108 / 14) = 50 s (saturated at 10.8 SMs).
        // Makespan = 0.13 + 1 + 50 = 51.13 s.
        // Energy: idle 55 W for 1.13 s, then 55 + 345 * 1 * min(14, 10.8)/108 = 89.5 W for 50 s.
        //   = 62.15 + 4475 = 4537.15 J.
        SimResult r = run("migm", List.of(Jobs.aJob("a").duration(50).scaling(1, 0.1).flat(3000).build()));
        assertThat(r.makespanS()).isCloseTo(51.13, within(1e-9));
        assertThat(r.energyJ()).isCloseTo(4537.15, within(1e-6));
        assertThat(r.reconfigurations()).isEqualTo(1);
        assertThat(r.overprovision()).isCloseTo(4864.0 / 3000, within(1e-9));
    }

    @Test
    void migm_aRunThatCheckpoints_movesToALargerInstanceWhenNothingWaits() {
        // The oracle's run times. "a" (2000 MiB, c = 1, sat = 1, checkpoints) and "b" (15000 MiB, does
        // not scale) arrive together; right-sizing by slice-time gives "a" a 1g.5gb (a perfectly
        // scaling job costs the same slice-time on any size; the smallest leaves the most room) and
        // "b" a 3g.20gb. There, "a" would take T(1g) = 1000 * 108 / 14 = 7714.3 s: the batch's end.
        // The trace is all in and nothing waits; once "b" ends (0.26 + 1 + 500 = 501.26 s), "a" is
        // alone on the GPU with 1 - 500.13 / 7714.3 = 0.9352 of its work left: 7214 s there, against
        // 0.9352 * T(7g) = 0.9352 * 1000 * 108 / 98 = 1030.6 s on a 7g.40gb. It is stopped (its
        // checkpoint keeps its work), the GPU re-cut (about 0.4 s), and it resumes with 1 s of
        // start-up: it ends at about 501.7 + 1 + 1030.6 = 1533.3 s. Without the move: 7715 s.
        SimResult r = run("migm", List.of(
                Jobs.aJob("a").duration(1000).scaling(1, 1).flat(2000).declared(2000).checkpoint(60).build(),
                Jobs.aJob("b").duration(500).scaling(0, 1).flat(15000).declared(15000).build()));
        assertThat(r.makespanS()).isCloseTo(1533.3, within(1.0));
        assertThat(r.restarts()).isEqualTo(1);
        assertThat(r.oomKills()).isZero();
    }

    @Test
    void migm_movesNoRun_whenJobsStillArrive() {
        // The same two jobs and a third, small and short, submitted 2 s later: the input is not one
        // batch, so no run is moved (a node cannot know whether more come), and "a" ends on its 1g.5gb
        // at about 0.13 + 1 + 7714.3 s.
        SimResult r = run("migm", List.of(
                Jobs.aJob("a").duration(1000).scaling(1, 1).flat(2000).declared(2000).checkpoint(60).build(),
                Jobs.aJob("b").duration(500).scaling(0, 1).flat(15000).declared(15000).build(),
                Jobs.aJob("c").at(2).duration(10).scaling(0, 1).flat(1000).declared(1000).build()));
        assertThat(r.restarts()).isZero();
        assertThat(r.makespanS()).isGreaterThan(7700);
    }

    @Test
    void migm_aWholeGpuJob_stopsRunsThatCheckpointInsteadOfWaitingForThemToDrain() {
        // "s1" and "s2" (3000 MiB, c = 0: 1000 s anywhere, checkpoint) start at 0 on two 1g.5gb
        // instances (created 0.13 s apart... both in one round: 0.13 s each, then 1 s start-up). "w"
        // (30000 MiB: only a 7g.40gb holds it; 100 s anywhere) arrives at 10 s; migm:0 gives it its
        // reservation at once: the 7g.40gb over both runs, expected free at about 1001.3 s. Held, its
        // 5 free compute slices and then the runs' 2 would idle about 5 * 991 = 4956 slice-seconds;
        // stopping both costs 2 slices * 1 s of start-up each: 4 (DrainBreaker: drain >= 2 * cost). Both
        // are stopped at their checkpoint (they keep their work), the 7g.40gb is cut (two destroys and a
        // create, 0.43 s) and "w" runs 1 + 100 s: it ends near 10 + 0.43 + 101 = 111.4 s, not after the
        // drain (about 1001 + 0.43 + 101 = 1102 s). The runs resume after it with their work kept
        // (1000 - (10 - 1.13) = 991.1 s left) on new 1g.5gb instances (0.15 + 2 * 0.13 s), 1 s start-up:
        // the batch ends near 111.4 + 0.41 + 1 + 991.1 = 1103.9 s.
        SimResult r = run("migm:0", List.of(
                Jobs.aJob("s1").duration(1000).scaling(0, 1).flat(3000).checkpoint(60).build(),
                Jobs.aJob("s2").duration(1000).scaling(0, 1).flat(3000).checkpoint(60).build(),
                Jobs.aJob("w").at(10).duration(100).scaling(0, 1).flat(30000).build()));
        SimResult.JobRow w = r.perJob().stream().filter(j -> j.id().equals("w")).findFirst().orElseThrow();
        assertThat(w.endS()).isCloseTo(111.4, within(1.0));
        assertThat(r.preemptions()).isEqualTo(2);
        assertThat(r.perJob()).filteredOn(j -> !j.id().equals("w")).allSatisfy(j -> {
            assertThat(j.attempts()).isEqualTo(2);
            assertThat(j.reason()).contains("stopped at its checkpoint for w");
        });
        assertThat(r.makespanS()).isCloseTo(1103.9, within(1.0));
    }

    @Test
    void migm_aRunThatCheckpoints_movesToAnotherGpu_soThatAWholeGpuJobStartsNow() {
        // Two A100s. "a" (15000 MiB, 2000 s anywhere, does not checkpoint) takes gpu0's 3g.20gb@0;
        // "l" (3000 MiB, 1500 s, checkpoints) takes a 1g.5gb on gpu1 (the larger free run left).
        // "w" (30000 MiB, 100 s) arrives at 10 s and needs a whole GPU's 7g.40gb: gpu0 holds "a", which
        // may not yield; on gpu1 only "l" stands in the way, and it fits gpu0's free slices. Holding
        // would idle at least 4 compute slices * 1990 s (gpu0's, waiting for "a"); stopping "l" costs
        // one slice's start-up, 1 s. So "l" is stopped at its checkpoint and moved: "w" runs on gpu1
        // (destroy 1g, create 7g: 0.28 s, 1 s start-up): it ends near 10 + 0.28 + 101 = 111.3 s; "l"
        // resumes on gpu0 (create 0.13 s, 1 s start-up) with 1500 - (10 - 1.13) = 1491.1 s left: it ends
        // near 10 + 0.13 + 1 + 1491.1 = 1502.3 s, as if never stopped but for the start-up (it would
        // end near 1602 s had it waited for "w"). "a" ends the batch at 0.13 + 1 + 2000 = 2001.1 s.
        SimResult r = run("migm:0", List.of(
                Jobs.aJob("a").duration(2000).scaling(0, 1).flat(15000).build(),
                Jobs.aJob("l").duration(1500).scaling(0, 1).flat(3000).checkpoint(60).build(),
                Jobs.aJob("w").at(10).duration(100).scaling(0, 1).flat(30000).build()), List.of(A100, A100));
        java.util.Map<String, SimResult.JobRow> rows = new java.util.HashMap<>();
        r.perJob().forEach(j -> rows.put(j.id(), j));
        assertThat(rows.get("w").endS()).isCloseTo(111.3, within(1.0));
        assertThat(rows.get("w").slot()).startsWith("gpu1:7g.40gb");
        assertThat(rows.get("l").endS()).isCloseTo(1502.3, within(1.0));
        assertThat(rows.get("l").slot()).startsWith("gpu0:1g.5gb");
        assertThat(rows.get("l").reason()).contains("it resumes on gpu0");
        assertThat(r.preemptions()).isEqualTo(1);
        assertThat(r.makespanS()).isCloseTo(2001.1, within(1.0));
    }

    @Test
    void migm_aBlockedWholeGpuJob_drainsTheGpuThatIdlesLeast_andTheOtherGpuServesTheJobsBehindIt() {
        // Two A100s, migm:0, nothing checkpoints, c = 0 (the same time anywhere), 15000 MiB jobs on
        // 3g.20gb. At 0, longest first: "y1" (450 s) on gpu0's 3g.20gb@0, "y2" (420 s) on gpu1's
        // (the larger free run), "x" (400 s) on gpu0's 3g.20gb@4. At 10 s "w" (30000 MiB, 100 s: a
        // 7g.40gb) and "c" (500 s) arrive. Held for "w", gpu1 would free first (about 421 s) but idle
        // its 4 free slices all along: 4 * 411 = 1644 slice-s; gpu0 frees at about 451 s and idles 1
        // slice, then x's 3 from 401: 441 + 150 = 591. migm holds gpu0, and "c" starts at once on
        // gpu1's free 3g.20gb@4 (0.13 s, 1 s start-up): it ends near 511.1 s. "w" takes gpu0 when "y1"
        // ends (two destroys and a create, 0.43 s; 1 + 100 s): near 552.6 s, the makespan. Held on
        // gpu1 instead, "c" could not start before x freed gpu0's slices at 401 s: about 902 s.
        SimResult r = run("migm:0", List.of(
                Jobs.aJob("y1").duration(450).scaling(0, 1).flat(15000).build(),
                Jobs.aJob("y2").duration(420).scaling(0, 1).flat(15000).build(),
                Jobs.aJob("x").duration(400).scaling(0, 1).flat(15000).build(),
                Jobs.aJob("w").at(10).duration(100).scaling(0, 1).flat(30000).build(),
                Jobs.aJob("c").at(10).duration(500).scaling(0, 1).flat(15000).build()), List.of(A100, A100));
        java.util.Map<String, SimResult.JobRow> rows = new java.util.HashMap<>();
        r.perJob().forEach(j -> rows.put(j.id(), j));
        assertThat(rows.get("c").slot()).startsWith("gpu1:3g.20gb");
        assertThat(rows.get("c").endS()).isCloseTo(511.1, within(1.0));
        assertThat(rows.get("w").slot()).startsWith("gpu0:7g.40gb");
        assertThat(r.makespanS()).isCloseTo(552.6, within(1.0));
    }

    @Test
    void migm_runsThatDoNotCheckpoint_areNotStopped_theWholeGpuJobWaitsForTheDrain() {
        // As above, but "s1" and "s2" keep nothing when stopped: nothing may yield, and "w" starts
        // after both end (about 1001.13 s), its 7g.40gb cut in 0.43 s: it ends near 1102.6 s.
        SimResult r = run("migm:0", List.of(
                Jobs.aJob("s1").duration(1000).scaling(0, 1).flat(3000).build(),
                Jobs.aJob("s2").duration(1000).scaling(0, 1).flat(3000).build(),
                Jobs.aJob("w").at(10).duration(100).scaling(0, 1).flat(30000).build()));
        assertThat(r.preemptions()).isZero();
        assertThat(r.restarts()).isZero();
        assertThat(r.makespanS()).isCloseTo(1102.6, within(1.0));
    }

    @Test
    void migm_twoJobsThatNeedTheWholeGpu_runBackToBackOnOne7gInstance() {
        // Both need 30000 MiB: only 7g.40gb (98 SMs) holds them. c = 1, sat = 1:
        // T(7g) = 100 * 108 / 98 = 110.204 s each. Create 7g (0.13 s), job 1: 1 + 110.204; job 2
        // reuses the idle 7g (no operation): 1 + 110.204. Makespan = 0.13 + 2 * 111.204 = 222.539 s.
        List<TraceJob> jobs = List.of(Jobs.aJob("a").flat(30000).build(), Jobs.aJob("b").flat(30000).build());
        SimResult r = run("migm", jobs);
        assertThat(r.makespanS()).isCloseTo(0.13 + 2 * (1 + 100 * 108.0 / 98), within(1e-6));
        assertThat(r.reconfigurations()).isEqualTo(1);
    }

    @Test
    void fission_costsDestroyPlusCreateLatency() {
        // Job a needs the 7g (30000 MiB, c = 1: T = 100 * 108/98 = 110.204 s); b and c need 3000 MiB,
        // c = 0: 10 s anywhere. a goes first (it needs a whole GPU): create 7g 0.13 s, a ends at
        // aEnd = 0.13 + 1 + 110.204. Then b (two jobs wait, so right-sizing applies): fission destroys
        // the idle 7g (0.15 s) and creates 1g.5gb (0.13 s): b launches at aEnd + 0.28, ends 11 s later.
        // c must wait for that reconfiguration, then creates its own 1g (0.13 s): ends aEnd + 0.41 + 11.
        List<TraceJob> jobs = List.of(Jobs.aJob("b").flat(3000).scaling(0, 1).duration(10).build(),
                Jobs.aJob("c").flat(3000).scaling(0, 1).duration(10).build(),
                Jobs.aJob("a").flat(30000).build());
        SimResult r = run("migm", jobs);
        double aEnd = 0.13 + 1 + 100 * 108.0 / 98;
        assertThat(r.makespanS()).isCloseTo(aEnd + 0.15 + 0.13 + 0.13 + 1 + 10, within(1e-6));
        assertThat(r.reconfigurations()).isEqualTo(3);
    }

    @Test
    void lastJob_takesThePlacementThatFinishesFirst_reusingAnIdleLargeInstance() {
        // As above without c: b is the only waiting job, so it takes the placement that ends first.
        // On the idle 7g it needs no reconfiguration and runs 10 s (c = 0), which beats fission
        // (0.28 s more): makespan = aEnd + 1 + 10, one reconfiguration only (the first 7g).
        List<TraceJob> jobs = List.of(Jobs.aJob("b").flat(3000).scaling(0, 1).duration(10).build(),
                Jobs.aJob("a").flat(30000).build());
        SimResult r = run("migm", jobs);
        double aEnd = 0.13 + 1 + 100 * 108.0 / 98;
        assertThat(r.makespanS()).isCloseTo(aEnd + 1 + 10, within(1e-6));
        assertThat(r.reconfigurations()).isEqualTo(1);
    }

    @Test
    void lowerBound_isTheMaxOfLongestJobComputeAreaAndMemoryArea() {
        // Two flat jobs (c = 0: same time anywhere) of 100 s and 3000 MiB on one A100: each fits
        // 1g.5gb (1 compute slice of 7, 1 memory slice of 8). Longest = 100;
        // compute area = 2 * 100 * 1/7 = 28.6; memory area = 2 * 100 * 1/8 = 25 -> LB = 100 s.
        List<TraceJob> two = List.of(Jobs.aJob("a").scaling(0, 1).flat(3000).build(),
                Jobs.aJob("b").scaling(0, 1).flat(3000).build());
        assertThat(LowerBound.seconds(two, List.of(A100))).isCloseTo(100.0, within(1e-9));
        // Fourteen such jobs: compute area = 14 * 100 / 7 = 200 > 100 -> LB = 200 s.
        List<TraceJob> many = java.util.stream.IntStream.range(0, 14)
                .mapToObj(i -> Jobs.aJob("j" + i).scaling(0, 1).flat(3000).build()).toList();
        assertThat(LowerBound.seconds(many, List.of(A100))).isCloseTo(200.0, within(1e-9));
        // On two GPUs the area halves: 100 s.
        assertThat(LowerBound.seconds(many, List.of(A100, A100))).isCloseTo(100.0, within(1e-9));
    }

    @Test
    void wholeGpuWaits_countOnlyJobsThatNeedMoreThanTheSecondLargestInstance() {
        // On an A100-40GB every instance but the 7g.40gb holds at most 19968 MiB: "big" (30000 MiB)
        // needs the whole chip. It arrives first and starts at once; the two small jobs arrive 1 s
        // later and wait for it (about 100 s), so the overall p95 (the longest of three) is theirs
        // and the whole-GPU p95 is big's own short wait, read back from the per-job rows.
        List<TraceJob> jobs = List.of(Jobs.aJob("big").duration(100).flat(30000).build(),
                Jobs.aJob("s1").at(1).duration(50).flat(3000).build(),
                Jobs.aJob("s2").at(1).duration(50).flat(3000).build());
        SimResult r = run("migm", jobs);
        SimResult.JobRow big = r.perJob().stream().filter(j -> j.id().equals("big")).findFirst().orElseThrow();
        assertThat(r.wholeGpuP95WaitS()).isCloseTo(big.firstLaunchS() - big.submitS(), within(1e-9)).isLessThan(10);
        assertThat(r.p95WaitS()).isGreaterThan(90);
        // With no job that big there is no whole-GPU wait to report.
        assertThat(run("migm", jobs.subList(1, 3)).wholeGpuP95WaitS()).isNaN();
    }

    @Test
    void serialBaseline_onTheScientificSuite_isTheSumOfDurationsPlusStartups() {
        // Serial runs one job at a time on the whole GPU at full speed: makespan = sum (d + 1 s).
        // The suite's README gives 14,382 s and a lower bound of 2,702 s for it.
        List<TraceJob> jobs = Suites.load("scientific");
        double expected = jobs.stream().mapToDouble(j -> j.model().durationS() + 1).sum();
        SimResult r = run("serial", jobs);
        assertThat(r.makespanS()).isCloseTo(expected, within(1e-6));
        assertThat(r.makespanS()).isCloseTo(14382, within(0.5));
        assertThat(r.lowerBoundS()).isCloseTo(2702, within(0.5));
        assertThat(r.reconfigurations()).isZero();
    }

    @Test
    void runs_areDeterministic() {
        List<TraceJob> jobs = Suites.load("mixed");
        SimResult a = run("migm", jobs);
        SimResult b = run("migm", jobs);
        assertThat(b).isEqualTo(a);
    }

    @Test
    void staticPolicy_reportsJobsNoInstanceCanHoldInsteadOfDroppingThem() {
        List<TraceJob> jobs = List.of(Jobs.aJob("big").flat(30000).build(), Jobs.aJob("small").flat(1000).build());
        SimResult r = run("static:7x1g", jobs);
        assertThat(r.completed()).isEqualTo(1);
        assertThat(r.failures()).singleElement().asString().startsWith("big: needs 30000 MiB")
                .contains("static layout '7x1g'");
    }

    @Test
    void jobLargerThanAnyInstance_failsWithTheReason() {
        SimResult r = run("migm", List.of(Jobs.aJob("huge").flat(50000).build()));
        assertThat(r.completed()).isZero();
        assertThat(r.failures()).singleElement().asString().contains("needs 50000 MiB")
                .contains("the largest instance any GPU can hold is 40192 MiB");
    }

    @Test
    void eightGpus_onlineArrivals_migmCompletesEverythingAndBeatsThePaperSchemes() {
        List<TraceJob> jobs = Suites.load("mixed-online");
        List<GpuModel> node = java.util.Collections.nCopies(8, A100);
        SimResult migm = run("migm", jobs, node);
        assertThat(migm.completed()).isEqualTo(1000);
        assertThat(migm.makespanS()).isLessThan(run("s1", jobs, node).makespanS());
        assertThat(migm.makespanS()).isLessThan(run("s2", jobs, node).makespanS());
        assertThat(migm.makespanS()).isGreaterThanOrEqualTo(migm.lowerBoundS());
    }

    @Test
    void mixedNode_runsJobsOnEveryModel() {
        GpuModel h100 = Catalog.builtin().get("H100-80GB");
        List<TraceJob> jobs = Suites.load("mixed").subList(0, 60);
        SimResult r = run("migm", jobs, List.of(A100, h100));
        assertThat(r.completed()).isEqualTo(60);
        assertThat(r.gpus()).isEqualTo("1xA100-SXM4-40GB+1xH100-SXM5-80GB");
        // Both models ran jobs to completion (slots read gpu0:... for the A100, gpu1:... for the H100).
        assertThat(r.perJob().stream().filter(j -> j.state().equals("done")).map(j -> j.slot().substring(0, 5))
                .distinct()).containsExactlyInAnyOrder("gpu0:", "gpu1:");
    }
}
