package dev.migm.virtual;

import dev.migm.engine.Slot;

/**
 * What a simulated or emulated GPU needs to hear from the executor that plays its processes: which
 * instance a process holds (so that destroying it is refused, like NVML's {@code NVML_ERROR_IN_USE})
 * and how much of the board's dynamic power it draws (models.md section 3). A real GPU sees its
 * processes itself; its backend ignores these calls.
 */
public interface GpuActivity {
    /** A process of {@code key} now holds the slot. */
    void processStarted(Slot slot, Object key);

    /** The process of {@code key} draws {@code dynamicShare} of the board's dynamic power (0 while it starts up). */
    void processActivity(int gpu, Object key, double dynamicShare);

    /** The process of {@code key} exited and released the slot. */
    void processExited(Slot slot, Object key);
}
