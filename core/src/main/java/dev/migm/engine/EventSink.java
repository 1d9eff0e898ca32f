package dev.migm.engine;

/** Where backends and executors report events to the engine. */
@FunctionalInterface
public interface EventSink {
    void deliver(EngineEvent event);
}
