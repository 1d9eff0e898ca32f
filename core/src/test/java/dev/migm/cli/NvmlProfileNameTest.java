package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.nvml.Nvml;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Profile names as nvidia-smi prints them. Seen on a real H200 (driver 580.159.04): NVML reports ID 19
 * with 16,384 MiB, which rounds to "1g.16gb", but nvidia-smi calls it {@code 1g.18gb}; the catalog,
 * which knows the GPU, names it by its ID.
 */
final class NvmlProfileNameTest {
    private static Nvml.ProfileInfo profile(int profileEnum, int id, int slices, long memoryMib) {
        return new Nvml.ProfileInfo(profileEnum, id, slices, 7, 16, 1, 1, 0, 1, 0, memoryMib, List.of(0), 1);
    }

    private static Nvml.DeviceInfo device(String name) {
        return new Nvml.DeviceInfo(0, name, "GPU-x", Optional.empty(), 143771, 0, Optional.of(false), Optional.of(false),
                Optional.empty(), Optional.empty(), List.of(), List.of());
    }

    @Test
    void aCatalogGpu_namesItsProfilesByTheirIds_asNvidiaSmiDoes() {
        Nvml.ProfileInfo id19 = profile(0, 19, 1, 16384);
        assertThat(id19.name()).isEqualTo("1g.16gb");
        assertThat(GpuCommands.profileName(device("NVIDIA H200"), id19)).isEqualTo("1g.18gb");
        assertThat(GpuCommands.profileName(device("NVIDIA H200"), profile(7, 20, 1, 16384))).isEqualTo("1g.18gb+me");
        // A GPU the catalog lacks keeps the binding's rounding.
        assertThat(GpuCommands.profileName(device("NVIDIA Future GPU"), id19)).isEqualTo("1g.16gb");
    }
}
