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
        assertThat(c.httpListen()).contains(java.util.Optional.of(ListenAddress.DEFAULT));
        assertThat(DaemonConfig.parse("version: v1\nhttp_listen: off\n", "c.yaml").httpListen())
                .contains(java.util.Optional.empty());
        assertThat(DaemonConfig.DEFAULTS.httpListen()).isEmpty();
        // Requeueing Slurm jobs that ran out of memory is the admin's choice: off unless set.
        assertThat(c.slurmRequeueOom()).isFalse();
        assertThat(c.slurmReconcileS()).hasValue(30);
        assertThat(DaemonConfig.parse("version: v1\nslurm_requeue_oom: true\n", "c.yaml").slurmRequeueOom()).isTrue();
    }

    @Test
    void theHttpView_listensOnLoopbackOnly() {
        assertThat(ListenAddress.parse("127.0.0.1:0", "f")).contains(new ListenAddress("127.0.0.1", 0));
        assertThat(ListenAddress.parse("[::1]:9410", "f").orElseThrow().toString()).isEqualTo("[::1]:9410");
        assertThat(ListenAddress.parse("localhost:80", "f")).isPresent();
        assertThat(ListenAddress.parse("127.1.2.3:9410", "f")).isPresent();
        // Anything a remote host could reach is refused: the view has no authentication.
        for (String remote : new String[] {"0.0.0.0:9410", "[::]:9410", "10.0.0.5:9410", "example.org:9410"}) {
            assertThatThrownBy(() -> ListenAddress.parse(remote, "c.yaml:9:14: http_listen"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith("c.yaml:9:14: http_listen: expected a loopback address");
        }
        for (String bad : new String[] {"9410", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":9410"}) {
            assertThatThrownBy(() -> ListenAddress.parse(bad, "--http-listen"))
                    .hasMessageStartingWith("--http-listen: expected HOST:PORT on loopback");
        }
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\nhttp_listen: 0.0.0.0:9410\n", "c.yaml"))
                .hasMessageStartingWith("c.yaml:2:14: http_listen: expected a loopback address");
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
        assertThatThrownBy(() -> DaemonConfig.parse("version: v1\nslurm_reconcile_s: 0\n", "c.yaml"))
                .hasMessageStartingWith("c.yaml:2:20: slurm_reconcile_s: expected a number in (0, 86400], got '0'");
        assertThatThrownBy(() -> DaemonConfig.parse("home: /x\n", "c.yaml"))
                .hasMessageContaining("version: expected v1");
    }
}
