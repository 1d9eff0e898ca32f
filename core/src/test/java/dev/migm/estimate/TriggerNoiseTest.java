package dev.migm.estimate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.EarlyRestart;
import dev.migm.engine.MemoryProjection;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The early-restart trigger against memory that does not look like the simulator's own (a straight
 * line with 1% uniform jitter): allocators that report in 2/20 MiB blocks or 512 MiB segments
 * (steps and plateaus), bursts of temporary buffers, and growth that pauses. The engine's default
 * trigger must not fire on a job that fits (its true peak 95% of the instance), and must catch
 * most jobs that outgrow the instance by 30% before their OOM. Samples arrive every 1% of the
 * attempt's progress, as in the engine.
 */
final class TriggerNoiseTest {
    private static final long SLOT = 4864;
    private static final int TRIALS = 400;

    /** How NVML would see the job's true memory {@code trueMib} at a sample (never above the instance). */
    enum Noise {
        /** the simulator's own: +-1% uniform, rounded up to 2 MiB */
        UNIFORM {
            @Override
            long seen(double trueMib, SplittableRandom r) {
                return 2 * (long) Math.ceil(trueMib * (1 + 0.01 * (2 * r.nextDouble() - 1)) / 2);
            }
        },
        /**
         * PyTorch's caching allocator: small requests in 2 MiB blocks, large ones in 20 MiB
         * segments, so the reserved memory is the need rounded up to 20 MiB plus a few 2 MiB
         * blocks held by small tensors.
         */
        CACHING_BLOCKS {
            @Override
            long seen(double trueMib, SplittableRandom r) {
                return 20 * (long) Math.ceil(trueMib / 20) + 2L * r.nextInt(4);
            }
        },
        /** one sample in five catches a burst of temporary buffers (+5%), freed before the next */
        BURSTY {
            @Override
            long seen(double trueMib, SplittableRandom r) {
                double burst = r.nextInt(5) == 0 ? 1.05 : 1.0;
                return 2 * (long) Math.ceil(trueMib * burst * (1 + 0.005 * (2 * r.nextDouble() - 1)) / 2);
            }
        },
        /**
         * An allocator that grows its pool in 512 MiB segments (a framework's arena): memory rises in
         * steps and sits on plateaus between them, above the need.
         */
        SEGMENTS {
            @Override
            long seen(double trueMib, SplittableRandom r) {
                return 512 * (long) Math.ceil(trueMib / 512);
            }
        };

        abstract long seen(double trueMib, SplittableRandom r);
    }

    /** Linear growth from base to peak over the run. */
    static DoubleUnaryOperator linear(double base, double peak) {
        return x -> base + (peak - base) * x;
    }

    /**
     * Linear overall, but growth pauses: within each fifth of the run, memory grows during the first
     * half and holds during the second (evaluation phases, prompts of one length), reaching the
     * peak at the end.
     */
    static DoubleUnaryOperator pausing(double base, double peak) {
        return x -> {
            double fifth = Math.floor(x * 5);
            double within = Math.min(1, (x * 5 - fifth) * 2);
            return base + (peak - base) * Math.min(1, (fifth + within) / 5);
        };
    }

    /** The first sample (as share of the run) at which the trigger fires, or NaN. */
    static double firstFiring(DoubleUnaryOperator memory, Noise noise, SplittableRandom r, double until) {
        return firstFiring(memory, noise, r, until, EarlyRestart.DEFAULT);
    }

    static double firstFiring(DoubleUnaryOperator memory, Noise noise, SplittableRandom r, double until,
                              EarlyRestart trigger) {
        ArrayDeque<MemoryProjection.Sample> window = new ArrayDeque<>();
        for (int i = 1; i / 100.0 < until; i++) {
            double x = i / 100.0;
            window.addLast(new MemoryProjection.Sample(x, Math.min(SLOT, noise.seen(memory.applyAsDouble(x), r))));
            while (window.size() > trigger.window()) window.removeFirst();
            if (trigger.verdict(window, SLOT, 1.0).isPresent()) {
                return x;
            }
        }
        return Double.NaN;
    }

    /** Of 400 trials: false stops of jobs that fit (linear, flat, pausing) and catches of jobs that outgrow. */
    record Counts(int linear, int flat, int pausing, int caught, int caughtPausing) {
    }

    private static final java.util.Map<Noise, Counts> DEFAULT_COUNTS = new java.util.concurrent.ConcurrentHashMap<>();

    /** The trials of BENCHMARKS.md section 7 (seed 9 and the noise model). */
    static Counts count(Noise noise, EarlyRestart trigger) {
        SplittableRandom r = new SplittableRandom(noise.ordinal() * 1000L + 9);
        double fits = 0.95 * SLOT;
        double peak = 1.3 * SLOT;
        int linear = 0;
        int flat = 0;
        int pausing = 0;
        int caught = 0;
        int caughtPausing = 0;
        for (int t = 0; t < TRIALS; t++) {
            double base = fits * (0.5 + 0.5 * r.nextDouble());
            if (!Double.isNaN(firstFiring(linear(base, fits), noise, r, 1.0, trigger))) linear++;
            if (!Double.isNaN(firstFiring(x -> fits, noise, r, 1.0, trigger))) flat++;
            if (!Double.isNaN(firstFiring(pausing(base, fits), noise, r, 1.0, trigger))) pausing++;
            double b2 = SLOT * (0.4 + 0.4 * r.nextDouble());
            if (!Double.isNaN(firstFiring(linear(b2, peak), noise, r, (SLOT - b2) / (peak - b2), trigger))) caught++;
            DoubleUnaryOperator p = pausing(b2, peak);
            double at = 0;
            while (p.applyAsDouble(at) <= SLOT) at += 0.001;
            if (!Double.isNaN(firstFiring(p, noise, r, at, trigger))) caughtPausing++;
        }
        return new Counts(linear, flat, pausing, caught, caughtPausing);
    }

    static Counts defaults(Noise noise) {
        return DEFAULT_COUNTS.computeIfAbsent(noise, n -> count(n, EarlyRestart.DEFAULT));
    }

    /**
     * Not a check: the table of BENCHMARKS.md section 7 for the trigger's minimum span given as
     * {@code migm.minSpan}. Run: {@code ./test -pl core -Dtest=TriggerNoiseTest -Dmigm.rates=true
     * -Dmigm.minSpan=0.02}.
     */
    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "migm.rates", matches = "true")
    void rates() {
        EarlyRestart d = EarlyRestart.DEFAULT;
        EarlyRestart trigger = new EarlyRestart(true, d.minSamples(), d.window(),
                Double.parseDouble(System.getProperty("migm.minSpan", Double.toString(d.minSpan()))), d.z(),
                d.noiseFloor(), d.confidence());
        for (Noise noise : Noise.values()) {
            Counts c = count(noise, trigger);
            System.out.printf("| %s | %.2f | %d | %d | %d | %d | %d |%n", noise, trigger.minSpan(), c.linear(), c.flat(),
                    c.pausing(), c.caught(), c.caughtPausing());
        }
    }

    @ParameterizedTest
    @EnumSource(Noise.class)
    void aJobThatFits_isAlmostNeverStopped(Noise noise) {
        // Measured: no false stop of 400 linear or 400 flat jobs for every model but SEGMENTS, whose
        // 512 MiB steps tilt 5 of 400 linear ones (1.25%); the bound is 2%.
        Counts c = defaults(noise);
        assertThat(c.flat()).as(noise.name()).isZero();
        assertThat(c.linear()).as(noise.name()).isLessThanOrEqualTo(TRIALS / 50);
    }

    @ParameterizedTest
    @EnumSource(Noise.class)
    void aJobWhoseGrowthPausesButFits_isStoppedOnlySometimes_aKnownLimit(Noise noise) {
        // Growth that runs at twice its average rate for the first tenth of the run and then pauses
        // is, over the first samples, indistinguishable from a job that keeps growing that fast: the
        // trigger (10 samples over 2% of the run) stops 58 to 152 of 400 such jobs that would fit,
        // by noise model (BENCHMARKS.md section 7). A regression past 40% shows here.
        assertThat(defaults(noise).pausing()).as(noise.name()).isLessThanOrEqualTo(TRIALS * 2 / 5);
    }

    @ParameterizedTest
    @EnumSource(Noise.class)
    void aJobThatOutgrowsItsInstance_isCaughtBeforeItsOom(Noise noise) {
        // Peak 130% of the instance from a base of 40-80% of it: the OOM comes where the memory
        // crosses 4864 MiB; the trigger must fire before it in 90% of linear and 80% of pausing
        // trials (measured: all 400 of each, for every model).
        Counts c = defaults(noise);
        assertThat(c.caught()).as(noise.name()).isGreaterThanOrEqualTo(TRIALS * 9 / 10);
        assertThat(c.caughtPausing()).as(noise.name()).isGreaterThanOrEqualTo(TRIALS * 8 / 10);
    }
}
