package dev.migm.engine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The jobs waiting for an attempt, in the policy's queue order ({@link SchedulingPolicy#queueOrder},
 * then arrival), and by application, so that what history learns re-estimates the waiting jobs it
 * concerns. A job enters with its need capped at the node's largest slot (or fails, when that need is
 * certain or the largest slot already ran out of memory) and its run-time expectation, journaled as
 * {@link EngineRecord.Queued}.
 */
final class WaitingQueue {
    final TreeSet<QueuedJob> waiting;
    /** Waiting jobs by application: re-estimated when the application's history changes. */
    private final Map<String, java.util.Set<Job>> byApp = new HashMap<>();
    private final EngineMoves engine;
    private final Clock clock;
    /** The largest memory any slot of the node offers ({@link NodeGpus#largestSlotMib}). */
    private final long largestSlotMib;
    private final MemoryPolicy memory;
    private final RuntimeEstimator runtime;

    WaitingQueue(EngineMoves engine, Clock clock, long largestSlotMib, SchedulingPolicy policy, MemoryPolicy memory,
                 RuntimeEstimator runtime) {
        this.engine = engine;
        this.clock = clock;
        this.largestSlotMib = largestSlotMib;
        this.memory = memory;
        this.runtime = runtime;
        this.waiting = new TreeSet<>(policy.queueOrder().thenComparingLong(QueuedJob::seq));
    }

    /** Puts a job in the queue for its attempt {@code attempt}, from {@code progress}, with its need as it stands. */
    void enqueue(Job job, int attempt, double progress) {
        if (job.need.mib() > largestSlotMib) {
            if (job.failedOnLargest || job.need.certain()) {
                engine.fail(job, "needs " + job.need.mib() + " MiB (" + job.need.source() + "); the largest instance any GPU"
                        + " can hold is " + largestSlotMib + " MiB");
                return;
            }
            // An estimate (with its margin, or a declaration) above the largest instance is no proof:
            // try the largest; an OOM there ends the job.
            job.need = new MemoryPolicy.Need(largestSlotMib, job.need.source() + ", capped at the largest instance");
        }
        RuntimeExpectation expected = runtime.expect(job.spec);
        engine.record(new EngineRecord.Queued(clock.nowS(), job.spec.id(), attempt, job.need.mib(), job.need.source(),
                job.need.certain(), progress, expected, job.lastReason));
        job.queued = new QueuedJob(job.spec, job.need.mib(), job.need.certain(), job.seq, attempt, progress,
                job.need.source(), clock.nowS(), expected, job.need.spread());
        waiting.add(job.queued);
        byApp.computeIfAbsent(job.spec.app(), a -> new java.util.LinkedHashSet<>()).add(job);
    }

    /**
     * What the engine learned (an OOM, an early restart, a completion) changes the estimates of the
     * waiting jobs of an application or of a whole class: they are estimated again. Keys are
     * application names or {@code class:} and a class name, from either estimator.
     */
    void reestimateInvalidated() {
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(memory.takeInvalidated());
        keys.addAll(runtime.takeInvalidated());
        for (String key : keys) {
            if (key.startsWith("class:")) {
                JobClass c = JobClass.parse(key.substring("class:".length()));
                for (java.util.Set<Job> fresh : List.copyOf(byApp.values())) {
                    reestimate(fresh, c);
                }
            } else {
                java.util.Set<Job> fresh = byApp.get(key);
                if (fresh != null) {
                    reestimate(fresh, null);
                }
            }
        }
    }

    /**
     * Estimates the waiting jobs in {@code waitingOfApp} again (only those of {@code onlyClass} if
     * given): the run time of every waiting job, the memory of first attempts (a retry's need comes
     * from its own failure).
     */
    private void reestimate(java.util.Set<Job> waitingOfApp, JobClass onlyClass) {
        for (Job job : List.copyOf(waitingOfApp)) {
            if (onlyClass != null && job.spec.jobClass() != onlyClass) {
                continue;
            }
            QueuedJob q = job.queued;
            MemoryPolicy.Need need = job.need;
            if (q.attempt() == 1) {
                try {
                    need = memory.initial(job.spec);
                } catch (RuntimeException e) {
                    // estimated once already: it keeps that estimate
                }
            }
            RuntimeExpectation expected = runtime.expect(job.spec);
            if (need.mib() == job.need.mib() && need.spread().equals(job.need.spread()) && expected.equals(q.runtime())) {
                continue;
            }
            waiting.remove(q);
            waitingOfApp.remove(job);
            job.need = need;
            enqueue(job, q.attempt(), q.progress());
        }
    }

    /** Takes a job out of the queue (placed, cancelled, failed). */
    Job take(QueuedJob queued, Map<String, Job> jobs) {
        if (!waiting.remove(queued)) {
            throw new IllegalStateException(queued.id() + " is not waiting");
        }
        Job job = jobs.get(queued.id());
        java.util.Set<Job> waitingOfApp = byApp.get(job.spec.app());
        if (waitingOfApp != null) {
            waitingOfApp.remove(job);
        }
        return job;
    }
}
