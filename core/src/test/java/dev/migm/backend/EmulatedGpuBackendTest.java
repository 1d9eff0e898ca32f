package dev.migm.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.emu.EmulatedDevices;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emulated GPU's state lives under migm's home like a driver's: instances a migm that died
 * left behind are there for the next one, under the same MIG UUIDs, and instances that cannot be
 * this node's are cleared away.
 */
final class EmulatedGpuBackendTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");
    private final GpuModel a30 = Catalog.builtin().get("A30");

    @Test
    void instancesOfADeadMigm_areFoundAgain_withTheirUuids(@TempDir Path root) throws Exception {
        EmulatedGpuBackend first = new EmulatedGpuBackend(root, List.of(a100), 1000, SimulatedGpuBackend.Latency.DEFAULT);
        Layout wanted = Layout.parse(a100, "3g.20gb@0,2g.10gb@4,1g.5gb@6");
        LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
        first.apply(0, (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)), wanted), 1, events::add);
        assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).isEmpty();
        List<String> names = wanted.instances().stream().map(i -> first.deviceName(Slot.of(0, i))).toList();
        // The first migm dies without closing (kill -9): its instances stay on disk.
        EmulatedGpuBackend second = new EmulatedGpuBackend(root, List.of(a100), 1000, SimulatedGpuBackend.Latency.DEFAULT);
        assertThat(second.layout(0)).isEqualTo(wanted);
        assertThat(wanted.instances().stream().map(i -> second.deviceName(Slot.of(0, i))).toList()).isEqualTo(names);
        assertThat(second.survivorNotes()).hasSize(3).allMatch(n -> n.startsWith("kept MIG-"));
        second.close();
        first.close();
    }

    @Test
    void injectedFaults_failTheNamedOperationOnce_andStuckPlansAnswerLate(@TempDir Path root) throws Exception {
        var faults = new dev.migm.emu.FaultInjector.Scripted()
                .add(new dev.migm.emu.FaultInjector.Fault.FailCreate(0, "NVML_ERROR_INSUFFICIENT_RESOURCES"))
                .add(new dev.migm.emu.FaultInjector.Fault.Stuck(0, 50));
        // Time scale 100: the stuck plan's 50 modelled seconds are 0.5 s of wall time.
        EmulatedGpuBackend backend = new EmulatedGpuBackend(root, List.of(a100), 100, SimulatedGpuBackend.Latency.DEFAULT,
                faults);
        LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
        Plan.Possible two = (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)),
                Layout.parse(a100, "3g.20gb@0,3g.20gb@4"));
        long t0 = System.nanoTime();
        backend.apply(0, two, 1, events::add);
        var first = (EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS);
        // The first create failed; nothing was made, and the layout read back says so. The stuck
        // fault was for the next plan on gpu0, which this is: it answered at least 0.5 s late.
        assertThat(first.failure()).get().asString().startsWith("NVML_ERROR_INSUFFICIENT_RESOURCES: create 3g.20gb@0");
        assertThat((System.nanoTime() - t0) / 1e9).isGreaterThanOrEqualTo(0.5);
        assertThat(backend.layout(0).instances()).isEmpty();
        assertThat(faults.pendingCount()).isZero();
        // Each fault fires once: the same plan again succeeds.
        backend.apply(0, two, 2, events::add);
        assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).isEmpty();
        assertThat(backend.layout(0).toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
        backend.close();
    }

    @Test
    void aLostGpu_answersGpuIsLostToEverything_untilItIsBack(@TempDir Path root) throws Exception {
        var faults = dev.migm.emu.FaultInjector.Scripted.parse("lose-gpu:0");
        EmulatedGpuBackend backend = new EmulatedGpuBackend(root, List.of(a100, a100), 100,
                SimulatedGpuBackend.Latency.DEFAULT, faults);
        LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
        Plan.Possible one = (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)),
                Layout.parse(a100, "3g.20gb@0"));
        assertThat(backend.lostReason(0)).get().asString().startsWith("NVML_ERROR_GPU_IS_LOST");
        assertThat(backend.lostReason(1)).isEmpty();
        backend.apply(0, one, 1, events::add);
        assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).get().asString()
                .startsWith("NVML_ERROR_GPU_IS_LOST");
        backend.apply(1, one, 2, events::add);
        assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> backend.usage(dev.migm.engine.Slot.of(0,
                Layout.parse(a100, "3g.20gb@0").instances().getFirst()))).hasMessageStartingWith("NVML_ERROR_GPU_IS_LOST");
        faults.add(new dev.migm.emu.FaultInjector.Fault.RecoverGpu(0));
        assertThat(backend.lostReason(0)).isEmpty();
        backend.apply(0, one, 3, events::add);
        assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).isEmpty();
        backend.close();
    }

    @Test
    void migmGpusBackendEmulated_showsTheInstancesUnderTheHome(@TempDir Path home) throws Exception {
        Path root = home.resolve("emulated");
        EmulatedDevices.create(root, new EmulatedDevices.InstanceInfo("MIG-kept", 0, "3g.20gb", 42, 98, 19968, a100.name(), 4));
        assertThat(EmulatedDevices.allocate(root, "MIG-kept", ProcessHandle.current().pid(),
                new EmulatedDevices.Usage(1500, 0.5, java.util.OptionalDouble.empty()))).isTrue();
        java.io.StringWriter out = new java.io.StringWriter();
        int rc = dev.migm.cli.Main.run(new String[] {"gpus", "--backend", "emulated", "--home", home.toString()},
                new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(rc).isZero();
        assertThat(out.toString()).contains("emulated gpu0 A100-SXM4-40GB: 3g.20gb@4 MIG-kept, 1 process(es), 1500 MiB used");
        EmulatedDevices.release(root, "MIG-kept", ProcessHandle.current().pid());
    }

    @Test
    void theEnergyCounter_keepsCountingAcrossRestartsOfMigm(@TempDir Path root) throws Exception {
        // At 1000 modelled s per s, an idle A100 (55 W) adds at least 55 J per modelled second.
        EmulatedGpuBackend first = new EmulatedGpuBackend(root, List.of(a100), 1000, SimulatedGpuBackend.Latency.DEFAULT);
        Thread.sleep(100);
        first.energyJoules();
        first.close();
        double before = first.counterJoules(0);
        assertThat(before).isGreaterThanOrEqualTo(55 * 100);
        EmulatedGpuBackend second = new EmulatedGpuBackend(root, List.of(a100), 1000, SimulatedGpuBackend.Latency.DEFAULT);
        assertThat(second.counterJoules(0)).isEqualTo(before);
        Thread.sleep(50);
        // energyJoules() is this run's share; the counter is the driver's, from before this run.
        double thisRun = second.energyJoules();
        assertThat(second.counterJoules(0)).isCloseTo(before + thisRun, within(1e-6));
        second.close();
        // A different GPU in that place (another node configuration) starts its own counter.
        EmulatedGpuBackend other = new EmulatedGpuBackend(root, List.of(a30), 1000, SimulatedGpuBackend.Latency.DEFAULT);
        assertThat(other.counterJoules(0)).isZero();
        other.close();
    }

    @Test
    void instancesThatCannotBeThisNodes_areRemoved(@TempDir Path root) {
        // Made by a migm that ran an A30 as gpu0, and a half-written one; this node is one A100.
        EmulatedDevices.create(root, new EmulatedDevices.InstanceInfo("MIG-a30", 0, "1g.6gb", 14, 56, 5952, a30.name(), 0));
        EmulatedDevices.create(root, new EmulatedDevices.InstanceInfo("MIG-gpu3", 3, "1g.5gb", 14, 98, 4864, a100.name(), 0));
        EmulatedGpuBackend backend = new EmulatedGpuBackend(root, List.of(a100), 1000, SimulatedGpuBackend.Latency.DEFAULT);
        assertThat(backend.layout(0).instances()).isEmpty();
        assertThat(backend.survivorNotes()).containsExactly(
                "removed MIG-a30: it was made on a " + a30.name(),
                "removed MIG-gpu3: gpu3 is not on this node");
        assertThat(EmulatedDevices.list(root)).isEmpty();
        backend.close();
    }
}
