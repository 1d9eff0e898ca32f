package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.workload.TraceJob;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The targets on the bundled suites (one A100-40GB, models.md defaults): migm finishes no
 * later than s1 and s2 and completes every job (static:balanced cannot run the jobs that need a 7g,
 * so it never finishes those suites; where it does finish, migm is no later); on scientific migm is
 * within 5% of the lower bound; speed-ups over serial meet the floors. The ranking holds with the
 * oracle's estimates and with what a live node knows (the default chain, learning as it goes, with
 * early restart), each with its own floors.
 */
final class SuiteTargetsTest {
    private static final List<GpuModel> NODE = List.of(Catalog.builtin().get("A100-40GB"));

    static SimResult run(String policy, String suite, String estimate) {
        List<TraceJob> jobs = Suites.load(suite);
        Simulator.Options o = Simulator.Options.of(NODE);
        if (estimate.equals("default")) {
            o = o.withEarlyRestart(true).withMemory(() -> dev.migm.estimate.EstimatorChain.defaults(
                    new dev.migm.estimate.InMemoryHistory(50)));
        }
        return Simulator.run(suite, jobs, PolicyRegistry.create(policy, NODE), o);
    }

    /**
     * Floors sit below what was measured ({@code migm simulate --suite S --estimate E}, at issue 25):
     * oracle speed-ups 5.24, 1.58, 1.45, 1.64; default 4.92, 1.445, 1.299, 1.464, mixed-online 1.54.
     * At issue 26 checkpoints tell the engine their step, not the job's share of work: default
     * 4.92, 1.426, 1.298, 1.378, mixed-online 1.55 (mixed pays most, BENCHMARKS.md section 22).
     */
    @ParameterizedTest
    @CsvSource({"scientific, oracle, 5.0", "ml, oracle, 1.45", "llm, oracle, 1.40", "mixed, oracle, 1.45",
            "scientific, default, 4.5", "ml, default, 1.40", "llm, default, 1.25", "mixed, default, 1.33",
            "mixed-online, default, 1.45"})
    void migm_beatsThePaperSchemesAndMeetsItsFloor(String suite, String estimate, double minSpeedup) {
        SimResult serial = run("serial", suite, estimate);
        SimResult migm = run("migm", suite, estimate);
        SimResult s1 = run("s1", suite, estimate);
        SimResult s2 = run("s2", suite, estimate);
        SimResult fixed = run("static", suite, estimate);
        assertThat(migm.completed()).isEqualTo(migm.jobs());
        assertThat(migm.makespanS()).isLessThanOrEqualTo(s1.makespanS());
        assertThat(migm.makespanS()).isLessThanOrEqualTo(s2.makespanS());
        if (fixed.completed() == fixed.jobs()) {
            assertThat(migm.makespanS()).isLessThanOrEqualTo(fixed.makespanS());
        } else {
            assertThat(fixed.failures()).allMatch(f -> f.reason().contains("static layout"));
        }
        assertThat(serial.makespanS() / migm.makespanS()).as("speed-up over serial").isGreaterThanOrEqualTo(minSpeedup);
        assertThat(migm.energyJ()).isLessThan(serial.energyJ());
        if (suite.equals("scientific") && estimate.equals("oracle")) {
            assertThat(migm.makespanS()).isLessThanOrEqualTo(1.05 * migm.lowerBoundS());
        }
    }
}
