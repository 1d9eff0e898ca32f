package dev.migm.workload;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The one door to the simulated world's truth: each job's {@link WorkloadModel} by job id. Held by
 * the model executor, which plays the jobs, by the oracle estimators ({@code --estimate oracle}),
 * and by the simulator's own accounting (wasted work, false early restarts). Nothing that decides
 * (engine, policies, the other estimators) is given it: {@code PackageRulesTest} checks the sources
 * (only the oracle estimators among the deciding code use this package), and {@code HiddenTruthTest}
 * checks the behaviour (perturbing one job's truth changes no decision before the world shows it).
 */
public final class Truth {
    private final Map<String, WorkloadModel> models;

    private Truth(Map<String, WorkloadModel> models) {
        this.models = models;
    }

    public static Truth of(Collection<TraceJob> jobs) {
        Map<String, WorkloadModel> m = new HashMap<>(jobs.size() * 2);
        for (TraceJob j : jobs) {
            if (m.put(j.id(), j.model()) != null) {
                throw new IllegalArgumentException("duplicate job id " + j.id());
            }
        }
        return new Truth(m);
    }

    /** An empty truth, filled as a streamed trace's jobs arrive ({@link #admit}) and emptied as they end. */
    public static Truth streaming() {
        return new Truth(new HashMap<>());
    }

    /** A job that arrived: its model is known from now on. */
    public void admit(TraceJob job) {
        if (models.put(job.id(), job.model()) != null) {
            throw new IllegalArgumentException("duplicate job id " + job.id());
        }
    }

    /** A job that ended: nothing asks for its model again. */
    public void forget(String jobId) {
        models.remove(jobId);
    }

    /** The model of a job of the trace; a job the trace does not hold is a bug of the caller. */
    public WorkloadModel of(String jobId) {
        WorkloadModel m = models.get(jobId);
        if (m == null) throw new IllegalArgumentException("no workload model for job " + jobId);
        return m;
    }
}
