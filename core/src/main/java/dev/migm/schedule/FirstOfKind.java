package dev.migm.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Which listed GPU comes first, in GPU order, among those of each kind: the GPUs a search that
 * passes over the listed ones and skips a kind met before would visit, kept as GPUs are listed,
 * moved between kinds and taken out, instead of found by that pass (on 4,096 GPUs it visited about
 * 1,200 for a few dozen kinds).
 *
 * <p>Contract: {@link #firsts()} holds exactly, for every kind with a listed GPU, its listed GPU of
 * least index; {@link #kindOf} is the kind a GPU is listed under, -1 when it is not listed. Kinds
 * are small non-negative numbers given by the caller. Owned by one policy; not thread-safe.
 */
final class FirstOfKind {
    private int[] kindOf = new int[0];
    private final List<BitSet> members = new ArrayList<>();
    private final BitSet firsts = new BitSet();

    /** Lists {@code gpu} under {@code kind}, or takes it out when {@code kind} is -1. */
    void list(int gpu, int kind) {
        if (gpu >= kindOf.length) {
            int old = kindOf.length;
            kindOf = Arrays.copyOf(kindOf, Math.max(gpu + 1, 2 * old));
            Arrays.fill(kindOf, old, kindOf.length, -1);
        }
        int was = kindOf[gpu];
        if (was == kind) return;
        if (was >= 0) {
            BitSet of = members.get(was);
            of.clear(gpu);
            if (firsts.get(gpu)) {
                firsts.clear(gpu);
                int next = of.nextSetBit(gpu + 1);
                if (next >= 0) firsts.set(next);
            }
        }
        if (kind >= 0) {
            while (members.size() <= kind) members.add(new BitSet());
            BitSet of = members.get(kind);
            int first = of.nextSetBit(0);
            of.set(gpu);
            if (first < 0 || gpu < first) {
                if (first >= 0) firsts.clear(first);
                firsts.set(gpu);
            }
        }
        kindOf[gpu] = kind;
    }

    /** The kind {@code gpu} is listed under; -1 when it is not listed. */
    int kindOf(int gpu) {
        return gpu < kindOf.length ? kindOf[gpu] : -1;
    }

    /** The first listed GPU of each kind (read-only for callers). */
    BitSet firsts() {
        return firsts;
    }

    /** The listed GPU of the kind after {@code gpu} in GPU order; -1 when none. */
    int nextOfKind(int kind, int gpu) {
        return kind < 0 || kind >= members.size() ? -1 : members.get(kind).nextSetBit(gpu + 1);
    }

    /** Takes every GPU out (the kinds' numbers are about to be given again). */
    void clear() {
        Arrays.fill(kindOf, -1);
        for (BitSet m : members) m.clear();
        firsts.clear();
    }
}
