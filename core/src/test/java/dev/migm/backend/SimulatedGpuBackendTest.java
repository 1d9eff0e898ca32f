package dev.migm.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.EngineEvent;
import dev.migm.engine.Slot;
import dev.migm.virtual.VirtualTime;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class SimulatedGpuBackendTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");

    @Test
    void apply_takesThePerInstanceLatencies_andRefusesBusyDestroysLikeNvml() {
        VirtualTime time = new VirtualTime();
        SimulatedGpuBackend backend = new SimulatedGpuBackend(time, List.of(a100), SimulatedGpuBackend.Latency.DEFAULT);
        List<EngineEvent> events = new ArrayList<>();
        // Create 3g@0 and 3g@4: 2 x 130 ms = 0.26 s.
        Plan.Possible create = (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)),
                Layout.parse(a100, "3g.20gb@0,3g.20gb@4"));
        backend.apply(0, create, 1, events::add);
        while (time.runNextStep()) { }
        assertThat(time.nowS()).isEqualTo(0.26);
        assertThat(backend.layout(0).toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
        // A process on 3g@0: destroying it is refused with IN_USE and the layout stays.
        backend.processStarted(Slot.of(0, backend.layout(0).instances().getFirst()), "job");
        Plan.Possible destroy = (Plan.Possible) Planner.transition(GpuState.idle(backend.layout(0)), Layout.empty(a100));
        backend.apply(0, destroy, 2, events::add);
        while (time.runNextStep()) { }
        assertThat(events.getLast()).isInstanceOfSatisfying(EngineEvent.ReconfigurationFinished.class,
                r -> assertThat(r.failure()).get().asString().contains("NVML_ERROR_IN_USE"));
        assertThat(backend.layout(0).instances()).hasSize(2);
    }
}
