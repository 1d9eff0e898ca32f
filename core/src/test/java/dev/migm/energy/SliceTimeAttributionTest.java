package dev.migm.energy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

final class SliceTimeAttributionTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");

    private static JobSpec job(String id) {
        return new JobSpec(id, 0, "app", JobClass.ML, OptionalLong.empty(), false);
    }

    @Test
    void eachJobGetsTheBoardEnergyByTheSliceSecondsItHeld_andTheIdleChipTheRest() {
        var layout = Layout.parse(a100, "1g.5gb@0,3g.20gb@4").instances();
        Slot oneG = Slot.of(0, layout.get(0));
        Slot threeG = Slot.of(0, layout.get(1));
        // Run 0..100 s on one A100 (7 compute slices): 700 slice-seconds offered, 7000 J measured.
        // a: 1g from 0 to 50 s = 50 slice-s -> 7000 * 50/700 = 500 J.
        // b: 3g from 10 to 100 s = 270 slice-s -> 2700 J (two attempts: 3g 10..40 and 40..100).
        // c: 1g launched at 90 s and still running at the end = 10 slice-s -> 100 J.
        // d: submitted, never launched -> 0 J. The idle chip: 7000 - 3300 = 3700 J.
        List<EngineRecord> records = List.of(
                new EngineRecord.Submitted(0, job("a")), new EngineRecord.Submitted(0, job("b")),
                new EngineRecord.Submitted(0, job("c")), new EngineRecord.Submitted(0, job("d")),
                new EngineRecord.AttemptLaunched(0, "a", 1, oneG, 0),
                new EngineRecord.AttemptLaunched(10, "b", 1, threeG, 0),
                new EngineRecord.AttemptExited(40, "b", 1, new Outcome.Crashed("test")),
                new EngineRecord.AttemptLaunched(40, "b", 2, threeG, 0),
                new EngineRecord.AttemptExited(50, "a", 1, new Outcome.Crashed("test")),
                new EngineRecord.AttemptLaunched(90, "c", 1, oneG, 0),
                new EngineRecord.AttemptExited(100, "b", 2, new Outcome.Crashed("test")));
        var r = SliceTimeAttribution.attribute(records, 0, 100, 7000, a100.computeSlices());
        assertThat(r.jobJoules().get("a")).isCloseTo(500, within(1e-9));
        assertThat(r.jobJoules().get("b")).isCloseTo(2700, within(1e-9));
        assertThat(r.jobJoules().get("c")).isCloseTo(100, within(1e-9));
        assertThat(r.jobJoules().get("d")).isZero();
        assertThat(r.unattributedJ()).isCloseTo(3700, within(1e-9));
    }
}
