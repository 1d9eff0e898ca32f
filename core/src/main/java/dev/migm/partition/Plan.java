package dev.migm.partition;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The outcome of planning, a value: either the ordered operations that reach the goal, or why no
 * plan exists. Plans are computed without side effects and applied elsewhere (by a backend), which
 * may still refuse them if the GPU changed meanwhile.
 */
public sealed interface Plan {

    /** How a plan yields its instance (paper, section "partition fusion and fission"). */
    enum Kind {
        /** An idle instance of the wanted profile already exists: no operation. */
        USE_FREE,
        /** The wanted instance is created in unoccupied slices. */
        CREATE,
        /** One idle larger instance is destroyed and the wanted one created in its slices. */
        FISSION,
        /** Idle smaller neighbours are destroyed to make room for a larger instance. */
        FUSION,
        /** A mix: instances of several sizes are destroyed. */
        REPACK,
        /** Layout-to-layout reconfiguration. */
        TRANSITION
    }

    /**
     * A plan that works.
     *
     * @param base   the layout it was made for: applied to any other, it is a conflict
     * @param ops    destroys first, then creates, in the order to apply them
     * @param target the idle instance of the wanted profile the plan yields (empty for transitions)
     * @param result the layout after the plan
     */
    record Possible(Layout base, Kind kind, List<PlanOp> ops, Optional<Instance> target, Layout result) implements Plan {
        public Possible {
            ops = List.copyOf(ops);
        }

        public int operationCount() {
            return ops.size();
        }



        @Override
        public String toString() {
            return kind + " " + (ops.isEmpty() ? "(no operation)" : ops) + target.map(t -> " -> " + t).orElse("");
        }
    }

    /**
     * No plan exists.
     *
     * @param reason   one line for people
     * @param blockers busy instances that stand in the way (empty when the GPU's rules forbid it outright)
     */
    record Impossible(String reason, Set<Instance> blockers) implements Plan {
        public Impossible {
            blockers = Set.copyOf(blockers);
        }

        @Override
        public String toString() {
            return "impossible: " + reason;
        }
    }
}
