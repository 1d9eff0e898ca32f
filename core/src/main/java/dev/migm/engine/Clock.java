package dev.migm.engine;

/** The engine's time in seconds: virtual in the simulator, the system clock live. */
@FunctionalInterface
public interface Clock {
    double nowS();

    /** Wall-clock time in seconds since the epoch. */
    static Clock system() {
        return () -> System.currentTimeMillis() / 1000.0;
    }
}
