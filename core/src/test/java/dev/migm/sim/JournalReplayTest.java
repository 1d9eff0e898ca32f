package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.EngineState;
import dev.migm.engine.InMemoryJournal;
import dev.migm.engine.JournalReplay;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.workload.TraceJob;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replaying the journal rebuilds the engine's state: on seeded random runs (honest estimates, early
 * restart, OOMs, reconfigurations, a mixed node) the state folded from the records equals the
 * engine's own at every cut, and every job's records tell one consistent story.
 */
final class JournalReplayTest {
    private static final List<GpuModel> NODE = List.of(Catalog.builtin().get("A100-40GB"),
            Catalog.builtin().get("H100-80GB"));

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void replayOfTheJournal_equalsTheEnginesState_atEveryCut(long seed) {
        List<TraceJob> jobs = RandomRunsTest.randomJobs(seed, 60);
        Simulator.Options o = Simulator.Options.of(NODE)
                .withEstimation(Simulator.Estimation.honest("default", () -> EstimatorChain.defaults(new InMemoryHistory(50))))
                .withEarlyRestart(true);
        SimResult whole = Simulator.run("replay", jobs, PolicyRegistry.create("migm", NODE), o);
        int compared = 0;
        for (double share : new double[] {0.05, 0.2, 0.5, 0.8, 0.99}) {
            InMemoryJournal journal = new InMemoryJournal();
            List<EngineState> states = new ArrayList<>();
            Simulator.run("replay", jobs, PolicyRegistry.create("migm", NODE), o, List.of(), journal,
                    share * whole.makespanS(), states::add);
            assertThat(states).as("cut at " + share).hasSize(1);
            EngineState live = states.getFirst();
            assertThat(JournalReplay.replay(journal.records())).as("cut at " + share).isEqualTo(live);
            compared += live.jobs().size();
            long placed = journal.records().stream().filter(r -> r instanceof EngineRecord.Placed).count();
            assertThat(placed).isPositive();
        }
        assertThat(compared).isGreaterThan(60);
        assertThat(whole.oomKills() + whole.earlyRestarts() + whole.reconfigurations()).isPositive();
    }

    @org.junit.jupiter.api.Test
    void replayCountsRunsStoppedForAWaitingJob() {
        // SimulatorTest's whole-GPU job that two checkpointing runs yield to at 10 s: cut while it runs
        // and after the runs resumed, the state folded from the records (its preemption counter
        // included: the stops that name the job they yield to) equals the engine's.
        List<GpuModel> node = List.of(Catalog.builtin().get("A100-40GB"));
        List<TraceJob> jobs = List.of(
                Jobs.aJob("s1").duration(1000).scaling(0, 1).flat(3000).checkpoint(60).build(),
                Jobs.aJob("s2").duration(1000).scaling(0, 1).flat(3000).checkpoint(60).build(),
                Jobs.aJob("w").at(10).duration(100).scaling(0, 1).flat(30000).build());
        for (double cutS : new double[] {50, 500}) {
            InMemoryJournal journal = new InMemoryJournal();
            List<EngineState> states = new ArrayList<>();
            Simulator.run("yield", jobs, PolicyRegistry.create("migm:0", node), Simulator.Options.of(node), List.of(),
                    journal, cutS, states::add);
            EngineState live = states.getFirst();
            assertThat(live.counters().preemptions()).as("cut at " + cutS).isEqualTo(2);
            assertThat(JournalReplay.replay(journal.records())).as("cut at " + cutS).isEqualTo(live);
        }
    }
}
