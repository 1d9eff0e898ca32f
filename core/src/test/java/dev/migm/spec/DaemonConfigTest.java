package dev.migm.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

final class DaemonConfigTest {
    @Test
    void theShippedConfigReads() {
        DaemonConfig c = DaemonConfig.read(Path.of("../packaging/migm.yaml"));
        assertThat(c.home()).contains(Path.of("/var/lib/migm"));
        assertThat(c.socket()).contains(Path.of("/run/migm/migm.sock"));
        assertThat(c.socketGroup()).contains("migm");
        assertThat(c.backend()).contains("auto");
        assertThat(c.timeScale().getAsDouble()).isEqualTo(1.0);
        // Mode changes on real GPUs are the admin's opt-in: off unless the file says so.
        assertThat(c.allowMigModeChange()).isFalse();
        assertThat(DaemonConfig.parse("version: v1\nallow_mig_mode_change: true\n", "c.yaml").allowMigModeChange()).isTrue();
    }

    @Test
    void badFieldsAreRefusedWithFileLineAndColumn() {
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\nsockets: /x\n", "c.yaml"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("c.yaml:2:1: sockets: unknown field");
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\nbackend: cuda\n", "c.yaml"))
                .hasMessageStartingWith("c.yaml:2:10: backend: expected emulated, nvml or auto");
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\ntime_scale: -2\n", "c.yaml"))
                .hasMessageContaining("time_scale: expected a number in (0, 10000]");
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\nhome: relative/dir\n", "c.yaml"))
                .hasMessageContaining("home: expected an absolute path");
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\nallow_mig_mode_change: yes\n", "c.yaml"))
                .hasMessageStartingWith("c.yaml:2:24: allow_mig_mode_change: expected true or false, got 'yes'");
        assertThatThrownBy(() -> DaemonConfig.parse("home: /x\n", "c.yaml"))
                .hasMessageContaining("version: expected v1");
    }
}
