package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Records in words: what a person reads in events.log and migm show. */
final class RecordTextTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    @Test
    void aPlan_saysWhetherItFusesOrSplits() {
        Layout two = Layout.parse(A100, "1g.5gb@4,1g.5gb@5");
        Layout fused = Layout.parse(A100, "2g.10gb@4");
        assertThat(RecordText.change(two, fused)).isEqualTo("fused 1g.5gb@4,1g.5gb@5 into 2g.10gb@4");
        assertThat(RecordText.change(fused, two)).isEqualTo("split 2g.10gb@4 into 1g.5gb@4,1g.5gb@5");
        // Neither: the instances destroyed and those created, named.
        assertThat(RecordText.change(Layout.parse(A100, "1g.5gb@0"), Layout.parse(A100, "1g.5gb@6")))
                .isEqualTo("destroy 1g.5gb@0, create 1g.5gb@6");
    }

    @Test
    void aResumedAttempt_namesTheStepOfItsCheckpoint() {
        Slot slot = Slot.of(0, Layout.parse(A100, "2g.10gb@4").instances().getFirst());
        assertThat(RecordText.describe(new EngineRecord.AttemptLaunched(5, "7", 2, slot, 0.4, OptionalLong.of(120))))
                .isEqualTo("7 attempt 2 launched on gpu0:2g.10gb@4, resumed from its checkpoint at step 120 (about 40% of its work)");
        // A record of a migm that did not say the step: the share alone.
        assertThat(RecordText.describe(new EngineRecord.AttemptLaunched(5, "7", 2, slot, 0.4, OptionalLong.empty())))
                .isEqualTo("7 attempt 2 launched on gpu0:2g.10gb@4, resumed from its checkpoint at 40% of its work");
        assertThat(RecordText.describe(new EngineRecord.AttemptLaunched(5, "7", 1, slot, 0, OptionalLong.empty())))
                .isEqualTo("7 attempt 1 launched on gpu0:2g.10gb@4");
    }
}
