package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.workload.TraceJob;
import java.util.List;
import org.junit.jupiter.api.Test;

final class MakespanExplainerTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    private static SimResult run(String policy, List<TraceJob> jobs, List<GpuModel> gpus, Simulator.Options o) {
        return Simulator.run("t", jobs, PolicyRegistry.create(policy, gpus), o.withExplanation(true));
    }

    @Test
    void oneJob_handWorked() {
        // 100 s anywhere (c = 0), 3000 MiB: migm creates 1g.5gb (0.13 s, 1 of 7 compute slices
        // blocked), 1 s start-up, 100 s. Makespan 101.13 s = 707.91 slice-seconds / 7:
        // ideal 100 x 1 slice, start-up 1 x 1, reconfiguration 0.13 x 1, the rest idle with nothing
        // waiting (the job was placed at 0): 7 x 101.13 - 101.13 = 606.78.
        SimResult r = run("migm", List.of(Jobs.aJob("a").duration(100).scaling(0, 1).flat(3000).build()), List.of(A100),
                Simulator.Options.of(List.of(A100)));
        var e = r.explanation();
        assertThat(r.makespanS()).isCloseTo(101.13, within(1e-9));
        assertThat(e.idealS()).isCloseTo(100 / 7.0, within(1e-9));
        assertThat(e.startupS()).isCloseTo(1 / 7.0, within(1e-9));
        assertThat(e.reconfigurationS()).isCloseTo(0.13 / 7.0, within(1e-9));
        assertThat(e.profileExcessS()).isCloseTo(0, within(1e-9));
        assertThat(e.failedAttemptsS()).isZero();
        assertThat(e.idleWaitingS()).isCloseTo(0, within(1e-9));
        assertThat(e.idleNoWorkS()).isCloseTo(6 * 101.13 / 7, within(1e-9));
    }

    @Test
    void theCategoriesAddUpToTheMakespan_onEveryPolicyAndWithFailures() {
        List<GpuModel> node = List.of(A100, Catalog.builtin().get("H100-80GB"));
        List<TraceJob> jobs = RandomRunsTest.randomJobs(3, 60);
        for (String policy : List.of("serial", "s1", "s2", "migm")) {
            for (boolean estimated : new boolean[] {false, true}) {
                Simulator.Options o = Simulator.Options.of(node).withEarlyRestart(estimated);
                if (estimated) {
                    o = o.withMemory(() -> dev.migm.estimate.EstimatorChain.defaults(new dev.migm.estimate.InMemoryHistory(50)));
                }
                SimResult r = run(policy, jobs, node, o);
                var e = r.explanation();
                assertThat(e.totalS()).as(policy).isCloseTo(r.makespanS(), within(1e-6 * r.makespanS()));
                assertThat(List.of(e.idealS(), e.startupS(), e.failedAttemptsS(), e.reconfigurationS(), e.idleWaitingS(),
                        e.idleNoWorkS())).as(policy).allSatisfy(x -> assertThat(x).isGreaterThanOrEqualTo(-1e-6));
                if (estimated && r.oomKills() > 0) assertThat(e.failedAttemptsS()).as(policy).isPositive();
                // The LP bound is a bound: never above a makespan, never below the separate minima.
                assertThat(r.lpBoundS()).as(policy).isLessThanOrEqualTo(r.makespanS() + 1e-6)
                        .isGreaterThanOrEqualTo(r.lowerBoundS() - 1e-9);
            }
        }
    }

    @Test
    void lpBound_matchesAFineScanOfItsDual_andIsTighterOnMl() {
        // The dual max over l of sum_j min_p (l a + (1 - l) b) / N, scanned on 2001 points, must not
        // beat the golden-section search by more than the scan's resolution.
        List<TraceJob> jobs = Suites.load("ml");
        double lp = LowerBound.lpSeconds(jobs, List.of(A100));
        double sep = LowerBound.seconds(jobs, List.of(A100));
        assertThat(lp).isGreaterThan(sep * 1.02); // measured 50474 against 49067
        double best = 0;
        for (int i = 0; i <= 2000; i++) {
            double l = i / 2000.0;
            double sum = 0;
            for (TraceJob j : jobs) {
                double m = Double.POSITIVE_INFINITY;
                if (A100.memoryMib() >= j.model().memPeakMib()) m = dev.migm.workload.RuntimeModel.runtimeS(j.model(), A100.sms(), A100.sms());
                for (var p : A100.plainProfiles()) {
                    if (p.memoryMib() < j.model().memPeakMib()) continue;
                    double t = dev.migm.workload.RuntimeModel.runtimeS(j.model(), p.sms(), A100.sms());
                    m = Math.min(m, l * t * p.computeSlices() / 7 + (1 - l) * t * p.memorySlices() / 8);
                }
                sum += m;
            }
            best = Math.max(best, sum);
        }
        assertThat(lp).isGreaterThanOrEqualTo(best - 1e-6).isCloseTo(best, within(best * 1e-3));
    }
}
