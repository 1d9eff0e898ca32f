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
        // on the same 0.05 grid with the same tie rule, and the class prior (OTHER: c 0.6, sat 1) kept
        // where the fit does not earn its two parameters (BIC: n ln(RSS_fit / RSS_prior) + 2 ln n >= 0).
        // 200 apps of 3-50 noisy runs on the A100's five slot sizes: the same c and sat, and D to 1e-9.
        java.util.Random random = new java.util.Random(7);
        int[] sms = {14, 28, 42, 56, 98};
        int priorsKept = 0;
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
            double[] expected = leastSquaresOverEveryRun(obs, false);
            double[] prior = leastSquaresOverEveryRun(obs, true);
            if (!(runs * Math.log(expected[3] / prior[3]) + 2 * Math.log(runs) < 0)) {
                expected = prior;
                priorsKept++;
            }
            RuntimeExpectation e = r.expect(spec);
            if (!e.scalingKnown()) continue;
            assertThat(e.c()).as("app %d c", app).isEqualTo(expected[0]);
            assertThat(e.sat()).as("app %d sat", app).isEqualTo(expected[1]);
            assertThat(e.wholeGpuS()).as("app %d D", app).isCloseTo(expected[2], within(expected[2] * 1e-9));
        }
        assertThat(priorsKept).as("both outcomes of the criterion are met").isBetween(1, 199);
    }

    /**
     * {c, sat, D, error} minimising the squared log error over every run {ratio, wholeWorkS}, or with
     * {@code priorOnly} the same for the OTHER class prior (c 0.6, sat 1) alone.
     */
    private static double[] leastSquaresOverEveryRun(double[][] obs, boolean priorOnly) {
        double bestErr = Double.POSITIVE_INFINITY;
        double[] best = null;
        for (int ci = 0; ci <= 20; ci++) {
            for (int si = 1; si <= 20; si++) {
                double c = priorOnly ? 0.6 : ci * 0.05;
                double sat = priorOnly ? 1.0 : si * 0.05;
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
                    best = new double[] {c, sat, Math.exp(logD), err};
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

    /** The class median is read from kept order: it must be what sorting every value gives. */
    @Test
    void sortedDoubles_holdWhatASortGives_throughAddsAndRemoves() {
        var random = new java.util.Random(20261208);
        var kept = new LearnedRuntime.SortedDoubles();
        var all = new java.util.ArrayList<Double>();
        for (int step = 0; step < 5_000; step++) {
            if (!all.isEmpty() && random.nextInt(3) == 0) {
                double v = all.remove(random.nextInt(all.size()));
                kept.remove(v);
            } else {
                // Few distinct values, so that duplicates are common.
                double v = random.nextInt(50) * 0.5;
                all.add(v);
                kept.add(v);
            }
            double[] sorted = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            assertThat(kept.size()).isEqualTo(sorted.length);
            for (int i = 0; i < sorted.length; i++) assertThat(kept.at(i)).isEqualTo(sorted[i]);
        }
    }

    /**
     * {@code observe} looks only at applications due to move their bound; what it takes must be what
     * a pass over every running attempt at every round takes (the rule as stated on {@code observe}:
     * per application, the longest whole-GPU work shown, taken when above 1.1 times the last taken).
     * Random attempts of a few applications start, stop, resume from a share and finish.
     */
    @Test
    void runsStillGoing_takeWhatAPassOverEveryRunTakes() {
        var random = new java.util.Random(20261208);
        LearnedRuntime kept = new LearnedRuntime();
        record Run(String app, double ratio, double since, double share) {
        }
        var runs = new java.util.HashMap<String, Run>();
        var taken = new java.util.HashMap<String, Double>();
        var learned = new java.util.HashSet<String>();
        String[] apps = {"a", "b", "c", "d", "e", "f"};
        int[] slots = {14, 28, 42, 98, 108};
        double now = 0;
        int moves = 0;
        for (int step = 0; step < 20_000; step++) {
            now += random.nextInt(4) == 0 ? 0 : random.nextDouble() * 400;
            String id = "j" + random.nextInt(12);
            String app = apps[Math.floorMod(id.hashCode(), apps.length)];
            JobSpec job = Jobs.aJob(id).app(app).kind(JobClass.ML).build().spec();
            int op = random.nextInt(10);
            if (op < 3) {
                int sms = slots[random.nextInt(slots.length)];
                double share = random.nextInt(3) == 0 ? 0.5 * random.nextDouble() : 0;
                kept.running(job, sms, 108, now, share);
                if (!learned.contains(app)) runs.put(id, new Run(app, 108.0 / sms, now, share));
            } else if (op < 5) {
                kept.notRunning(job);
                runs.remove(id);
            } else if (op == 5 && random.nextInt(500) == 0) {
                kept.notRunning(job);
                runs.remove(id);
                kept.learn(job, 108, 108, 100 + random.nextDouble() * 1000, 1.0);
                kept.takeInvalidated(); // the learned application's own news, not a bound's
                learned.add(app);
                taken.remove(app);
                runs.values().removeIf(r -> r.app().equals(app));
            } else {
                kept.observe(now);
                var longest = new java.util.HashMap<String, Double>();
                for (Run r : runs.values()) {
                    if (!(now > r.since())) continue;
                    // The ML prior (c 0.6, sat 1.0): slow-down 0.4 + 0.6 * max(1, ratio).
                    double whole = (now - r.since()) / (0.4 + 0.6 * Math.max(1.0, r.ratio())) / (1 - r.share());
                    longest.merge(r.app(), whole, Math::max);
                }
                var moved = new java.util.HashSet<String>();
                longest.forEach((a, w) -> {
                    Double t = taken.get(a);
                    if (t == null || w > t * 1.1) {
                        taken.put(a, w);
                        moved.add(a);
                    }
                });
                var invalidated = new java.util.HashSet<>(kept.takeInvalidated());
                invalidated.removeIf(a -> !java.util.Arrays.asList(apps).contains(a));
                assertThat(invalidated).as("moved at step %d", step).isEqualTo(moved);
                moves += moved.size();
                for (String a : apps) {
                    if (learned.contains(a)) continue;
                    JobSpec sibling = Jobs.aJob("s").app(a).kind(JobClass.ML).build().spec();
                    Double t = taken.get(a);
                    double expected = t != null && t > LearnedRuntime.UNKNOWN_S ? t : LearnedRuntime.UNKNOWN_S;
                    assertThat(kept.expect(sibling).wholeGpuS()).as("%s at step %d", a, step).isEqualTo(expected);
                }
            }
        }
        assertThat(moves).as("the scenario moves bounds often").isGreaterThan(100);
    }

    /**
     * An application's own scaling replaces the class prior's only when it explains its runs better
     * than two parameters could by chance (BIC). Worked by hand, ML prior c 0.6, sat 1 (slow-down
     * 0.4 + 0.6 * 108/14 = 5.03 on 14 SMs, 1.06 on 98):
     * runs of 500 and 8,000 s on 14 SMs and 700 and 6,000 s on 98 have group log means 7.601 and
     * 7.626 (no sign of scaling) and within-group squared log spread 6.15; a fit can only remove the
     * groups' difference from its own line, the prior leaves about 2.5 more (8.65): 6.15 / 8.65 =
     * 0.71, above the 4^(-2/4) = 0.5 that 4 runs must reach, so the prior's scaling stays (counted as
     * measured: runs on two sizes do not refute it). Runs that follow c 0.9, sat 0.5 exactly are fitted.
     */
    @Test
    void ownScaling_replacesThePrior_onlyWhenTheRunsShowIt() {
        LearnedRuntime noisy = new LearnedRuntime();
        JobSpec pod = job("pod-shape", JobClass.ML);
        noisy.learn(pod, 14, 108, 500, 1.0);
        noisy.learn(pod, 14, 108, 8000, 1.0);
        noisy.learn(pod, 98, 108, 700, 1.0);
        noisy.learn(pod, 98, 108, 6000, 1.0);
        RuntimeExpectation kept = noisy.expect(pod);
        assertThat(kept.c()).isEqualTo(0.6);
        assertThat(kept.sat()).isEqualTo(1.0);
        assertThat(kept.scalingKnown()).isTrue();

        LearnedRuntime clean = new LearnedRuntime();
        JobSpec unet = job("unet", JobClass.ML);
        for (int sm : new int[] {14, 28, 42, 98}) {
            clean.learn(unet, sm, 108, 1000 * RuntimeExpectation.slowdown(0.9, 0.5, sm, 108), 1.0);
        }
        RuntimeExpectation fitted = clean.expect(unet);
        assertThat(fitted.c()).isCloseTo(0.9, within(1e-9));
        assertThat(fitted.sat()).isCloseTo(0.5, within(1e-9));
        assertThat(fitted.wholeGpuS()).isCloseTo(1000, within(1e-6));
    }
}
