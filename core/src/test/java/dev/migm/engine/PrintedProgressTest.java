package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Progress a job says now and then, not at every sample: the monitor pairs each memory sample with
 * the share the job had when the sample was taken ({@link ReportedProgress#ageS}).
 */
final class PrintedProgressTest {
    /*
     * The job of every case: it holds 4,000 MiB at its start and grows to 16,000 MiB at its end, 1,000 s
     * later: 12 MiB and 0.1% of its work a second. On a 10,000 MiB instance (the largest holds 40,000)
     * it would run out at 500 s. Memory is sampled every second.
     */
    private static long memoryAt(double t) {
        return Math.round(4000 + 12 * t);
    }

    private static AttemptMonitor monitor() {
        AttemptMonitor m = new AttemptMonitor(EarlyRestart.DEFAULT, 10_000, 40_000, 0, true, 1000, 0.5, 1, false);
        m.runningSinceS = 0;
        return m;
    }

    /** The sample at {@code t} of a job that prints its share every {@code everyS} from its start. */
    private static Optional<ReportedProgress> printedEvery(double everyS, double t) {
        double saidAt = Math.floor(t / everyS) * everyS;
        return Optional.of(new ReportedProgress(saidAt / 1000, t - saidAt));
    }

    /** Where a fresh monitor first fires on the job's samples (second {@code at}, the peak it restarts for). */
    private record Fired(int at, long mib) {
    }

    /** The job sampled each second until the monitor fires or the job would crash (500 s). */
    private static Fired firstFiring(java.util.function.IntFunction<Optional<ReportedProgress>> progressAt) {
        AttemptMonitor m = monitor();
        for (int t = 1; t < 500; t++) {
            long fired = m.judge(t, memoryAt(t), progressAt.apply(t));
            if (fired > 0) return new Fired(t, fired);
        }
        return new Fired(500, 0);
    }

    @Test
    void aJobThatPrintsEveryHundredSeconds_isRestartedForThePeakItWillReach() {
        Fired f = firstFiring(t -> printedEvery(100, t));
        // Its second line (100 s) gives its rate, 0.1% a second; from then on each sample's share is
        // the last line's carried forward at that rate, exact here, so the window's line is the job's:
        // 16,000 MiB at its end. It fires once the window holds 10 samples spanning 2% of the work
        // (EarlyRestart.DEFAULT): 100 s + 20 s, long before the crash at 500 s.
        assertThat(f.mib()).isBetween(15_900L, 16_100L);
        assertThat(f.at()).isBetween(119, 125);
    }

    @Test
    void theSameLines_readAsIfPrintedWhenRead_fireLaterAndLow() {
        // What migm did when a line was stamped when it was read: a sample pairs its memory with the
        // share of the last line, up to 100 s old. Each 100 s the samples stand in a column at one
        // share (10%: 5,212 to 6,388 MiB), half an interval ahead of it on average, and the window's
        // halves give no slope within a column: measured here, the trigger fires at 247 s, not 120 s,
        // for 14,769 MiB, 7.7% under the 16,000 MiB the job reaches.
        Fired f = firstFiring(t -> Optional.of(ReportedProgress.now(Math.floor(t / 100.0) * 100 / 1000)));
        assertThat(f.at()).isGreaterThan(200);
        assertThat(f.mib()).isLessThan(15_200L);
    }

    @Test
    void aSingleStaleLine_pairsWithNoSample_andALineSaidAtTheSampleIsTakenAsItIs() {
        AttemptMonitor m = monitor();
        // Before its second line nothing says how fast it goes: no sample is taken against progress.
        for (int t = 1; t < 100; t++) assertThat(m.judge(t, memoryAt(t), printedEvery(100, t))).isZero();
        // A job that says its progress at every sample (age 0) is read exactly as said, from its
        // first sample: it fires as soon as the window allows, 10 samples spanning 2% (20 s).
        Fired f = firstFiring(t -> Optional.of(ReportedProgress.now(t / 1000.0)));
        assertThat(f.mib()).isBetween(15_900L, 16_100L);
        assertThat(f.at()).isBetween(20, 25);
    }
}
