package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.EngineListener;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.InMemoryJournal;
import dev.migm.engine.JobView;
import dev.migm.engine.JournalReplay;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.workload.TraceJob;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MIG mode per GPU as migm's decision (hand-worked, models.md sections 1 and 4; mode change 30 s). */
final class MigModeTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    private record Run(SimResult result, List<EngineRecord> records, List<JobView> jobs) {
    }

    private static Run run(List<TraceJob> jobs, List<GpuModel> gpus, double modeChangeS) {
        InMemoryJournal journal = new InMemoryJournal();
        List<JobView> ended = new ArrayList<>();
        EngineListener views = new EngineListener() {
            @Override
            public void jobEnded(JobView job) {
                ended.add(job);
            }
        };
        SimResult r = Simulator.run("t", jobs, PolicyRegistry.create("migm", gpus),
                Simulator.Options.of(gpus).withMigModeChangeS(modeChangeS), List.of(views), journal,
                Double.POSITIVE_INFINITY, state -> { });
        return new Run(r, journal.records(), ended);
    }

    @Test
    void aLongWholeGpuJob_getsAGpuWithMigOff_whenThatBeatsTheLargestInstanceByMoreThanTheChange() {
        // 30000 MiB: only 7g.40gb (98 SMs) holds it; c = 1, sat = 1, 1000 s on the whole GPU.
        // On 7g: 0.13 s create + 1 s start-up + 1000 * 108 / 98 = 1102.04 s -> ends at 1103.17 s.
        // MIG off: the idle GPU has no instance to destroy, 30 s change, 1 s start-up, 1000 s
        // -> ends at 1031 s (gain 102 s > 30 s).
        List<TraceJob> jobs = List.of(Jobs.aJob("w").flat(30000).duration(1000).build());
        Run off = run(jobs, List.of(A100), 30);
        assertThat(off.result().makespanS()).isCloseTo(1031, within(1e-6));
        assertThat(off.result().migModeChanges()).isEqualTo(1);
        assertThat(off.result().reconfigurations()).isZero();
        assertThat(off.jobs().getFirst().attempts().getFirst().slot().toString()).isEqualTo("gpu0:whole");
        EngineRecord.MigModeChangeRequested asked = off.records().stream()
                .filter(EngineRecord.MigModeChangeRequested.class::isInstance)
                .map(EngineRecord.MigModeChangeRequested.class::cast).findFirst().orElseThrow();
        assertThat(asked.enabled()).isFalse();
        assertThat(asked.why()).contains("MIG off for w").contains("1001 s on the whole GPU against 1103 s on 7g.40gb");
        // Modes fixed: the old behaviour.
        Run fixed = run(jobs, List.of(A100), Double.POSITIVE_INFINITY);
        assertThat(fixed.result().makespanS()).isCloseTo(0.13 + 1 + 1000 * 108.0 / 98, within(1e-6));
        assertThat(fixed.result().migModeChanges()).isZero();
    }

    @Test
    void aShortWholeGpuJob_staysOnTheLargestInstance() {
        // 200 s: on 7g 220.41 s, a gain of 20.4 s, less than the 30 s change: 0.13 + 1 + 220.41.
        Run r = run(List.of(Jobs.aJob("w").flat(30000).duration(200).build()), List.of(A100), 30);
        assertThat(r.result().makespanS()).isCloseTo(0.13 + 1 + 200 * 108.0 / 98, within(1e-6));
        assertThat(r.result().migModeChanges()).isZero();
    }

    @Test
    void aMigOffGpu_goesBackOnWhenMoreSmallJobsWaitThanWholeGpusAreFree_andTheJournalReplaysIt() {
        // w as above ends at 1031 s on a MIG-off GPU. Four 1g jobs (3000 MiB, c = 0, 100 s) arrive
        // at 2000 s: four wait for one free whole GPU, so it goes back on (30 s) and they share it.
        List<TraceJob> jobs = new ArrayList<>(List.of(Jobs.aJob("w").flat(30000).duration(1000).build()));
        for (int i = 0; i < 4; i++) {
            jobs.add(Jobs.aJob("s" + i).at(2000).flat(3000).scaling(0, 1).duration(100).build());
        }
        Run r = run(jobs, List.of(A100), 30);
        assertThat(r.result().completed()).isEqualTo(5);
        assertThat(r.result().migModeChanges()).isEqualTo(2);
        assertThat(r.jobs()).filteredOn(j -> j.spec().id().startsWith("s"))
                .allSatisfy(j -> assertThat(j.attempts().getFirst().slot().toString()).contains("1g."));
        // All four start after the change (2030 s) and run side by side: done by 2030 + 4 x 0.13 + 1 + 100.
        assertThat(r.result().makespanS()).isBetween(2131.0, 2030 + 4 * 0.13 + 1 + 100 + 1e-6);
        EngineRecord.MigModeChangeEnded back = r.records().stream()
                .filter(EngineRecord.MigModeChangeEnded.class::isInstance)
                .map(EngineRecord.MigModeChangeEnded.class::cast).reduce((a, b) -> b).orElseThrow();
        assertThat(back.enabled()).isTrue();
        assertThat(back.failure()).isEmpty();
        var replayed = JournalReplay.replay(r.records());
        assertThat(replayed.migEnabled()).containsExactly(true);
        assertThat(replayed.counters().migModeChanges()).isEqualTo(2);
    }

    @Test
    void onSeveralGpus_wholeGpuWorkGetsMigOffGpus_andSmallWorkKeepsMigOnes() {
        // Four GPUs, a batch of two long whole-GPU jobs and twelve 1g jobs: the whole-GPU jobs take
        // two GPUs with MIG off (one change each), the small ones pack the other two.
        List<TraceJob> jobs = new ArrayList<>();
        jobs.add(Jobs.aJob("w1").flat(30000).duration(1000).build());
        jobs.add(Jobs.aJob("w2").flat(30000).duration(1000).build());
        for (int i = 0; i < 12; i++) jobs.add(Jobs.aJob("s" + i).flat(3000).scaling(0, 1).duration(300).build());
        Run r = run(jobs, List.of(A100, A100, A100, A100), 30);
        assertThat(r.result().completed()).isEqualTo(14);
        assertThat(r.jobs()).filteredOn(j -> j.spec().id().startsWith("w"))
                .allSatisfy(j -> assertThat(j.attempts().getFirst().slot().toString()).endsWith(":whole"));
        assertThat(r.jobs()).filteredOn(j -> j.spec().id().startsWith("s"))
                .allSatisfy(j -> assertThat(j.attempts().getFirst().slot().toString()).doesNotEndWith(":whole"));
        // w1, w2: 30 + 1 + 1000 = 1031 s; the small ones finish far earlier on 14 1g slots.
        assertThat(r.result().makespanS()).isCloseTo(1031, within(1e-6));
    }
}
