package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.JobClass;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.workload.TraceJob;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The estimation targets on the bundled suites (one A100-40GB, migm), measured honestly: the engine
 * sees declarations, capped NVML samples, reported progress and history, never the trace's truth.
 *
 * <p>The oracle's lead has two parts: knowing every job's peak memory, and knowing every job's run
 * time (the suites' runs of one application vary 2-25x, and no job declares its run time, so no
 * live scheduler can order them longest first). The memory estimators are judged against
 * {@code oracle-memory}, which knows the peaks but learns run times like the live system; the
 * whole gap to the full oracle is pinned from above and explained in BENCHMARKS.md section 3.
 */
final class EstimationTargetsTest {
    private static final List<GpuModel> NODE = List.of(Catalog.builtin().get("A100-40GB"));

    static SimResult run(String suite, Simulator.Estimation estimation, boolean earlyRestart, boolean llmReports) {
        List<TraceJob> jobs = Suites.load(suite);
        if (llmReports) {
            jobs = jobs.stream().map(j -> j.withProgress(j.spec().jobClass() == JobClass.LLM, 0)).toList();
        }
        Simulator.Options o = Simulator.Options.of(NODE).withEstimation(estimation).withEarlyRestart(earlyRestart);
        return Simulator.run(suite, jobs, PolicyRegistry.create("migm", NODE), o);
    }

    static Simulator.Estimation chain() {
        return Simulator.Estimation.honest("default", () -> EstimatorChain.defaults(new InMemoryHistory(50)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mixed", "llm", "ml"})
    void defaultChain_completesEverythingWithinTenPercentOfTruePeaks_andCloseToTheFullOracle(String suite) {
        SimResult chain = run(suite, chain(), true, false);
        SimResult truePeaks = run(suite, Simulator.Estimation.ORACLE_MEMORY, true, false);
        SimResult oracle = run(suite, Simulator.Estimation.ORACLE, true, false);
        assertThat(chain.completed()).isEqualTo(chain.jobs());
        // Measured at issue 26 (checkpoints tell a step; a fraction only with a known total):
        // against true peaks 1.019 (mixed), 1.106 (llm), 1.019 (ml); against the full oracle
        // 1.187, 1.115, 1.110 (it was 1.098, 1.104, 1.119 while the simulator told the engine each
        // checkpoint's exact share of work: mixed pays 4.6% for the honesty, BENCHMARKS.md section
        // 22). A regression shows here.
        assertThat(chain.makespanS()).isLessThanOrEqualTo(1.12 * truePeaks.makespanS());
        assertThat(chain.makespanS()).isLessThanOrEqualTo(1.20 * oracle.makespanS());
        assertThat(chain.falseEarlyRestarts()).isLessThan(Math.round(0.05 * chain.jobs()));
        // With true memory nothing runs out of it: its only restarts resume runs that yielded their
        // slices to a waiting job (DrainBreaker).
        assertThat(oracle.oomKills()).isZero();
        assertThat(oracle.restarts()).isEqualTo(oracle.preemptions());
        assertThat(truePeaks.oomKills()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llm"})
    void earlyRestart_ofJobsThatReportProgress_cutsTheWorkOomRestartsWaste(String suite) {
        // With its LLM jobs printing their progress (and so their total: their checkpoints count),
        // early restart projects each job's peak and stops it before its OOM. Measured at issue 26:
        // 1034 slice-seconds lost against 7106 with OOM restarts alone (-85%); 335 against 2360 once
        // sizing weighed the risk of outgrowing (section 23); 906 against 1536 (-41%, 8 early
        // restarts, none false, makespan 25,651 against 26,304) since a learned scaling must earn its
        // parameters (BENCHMARKS.md section 33): llama-7b's runs fit c 0.85-0.95, which does not
        // earn its parameters, so it keeps the prior's c 0.6, by which a 20 GiB instance costs it
        // less; more of its jobs go there, some outgrow it, and early restart stops those (a stop of
        // a job that keeps no checkpoint loses its run so far).
        // Without progress it judges by elapsed time only the runs whose time rests on something.
        SimResult early = run(suite, chain(), true, true);
        SimResult oomOnly = run(suite, chain(), false, true);
        assertThat(oomOnly.oomKills()).isPositive();
        assertThat(early.earlyRestarts()).isPositive();
        assertThat(early.falseEarlyRestarts()).isZero();
        assertThat(early.oomKills()).isLessThan(oomOnly.oomKills());
        assertThat(early.wastedGpuS()).isLessThanOrEqualTo(2.0 / 3 * oomOnly.wastedGpuS());
        assertThat(early.makespanS()).isLessThan(oomOnly.makespanS());
        SimResult silent = run(suite, chain(), true, false);
        assertThat(early.wastedGpuS()).isLessThan(silent.wastedGpuS());
    }
}
