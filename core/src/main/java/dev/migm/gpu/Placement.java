package dev.migm.gpu;

/**
 * Where a GPU instance sits on the memory-slice axis, as NVML's {@code nvmlGpuInstancePlacement_t}:
 * {@code start} is the first occupied memory slice, {@code size} the number occupied.
 */
public record Placement(int start, int size) {
    public Placement {
        if (start < 0 || size <= 0 || start + size > 63) {
            throw new IllegalArgumentException("bad placement " + start + ":" + size);
        }
    }

    /** Exclusive end slice. */
    public int end() {
        return start + size;
    }

    /** The occupied memory slices as a bit mask (bit i = slice i). */
    public long mask() {
        return ((1L << size) - 1) << start;
    }

    public boolean overlaps(Placement other) {
        return (mask() & other.mask()) != 0;
    }

    /** nvidia-smi's {@code Start:Size} form. */
    @Override
    public String toString() {
        return start + ":" + size;
    }
}
