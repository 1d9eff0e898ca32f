package dev.migm.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.SimResult;
import dev.migm.sim.Simulator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The chip-share model: hand-worked weights, and per-job energies that add up to the board's. */
final class ChipShareAttributionTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @Test
    void anIntervalIsSplitByChipShareOfIdlePowerAndDynamicPower_handWorked() {
        // A100: P_idle 55 W, P_max 400 W, 7 compute slices. "a" holds 1 slice at d = 0.1:
        // 55 x 1/7 + 345 x 0.1 = 42.357; "b" holds 3 slices at d = 0.3: 55 x 3/7 + 345 x 0.3 = 127.071,
        // three times a's. 1000 J measured: a 250 J, b 750 J.
        ChipShareAttribution m = new ChipShareAttribution();
        m.interval(A100, 1000, List.of(new ChipShareAttribution.Holder("a", 1, 0.1),
                new ChipShareAttribution.Holder("b", 3, 0.3)));
        assertThat(m.joules("a")).isCloseTo(250, within(1e-9));
        assertThat(m.joules("b")).isCloseTo(750, within(1e-9));
        // Nobody on the GPU: the idle node's. Starting up (d = 0): idle share only, still all of it.
        m.interval(A100, 300, List.of());
        m.interval(A100, 70, List.of(new ChipShareAttribution.Holder("a", 1, 0)));
        assertThat(m.idleJ()).isEqualTo(300);
        assertThat(m.joules("a")).isCloseTo(320, within(1e-9));
        assertThat(m.attributedJ()).isCloseTo(1070, within(1e-9));
        assertThat(m.take("a")).isCloseTo(320, within(1e-9));
        assertThat(m.joules("a")).isZero();
    }

    @Test
    void inTheSimulator_perJobEnergiesSumToTheBoardsEnergy() {
        // A batch on one A100 submitted at once keeps an instance held from the first launch to the
        // end: only the first instance's creation (0.13 s) and the gaps between attempts are the idle
        // node's, far below 1% of the board's energy.
        java.util.SplittableRandom r0 = new java.util.SplittableRandom(7);
        List<dev.migm.workload.TraceJob> jobs = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            long mib = 500 + r0.nextInt(30_000);
            jobs.add(new dev.migm.workload.TraceJob(new dev.migm.engine.JobSpec("j" + i, 0, "app" + (i % 3),
                    dev.migm.engine.JobClass.ML, java.util.OptionalLong.empty(), false),
                    new dev.migm.workload.WorkloadModel(50 + r0.nextDouble() * 500, r0.nextDouble(), 0.1 + 0.9 * r0.nextDouble(),
                            mib, mib, r0.nextDouble(), 0, false)));
        }
        for (String policy : List.of("serial", "s1", "migm")) {
            SimResult r = Simulator.run("t", jobs, PolicyRegistry.create(policy, List.of(A100)),
                    Simulator.Options.of(List.of(A100)));
            double sum = r.perJob().stream().mapToDouble(SimResult.JobRow::energyJ).sum();
            assertThat(sum).as(policy).isCloseTo(r.energyJ(), within(0.01 * r.energyJ())).isLessThanOrEqualTo(r.energyJ() + 1e-6);
            assertThat(r.perJob()).as(policy).allSatisfy(row -> {
                assertThat(row.energyJ()).isPositive();
                assertThat(row.energyModel()).isEqualTo(ChipShareAttribution.NAME);
            });
        }
    }
}
