package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.MigParted;
import dev.migm.io.TextFiles;
import java.util.List;
import java.util.Map;

/** Coverage-guided: NVIDIA mig-parted configurations, read and turned into each of two A100s' layouts. */
final class MigPartedFuzzTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @FuzzTest(maxDuration = "10s")
    void migPartedConfigs(byte[] bytes) {
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        Contract.acceptsOrRefusesClearly("mig-parted", text, () -> {
            Map<String, List<MigParted.DeviceEntry>> configs = MigParted.read(TextFiles.decode(bytes, "c.yaml"), "c.yaml");
            for (List<MigParted.DeviceEntry> entries : configs.values()) {
                for (int gpu = 0; gpu < 2; gpu++) MigParted.layoutFor(entries, gpu, A100, "c.yaml");
            }
        }, Contract.startsWith("c.yaml"));
    }
}
