package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The early-restart rule without progress ({@link EarlyRestart#verdictByTime}) and its distribution. */
final class TimeTriggerTest {
    @Test
    void logNormal_matchesTheNormalTablesAndConditionsOnRunningNow() {
        // Phi(1.645) = 0.95, Phi(2.326) = 0.99 (normal tables); the inverse returns them.
        assertThat(LogNormal.phi(1.645)).isCloseTo(0.95, within(1e-4));
        assertThat(LogNormal.phi(-2.326)).isCloseTo(0.01, within(1e-4));
        assertThat(LogNormal.phiInverse(0.95)).isCloseTo(1.645, within(1e-3));
        LogNormal t = new LogNormal(100, Math.log(2) / 1.645);
        // Half the median is the 5% quantile of a declared run time.
        assertThat(t.survival(50)).isCloseTo(0.95, within(1e-3));
        assertThat(t.survival(100)).isCloseTo(0.5, within(1e-9));
        // P(T > 200 | T > 100) = S(200) / S(100) = 0.05 / 0.5.
        assertThat(t.stillRunning(100, 200)).isCloseTo(0.1, within(1e-3));
        // The median end of a run going on at 100 s: S(e) = 0.25, e = 100 exp(0.4214 * 0.6745).
        assertThat(t.endQuantile(100, 0.5)).isCloseTo(100 * Math.exp(Math.log(2) / 1.645 * 0.6745), within(0.1));
        LogNormal certain = new LogNormal(100, 0);
        assertThat(certain.stillRunning(10, 99)).isEqualTo(1);
        assertThat(certain.stillRunning(10, 101)).isEqualTo(0);
        // A run past the 95% tail is not the run the distribution describes: a run of unknown length
        // seen at age x goes on to y with chance x / y (Gott). The mixed suite's mixed-0184 on a
        // 4g.20gb: its history said median 1,208 s, log spread 0.126; at 2,945 s (S < 1e-12) its memory
        // line reached the instance's 19,968 MiB at 18,941 s, and the run was taken to go on for good
        // (P = 1) and restarted though it peaks at 10,667 MiB; now P = 2,945 / 18,941 = 0.155.
        LogNormal resnet = new LogNormal(1208.3, 0.126);
        assertThat(resnet.stillRunning(2945, 18941)).isCloseTo(2945 / 18941.0, within(1e-9));
        // Just inside the tail the distribution still speaks: S(x) = 0.06 at x = median exp(1.555 sigma).
        double inside = 100 * Math.exp(1.555 * Math.log(2) / 1.645);
        assertThat(t.survival(inside)).isGreaterThan(LogNormal.OUTLIVED);
        assertThat(t.stillRunning(inside, 2 * inside)).isCloseTo(t.survival(2 * inside) / t.survival(inside), within(1e-12));
    }

    static List<MemoryProjection.Sample> samples(int n, double base, double slope, double noise, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<MemoryProjection.Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double used = base + slope * i + base * noise * (2 * random.nextDouble() - 1);
            out.add(new MemoryProjection.Sample(i, (long) Math.ceil(used / 2) * 2));
        }
        return out;
    }

    @Test
    void aShortWindowsNoiseIsNotGrowth_butSustainedGrowthIs() {
        // 4474 MiB flat with 1% noise (+-45 MiB) over 21 s in a 4864 MiB instance, a run expected
        // to take 952 s for certain: a Theil-Sen slope of the noise alone can read 2 MiB/s and
        // would meet the instance at 216 s; the least-squares slope less 4 standard errors (noise
        // 45 / sqrt(sxx = 21 * 440 / 12 = 770) = 1.6 MiB/s each) is below zero: no verdict.
        LogNormal runTime = new LogNormal(952, 0);
        for (long seed = 1; seed <= 50; seed++) {
            List<MemoryProjection.Sample> flat = samples(21, 4474, 0, 0.01, seed);
            assertThat(EarlyRestart.DEFAULT.verdictByTime(flat, MemoryProjection.Sums.of(flat), 4864, 20, runTime, 1, false))
                    .as("seed %d", seed).isEmpty();
        }
        // 10 MiB/s over the same 21 s is 6 standard errors of growth: it meets the instance near
        // 60 s, long before the certain 952 s end, so the attempt is stopped now, sized at the line's
        // value at that end (4474 + 10 x 952 = 14000 MiB, the run time being certain; the fitted
        // slope's own error, 1.6 MiB/s over 952 s, allows +-1,500 MiB per standard error).
        List<MemoryProjection.Sample> growing = samples(21, 4474, 10, 0.01, 7);
        assertThat(EarlyRestart.DEFAULT.verdictByTime(growing, MemoryProjection.Sums.of(growing), 4864, 20, runTime, 1, false))
                .hasValueSatisfying(peak -> assertThat(peak).isBetween(11_000L, 17_000L));
    }
}
