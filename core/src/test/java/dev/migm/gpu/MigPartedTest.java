package dev.migm.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class MigPartedTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");

    @Test
    void export_thenRead_givesBackTheCountsAndALegalLayout() {
        Layout gpu0 = Layout.parse(a100, "1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4");
        Layout gpu1 = Layout.parse(a100, "7g.40gb@0");
        String yaml = MigParted.export("migm", List.of(gpu0, gpu1));
        Map<String, List<MigParted.DeviceEntry>> configs = MigParted.read(yaml, "out.yaml");
        List<MigParted.DeviceEntry> entries = configs.get("migm");
        assertThat(entries).hasSize(2);
        assertThat(MigParted.layoutFor(entries, 0, a100, "out.yaml")).isEqualTo(gpu0);
        assertThat(MigParted.layoutFor(entries, 1, a100, "out.yaml")).isEqualTo(gpu1);
    }

    @Test
    void export_groupsIdenticalGpusByTheirIndices_neverDevicesAll() {
        // Three GPUs given, two alike: two entries, devices [0, 2] and [1]. "devices: all" would also
        // reconfigure GPUs of the node that were not given.
        Layout l = Layout.parse(a100, "3g.20gb@0,3g.20gb@4");
        Layout other = Layout.parse(a100, "7g.40gb@0");
        String yaml = MigParted.export("same", List.of(l, other, l));
        assertThat(yaml).doesNotContain("all");
        List<MigParted.DeviceEntry> entries = MigParted.read(yaml, "s").get("same");
        assertThat(entries).extracting(e -> e.devices().orElseThrow()).containsExactly(List.of(0, 2), List.of(1));
        for (int i = 0; i < 3; i++) {
            assertThat(MigParted.layoutFor(entries, i, a100, "s")).as("GPU " + i).isEqualTo(i == 1 ? other : l);
        }
    }

    @Test
    void read_acceptsTheGpuOperatorStyleBalancedConfig() {
        String yaml = """
                version: v1
                mig-configs:
                  all-balanced:
                    - device-filter: ["0x20B010DE", "0x20B110DE"]
                      devices: all
                      mig-enabled: true
                      mig-devices:
                        "1g.5gb": 2
                        "2g.10gb": 1
                        "3g.20gb": 1
                """;
        Layout l = MigParted.layoutFor(MigParted.read(yaml, "b").get("all-balanced"), 0, a100, "b");
        assertThat(l.count(a100.profile("1g.5gb"))).isEqualTo(2);
        assertThat(l.count(a100.profile("3g.20gb"))).isEqualTo(1);
    }

    @Test
    void read_rejectsUnknownFieldsAndVersionsNamingThem() {
        assertThatThrownBy(() -> MigParted.read("version: v2\nmig-configs: {a: [{devices: all, mig-enabled: false}]}\n", "f.yaml"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("f.yaml").hasMessageContaining("version");
        assertThatThrownBy(() -> MigParted.read("version: v1\nmig-configs: {a: [{devices: all, mig-enabled: true, colour: 1}]}\n", "g.yaml"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("'colour'")
                .hasMessageContaining("mig-configs.a[0]");
        assertThatThrownBy(() -> MigParted.layoutFor(MigParted.read(
                "version: v1\nmig-configs: {a: [{devices: all, mig-enabled: true, mig-devices: {3g.20gb: 3}}]}\n", "h")
                .get("a"), 0, a100, "h")).isInstanceOf(InvalidInputException.class).hasMessageContaining("no legal layout");
    }
}
