package dev.migm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.Engine;
import dev.migm.engine.MemoryProjection;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class ProjectionTest {
    @Test
    void linearGrowth_isProjectedToItsPeak() {
        // used = 4000 + 2000 * progress, sampled at progress 0.01 .. 0.10: peak at 1 = 6000.
        List<MemoryProjection.Sample> s = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            s.add(new MemoryProjection.Sample(i / 100.0, Math.round(4000 + 2000 * i / 100.0)));
        }
        MemoryProjection.Result r = MemoryProjection.project(s, 4, 0).orElseThrow();
        assertThat(r.projectedMib()).isCloseTo(6000, within(1.0));
        assertThat(r.lowerMib()).isGreaterThan(5900);
    }

    /**
     * Seeded oracle for false alarms: flat memory at 4800 MiB with +-1% uniform noise (what the model
     * executor reports), 10 to 60 samples spread over 2% to 20% of progress. With the engine's
     * trigger (z = 4, noise floor 1%) the bound never clears a 4864 MiB instance in 5000 trials,
     * although single samples reach 4848 MiB and the fitted line tilts up in half of them.
     */
    @Test
    void noisyFlatMemory_neverClearsAnInstanceJustAboveIt() {
        Engine.EarlyRestart trigger = Engine.EarlyRestart.DEFAULT;
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 5000; trial++) {
            int n = 10 + random.nextInt(51);
            double span = 0.02 + 0.18 * random.nextDouble();
            List<MemoryProjection.Sample> s = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                s.add(new MemoryProjection.Sample(i * span / n, Math.round(4800 * (1 + 0.01 * (2 * random.nextDouble() - 1)))));
            }
            MemoryProjection.Result r = MemoryProjection.project(s, trigger.z(), trigger.noiseFloor()).orElseThrow();
            assertThat(r.lowerMib()).as("trial " + trial + ", " + n + " samples over " + span).isLessThan(4864);
        }
    }

    @Test
    void tooFewSamplesOrNoSpread_projectNothing() {
        assertThat(MemoryProjection.project(List.of(new MemoryProjection.Sample(0.1, 10),
                new MemoryProjection.Sample(0.2, 20)), 4, 0)).isEmpty();
        assertThat(MemoryProjection.project(List.of(new MemoryProjection.Sample(0.1, 10),
                new MemoryProjection.Sample(0.1, 20), new MemoryProjection.Sample(0.1, 30)), 4, 0)).isEmpty();
    }
}
