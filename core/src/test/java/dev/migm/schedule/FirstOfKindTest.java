package dev.migm.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FirstOfKindTest {

    /** What a pass over every GPU finds: the least listed GPU of each kind. */
    private static BitSet firstsByPass(int[] kindOf) {
        BitSet firsts = new BitSet();
        BitSet seen = new BitSet();
        for (int g = 0; g < kindOf.length; g++) {
            if (kindOf[g] >= 0 && !seen.get(kindOf[g])) {
                seen.set(kindOf[g]);
                firsts.set(g);
            }
        }
        return firsts;
    }

    @Test
    void theFirstsAreWhatAPassFinds_throughListingsMovesTakingsOutAndClears() {
        Random random = new Random(20261208);
        FirstOfKind kept = new FirstOfKind();
        int gpus = 64;
        int[] kindOf = new int[gpus];
        java.util.Arrays.fill(kindOf, -1);
        for (int step = 0; step < 20_000; step++) {
            if (random.nextInt(5_000) == 0) {
                kept.clear();
                java.util.Arrays.fill(kindOf, -1);
            }
            int gpu = random.nextInt(gpus);
            // Few kinds, so that each has several GPUs and firsts move often.
            int kind = random.nextInt(6) - 1;
            kept.list(gpu, kind);
            kindOf[gpu] = kind;
            assertEquals(firstsByPass(kindOf), kept.firsts(), "after step " + step);
            assertEquals(kind, kept.kindOf(gpu));
            int after = random.nextInt(gpus);
            int probe = random.nextInt(5);
            int expected = -1;
            for (int g = after + 1; g < gpus; g++) {
                if (kindOf[g] == probe) {
                    expected = g;
                    break;
                }
            }
            assertEquals(expected, kept.nextOfKind(probe, after));
        }
    }
}
