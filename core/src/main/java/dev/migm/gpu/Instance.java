package dev.migm.gpu;

import dev.migm.io.InvalidInputException;

/**
 * A GPU instance of a profile placed at a memory-slice start. Written {@code 3g.20gb@4}.
 * Within one legal layout no two instances share a memory slice, so (profile, start) identifies
 * an instance.
 */
public record Instance(Profile profile, int start) implements Comparable<Instance> {
    public Instance {
        if (!profile.allowsStart(start)) {
            throw new InvalidInputException("profile " + profile + " cannot start at memory slice " + start
                    + " (legal starts: " + profile.starts() + ")");
        }
    }

    public Placement placement() {
        return new Placement(start, profile.memorySlices());
    }

    /** Occupied memory slices as a bit mask. */
    public long mask() {
        return ((1L << profile.memorySlices()) - 1) << start;
    }

    public boolean overlaps(Instance other) {
        return (mask() & other.mask()) != 0;
    }

    @Override
    public int compareTo(Instance o) {
        int c = Integer.compare(start, o.start);
        return c != 0 ? c : profile.compareTo(o.profile);
    }

    @Override
    public String toString() {
        return profile + "@" + start;
    }
}
