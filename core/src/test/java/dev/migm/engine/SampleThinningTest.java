package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import org.junit.jupiter.api.Test;

/** Which memory samples early restart keeps over an attempt of any length, and how a sampler skips the rest. */
final class SampleThinningTest {
    @Test
    void keeps_takesAllOfTwoWindows_thenEveryStrideThatDoublesWithTheAttemptsAge() {
        // The definition, built stretch by stretch: every number below 2W, then on each stretch
        // [2W 2^k, 2W 2^(k+1)) the multiples of 2^(k+1).
        for (int window : new int[] {1, 7, 60}) {
            long twoWindows = 2L * window;
            int limit = 500_000;
            boolean[] expected = new boolean[limit];
            for (int n = 0; n < twoWindows; n++) expected[n] = true;
            for (long from = twoWindows, stride = 2; from < limit; from *= 2, stride *= 2) {
                for (long n = from; n < Math.min(limit, 2 * from); n += stride) expected[(int) n] = true;
            }
            for (int n = 0; n < limit; n++) {
                assertThat(EarlyRestart.keeps(n, window)).as("window %d, sample %d", window, n).isEqualTo(expected[n]);
            }
        }
    }

    @Test
    void nextKept_isTheNextNumberKeepsKeeps() {
        // The constant-time step against counting through every number (the simulator used to).
        for (int window : new int[] {1, 7, 60}) {
            long expected = 0;
            for (long s = -1; s < 200_000; s = expected) {
                expected = s + 1;
                while (!EarlyRestart.keeps(expected, window)) expected++;
                assertThat(EarlyRestart.nextKept(s, window)).as("window %d after %d", window, s).isEqualTo(expected);
            }
        }
    }

    @Test
    void keptSequence_walksExactlyWhatNextKeptSteps() {
        for (int window : new int[] {1, 7, 60}) {
            dev.migm.virtual.KeptSequence kept = new dev.migm.virtual.KeptSequence(window);
            long expected = 0;
            // Up to 2^40 s (35,000 years of an attempt); window 1 keeps one sample per doubling.
            for (int i = 0; i < 50_000 && expected < (1L << 40); i++) {
                assertThat(kept.take()).as("window %d, kept sample %d", window, i).isEqualTo(expected);
                expected = EarlyRestart.nextKept(expected, window);
            }
        }
    }

    @Test
    void anAttemptOfAnyLength_keepsOneToTwoWindowsSpreadOverAllOfIt() {
        // Samples kept as the engine keeps them (kept numbers only, halved at two windows), for attempts
        // of 1 minute to 4 days of one-second samples: between 60 and 119 remain after the first two
        // minutes, and they reach back to the attempt's first tenth (the trigger's span test needs
        // 2% of it; the last 60 samples of a 4-day attempt span 0.02% of it).
        int window = 60;
        for (long length : new long[] {60, 121, 1_000, 3_000, 86_400, 345_600}) {
            ArrayDeque<MemoryProjection.Sample> kept = new ArrayDeque<>();
            for (long s = 0; s < length; s = EarlyRestart.nextKept(s, window)) {
                kept.addLast(new MemoryProjection.Sample((double) s / length, 1000));
                if (kept.size() >= 2 * window) AttemptMonitor.decimate(kept);
            }
            if (length >= 2 * window) assertThat(kept.size()).as("length %d", length).isBetween(window, 2 * window - 1);
            assertThat(kept.getFirst().progress()).as("length %d", length).isLessThan(0.1);
            assertThat(kept.getLast().progress()).as("length %d", length).isGreaterThan(0.9);
        }
    }
}
