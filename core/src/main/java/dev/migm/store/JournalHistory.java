package dev.migm.store;

import dev.migm.engine.JobClass;
import dev.migm.estimate.HistoryStore;
import dev.migm.estimate.InMemoryHistory;
import java.util.List;

/**
 * The {@code history} estimator's store on the node service: what the journal's {@code history}
 * table holds, read once at start, then kept current by the engine's {@code Learned} records, which
 * the journal commits before the estimators hear of them. Reads are served from memory (the
 * estimator asks on every estimate); an observation of a job and attempt already known (a journal
 * replayed after a crash) is counted once.
 */
public final class JournalHistory implements HistoryStore {
    private final InMemoryHistory memory;

    /** Loads every observation the journal holds, oldest first, keeping the last {@code limit} per application. */
    public JournalHistory(NodeJournal journal, int limit) {
        this.memory = new InMemoryHistory(limit);
        for (NodeJournal.Learned l : journal.learned(null)) {
            Kind kind = switch (l.what()) {
                case "completed" -> Kind.COMPLETED;
                case "oom" -> Kind.OOM;
                default -> Kind.PROJECTED;
            };
            memory.record(l.app(), JobClass.parse(l.jobClass()), new Observation(kind, l.mib(), l.slotMib(), 0,
                    l.jobId(), l.attempt()));
        }
    }

    @Override
    public void record(String app, JobClass jobClass, Observation observation) {
        memory.record(app, jobClass, observation);
    }

    @Override
    public List<Observation> growthObservations(JobClass jobClass) {
        return memory.growthObservations(jobClass);
    }

    @Override
    public List<Observation> observations(String app) {
        return memory.observations(app);
    }
}
