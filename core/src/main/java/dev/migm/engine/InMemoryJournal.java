package dev.migm.engine;

import java.util.ArrayList;
import java.util.List;

/** A {@link Journal} in memory: the simulator's and the tests'. */
public final class InMemoryJournal implements Journal {
    private final List<EngineRecord> records = new ArrayList<>();

    @Override
    public void append(EngineRecord record) {
        records.add(record);
    }

    /** The records so far, oldest first. */
    public List<EngineRecord> records() {
        return List.copyOf(records);
    }
}
