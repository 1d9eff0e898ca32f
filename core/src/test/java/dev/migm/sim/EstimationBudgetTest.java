package dev.migm.sim;

import dev.migm.engine.JobSpec;
import dev.migm.estimate.Estimate;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.HistoryEstimator;
import dev.migm.estimate.HistoryStore;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.estimate.MemoryEstimator;
import dev.migm.workload.TraceJob;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a check: the estimation error budget of BENCHMARKS.md section 22, each estimator's estimate over
 * the job's true peak on the bundled suites and the Alibaba suite ({@code convert-trace} output), jobs
 * in submit order, history fed each job's true peak once it ends (the best history can do). Run:
 * {@code ./test -pl core -Dtest=EstimationBudgetTest -Dmigm.budget=true}.
 */
final class EstimationBudgetTest {
    @Test
    @EnabledIfSystemProperty(named = "migm.budget", matches = "true")
    void table() {
        System.out.println("| suite | estimator | jobs it sizes | p5 | p25 | p50 | p75 | p95 | below truth | within 5% below |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (String suite : List.of("scientific", "ml", "llm", "mixed", "alibaba")) {
            List<TraceJob> jobs = new ArrayList<>(Suites.load(suite));
            jobs.sort(Comparator.comparingDouble(j -> j.spec().submitS()));
            InMemoryHistory store = new InMemoryHistory(50);
            HistoryEstimator history = new HistoryEstimator(store);
            EstimatorChain chain = EstimatorChain.defaults(store, 0, HistoryEstimator.QUANTILE);
            Map<String, List<Double>> ratios = new LinkedHashMap<>();
            List<MemoryEstimator> analytic = List.of(new dev.migm.estimate.ExpressionEstimator(),
                    new dev.migm.estimate.LlmEstimator(), new dev.migm.estimate.TrainingEstimator(),
                    new dev.migm.estimate.DeclaredEstimator(), history);
            int attempt = 0;
            for (TraceJob j : jobs) {
                JobSpec spec = j.spec();
                double peak = j.model().memPeakMib();
                for (MemoryEstimator e : analytic) {
                    Optional<Estimate> est = e.estimate(spec);
                    est.ifPresent(x -> ratios.computeIfAbsent(e.name(), k -> new ArrayList<>()).add(x.mib() / peak));
                }
                long chosen = chain.initial(spec).mib();
                if (chosen > 0) ratios.computeIfAbsent("chain (no margin)", k -> new ArrayList<>()).add(chosen / peak);
                store.record(spec.app(), spec.jobClass(), new HistoryStore.Observation(HistoryStore.Kind.COMPLETED,
                        (long) peak, Long.MAX_VALUE / 4, j.model().memBaseMib(), spec.id(), ++attempt));
            }
            for (var e : ratios.entrySet()) {
                double[] r = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
                long below = Arrays.stream(r).filter(x -> x < 1).count();
                long near = Arrays.stream(r).filter(x -> x < 1 && x >= 1 / 1.05).count();
                System.out.printf("| %s | %s | %d of %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f%% | %.0f%% |%n", suite,
                        e.getKey(), r.length, jobs.size(), q(r, 0.05), q(r, 0.25), q(r, 0.5), q(r, 0.75), q(r, 0.95),
                        100.0 * below / r.length, 100.0 * near / r.length);
            }
        }
    }

    static double q(double[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    }
}
