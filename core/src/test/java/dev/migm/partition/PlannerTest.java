package dev.migm.partition;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Layouts;
import dev.migm.gpu.Profile;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class PlannerTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");

    private Plan plan(String layout, String want) {
        return Planner.planFor(GpuState.parse(a100, layout), a100.profile(want));
    }

    @Test
    void idleInstanceOfTheProfile_isUsedWithoutOperations() {
        Plan p = plan("1g.5gb@0*,1g.5gb@1,3g.20gb@4", "1g.5gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.kind()).isEqualTo(Plan.Kind.USE_FREE);
            assertThat(ok.ops()).isEmpty();
            assertThat(ok.target()).map(Instance::toString).contains("1g.5gb@1");
        });
    }

    @Test
    void freeSlices_areUsedBeforeDestroyingAnything_atThePlacementThatKeepsTheLargestFreeRun() {
        // 3g.20gb@4* busy, slices 0-3 free. A 1g.5gb may go at 0,1,2,3: each leaves a run of 3 free
        // slices (e.g. @0 leaves 1-3; @1 leaves 0 and 2-3, run 2). Starts 0 and 3 tie at 3; lowest wins: @0.
        Plan p = plan("3g.20gb@4*", "1g.5gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.kind()).isEqualTo(Plan.Kind.CREATE);
            assertThat(ok.ops()).extracting(Object::toString).containsExactly("create 1g.5gb@0");
        });
    }

    @Test
    void fission_destroysOneIdleLargerInstance() {
        // 4g.20gb@0 idle, 3g.20gb@4 busy; a 2g.10gb can only start at 0, 2 (slices 4-5 are busy):
        // both overlap the 4g, so the plan is destroy 4g@0 + create 2g (2 ops). @0 leaves slices 2-3
        // free (run 2), @2 leaves 0-1 (run 2): tie, lowest start -> 2g.10gb@0.
        Plan p = plan("4g.20gb@0,3g.20gb@4*", "2g.10gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.kind()).isEqualTo(Plan.Kind.FISSION);
            assertThat(ok.ops()).extracting(Object::toString).containsExactly("destroy 4g.20gb@0", "create 2g.10gb@0");
            assertThat(ok.result().toString()).isEqualTo("2g.10gb@0,3g.20gb@4");
        });
    }

    @Test
    void fusion_destroysIdleSmallerNeighbours() {
        // 1g@0, 1g@1, 2g@2 idle, 3g@4 busy. 4g.20gb only at 0 (slices 0-3): destroy the three idle
        // instances there and create the 4g: 4 ops. 4g + 3g = 7 compute slices: legal.
        Plan p = plan("1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4*", "4g.20gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.kind()).isEqualTo(Plan.Kind.FUSION);
            assertThat(ok.operationCount()).isEqualTo(4);
            assertThat(ok.result().toString()).isEqualTo("4g.20gb@0,3g.20gb@4");
        });
    }

    @Test
    void fusion_prefersTheHalfWithFewerInstancesToDestroy() {
        // 3g.20gb can start at 0 or 4. Slices 0-3 hold 4 idle 1g (4 destroys + 1 create = 5 ops);
        // slices 4-7 hold one idle 2g.10gb@4 and 1g.10gb@6 (2 destroys + 1 create = 3 ops): start 4 wins.
        Plan p = plan("1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,2g.10gb@4,1g.10gb@6", "3g.20gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.operationCount()).isEqualTo(3);
            assertThat(ok.target()).map(Instance::toString).contains("3g.20gb@4");
        });
    }

    @Test
    void impossible_whenEveryPlacementHoldsABusyInstance_namingThem() {
        // 7g.40gb needs all 8 slices; 1g.5gb@3 is busy.
        Plan p = plan("1g.5gb@3*,2g.10gb@4", "7g.40gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Impossible.class, no -> {
            assertThat(no.reason()).contains("start 0 holds busy 1g.5gb@3");
            assertThat(no.blockers()).extracting(Object::toString).containsExactly("1g.5gb@3");
        });
        // 4g.20gb only at 0; 2g.10gb@2 busy blocks it (the example).
        assertThat(plan("1g.5gb@0,2g.10gb@2*,3g.20gb@4", "4g.20gb")).isInstanceOf(Plan.Impossible.class);
    }

    @Test
    void impossible_whenBusyInstancesExhaustTheProfileCount() {
        // 3g.20gb@0 and @4 both busy: no third 3g can exist (max 2) and no slice is free anyway.
        Plan p = plan("3g.20gb@0*,3g.20gb@4*", "3g.20gb");
        assertThat(p).isInstanceOf(Plan.Impossible.class);
    }

    @Test
    void computeLimit_forcesAnExtraDestroyOutsideTheTargetSlices() {
        // 4g.20gb@0 idle (4 compute slices), 2g.10gb@4 busy (2), 1g.5gb@6 idle (1): 7 of 7 used,
        // slice 7 free. Want 1g.5gb? an idle one exists -> use it. Want 1g.10gb (placements 0,2,4,6):
        // @6 overlaps 1g.5gb@6 (idle): destroy it, create 1g.10gb@6 -> compute 4+2+1 = 7: 2 ops.
        // @0/@2 overlap the 4g: destroy 4g, create -> 2 ops too, but leaves runs of 2 and so on:
        // @6 result 4g@0,2g@4,1g.10gb@6 has no free slice (run 0); @0 result leaves slices 2-3 free
        // (run 2) -> @0 wins by free run.
        Plan p = plan("4g.20gb@0,2g.10gb@4*,1g.5gb@6", "1g.10gb");
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.operationCount()).isEqualTo(2);
            assertThat(ok.target()).map(Instance::toString).contains("1g.10gb@0");
        });
    }

    @Test
    void transition_keepsBusyInstancesAndChangesOnlyTheRest() {
        // From 1g@0,1g@1,2g@2,3g@4* to 4g@0,3g@4: destroy the three idle small ones, create 4g: 4 ops.
        GpuState from = GpuState.parse(a100, "1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4*");
        Plan p = Planner.transition(from, Layout.parse(a100, "4g.20gb@0,3g.20gb@4"));
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> assertThat(ok.ops())
                .extracting(Object::toString)
                .containsExactly("destroy 1g.5gb@0", "destroy 1g.5gb@1", "destroy 2g.10gb@2", "create 4g.20gb@0"));
        Plan refused = Planner.transition(from, Layout.parse(a100, "7g.40gb@0"));
        assertThat(refused).isInstanceOfSatisfying(Plan.Impossible.class,
                no -> assertThat(no.reason()).contains("drops busy 3g.20gb@4"));
    }

    @Test
    void transitionToCounts_picksThePlacementNeedingFewestOperations() {
        // Want 2x1g.5gb + 1x3g.20gb while 1g.5gb@5 is busy: the 3g must go to 0 (slices 4-7 hold the
        // busy 1g), the second 1g anywhere in 4-7: from {1g@5*} that is create 3g@0 + create 1g: 2 ops.
        GpuState from = GpuState.parse(a100, "1g.5gb@5*");
        Plan p = Planner.transitionToCounts(from, Map.of(a100.profile("1g.5gb"), 2, a100.profile("3g.20gb"), 1));
        assertThat(p).isInstanceOfSatisfying(Plan.Possible.class, ok -> {
            assertThat(ok.operationCount()).isEqualTo(2);
            assertThat(ok.result().contains(new Instance(a100.profile("3g.20gb"), 0))).isTrue();
        });
    }

    /**
     * Seeded random oracle: on thousands of random legal layouts with random busy marks, every plan,
     * applied step by step, stays legal, yields an idle instance of the wanted profile, leaves busy
     * instances alone, and uses the fewest operations any legal layout allows; every "impossible"
     * is confirmed by brute force over all legal layouts.
     */
    @ParameterizedTest
    @ValueSource(strings = {"A100-40GB", "H100-80GB", "A30"})
    void randomLayouts_plansAreLegalMinimalAndImpossibleIsConfirmed(String gpuName) {
        GpuModel gpu = Catalog.builtin().get(gpuName);
        List<Layout> all = Layouts.all(gpu, false);
        for (long seed : new long[] {1, 2, 3}) {
            SplittableRandom random = new SplittableRandom(seed);
            for (int trial = 0; trial < 1000; trial++) {
                Layout layout = all.get(random.nextInt(all.size()));
                Set<Instance> busy = new HashSet<>();
                for (Instance i : layout.instances()) {
                    if (random.nextInt(3) == 0) busy.add(i);
                }
                GpuState state = new GpuState(layout, busy);
                Profile wanted = gpu.plainProfiles().get(random.nextInt(gpu.plainProfiles().size()));
                String ctx = gpuName + " seed " + seed + " trial " + trial + " state " + state + " want " + wanted;
                int bruteMin = bruteForceMinOps(all, state, wanted);
                Plan plan = Planner.planFor(state, wanted);
                if (plan instanceof Plan.Possible ok) {
                    Layout applied = apply(layout, ok, busy, ctx);
                    assertThat(applied).as(ctx).isEqualTo(ok.result());
                    assertThat(applied.instanceSet()).as(ctx).containsAll(busy);
                    Instance target = ok.target().orElseThrow();
                    assertThat(target.profile()).as(ctx).isEqualTo(wanted);
                    assertThat(applied.contains(target)).as(ctx).isTrue();
                    assertThat(busy).as(ctx).doesNotContain(target);
                    assertThat(ok.operationCount()).as(ctx).isEqualTo(bruteMin);
                } else {
                    assertThat(bruteMin).as(ctx + ": planner said impossible").isEqualTo(Integer.MAX_VALUE);
                }
            }
        }
    }

    /** Applies ops one at a time, each step building a (validating) Layout; destroys must be idle. */
    private static Layout apply(Layout layout, Plan.Possible plan, Set<Instance> busy, String ctx) {
        Layout current = layout;
        for (PlanOp op : plan.ops()) {
            switch (op) {
                case PlanOp.Destroy d -> {
                    assertThat(busy).as(ctx + ": destroys busy").doesNotContain(d.instance());
                    current = current.without(d.instance());
                }
                case PlanOp.Create c -> current = current.with(c.instance());
            }
        }
        return current;
    }

    /** Fewest ops over all legal layouts that keep busy instances and hold an idle wanted instance. */
    private static int bruteForceMinOps(List<Layout> all, GpuState state, Profile wanted) {
        Set<Instance> current = state.layout().instanceSet();
        int best = Integer.MAX_VALUE;
        for (Layout goal : all) {
            Set<Instance> g = goal.instanceSet();
            if (!g.containsAll(state.busy())) continue;
            boolean hasIdleWanted = goal.instances().stream()
                    .anyMatch(i -> i.profile().equals(wanted) && !state.busy().contains(i));
            if (!hasIdleWanted) continue;
            // ops to get from current to goal: destroy current\goal, create goal\current; but a goal
            // may hold extra creations the planner does not need, so count only what is necessary:
            // destroys of current\goal plus one create if no idle wanted instance survives.
            List<Instance> destroyed = new ArrayList<>(current);
            destroyed.removeAll(g);
            boolean survivingIdleWanted = current.stream().anyMatch(i -> g.contains(i)
                    && i.profile().equals(wanted) && !state.busy().contains(i));
            int ops = destroyed.size() + (survivingIdleWanted ? 0 : 1);
            best = Math.min(best, ops);
        }
        return best;
    }
}
