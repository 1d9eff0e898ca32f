package dev.migm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.RuntimeExpectation;
import dev.migm.sim.Jobs;
import org.junit.jupiter.api.Test;

/** Run times as a live system learns them (A100: 108 SMs whole, 14 on a 1g, 42 on a 3g, 98 on a 7g). */
final class LearnedRuntimeTest {
    private static JobSpec job(String app, JobClass c) {
        return Jobs.aJob("j").app(app).kind(c).build().spec();
    }

    @Test
    void nothingKnown_givesTheDefaultAndTheClassPrior_notGrounded() {
        RuntimeExpectation e = new LearnedRuntime().expect(job("bert", JobClass.ML));
        assertThat(e.wholeGpuS()).isEqualTo(LearnedRuntime.UNKNOWN_S);
        assertThat(e.grounded()).isFalse();
        assertThat(e.scalingKnown()).isFalse();
        assertThat(e.c()).isEqualTo(0.6);
        assertThat(e.sat()).isEqualTo(1.0);
        assertThat(new LearnedRuntime().expect(job("gromacs", JobClass.SCIENTIFIC)).c()).isEqualTo(0.89);
    }

    @Test
    void aDeclaredRunTime_isGroundedButMayBeTwiceTooLong() {
        // Half the declaration as the 5% quantile of a log-normal run time: spread ln 2 / 1.645.
        JobSpec declared = Jobs.aJob("j").app("bert").kind(JobClass.ML).expected(600).build().spec();
        RuntimeExpectation e = new LearnedRuntime().expect(declared);
        assertThat(e.wholeGpuS()).isEqualTo(600);
        assertThat(e.grounded()).isTrue();
        assertThat(e.logSpread()).isCloseTo(Math.log(2) / 1.645, within(1e-12));
    }

    @Test
    void runsOnOneSize_giveTheDurationThroughTheClassPrior() {
        // Two ML runs on a 1g (14 SMs) of 503 s and 1006 s. Prior c = 0.6, sat = 1: slow-down on a 1g
        // = 0.4 + 0.6 * 108/14 = 5.0286, so the whole-GPU durations are 100 and 200 s; their
        // geometric mean is 141.4 s. The same expectation gives back ~355.6 s on a 1g. The runs' log
        // spread around it is ln 2 / 2 = 0.347, below what two runs can rule out (ln 10 / 3.29 = 0.70).
        LearnedRuntime r = new LearnedRuntime();
        JobSpec bert = job("bert", JobClass.ML);
        r.learn(bert, 14, 108, 502.857, 1.0);
        r.learn(bert, 14, 108, 1005.714, 1.0);
        RuntimeExpectation e = r.expect(bert);
        assertThat(e.wholeGpuS()).isCloseTo(Math.sqrt(100 * 200), within(0.01));
        assertThat(e.grounded()).isTrue();
        assertThat(e.scalingKnown()).isFalse();
        assertThat(e.logSpread()).isCloseTo(Math.log(10) / (2 * 1.645), within(1e-12));
        assertThat(r.takeInvalidated()).contains("bert", "class:ml");
        // Another ML app with no history takes the class's median as a default, not grounded.
        RuntimeExpectation other = r.expect(job("vit", JobClass.ML));
        assertThat(other.wholeGpuS()).isCloseTo(Math.sqrt(100 * 200), within(0.01));
        assertThat(other.grounded()).isFalse();
    }

    @Test
    void runsOnTwoSizes_fitTheApplicationsOwnScaling() {
        // A kernel with c = 1, sat = 0.25 and 100 s of work: 100 * max(1, 0.25 * 108/14) = 192.9 s on
        // a 1g, 100 s on a 3g (0.25 * 108/42 < 1) and on a 7g. The fit finds a scaling that gives
        // back these times, and resumed work (half of it) counts double.
        LearnedRuntime r = new LearnedRuntime();
        JobSpec k = job("kernel", JobClass.OTHER);
        r.learn(k, 14, 108, 192.857, 1.0);
        r.learn(k, 42, 108, 100.0, 1.0);
        r.learn(k, 98, 108, 50.0, 0.5);
        RuntimeExpectation e = r.expect(k);
        assertThat(e.scalingKnown()).isTrue();
        assertThat(e.onSlotS(14, 108)).isCloseTo(192.857, within(2.0));
        assertThat(e.onSlotS(42, 108)).isCloseTo(100.0, within(2.0));
        assertThat(e.onSlotS(98, 108)).isCloseTo(100.0, within(2.0));
    }

    @Test
    void theGroupedFit_agreesWithLeastSquaresOverEveryRun() {
        // LearnedRuntime fits by slot-size groups; this is the textbook form, one residual per run,
        // on the same 0.05 grid with the same tie rule. 200 apps of 3-50 noisy runs on the A100's
        // five slot sizes: the same c and sat, and D to 1e-9.
        java.util.Random random = new java.util.Random(7);
        int[] sms = {14, 28, 42, 56, 98};
        for (int app = 0; app < 200; app++) {
            LearnedRuntime r = new LearnedRuntime();
            JobSpec spec = job("app" + app, JobClass.OTHER);
            double c = random.nextDouble();
            double sat = 0.05 + 0.95 * random.nextDouble();
            double d = 10 + 5000 * random.nextDouble();
            int runs = 3 + random.nextInt(48);
            double[][] obs = new double[runs][];
            for (int i = 0; i < runs; i++) {
                int sm = sms[random.nextInt(app % 3 == 0 ? 2 : sms.length)];
                double share = random.nextBoolean() ? 1.0 : 0.2 + 0.8 * random.nextDouble();
                double runS = d * RuntimeExpectation.slowdown(c, sat, sm, 108) * share * Math.exp(0.2 * random.nextGaussian());
                r.learn(spec, sm, 108, runS, share);
                obs[i] = new double[] {108.0 / sm, runS / share};
            }
            double[] expected = leastSquaresOverEveryRun(obs);
            RuntimeExpectation e = r.expect(spec);
            if (!e.scalingKnown()) continue;
            assertThat(e.c()).as("app %d c", app).isEqualTo(expected[0]);
            assertThat(e.sat()).as("app %d sat", app).isEqualTo(expected[1]);
            assertThat(e.wholeGpuS()).as("app %d D", app).isCloseTo(expected[2], within(expected[2] * 1e-9));
        }
    }

    /** {c, sat, D} minimising the squared log error over every run {ratio, wholeWorkS}. */
    private static double[] leastSquaresOverEveryRun(double[][] obs) {
        double bestErr = Double.POSITIVE_INFINITY;
        double[] best = null;
        for (int ci = 0; ci <= 20; ci++) {
            for (int si = 1; si <= 20; si++) {
                double c = ci * 0.05;
                double sat = si * 0.05;
                double logD = 0;
                for (double[] o : obs) logD += Math.log(o[1] / ((1 - c) + c * Math.max(1.0, sat * o[0])));
                logD /= obs.length;
                double err = 0;
                for (double[] o : obs) {
                    double res = Math.log(o[1]) - logD - Math.log((1 - c) + c * Math.max(1.0, sat * o[0]));
                    err += res * res;
                }
                if (err < bestErr - 1e-12) {
                    bestErr = err;
                    best = new double[] {c, sat, Math.exp(logD)};
                }
            }
        }
        return best;
    }

    @Test
    void anAttemptThatDidAlmostNoWork_teachesNothing() {
        LearnedRuntime r = new LearnedRuntime();
        JobSpec bert = job("bert", JobClass.ML);
        r.learn(bert, 14, 108, 5, 0.005);
        assertThat(r.expect(bert).grounded()).isFalse();
        assertThat(r.takeInvalidated()).isEmpty();
    }

    @Test
    void aRunStillGoing_isALowerBoundForItsWaitingSiblings_untilOneFinishes() {
        // An ML run on a 1g (14 of 108 SMs) from the start of its work: prior slow-down 5.0286
        // (0.4 + 0.6 * 108/14). After 36,000 s it has done at least 36,000 / 5.0286 = 7,159 s of
        // whole-GPU work: more than the 3,600 s default, so its siblings are expected to take that.
        LearnedRuntime r = new LearnedRuntime();
        JobSpec first = Jobs.aJob("q-1").app("qlora").kind(JobClass.ML).build().spec();
        JobSpec sibling = Jobs.aJob("q-2").app("qlora").kind(JobClass.ML).build().spec();
        r.running(first, 14, 108, 1000, 0);
        r.observe(1000 + 10_000);
        // 10,000 s on the 1g is 1,989 s of whole-GPU work: below the default, nothing changes.
        assertThat(r.expect(sibling).wholeGpuS()).isEqualTo(LearnedRuntime.UNKNOWN_S);
        r.takeInvalidated();
        r.observe(1000 + 36_000);
        assertThat(r.takeInvalidated()).containsExactly("qlora");
        RuntimeExpectation e = r.expect(sibling);
        assertThat(e.wholeGpuS()).isCloseTo(36_000 / (0.4 + 0.6 * 108.0 / 14), within(0.01));
        assertThat(e.grounded()).as("a bound is not a run time: elapsed time is not taken as progress").isFalse();
        assertThat(e.source()).contains("still going");
        // A little later is not news: the bound moves in steps of 10%, so siblings are re-ordered a
        // few dozen times over a run of hours, not at every round.
        r.observe(1000 + 37_000);
        assertThat(r.takeInvalidated()).isEmpty();
        // Resumed from half its work, 36,000 s more mean twice the whole: 14,318 s.
        r.notRunning(first);
        r.running(first, 14, 108, 50_000, 0.5);
        r.observe(50_000 + 36_000);
        assertThat(r.expect(sibling).wholeGpuS()).isCloseTo(2 * 36_000 / (0.4 + 0.6 * 108.0 / 14), within(0.01));
        // Its finished run is what the application learns from then on; the bound is gone.
        r.notRunning(first);
        r.learn(first, 14, 108, 40_000, 0.5);
        assertThat(r.expect(sibling).source()).startsWith("history of qlora");
        assertThat(r.expect(sibling).wholeGpuS()).isCloseTo(80_000 / (0.4 + 0.6 * 108.0 / 14), within(0.01));
    }

    @Test
    void aRunStillGoing_saysNothingOfAnApplicationWithHistory() {
        LearnedRuntime r = new LearnedRuntime();
        JobSpec a = Jobs.aJob("a-1").app("bert").kind(JobClass.ML).build().spec();
        r.learn(a, 108, 108, 100, 1.0);
        JobSpec b = Jobs.aJob("a-2").app("bert").kind(JobClass.ML).build().spec();
        r.running(b, 108, 108, 0, 0);
        r.takeInvalidated();
        r.observe(10_000);
        assertThat(r.takeInvalidated()).isEmpty();
        assertThat(r.expect(b).wholeGpuS()).isCloseTo(100, within(1e-9));
    }
}
