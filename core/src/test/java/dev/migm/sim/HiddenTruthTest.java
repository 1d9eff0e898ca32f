package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.Attempt;
import dev.migm.engine.Engine;
import dev.migm.engine.Outcome;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine decides on what a live node could know. Perturbing the hidden workload model of queued
 * jobs (true memory, scaling) changes nothing the engine does before the world reports back
 * (an attempt's exit or a memory sample): every first placement made until then is the same. The
 * oracle, which reads the truth, does change them, which shows the test can see a leak.
 */
final class HiddenTruthTest {
    private static final List<GpuModel> NODE = Collections.nCopies(4, Catalog.builtin().get("A100-40GB"));

    /** Records first placements (job -> slot) made before the first exit, and when that exit came. */
    private static final class FirstPlacements implements Engine.EngineListener {
        final Map<String, String> placements = new LinkedHashMap<>();
        final List<Double> launchTimes = new ArrayList<>();
        double firstExitS = Double.POSITIVE_INFINITY;

        @Override
        public void attemptLaunched(Engine.JobView job, Attempt attempt) {
            if (attempt.number() == 1) {
                placements.put(job.spec().id(), attempt.slot().toString());
                launchTimes.add(attempt.launchS());
            }
        }

        @Override
        public void attemptEnded(Engine.JobView job, Attempt attempt, Outcome outcome, double nowS) {
            firstExitS = Math.min(firstExitS, nowS);
        }

        Map<String, String> before(double s) {
            Map<String, String> out = new LinkedHashMap<>();
            int i = 0;
            for (var e : placements.entrySet()) {
                if (launchTimes.get(i++) < s) out.put(e.getKey(), e.getValue());
            }
            return out;
        }
    }

    /** Same jobs, same declarations; hidden memory (x0.3 to x3, capped to fit a 7g), c and sat redrawn. */
    static List<TraceJob> perturbed(List<TraceJob> jobs, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return jobs.stream().map(j -> {
            WorkloadModel m = j.model();
            double f = 0.3 + 2.7 * r.nextDouble();
            long peak = Math.min(39000, Math.max(100, Math.round(m.memPeakMib() * f)));
            long base = Math.min(peak, Math.max(100, Math.round(m.memBaseMib() * f)));
            return new TraceJob(j.spec(), new WorkloadModel(m.durationS(), r.nextDouble(), 0.05 + 0.95 * r.nextDouble(),
                    base, peak, m.activity(), m.checkpointS(), m.reportsProgress()));
        }).toList();
    }

    static FirstPlacements run(List<TraceJob> jobs, Simulator.Estimation estimation) {
        FirstPlacements seen = new FirstPlacements();
        Simulator.Options o = Simulator.Options.of(NODE).withEstimation(estimation).withEarlyRestart(true);
        Simulator.run("hidden", jobs, PolicyRegistry.create("migm", NODE), o, List.of(seen));
        return seen;
    }

    @ParameterizedTest
    @ValueSource(strings = {"scientific", "ml", "llm", "mixed"})
    void perturbingHiddenFields_changesNoFirstPlacement_underHonestEstimates(String suite) {
        List<TraceJob> jobs = Suites.load(suite);
        long seed = suite.hashCode();
        Simulator.Estimation honest = Simulator.Estimation.honest("default",
                () -> EstimatorChain.defaults(new InMemoryHistory(50)));
        FirstPlacements original = run(jobs, honest);
        FirstPlacements changed = run(perturbed(jobs, seed), honest);
        // Nothing comes back from the world before the first exit (samples start 1 s after a
        // job's start-up, and a start-up OOM is an exit); every placement until then is the same.
        double horizon = Math.min(original.firstExitS, changed.firstExitS);
        Map<String, String> a = original.before(horizon);
        // At least the first round: scientific 28 placements before 1.52 s, ml 13 before 1.13 s,
        // llm and mixed 4 (whole-GPU jobs first) before 108 s and 79 s.
        assertThat(a).as(suite + " before " + horizon + " s").hasSizeGreaterThanOrEqualTo(4);
        assertThat(changed.before(horizon)).isEqualTo(a);
    }

    @ParameterizedTest
    @ValueSource(longs = {1})
    void theOracle_readsTheTruth_soItsFirstPlacementsChange(long seed) {
        List<TraceJob> jobs = Suites.load("mixed");
        FirstPlacements original = run(jobs, Simulator.Estimation.ORACLE);
        FirstPlacements changed = run(perturbed(jobs, seed), Simulator.Estimation.ORACLE);
        double horizon = Math.min(original.firstExitS, changed.firstExitS);
        assertThat(changed.before(horizon)).isNotEqualTo(original.before(horizon));
    }
}
