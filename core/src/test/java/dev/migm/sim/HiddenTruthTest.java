package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.InMemoryJournal;
import dev.migm.engine.JobTransitions;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine decides on what a live node could know, over a whole run. One job's hidden workload
 * model is perturbed (its true peak, up to above every instance; its scaling {@code c} and
 * {@code sat}; its duration), the trace run again, and the two runs' journals compared record by
 * record: they must be identical up to the first record that reports what the world showed of
 * that job (an exit, an early stop that its samples caused, what was learned from it). Every
 * decision before, about every job, is the same: nothing of the truth reached the engine but
 * through an observation. The oracle, which reads the truth, diverges on a decision, which shows the
 * test can see a leak.
 */
final class HiddenTruthTest {
    private static final List<GpuModel> NODE = Collections.nCopies(4, Catalog.builtin().get("A100-40GB"));
    /** How many jobs of each suite are perturbed, one per pair of runs. */
    private static final int PERTURBED_PER_SUITE = 4;

    /**
     * The job's hidden model redrawn: peak x0.3 to x3 (no cap: above every instance sometimes), base
     * in proportion, c in [0, 1), sat in [0.05, 1), duration x0.5 to x2. What the submitter declared
     * stays.
     */
    static TraceJob perturbed(TraceJob j, SplittableRandom r) {
        WorkloadModel m = j.model();
        double f = 0.3 + 2.7 * r.nextDouble();
        long peak = Math.max(100, Math.round(m.memPeakMib() * f));
        long base = Math.min(peak, Math.max(100, Math.round(m.memBaseMib() * f)));
        return new TraceJob(j.spec(), new WorkloadModel(m.durationS() * (0.5 + 1.5 * r.nextDouble()), r.nextDouble(),
                0.05 + 0.95 * r.nextDouble(), base, peak, m.activity(), m.checkpointS(), m.reportsProgress()));
    }

    static List<EngineRecord> journal(List<TraceJob> jobs, Simulator.Estimation estimation) {
        InMemoryJournal journal = new InMemoryJournal();
        Simulator.Options o = Simulator.Options.of(NODE).withEstimation(estimation).withEarlyRestart(true);
        Simulator.run("hidden", jobs, PolicyRegistry.create("migm", NODE), o, List.of(), journal,
                Double.POSITIVE_INFINITY, null);
        return journal.records();
    }

    /** The index of the first record where the two journals differ (the shorter's length if one is a prefix). */
    static int firstDifference(List<EngineRecord> a, List<EngineRecord> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            if (!a.get(i).equals(b.get(i))) return i;
        }
        return n;
    }

    /**
     * Whether the record reports what the world showed of the job, or follows from it at once: its
     * attempt's exit, running or stop for an early restart (caused by its memory samples), or what was
     * learned from it.
     */
    static boolean observationOf(EngineRecord r, String jobId) {
        if (!jobId.equals(JobTransitions.jobOf(r))) return false;
        return r instanceof EngineRecord.AttemptExited || r instanceof EngineRecord.AttemptRunning
                || r instanceof EngineRecord.Learned
                || r instanceof EngineRecord.StopRequested s && s.earlyRestart();
    }

    @ParameterizedTest
    @ValueSource(strings = {"scientific", "ml", "llm", "mixed"})
    void perturbingOneJobsHiddenTruth_changesNoDecision_untilTheWorldShowsThatJob(String suite) {
        List<TraceJob> jobs = Suites.load(suite);
        Simulator.Estimation honest = Simulator.Estimation.honest("default",
                () -> EstimatorChain.defaults(new InMemoryHistory(50)));
        List<EngineRecord> original = journal(jobs, honest);
        SplittableRandom r = new SplittableRandom(suite.hashCode());
        int beyondFirstExit = 0;
        for (int k = 0; k < PERTURBED_PER_SUITE; k++) {
            // A job of the second half of the trace: its first observation comes late in the run.
            int index = jobs.size() / 2 + r.nextInt(jobs.size() - jobs.size() / 2);
            TraceJob target = jobs.get(index);
            List<TraceJob> changedJobs = new ArrayList<>(jobs);
            changedJobs.set(index, perturbed(target, r));
            List<EngineRecord> changed = journal(changedJobs, honest);
            int i = firstDifference(original, changed);
            String ctx = suite + ": " + target.spec().id() + " perturbed, first difference at record " + i + " of "
                    + original.size();
            if (i < Math.min(original.size(), changed.size())) {
                assertThat(observationOf(original.get(i), target.spec().id())
                        || observationOf(changed.get(i), target.spec().id()))
                        .as(ctx + ": " + original.get(i) + " against " + changed.get(i)).isTrue();
            } else {
                assertThat(changed).as(ctx).hasSameSizeAs(original);
            }
            if (original.subList(0, i).stream().anyMatch(x -> x instanceof EngineRecord.AttemptExited)) beyondFirstExit++;
        }
        // The comparison reaches past the first exit of the run (where a test of first placements stops).
        assertThat(beyondFirstExit).as(suite).isPositive();
    }

    @ParameterizedTest
    @ValueSource(longs = {1})
    void theOracle_readsTheTruth_soADecisionDivergesFirst(long seed) {
        List<TraceJob> jobs = Suites.load("mixed");
        List<EngineRecord> original = journal(jobs, Simulator.Estimation.ORACLE);
        SplittableRandom r = new SplittableRandom(seed);
        int index = jobs.size() / 2;
        List<TraceJob> changedJobs = new ArrayList<>(jobs);
        changedJobs.set(index, perturbed(jobs.get(index), r));
        List<EngineRecord> changed = journal(changedJobs, Simulator.Estimation.ORACLE);
        int i = firstDifference(original, changed);
        assertThat(i).isLessThan(Math.min(original.size(), changed.size()));
        String id = jobs.get(index).spec().id();
        assertThat(observationOf(original.get(i), id) || observationOf(changed.get(i), id))
                .as(original.get(i) + " against " + changed.get(i)).isFalse();
    }
}
