package dev.migm.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.sim.Jobs;
import org.junit.jupiter.api.Test;

final class RuntimeModelTest {
    @Test
    void runtime_followsTheAmdahlSaturationModelOnA100Sms() {
        // duration 100 s, c = 0.6, sat = 1, SM_full = 108 (A100):
        //   1g (14 SM): 100 * (0.4 + 0.6 * 108/14) = 100 * (0.4 + 4.62857) = 502.857 s
        //   7g (98 SM): 100 * (0.4 + 0.6 * 108/98) = 100 * (0.4 + 0.66122) = 106.122 s
        //   MIG off (108 SM): 100 * (0.4 + 0.6 * 1) = 100 s
        WorkloadModel job = Jobs.aJob("a").duration(100).scaling(0.6, 1).build().model();
        assertThat(RuntimeModel.runtimeS(job, 14, 108)).isCloseTo(502.857, within(1e-3));
        assertThat(RuntimeModel.runtimeS(job, 98, 108)).isCloseTo(106.122, within(1e-3));
        assertThat(RuntimeModel.runtimeS(job, 108, 108)).isCloseTo(100.0, within(1e-9));
    }

    @Test
    void runtime_ofASaturatedJobIsFlatAboveItsSaturationPoint() {
        // sat = 0.1: 0.1 * 108 = 10.8 SMs suffice, so 14 SMs (1g) already run at full speed.
        WorkloadModel job = Jobs.aJob("a").duration(50).scaling(1, 0.1).build().model();
        assertThat(RuntimeModel.runtimeS(job, 14, 108)).isEqualTo(50.0);
    }

    @Test
    void memory_growsLinearlyAndTheOomPointIsWhereItPassesTheLimit() {
        // base 4000, peak 6000: at progress 0.5 it holds 5000; a 4864 MiB slot is passed at
        // (4864 - 4000) / 2000 = 0.432.
        WorkloadModel job = Jobs.aJob("a").memory(4000, 6000).build().model();
        assertThat(RuntimeModel.memoryMibAt(job, 0.5)).isEqualTo(5000.0);
        assertThat(RuntimeModel.progressExceeding(job, 4864)).isCloseTo(0.432, within(1e-12));
        assertThat(RuntimeModel.progressExceeding(job, 6000)).isNaN();
        assertThat(RuntimeModel.progressExceeding(job, 3000)).isZero();
    }

    @Test
    void lastCheckpoint_roundsDownToTheInterval() {
        // duration 100, checkpoint every 30 s of work: checkpoints at progress 0.3, 0.6, 0.9.
        WorkloadModel job = Jobs.aJob("a").duration(100).checkpoint(30).build().model();
        assertThat(RuntimeModel.lastCheckpoint(job, 0.75)).isCloseTo(0.6, within(1e-12));
        assertThat(RuntimeModel.lastCheckpoint(job, 0.29)).isZero();
        assertThat(RuntimeModel.lastCheckpoint(Jobs.aJob("b").build().model(), 0.75)).isZero();
    }
}
