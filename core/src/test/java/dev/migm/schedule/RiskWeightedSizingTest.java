package dev.migm.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.NeedSpread;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.RuntimeExpectation;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.sim.Jobs;
import org.junit.jupiter.api.Test;

/**
 * The policy weighs an instance by the chance the job outgrows it (its application's history), so
 * that a profile the job would likely outgrow late in its run is passed over.
 *
 * <p>A100-40GB: 14/42/56/98 SMs on 1g/3g/4g/7g of 108. A job that scales fully ({@code c = 1,
 * sat = 1}) and takes 1,000 s on the whole GPU costs, in slice-time of its scarcer resource:
 * 3g.20gb {@code 1000 * 108/42 * max(3/7, 4/8)} = 1,285.7; 4g.20gb {@code 1000 * 108/56 * 4/7} =
 * 1,102.0; 7g.40gb {@code 1000 * 108/98 * 1} = 1,102.0.
 */
final class RiskWeightedSizingTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final double C3 = 1000.0 * 108 / 42 * 0.5;
    private static final double C4 = 1000.0 * 108 / 56 * 4 / 7;
    private static final double C7 = 1000.0 * 108 / 98;

    private static QueuedJob job(NeedSpread spread) {
        return new QueuedJob(Jobs.aJob("j").app("llama-7b").build().spec(), 18_900, false, 0, 1, 0, "test", 0,
                RuntimeExpectation.certain(1000, 1.0, 1.0, "test"), spread);
    }

    private static final MigmPolicy POLICY = new MigmPolicy(19_968, MigmPolicy.DEFAULT_WHOLE_GPU_DELAY);

    @Test
    void withoutASpread_theCostIsTheSliceTime() {
        QueuedJob q = job(NeedSpread.NONE);
        assertThat(POLICY.cost(q, A100, A100.profile("3g.20gb"))).isCloseTo(C3, within(1e-6));
        assertThat(POLICY.cost(q, A100, A100.profile("4g.20gb"))).isCloseTo(C4, within(1e-6));
        // 3g.20gb is within the right-size slack (1.25 x 1,102.0 = 1,377.6) of the cheapest.
        assertThat(C3).isLessThan(MigmPolicy.DEFAULT_RIGHT_SIZE_SLACK * C4);
    }

    @Test
    void aGrowingApplicationLikelyToOutgrowTwentyGib_isSizedForTheLargerInstance() {
        // Four runs needed 16,000, 18,000, 22,000 and 26,000 MiB, starting from 14,000 (weights; the KV
        // cache grows). Above 19,968 MiB: 2 of 4, so (2 + 1/2) / (4 + 1) = 0.5. A run that needs 22,000
        // crosses 19,968 at (19,968 - 14,000) / (22,000 - 14,000) = 0.746 of its run, one that needs
        // 26,000 at 5,968 / 12,000 = 0.497: 0.6217 of the run lost on average.
        NeedSpread spread = new NeedSpread(new long[] {26_000, 16_000, 22_000, 18_000}, 14_000);
        assertThat(spread.exceeds(19_968)).isCloseTo(0.5, within(1e-12));
        double used = (5968.0 / 8000 + 5968.0 / 12000) / 2;
        assertThat(spread.shareRunBefore(19_968)).isCloseTo(used, within(1e-12));
        QueuedJob q = job(spread);
        // On a 20 GiB profile: half the time it fits (C), half it loses 0.6217 C and runs again on the
        // 7g.40gb, the largest (the chain ends there): E = 0.5 C + 0.5 * 0.6217 C + 0.5 * C7.
        double e4 = 0.5 * C4 + 0.5 * used * C4 + 0.5 * C7;
        double e3 = 0.5 * C3 + 0.5 * used * C3 + 0.5 * C7;
        assertThat(POLICY.cost(q, A100, A100.profile("4g.20gb"))).isCloseTo(e4, within(1e-6));
        assertThat(POLICY.cost(q, A100, A100.profile("3g.20gb"))).isCloseTo(e3, within(1e-6));
        assertThat(POLICY.cost(q, A100, A100.profile("7g.40gb"))).isCloseTo(C7, within(1e-6));
        // 1,444.6 and 1,593.5 against 1.25 x 1,102.0: only the 7g.40gb is right-sized now.
        assertThat(e4).isGreaterThan(MigmPolicy.DEFAULT_RIGHT_SIZE_SLACK * C7);
    }

    @Test
    void anApplicationThatHoldsItsPeakFromTheStart_losesSecondsToAnOom_andKeepsTheSmallInstance() {
        // The same needs, but every run starts at its peak's level (start 26,000 above the instance):
        // an OOM comes at once, nothing of the run is lost, E = 0.5 C4 + 0.5 C7 = C4 (C4 = C7 here).
        NeedSpread flat = new NeedSpread(new long[] {16_000, 18_000, 22_000, 26_000}, 26_000);
        assertThat(flat.shareRunBefore(19_968)).isZero();
        assertThat(POLICY.cost(job(flat), A100, A100.profile("4g.20gb"))).isCloseTo(0.5 * C4 + 0.5 * C7, within(1e-6));
        // Nothing known of how it grows: half the run.
        assertThat(new NeedSpread(new long[] {22_000}, 0).shareRunBefore(19_968)).isEqualTo(NeedSpread.UNKNOWN_SHARE_BEFORE);
        assertThat(NeedSpread.NONE.exceeds(1)).isZero();
    }
}
