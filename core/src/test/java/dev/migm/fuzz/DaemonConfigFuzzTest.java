package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.io.TextFiles;
import dev.migm.spec.DaemonConfig;

/** Coverage-guided: the daemon's configuration file ({@code version: v1}, YAML). */
final class DaemonConfigFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void daemonConfigs(byte[] bytes) {
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        Contract.acceptsOrRefusesClearly("daemon config", text, () -> DaemonConfig.parse(TextFiles.decode(bytes, "migm.yaml"),
                "migm.yaml"), Contract.startsWith("migm.yaml"));
    }
}
