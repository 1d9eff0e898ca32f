package dev.migm.estimate;

import dev.migm.engine.JobClass;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A {@link HistoryStore} in memory, keeping the last {@code limit} observations per application. */
public final class InMemoryHistory implements HistoryStore {
    private final int limit;
    private final Map<String, ArrayDeque<Observation>> byApp = new HashMap<>();
    private final Map<JobClass, ArrayDeque<Observation>> growthByClass = new HashMap<>();

    public InMemoryHistory(int limit) {
        this.limit = limit;
    }

    @Override
    public void record(String app, JobClass jobClass, Observation observation) {
        ArrayDeque<Observation> q = byApp.computeIfAbsent(app, a -> new ArrayDeque<>());
        q.addLast(observation);
        while (q.size() > limit) q.removeFirst();
        if (observation.kind() == Kind.COMPLETED && observation.startMib() > 0) {
            ArrayDeque<Observation> g = growthByClass.computeIfAbsent(jobClass, c -> new ArrayDeque<>());
            g.addLast(observation);
            while (g.size() > limit) g.removeFirst();
        }
    }

    @Override
    public List<Observation> growthObservations(JobClass jobClass) {
        ArrayDeque<Observation> q = growthByClass.get(jobClass);
        return q == null ? List.of() : List.copyOf(q);
    }

    @Override
    public List<Observation> observations(String app) {
        ArrayDeque<Observation> q = byApp.get(app);
        return q == null ? List.of() : List.copyOf(q);
    }
}
