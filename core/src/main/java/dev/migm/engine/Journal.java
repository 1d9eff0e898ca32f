package dev.migm.engine;

/**
 * Where the engine writes its {@link EngineRecord}s, in order, before it acts on them. The
 * simulator keeps them in memory (or drops them, for speed at scale); the node service commits
 * them to SQLite.
 */
@FunctionalInterface
public interface Journal {
    /** Drops every record: simulations that need no record. */
    Journal NONE = record -> { };

    void append(EngineRecord record);
}
