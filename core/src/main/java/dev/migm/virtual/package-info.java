/**
 * The simulated world's clock and seams, which only it uses: {@link dev.migm.virtual.VirtualTime}
 * (the simulator's clock and event queue), {@link dev.migm.virtual.GpuActivity} (what a modelled
 * process tells the simulated or emulated GPU it runs on) and {@link dev.migm.virtual.KeptSequence}
 * (the samples a model executor judges ahead). The engine does not see them; the simulator, the
 * model executor and the simulated and emulated backends do.
 */
package dev.migm.virtual;
