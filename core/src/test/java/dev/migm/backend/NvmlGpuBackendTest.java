package dev.migm.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.engine.EngineEvent;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.io.InvalidInputException;
import dev.migm.nvml.Nvml;
import dev.migm.nvml.NvmlStub;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NVML backend against the stub libnvidia-ml (src/test/native/nvml_stub.c): two A100-40GB, GPU 0
 * with MIG on. Plans become NVML's create and destroy calls, the layout is read back from NVML,
 * busy instances are refused with NVML's own IN_USE, process memory comes from NVML and is capped at
 * the instance's memory, and a GPU with MIG off is skipped with the reason.
 */
final class NvmlGpuBackendTest {
    @TempDir
    static Path dir;
    static NvmlStub stub;
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");
    private Nvml nvml;
    private NvmlGpuBackend backend;
    private final List<String> skipped = new ArrayList<>();

    @BeforeAll
    static void buildTheStub() throws Exception {
        stub = NvmlStub.build(dir);
    }

    @BeforeEach
    void open() throws Throwable {
        stub.reset();
        nvml = ((Nvml.Availability.Available) Nvml.load(stub.library().toString())).nvml();
        backend = NvmlGpuBackend.open(nvml, Catalog.builtin(), skipped,
                new NvmlGpuBackend.Retry(4, java.time.Duration.ofMillis(40)));
    }

    @AfterEach
    void close() {
        backend.close();
        nvml.close();
    }

    private EngineEvent.ReconfigurationFinished apply(Plan.Possible plan, long ticket) throws InterruptedException {
        LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
        backend.apply(0, plan, ticket, events::add);
        EngineEvent e = events.poll(10, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(EngineEvent.ReconfigurationFinished.class);
        return (EngineEvent.ReconfigurationFinished) e;
    }

    @Test
    void drivesTheGpusWithMigOn_andNamesTheOthers() {
        assertThat(backend.gpus()).containsExactly(a100);
        assertThat(skipped).singleElement().asString().startsWith("gpu1 NVIDIA A100-SXM4-40GB: MIG mode is off");
        assertThat(backend.layout(0).instances()).isEmpty();
        assertThatThrownBy(() -> backend.setMigEnabled(0, false)).hasMessageContaining("only where an admin allowed it");
        assertThat(backend.canChangeMigMode(0)).isFalse();
    }

    @Test
    void aPlan_becomesNvmlInstances_readBackAsTheLayout() throws Exception {
        Layout wanted = Layout.parse(a100, "2g.10gb@0,1g.5gb@2,1g.5gb@3,3g.20gb@4");
        Plan.Possible create = (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)), wanted);
        EngineEvent.ReconfigurationFinished done = apply(create, 7);
        assertThat(done.ticket()).isEqualTo(7);
        assertThat(done.failure()).isEmpty();
        assertThat(backend.layout(0)).isEqualTo(wanted);
        // What migm gpus --backend nvml shows as the live layout.
        assertThat(nvml.devices().getFirst().instances()).containsExactly("2g.10gb@0", "1g.5gb@2", "1g.5gb@3", "3g.20gb@4");
        // Each instance is a MIG device of its own, named as CUDA_VISIBLE_DEVICES takes it.
        List<String> names = wanted.instances().stream().map(i -> backend.deviceName(Slot.of(0, i))).distinct().toList();
        assertThat(names).hasSize(4).allMatch(n -> n.startsWith("MIG-"));
        // The same plan again was made for an empty GPU: refused as a conflict, nothing changes.
        assertThat(apply(create, 8).failure()).get().asString().startsWith("conflict:");
        assertThat(backend.layout(0)).isEqualTo(wanted);
    }

    @Test
    void busyInstances_areRefusedByNvml_andProcessMemoryIsCappedAtTheInstance() throws Throwable {
        Layout two = Layout.parse(a100, "3g.20gb@0,3g.20gb@4");
        assertThat(apply((Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)), two), 1).failure()).isEmpty();
        Instance left = two.instances().getFirst();
        Instance right = two.instances().getLast();
        stub.setProcessMemory(0, 12_000);
        // More than 3g.20gb holds (19968 MiB) is never reported: a live node cannot see beyond its instance.
        stub.setProcessMemory(4, 50_000);
        assertThat(backend.usage(Slot.of(0, left)).usedMib()).isEqualTo(12_000);
        assertThat(backend.usage(Slot.of(0, left)).reportedProgress()).isEmpty();
        assertThat(backend.usage(Slot.of(0, right)).usedMib()).isEqualTo(19_968);
        Plan.Possible fuse = (Plan.Possible) Planner.transition(GpuState.idle(two), Layout.parse(a100, "7g.40gb@0"));
        assertThat(apply(fuse, 2).failure()).get().asString()
                .contains("nvmlComputeInstanceDestroy: NVML_ERROR_IN_USE (In use by another client)");
        // The refused destroy left the busy instance; the layout read back says so.
        assertThat(backend.layout(0).instances()).contains(left);
        stub.setProcessMemory(0, 0);
        stub.setProcessMemory(4, 0);
        Plan.Possible again = (Plan.Possible) Planner.transition(GpuState.idle(backend.layout(0)), Layout.parse(a100, "7g.40gb@0"));
        assertThat(apply(again, 3).failure()).isEmpty();
        assertThat(backend.layout(0).toString()).isEqualTo("7g.40gb@0");
    }

    @Test
    void aDestroyRefusedWhileTheLastProcessLeaves_isRetriedUntilNvmlAllowsIt() throws Throwable {
        Layout one = Layout.parse(a100, "7g.40gb@0");
        assertThat(apply((Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)), one), 1).failure()).isEmpty();
        stub.setProcessMemory(0, 1_000);
        // The process is gone 100 ms later; the back-off (40, 80, 160 ms) outlasts it.
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(100);
                stub.setProcessMemory(0, 0);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        });
        Plan.Possible split = (Plan.Possible) Planner.transition(GpuState.idle(one), Layout.parse(a100, "3g.20gb@0,3g.20gb@4"));
        assertThat(apply(split, 2).failure()).isEmpty();
        assertThat(backend.layout(0).toString()).isEqualTo("3g.20gb@0,3g.20gb@4");
    }

    @Test
    void energy_isWhatNvmlsCounterAddedSinceTheBackendOpened() {
        // The stub's counter adds 55 J per read (55 W over one second), so two reads later it is 110 J on.
        backend.energyJoules();
        assertThat(backend.energyJoules()).isEqualTo(110.0);
    }

    private NvmlGpuBackend openAllowingModeChanges(List<String> skippedHere) {
        return NvmlGpuBackend.open(nvml, Catalog.builtin(), skippedHere,
                new NvmlGpuBackend.Retry(4, java.time.Duration.ofMillis(40)), NvmlGpuBackend.ModeChanges.allowed(30));
    }

    private EngineEvent.MigModeChanged changeMode(NvmlGpuBackend on, int gpu, boolean enabled, long ticket)
            throws InterruptedException {
        LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
        on.changeMigMode(gpu, enabled, ticket, events::add);
        EngineEvent e = events.poll(10, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(EngineEvent.MigModeChanged.class);
        assertThat(((EngineEvent.MigModeChanged) e).ticket()).isEqualTo(ticket);
        return (EngineEvent.MigModeChanged) e;
    }

    @Test
    void onAmpere_theAdminsOptIn_changesNoMode() {
        // nvmlDeviceSetMigMode on an A100 leaves a pending mode that only a GPU reset activates.
        List<String> here = new ArrayList<>();
        try (NvmlGpuBackend allowing = openAllowingModeChanges(here)) {
            assertThat(allowing.gpus()).containsExactly(a100);
            assertThat(allowing.canChangeMigMode(0)).isFalse();
            assertThat(allowing.migModeChangeS(0)).isInfinite();
            assertThat(here).singleElement().asString().startsWith("gpu1 NVIDIA A100-SXM4-40GB: MIG mode is off")
                    .contains("only on Hopper and newer");
            assertThatThrownBy(() -> allowing.changeMigMode(0, false, 1, e -> { }))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void onHopper_withTheOptIn_aGpuWithMigOff_isOneWholeSlot() throws Throwable {
        stub.setArchitecture(9);
        List<String> here = new ArrayList<>();
        try (NvmlGpuBackend allowing = openAllowingModeChanges(here)) {
            assertThat(here).isEmpty();
            assertThat(allowing.gpus()).containsExactly(a100, a100);
            assertThat(allowing.canChangeMigMode(1)).isTrue();
            assertThat(allowing.migModeChangeS(1)).isEqualTo(30);
            assertThat(allowing.migEnabledNow(1)).isFalse();
            assertThat(allowing.layout(1).instances()).isEmpty();
            Slot whole = Slot.wholeGpu(1, a100);
            assertThat(allowing.deviceName(whole)).isEqualTo("GPU-5d5a3b5e-0000-4000-8000-000000000001");
            // The process's memory on the whole GPU, capped at the GPU's memory as on an instance.
            stub.setWholeProcessMemory(1, 12_000);
            assertThat(allowing.usage(whole).usedMib()).isEqualTo(12_000);
            stub.setWholeProcessMemory(1, 90_000);
            assertThat(allowing.usage(whole).usedMib()).isEqualTo(a100.memoryMib());
        }
    }

    @Test
    void onHopper_aModeChange_destroysTheIdleInstances_andIsRefusedWhileAProcessHoldsTheGpu() throws Throwable {
        stub.setArchitecture(9);
        try (NvmlGpuBackend allowing = openAllowingModeChanges(new ArrayList<>())) {
            Layout two = Layout.parse(a100, "3g.20gb@0,3g.20gb@4");
            LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
            allowing.apply(0, (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)), two), 1, events::add);
            assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).isEmpty();
            // MIG off: the idle instances go first (compute, then GPU instances), then the mode.
            assertThat(changeMode(allowing, 0, false, 11).failure()).isEmpty();
            assertThat(allowing.migEnabledNow(0)).isFalse();
            assertThat(allowing.layout(0).instances()).isEmpty();
            assertThat(nvml.migMode(0)).isEqualTo(new Nvml.MigMode(false, false));
            // A process on the whole GPU: NVML leaves the mode pending (IN_USE), and says so.
            stub.setWholeProcessMemory(0, 1_000);
            assertThat(changeMode(allowing, 0, true, 12).failure()).get().asString()
                    .contains("pending, not active").contains("NVML_ERROR_IN_USE");
            assertThat(allowing.migEnabledNow(0)).isFalse();
            stub.setWholeProcessMemory(0, 0);
            assertThat(changeMode(allowing, 0, true, 13).failure()).isEmpty();
            assertThat(allowing.migEnabledNow(0)).isTrue();
            // The GPU takes plans again.
            allowing.apply(0, (Plan.Possible) Planner.transition(GpuState.idle(Layout.empty(a100)),
                    Layout.parse(a100, "7g.40gb@0")), 14, events::add);
            assertThat(((EngineEvent.ReconfigurationFinished) events.poll(10, TimeUnit.SECONDS)).failure()).isEmpty();
        }
    }

    @Test
    void aLibraryWithNoMigGpu_isAClearError() throws Throwable {
        List<String> none = new ArrayList<>();
        Catalog withoutA100 = Catalog.of(Catalog.builtin().models().stream().filter(m -> !m.equals(a100)).toList());
        assertThatThrownBy(() -> NvmlGpuBackend.open(nvml, withoutA100, none)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("no GPU migm can drive through NVML: gpu0 NVIDIA A100-SXM4-40GB: not in the catalog");
    }
}
