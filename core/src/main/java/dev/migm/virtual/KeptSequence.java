package dev.migm.virtual;

/**
 * The sample numbers {@link dev.migm.engine.EarlyRestart#keeps} keeps, in order, each in a few additions: within a
 * stretch of equal stride the next is one stride on; a stretch ends at the next one's start,
 * where the stride doubles (a sampler that walks every kept sample of an attempt).
 */
public final class KeptSequence {
    private long next;
    private long stride = 1;
    private long stretchEnd;

    public KeptSequence(int window) {
        this.stretchEnd = 2L * window;
    }

    /** The next kept sample number (from 0). */
    public long take() {
        long taken = next;
        next += stride;
        if (next >= stretchEnd) {
            next = stretchEnd;
            stride <<= 1;
            stretchEnd <<= 1;
        }
        return taken;
    }
}
