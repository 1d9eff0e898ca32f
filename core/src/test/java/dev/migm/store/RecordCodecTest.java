package dev.migm.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.engine.Attempt;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.InMemoryJournal;
import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.RuntimeExpectation;
import dev.migm.engine.Slot;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.Simulator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The journal's records as typed JSON ({@link RecordCodec}): every kind of record, from a seeded run
 * and written by hand for the kinds a run does not meet, reads back equal to what was written, and
 * its fields are found by name.
 */
final class RecordCodecTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final GpuModel H100 = Catalog.builtin().get("H100-80GB");
    private static final List<GpuModel> NODE = List.of(A100, H100);

    private static List<EngineRecord> byHand() {
        Layout one = Layout.parse(A100, "3g.20gb@0,1g.5gb@6");
        Slot slot = Slot.of(0, one.instances().getFirst());
        Slot whole = Slot.wholeGpu(1, H100);
        JobSpec spec = new JobSpec("j1", 12.5, "llama-7b", JobClass.LLM, OptionalLong.of(16_850),
                Map.of("params_b", "6.74", "mem_expr", "3*n"), true, OptionalDouble.of(3600),
                new JobSpec.Limits(OptionalInt.of(4), OptionalDouble.of(7200)));
        Attempt a = new Attempt("j1", 1, slot, 13, 0.25);
        return List.of(
                new EngineRecord.Started(0, List.of(one, Layout.empty(H100)), List.of(true, false)),
                new EngineRecord.Submitted(1, spec),
                new EngineRecord.Recovered(2, spec, List.of(a), true, 17_000, "declared +5%", 0.25, "crashed: x"),
                new EngineRecord.SubmitRejected(3, spec, "duplicate job id 'j1'"),
                new EngineRecord.Queued(4, "j1", 2, 17_000, "after OOM", false, 0.5,
                        new RuntimeExpectation(100, 0.5, 1, true, false, 0.4, "declared"), "out of memory"),
                new EngineRecord.Placed(5, "j1", 2, 0, Optional.of(slot.instance().orElseThrow()), Optional.of(7L)),
                new EngineRecord.Placed(5, "j1", 2, 1, Optional.empty(), Optional.empty()),
                new EngineRecord.ReconfigurationPlanned(6, 0, 7, Layout.empty(A100), one, 2, Optional.of("j1")),
                new EngineRecord.ReconfigurationApplied(6.1, 0, 7, one),
                new EngineRecord.ReconfigurationFailed(6.2, 0, 8, "no answer from the GPU in 60.0 s", one),
                new EngineRecord.ReconfigurationAnsweredLate(6.3, 0, 8, Layout.empty(A100), one, Optional.of("conflict"),
                        one, true),
                new EngineRecord.MigModeChangeRequested(7, 1, 9, false, "MIG off for j1"),
                new EngineRecord.MigModeChangeEnded(8, 1, 9, false, Optional.empty(), Layout.empty(H100)),
                new EngineRecord.SlicesHeld(9, 0, 4, "j1"),
                new EngineRecord.AttemptLaunched(10, "j1", 2, whole, 0.5, java.util.OptionalLong.of(120)),
                new EngineRecord.AttemptRunning(11, "j1", 2),
                new EngineRecord.StopRequested(12, "j1", 2, "early restart: projected peak 20000 MiB", true, Optional.empty()),
                new EngineRecord.StopRequested(13, "j2", 1, "stopped at its checkpoint for j3: a drain", false,
                        Optional.of("j3")),
                new EngineRecord.AttemptExited(13, "j1", 2, new Outcome.Stopped("early restart", new dev.migm.engine.Checkpoint(700, java.util.OptionalLong.of(1000), 0))),
                new EngineRecord.AttemptExited(13, "j1", 2, new Outcome.OutOfMemory(4864, "CUDA out of memory", new dev.migm.engine.Checkpoint(20, java.util.OptionalLong.empty(), 12.5))),
                new EngineRecord.AttemptExited(13, "j1", 2, new Outcome.Crashed("exit status 1")),
                new EngineRecord.AttemptExited(13, "j1", 2, new Outcome.CannotStart("command not found: x")),
                new EngineRecord.AttemptExited(13, "j1", 2, new Outcome.Completed(4000, 1000)),
                new EngineRecord.Learned(14, "j1", 2, "llama-7b", JobClass.LLM, "completed", 4000, 4864),
                new EngineRecord.CommandRefused(15, "cancel nope", "no such job"),
                new EngineRecord.CancelRequested(16, "j1", "alice"),
                new EngineRecord.Cancelled(17, "j1", "cancelled by alice"),
                new EngineRecord.GpuDrain(18, 1, true),
                new EngineRecord.GpuHealth(19, 0, true, "NVML_ERROR_GPU_IS_LOST", one),
                new EngineRecord.Done(20, "j1"),
                new EngineRecord.Failed(21, "j1", "gave up after 6 attempts"));
    }

    @Test
    void everyKindOfRecord_readsBackEqual_fromARunAndByHand() {
        List<EngineRecord> records = new ArrayList<>(byHand());
        InMemoryJournal journal = new InMemoryJournal();
        Simulator.run("codec", StateMachineTest.jobs(3, 40), PolicyRegistry.create("migm", NODE),
                Simulator.Options.of(NODE).withEstimation(Simulator.Estimation.honest("default",
                        () -> EstimatorChain.defaults(new InMemoryHistory(50)))).withEarlyRestart(true), List.of(),
                journal, Double.POSITIVE_INFINITY, s -> { });
        records.addAll(journal.records());
        Set<String> kinds = new HashSet<>();
        for (EngineRecord r : records) {
            String json = RecordCodec.encode(r);
            assertThat(RecordCodec.decode(json, NODE)).as(json).isEqualTo(r);
            kinds.add(r.getClass().getSimpleName());
        }
        Set<String> all = new HashSet<>();
        for (Class<?> c : EngineRecord.class.getPermittedSubclasses()) all.add(c.getSimpleName());
        assertThat(kinds).as("every kind of record is covered").isEqualTo(all);
    }

    @Test
    void fieldsAreFoundByName_andUnknownVersionsAreRefused() {
        String json = RecordCodec.encode(new EngineRecord.CancelRequested(16.5, "42", "alice"));
        assertThat(json).isEqualTo("{\"v\":1,\"type\":\"CancelRequested\",\"at_s\":16.5,\"job_id\":\"42\",\"by\":\"alice\"}");
        assertThat(RecordCodec.tree(json).path("by").asString()).isEqualTo("alice");
        assertThat(RecordCodec.encode(new EngineRecord.AttemptExited(1, "j", 1,
                new Outcome.OutOfMemory(4864, "CUDA out of memory", dev.migm.engine.Checkpoint.NONE))))
                .contains("\"outcome\":{\"kind\":\"OutOfMemory\",\"used_mib\":4864,\"evidence\":\"CUDA out of memory\","
                        + "\"checkpoint\":{\"step\":0,\"of_steps\":null,\"age_s\":\"Infinity\"}");
        assertThatThrownBy(() -> RecordCodec.decode("{\"v\":9,\"type\":\"Done\"}", NODE))
                .hasMessage("journal record of version 9 (this migm reads 1)");
        assertThatThrownBy(() -> RecordCodec.decode("{\"v\":1,\"type\":\"Nope\"}", NODE))
                .hasMessage("journal record of an unknown type Nope");
    }
}
