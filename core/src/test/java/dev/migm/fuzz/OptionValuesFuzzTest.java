package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.ProfileName;
import dev.migm.schedule.LayoutSpecs;
import dev.migm.schedule.PolicyRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;

/**
 * Coverage-guided: the short strings of the command line and the files: layouts
 * ({@code 1g.5gb@0,3g.20gb@4*}), profile names, layout specs, policy names, sizes and durations,
 * listen addresses and the emulated GPU's fault specs. Each string goes to every parser.
 */
final class OptionValuesFuzzTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final Predicate<String> SAYS_WHAT = m -> m.contains("layout") || m.contains("profile")
            || m.contains("instance") || m.contains("'") || m.contains("GPU") || m.contains("polic");

    @FuzzTest(maxDuration = "10s")
    void optionValues(byte[] bytes) {
        String t = new String(bytes, StandardCharsets.UTF_8);
        Contract.acceptsOrRefusesClearly("layout", t, () -> dev.migm.partition.Planner.planFor(
                dev.migm.partition.GpuState.parse(A100, t), A100.profile("1g.5gb")), SAYS_WHAT);
        Contract.acceptsOrRefusesClearly("profile", t, () -> ProfileName.parse(t), SAYS_WHAT);
        Contract.acceptsOrRefusesClearly("layout spec", t, () -> LayoutSpecs.resolve(A100, t), SAYS_WHAT);
        Contract.acceptsOrRefusesClearly("policy", t, () -> PolicyRegistry.create(t, List.of(A100)), SAYS_WHAT);
        Contract.acceptsOrRefusesClearly("size", t, () -> dev.migm.spec.Units.mib(t, "memory: "), m -> m.startsWith("memory: "));
        Contract.acceptsOrRefusesClearly("duration", t, () -> dev.migm.spec.Units.seconds(t, "expected: "),
                m -> m.startsWith("expected: "));
        Contract.acceptsOrRefusesClearly("listen", t, () -> dev.migm.spec.ListenAddress.parse(t, "--http-listen"),
                m -> m.startsWith("--http-listen"));
        Contract.acceptsOrRefusesClearly("faults", t, () -> dev.migm.emu.FaultInjector.parse(t, null),
                m -> m.startsWith("--emulated-faults"));
    }
}
