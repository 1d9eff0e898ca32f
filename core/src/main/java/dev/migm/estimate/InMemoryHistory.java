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
    /**
     * The lists handed out, kept until the next record of their application or class: the same
     * list object until something changes, so that readers may cache what they derive from it.
     */
    private final Map<String, List<Observation>> copies = new HashMap<>();
    private final Map<JobClass, List<Observation>> growthCopies = new HashMap<>();
    /** Job and attempt keys already recorded (bounded like the observations: the most recent). */
    private final java.util.LinkedHashSet<String> seen = new java.util.LinkedHashSet<>();

    /**
     * Keys remembered for de-duplication: a replay re-delivers recent attempts, and no run holds
     * more than this many attempts in flight or in its journal's unreplayed tail.
     */
    static final int SEEN_LIMIT = 1 << 20;

    public InMemoryHistory(int limit) {
        this.limit = limit;
    }

    @Override
    public void record(String app, JobClass jobClass, Observation observation) {
        if (!observation.jobId().isEmpty()) {
            if (!seen.add(observation.jobId() + "#" + observation.attempt())) {
                return;
            }
            if (seen.size() > SEEN_LIMIT) {
                seen.removeFirst();
            }
        }
        ArrayDeque<Observation> q = byApp.computeIfAbsent(app, a -> new ArrayDeque<>());
        copies.remove(app);
        q.addLast(observation);
        while (q.size() > limit) q.removeFirst();
        if (observation.kind() == Kind.COMPLETED && observation.startMib() > 0) {
            ArrayDeque<Observation> g = growthByClass.computeIfAbsent(jobClass, c -> new ArrayDeque<>());
            growthCopies.remove(jobClass);
            g.addLast(observation);
            while (g.size() > limit) g.removeFirst();
        }
    }

    @Override
    public List<Observation> growthObservations(JobClass jobClass) {
        ArrayDeque<Observation> q = growthByClass.get(jobClass);
        return q == null ? List.of() : growthCopies.computeIfAbsent(jobClass, c -> List.copyOf(q));
    }

    @Override
    public List<Observation> observations(String app) {
        ArrayDeque<Observation> q = byApp.get(app);
        return q == null ? List.of() : copies.computeIfAbsent(app, a -> List.copyOf(q));
    }
}
