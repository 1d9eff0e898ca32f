package dev.migm.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NVML binding against a stub {@code libnvidia-ml.so.1} that the test compiles with gcc from
 * {@code src/test/native/nvml_stub.c} (nvml.h's structs over an in-memory two-A100 node): struct
 * layouts agree with the C compiler's, every read-only call returns the stub's values, and a missing
 * library or symbol is "not available" with the reason.
 */
@SuppressWarnings("restricted")
final class NvmlBindingTest {
    @TempDir
    static Path dir;
    static Path stub;
    static NvmlStub nvmlStub;

    @BeforeAll
    static void compileTheStub() throws Exception {
        nvmlStub = NvmlStub.build(dir);
        stub = nvmlStub.library();
    }

    @Test
    void structLayouts_matchTheCCompilers() throws Throwable {
        assertThat(nvmlStub.cLayout(0)).isEqualTo(NvmlStructs.GPU_INSTANCE_PROFILE_INFO.byteSize());
        assertThat(nvmlStub.cLayout(1)).isEqualTo(NvmlStructs.GPU_INSTANCE_PROFILE_INFO.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("memorySizeMB")));
        assertThat(nvmlStub.cLayout(2)).isEqualTo(NvmlStructs.MEMORY.byteSize());
        assertThat(nvmlStub.cLayout(3)).isEqualTo(NvmlStructs.GPU_INSTANCE_PLACEMENT.byteSize());
        assertThat(nvmlStub.cLayout(4)).isEqualTo(NvmlStructs.GPU_INSTANCE_INFO.byteSize());
        assertThat(nvmlStub.cLayout(5)).isEqualTo(NvmlStructs.COMPUTE_INSTANCE_PROFILE_INFO.byteSize());
        assertThat(nvmlStub.cLayout(6)).isEqualTo(NvmlStructs.COMPUTE_INSTANCE_INFO.byteSize());
        assertThat(nvmlStub.cLayout(7)).isEqualTo(NvmlStructs.PROCESS_INFO.byteSize());
        assertThat(nvmlStub.cLayout(8)).isEqualTo(NvmlStructs.PCI_INFO.byteSize());
        assertThat(nvmlStub.cLayout(9)).isEqualTo(NvmlStructs.PCI_INFO.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("busId")));
        assertThat(NvmlStructs.PROCESS_INFO.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("usedGpuMemory"))).isEqualTo(8);
    }

    @Test
    void readOnlyCalls_returnWhatTheDriverSays() {
        Nvml.Availability a = Nvml.load(stub.toString());
        assertThat(a).isInstanceOf(Nvml.Availability.Available.class);
        try (Nvml nvml = ((Nvml.Availability.Available) a).nvml()) {
            assertThat(nvml.driverVersion()).isEqualTo("575.57.08");
            List<Nvml.DeviceInfo> devices = nvml.devices();
            assertThat(devices).hasSize(2);
            Nvml.DeviceInfo g0 = devices.getFirst();
            assertThat(g0.name()).isEqualTo("NVIDIA A100-SXM4-40GB");
            assertThat(g0.uuid()).isEqualTo("GPU-5d5a3b5e-0000-4000-8000-000000000000");
            assertThat(g0.pciBusId()).contains("00000000:07:00.0");
            assertThat(g0.instances()).isEmpty();
            assertThat(g0.memoryTotalMib()).isEqualTo(40960);
            assertThat(g0.memoryUsedMib()).isEqualTo(512);
            assertThat(g0.migCurrent()).contains(true);
            assertThat(g0.powerW()).contains(55.0);
            assertThat(g0.energyJ()).contains(1000.0);
            assertThat(g0.profiles()).extracting(Nvml.ProfileInfo::name).containsExactly("1g.5gb", "2g.10gb", "3g.20gb",
                    "4g.20gb", "7g.40gb", "1g.5gb+me", "1g.10gb"); // as nvidia-smi names them (enum 7: +me)
            Nvml.ProfileInfo threeG = g0.profiles().get(2);
            assertThat(threeG.id()).isEqualTo(9);
            assertThat(threeG.sms()).isEqualTo(42);
            assertThat(threeG.memoryMib()).isEqualTo(19968);
            assertThat(threeG.starts()).containsExactly(0, 4);
            assertThat(threeG.placementSize()).isEqualTo(4);
            Nvml.DeviceInfo g1 = devices.get(1);
            assertThat(g1.migCurrent()).contains(false);
            assertThat(g1.profiles()).isEmpty();
        }
    }

    @Test
    void migmGpusBackendNvml_listsWhatNvmlSees_asAVersionedDocument() {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int rc = dev.migm.cli.Main.run(new String[] {"gpus", "--backend", "nvml", "--nvml-library", stub.toString(), "--json"},
                new java.io.PrintWriter(out), new java.io.PrintWriter(err));
        assertThat(rc).as(err.toString()).isZero();
        java.util.Map<String, Object> doc = tools.jackson.databind.json.JsonMapper.builder().build()
                .readValue(out.toString(), new tools.jackson.core.type.TypeReference<java.util.Map<String, Object>>() { });
        assertThat(doc).containsEntry("schema", "migm.devices/v1").containsEntry("driver_version", "575.57.08");
        assertThat((List<?>) doc.get("gpus")).hasSize(2);
        java.io.StringWriter err2 = new java.io.StringWriter();
        int missing = dev.migm.cli.Main.run(new String[] {"gpus", "--backend", "nvml", "--nvml-library",
                dir.resolve("none.so").toString()}, new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(err2));
        assertThat(missing).isEqualTo(2);
        assertThat(err2.toString()).startsWith("migm: NVML not available: cannot load");
    }

    @Test
    void aMissingLibraryOrSymbol_isNotAvailableWithTheReason() throws Exception {
        assertThat(Nvml.load(dir.resolve("nope/libnvidia-ml.so.1").toString()))
                .isInstanceOfSatisfying(Nvml.Availability.Unavailable.class,
                        u -> assertThat(u.reason()).startsWith("cannot load"));
        Path partial = dir.resolve("libpartial.so");
        Path src = dir.resolve("partial.c");
        Files.writeString(src, "int nvmlInit_v2(void) { return 0; }\n");
        Process p = new ProcessBuilder("/usr/bin/gcc", "-shared", "-fPIC", "-o", partial.toString(), src.toString()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Nvml.load(partial.toString())).isInstanceOfSatisfying(Nvml.Availability.Unavailable.class,
                u -> assertThat(u.reason()).contains("has no symbol nvmlShutdown"));
    }
}
