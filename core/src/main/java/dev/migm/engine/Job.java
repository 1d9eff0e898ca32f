package dev.migm.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A job as the engine holds it: its spec, its {@link JobStatus} (moved only by the records the engine
 * journals, through {@link JobTransitions}), its place in the queue, its attempts, and what the
 * engine tracks of the current one ({@link AttemptMonitor}). Owned by the engine, on its thread.
 */
final class Job {
    final JobSpec spec;
    /** Arrival order (ties in submit time keep it). */
    final long seq;
    final List<Attempt> attempts = new ArrayList<>();
    /** Where it is, as the records journaled so far say. */
    JobStatus status = JobStatus.SUBMITTED;
    /** Its entry in the queue (the last one, once placed). */
    QueuedJob queued;
    /** The attempt that holds or is about to hold an instance; null between attempts. */
    Attempt current;
    /** What the current attempt watches; null before the first launch. */
    AttemptMonitor monitor;
    MemoryPolicy.Need need;
    double firstLaunchS = Double.NaN;
    double endS = Double.NaN;
    /** When the current attempt is expected to release its instance (policies read it). */
    double expectedEndS;
    /** Past {@link #expectedEndS}: when the attempt is expected to end given its age (NodeGpu's estimate, kept until it passes). */
    double endGivenAgeS = Double.NEGATIVE_INFINITY;
    double heldSliceSeconds;
    boolean stopRequested;
    /** The current attempt reached the job's time limit and was stopped: its exit fails the job. */
    boolean timedOut;
    /** Moved once to a larger instance at the tail of a batch ({@link TailGrowth}): never again. */
    boolean grown;
    /**
     * Stopped once at its checkpoint to give its slices to a waiting job ({@link SchedulingContext#preempt}):
     * never again, so that no run is stopped over and over.
     */
    boolean yielded;
    /** Runs were stopped for it: it yields to nobody in turn (stops do not chain). */
    boolean yieldedTo;
    /** The step of the latest checkpoint the job wrote (0: none): where its next attempt resumes. */
    long checkpointStep;
    /** The projected peak the current attempt was restarted early for (0: none). */
    long projectedMib;
    /** Who asked to cancel it while it was placed or running (null: nobody). */
    String cancelledBy;
    /** Ran out of memory on the largest instance: no estimate can help any more. */
    boolean failedOnLargest;
    int ooms;
    /** Why it is where it is, as the next record will say ("" when nothing went wrong). */
    String lastReason = "";

    Job(JobSpec spec, long seq) {
        this.spec = spec;
        this.seq = seq;
    }

    /**
     * The attempts the job may make before it fails for good: the limit, plus the attempts migm
     * stopped for its own scheduling (a move, a yield), which are no fault of the job.
     */
    int attemptBudget(int limit) {
        return limit + (grown ? 1 : 0) + (yielded ? 1 : 0);
    }

    JobState state() {
        return status.state();
    }

    JobView view() {
        return new JobView(spec, state(), attempts, firstLaunchS, endS, heldSliceSeconds, ooms, lastReason,
                need == null ? 0 : need.mib(), need == null ? "" : need.source());
    }
}
