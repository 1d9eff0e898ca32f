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
 * <p>The rule, for each running attempt of a job that checkpoints on the stop signal, whose
 * application's scaling was measured, on a GPU with MIG on and nothing in flight, with no job waiting
 * (the slices it would take serve nobody else), once per job:
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
 *       scaling must clear ({@link #DEFAULT_GAIN}).</li>
 * </ul>
 * Each move is journaled as a stop with its reason; the job's next attempt resumes from its
 * checkpoint and, alone in the queue, takes the placement that finishes it first (MigmPolicy).
 */
final class TailGrowth {
    /**
     * The share of the expected time left a move must save: the learned scaling's error (fitted on a
     * few runs of other sizes) must not turn a move into a loss. Swept on the bundled suites and the
     * ten held-back traces (BENCHMARKS.md section 25): 0.1 and 0.2 move the same runs, 0 one more
     * (0.3% on one trace); 0.2 keeps the margin.
     */
    static final double DEFAULT_GAIN = 0.2;
    private final AttemptWatch watch;
    private final double gain;
    /** Runs moved. */
    long moved;

    TailGrowth(AttemptWatch watch, double gain) {
        this.watch = watch;
        this.gain = gain;
    }

    /**
     * With nothing waiting, moves at most one run (a second would not be alone in the queue, and the
     * policy sizes a queue of several by slice-time, not by speed); returns the time at which to look
     * again (infinity: nothing to look at).
     */
    double consider(List<NodeGpu> gpus, double nowS, double startupS) {
        double again = Double.POSITIVE_INFINITY;
        for (NodeGpu gpu : gpus) {
            if (!gpu.migEnabled || gpu.reconfiguring || gpu.draining || gpu.lost || gpu.changingMigMode()) continue;
            for (var e : List.copyOf(gpu.occupants.entrySet())) {
                Job job = e.getValue();
                if (job.grown || job.stopRequested || !job.spec.checkpoints() || job.state() != JobState.RUNNING
                        || job.monitor == null || Double.isNaN(job.monitor.runningSinceS)) {
                    continue;
                }
                RuntimeExpectation r = job.queued.runtime();
                if (!r.scalingKnown() || !r.grounded()) continue;
                Instance here = e.getKey();
                Optional<Profile> larger = fastestAfterMove(gpu, here, Math.max(job.need.mib(), job.monitor.observedPeakMib), r);
                if (larger.isEmpty()) continue;
                double age = nowS - job.monitor.runningSinceS;
                double left = job.monitor.remainingS(age);
                double hereS = r.onSlotS(here.profile().sms(), gpu.model.sms());
                double thereS = r.onSlotS(larger.get().sms(), gpu.model.sms());
                double movedS = left * thereS / hereS + startupS;
                if (movedS <= (1 - gain) * left) {
                    job.grown = true;
                    moved++;
                    watch.grow(job, String.format(Locale.ROOT, "nothing waits: expected %.0f s left on %s, %.0f s on %s",
                            left, here.profile().name(), movedS, larger.get().name()));
                    return nowS;
                }
                // Looked at again when its age has grown by a tenth (the rule's terms move with it).
                again = Math.min(again, nowS + Math.max(30, age / 10));
            }
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
