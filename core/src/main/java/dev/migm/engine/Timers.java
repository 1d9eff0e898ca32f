package dev.migm.engine;

/**
 * Time as a seam: the engine's clock and its alarms. Virtual in the simulator (events in time
 * order), monotonic live. An alarm delivers its event to the sink on the engine's own thread, like
 * any other event, so that time-based decisions (a reservation's deadline, a reconfiguration or a
 * launch that never answers) wake the engine without anything else happening.
 */
public interface Timers extends Clock {
    /** Delivers {@code event} to {@code sink} at {@code atS} (now if it is past). */
    void at(double atS, EngineEvent event, EventSink sink);
}
