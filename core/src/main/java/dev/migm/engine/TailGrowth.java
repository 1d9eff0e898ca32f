package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The tail of a batch: when nothing waits, a run that checkpoints moves to a larger instance where it
 * is expected to finish sooner. A batch without run times ends on whatever started last, and a run
 * much longer than its application's others (one resnet50 run of 6,232 s among runs of 400-800 s in
 * the ml suite) ends it alone on a small instance while the rest of the GPU idles. Nothing a live
 * node knows says at its start that it is long; once it has outlived its history, it says so itself.
 *
 * <p>Only in a batch whose input is all in ({@link EngineEvent.InputClosed} at the time of the first
 * submission: {@code migm run} of a file without arrival times, a simulated batch; never the node
 * service, which cannot know that nothing more comes): on online traces, runs moved while jobs still
 * arrived took the slices the next arrivals needed (20,000 jobs on 64 GPUs: mean JCT +2.8%; 100,000 on
 * 4,096: makespan +16%), and even moved only after the last arrival they cost more than they gave
 * (100,000 on 4,096: +2.4%; BENCHMARKS.md section 25).
 *
 * <p>The rule, for each running attempt of a job that checkpoints on the stop signal, whose
 * application's scaling was measured, alone on a GPU with MIG on and nothing in flight, with no job
 * waiting (the slices it would take serve nobody else), once per job:
 * <ul>
 *   <li>Time left where it is, {@code R}: the median of its run time's log-normal given that it runs
 *       at its age {@code x} ({@link AttemptMonitor#remainingS}); past the distribution's
 *       {@value AttemptMonitor#OUTLIVED} tail the run is not the one its history describes, and {@code R = x}, the
 *       median remaining life of a run of unknown length at age {@code x} (a scale-free prior,
 *       Gott's delta-t argument: {@code P(T > 2x | T > x) = 1/2}).</li>
 *   <li>Time left on the largest instance that could hold it once its own is destroyed (the other
 *       runs' instances stay): the share of work left, at the learned scaling there, plus the
 *       start-up a restart pays.</li>
 *   <li>Move when that is at most {@code (1 - gain) R}: {@code gain} is the margin the learned
 *       scaling must clear ({@link #GAIN}).</li>
 * </ul>
 * Each move is journaled as a stop with its reason; the job's next attempt resumes from its
 * checkpoint and, alone in the queue, takes the placement that finishes it first (MigmPolicy).
 */
final class TailGrowth {
    /**
     * The share of the expected time left a move must save: the learned scaling's error (fitted on a
     * few runs of other sizes) must not turn a move into a loss. Swept with the rule's first, broader
     * version on the bundled suites and the ten held-back traces (BENCHMARKS.md section 25): 0.1 and
     * 0.2 moved the same runs, 0 one more (0.3% on one trace); 0.2 keeps the margin.
     */
    static final double GAIN = 0.2;
    private final AttemptWatch watch;
    /**
     * The running attempts the rule may move (their jobs checkpoint, their scaling is measured, they
     * were not moved before), so that a round with nothing waiting looks at these, not at every GPU:
     * a node of 4,096 GPUs has an empty queue after most events of a light load.
     */
    private final java.util.Set<Job> candidates = new java.util.LinkedHashSet<>();
    /** When the rule looks next: at most every {@link #LOOK_EVERY_S}, however many events come between. */
    private double nextLookS = Double.NEGATIVE_INFINITY;
    /**
     * Seconds between two looks. A move saves a share of a run's time left, which is worth moving
     * only when it is long (minutes and more); a look costs a pass over the candidates, and on a node
     * of thousands of GPUs with an empty queue a round comes with nearly every event.
     */
    static final double LOOK_EVERY_S = 30;

    TailGrowth(AttemptWatch watch) {
        this.watch = watch;
    }

    /** The job's attempt runs: a candidate if the rule could ever move it. */
    void running(Job job) {
        RuntimeExpectation r = job.queued.runtime();
        if (!job.grown && job.spec.checkpoints() && r.scalingKnown() && r.grounded()) candidates.add(job);
    }

    /** The job's attempt ended (or was stopped): no longer a candidate. */
    void ended(Job job) {
        candidates.remove(job);
    }

    /**
     * With nothing waiting, moves at most one run (a second would not be alone in the queue, and the
     * policy sizes a queue of several by slice-time, not by speed); returns the time at which to look
     * again (infinity: nothing to look at).
     */
    double consider(List<NodeGpu> gpus, double nowS, double startupS) {
        if (candidates.isEmpty() || nowS < nextLookS) return nextLookS;
        nextLookS = nowS + LOOK_EVERY_S;
        double again = Double.POSITIVE_INFINITY;
        for (Job job : List.copyOf(candidates)) {
            if (job.grown || job.current == null || job.state() != JobState.RUNNING) {
                candidates.remove(job);
                continue;
            }
            if (job.stopRequested || job.monitor == null || Double.isNaN(job.monitor.runningSinceS)
                    || job.current.slot().instance().isEmpty()) {
                continue;
            }
            NodeGpu gpu = gpus.get(job.current.slot().gpu());
            if (!gpu.migEnabled || gpu.reconfiguring || gpu.draining || gpu.lost || gpu.changingMigMode()
                    || gpu.occupants.size() != 1) {
                continue;
            }
            RuntimeExpectation r = job.queued.runtime();
            Instance here = job.current.slot().instance().get();
            Optional<Profile> larger = fastestAfterMove(gpu, here, Math.max(job.need.mib(), job.monitor.observedPeakMib), r);
            if (larger.isEmpty()) continue;
            double age = nowS - job.monitor.runningSinceS;
            double left = job.monitor.remainingS(age);
            double hereS = r.onSlotS(here.profile().sms(), gpu.model.sms());
            double thereS = r.onSlotS(larger.get().sms(), gpu.model.sms());
            double movedS = left * thereS / hereS + startupS;
            if (movedS <= (1 - GAIN) * left) {
                job.grown = true;
                candidates.remove(job);
                watch.grow(job, String.format(Locale.ROOT, "nothing waits: expected %.0f s left on %s, %.0f s on %s",
                        left, here.profile().name(), movedS, larger.get().name()));
                return nowS;
            }
            // Looked at again when its age has grown by a tenth (the rule's terms move with it).
            again = Math.min(again, nowS + Math.max(LOOK_EVERY_S, age / 10));
        }
        return again;
    }

    /**
     * The fastest plain profile (most SMs) that holds {@code needMib} and could be created on the GPU
     * once {@code here} is destroyed, the other occupied instances staying; empty when none is faster
     * than {@code here}.
     */
    private static Optional<Profile> fastestAfterMove(NodeGpu gpu, Instance here, long needMib, RuntimeExpectation r) {
        List<Instance> busy = new ArrayList<>();
        for (Instance i : gpu.occupants.keySet()) if (!i.equals(here)) busy.add(i);
        Layout kept = new Layout(gpu.model, busy);
        Profile best = null;
        double bestS = r.onSlotS(here.profile().sms(), gpu.model.sms());
        for (Profile p : gpu.model.plainProfiles()) {
            if (p.memoryMib() < needMib || p.sms() <= here.profile().sms()) continue;
            double s = r.onSlotS(p.sms(), gpu.model.sms());
            if (s >= bestS) continue;
            for (int start : p.starts()) {
                if (kept.canAdd(new Instance(p, start))) {
                    best = p;
                    bestS = s;
                    break;
                }
            }
        }
        return Optional.ofNullable(best);
    }
}
