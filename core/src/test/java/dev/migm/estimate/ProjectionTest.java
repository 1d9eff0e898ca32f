package dev.migm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.EarlyRestart;
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
        EarlyRestart trigger = EarlyRestart.DEFAULT;
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
    void runningSums_agreeWithTheTwoPassLine_onAnH200sMemoryFigures() {
        // 120 samples of ~140 GiB (143,000 MiB) growing 300 MiB over 0.5% of progress, with +-2 MiB
        // of noise: the one-pass sums (taken from the first sample) give the textbook two-pass line's
        // projection and bound to 1e-6 MiB, where raw sums of squares (2.5e12) would cancel badly.
        SplittableRandom random = new SplittableRandom(11);
        List<MemoryProjection.Sample> s = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            double p = 0.900 + 0.005 * i / 119;
            s.add(new MemoryProjection.Sample(p, Math.round(143_000 + 60_000 * (p - 0.9)) + random.nextInt(-2, 3)));
        }
        double n = s.size();
        double mp = s.stream().mapToDouble(MemoryProjection.Sample::progress).sum() / n;
        double my = s.stream().mapToDouble(MemoryProjection.Sample::usedMib).sum() / n;
        double sxx = s.stream().mapToDouble(x -> (x.progress() - mp) * (x.progress() - mp)).sum();
        double sxy = s.stream().mapToDouble(x -> (x.progress() - mp) * (x.usedMib() - my)).sum();
        double slope = sxy / sxx;
        double rss = s.stream().mapToDouble(x -> Math.pow(x.usedMib() - my - slope * (x.progress() - mp), 2)).sum();
        double sigma = Math.max(Math.sqrt(rss / (n - 2)), 1e-6 * my);
        double projected = my + slope * (1 - mp);
        double lower = projected - 4 * sigma * Math.sqrt(1 / n + (1 - mp) * (1 - mp) / sxx);
        MemoryProjection.Result r = MemoryProjection.project(s, 4, 1e-6).orElseThrow();
        assertThat(r.projectedMib()).isCloseTo(projected, within(1e-6));
        assertThat(r.lowerMib()).isCloseTo(lower, within(1e-6));
    }

    @Test
    void tooFewSamplesOrNoSpread_projectNothing() {
        assertThat(MemoryProjection.project(List.of(new MemoryProjection.Sample(0.1, 10),
                new MemoryProjection.Sample(0.2, 20)), 4, 0)).isEmpty();
        assertThat(MemoryProjection.project(List.of(new MemoryProjection.Sample(0.1, 10),
                new MemoryProjection.Sample(0.1, 20), new MemoryProjection.Sample(0.1, 30)), 4, 0)).isEmpty();
    }

    @Test
    void theLineAlone_boundsTheConservativeProjectionFromAbove() {
        // Early restart settles a window by the line alone when the line fits the instance: sound
        // only if the bound never lies above it and the line is NaN exactly where nothing projects.
        SplittableRandom random = new SplittableRandom(5);
        for (int trial = 0; trial < 20_000; trial++) {
            List<MemoryProjection.Sample> s = new ArrayList<>();
            int n = random.nextInt(0, 40);
            double p = random.nextDouble();
            for (int i = 0; i < n; i++) {
                p += random.nextInt(4) == 0 ? 0 : random.nextDouble() * 0.01;
                s.add(new MemoryProjection.Sample(p, random.nextLong(0, 200_000)));
            }
            MemoryProjection.Sums sums = MemoryProjection.Sums.of(s);
            double at = p + random.nextDouble();
            double z = random.nextDouble() * 6;
            double line = MemoryProjection.lineAt(sums, at);
            java.util.Optional<MemoryProjection.Result> r = MemoryProjection.project(sums, at, z, 0.01);
            assertThat(Double.isNaN(line)).as("trial %d", trial).isEqualTo(r.isEmpty());
            r.ifPresent(result -> {
                assertThat(result.projectedMib()).isEqualTo(line);
                assertThat(result.lowerMib()).isLessThanOrEqualTo(line);
            });
        }
    }
}
