package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.partition.Plan;
import java.util.List;

/**
 * What a policy sees and may do during one scheduling round. Actions take effect at once (the
 * engine owns all state and runs on one thread), so later reads in the same round see them.
 */
public interface SchedulingContext {
    double nowS();

    /** Start-up cost of an attempt (process and CUDA context), seconds. */
    double startupS();

    List<? extends GpuView> gpus();

    /**
     * The indices of the GPUs whose state ({@link GpuView#version}) changed since the last call, in
     * a set the caller owns; at the first call, every GPU. Its one caller is the engine's policy: a
     * policy that keeps what it worked out per GPU from round to round brings it up to date from
     * these instead of passing over every GPU each round (thousands on a large node). A change the
     * policy makes itself (a placement, a mode change) is in the next call's set.
     */
    java.util.BitSet takeChangedGpus();

    /**
     * Whether the input is one batch, all in ({@code migm run} of a file without arrival times, a
     * simulated batch; never the node service): its jobs are all here, so the makespan, not any one
     * job's wait, is what the schedule is judged by.
     */
    boolean batchAllIn();

    /** Up to {@code limit} waiting jobs in the policy's queue order. */
    List<QueuedJob> waiting(int limit);

    int waitingCount();

    /**
     * Expected time from launch to exit of the job's next attempt on a slot of {@code sms} SMs; it
     * depends on the GPU only through its model.
     */
    double expectedRuntimeS(QueuedJob job, GpuView gpu, int sms);

    /** Runs the job on the plan's target instance, applying the plan first when it has operations. */
    void place(QueuedJob job, GpuView gpu, Plan.Possible plan);

    /** Runs the job on the whole GPU (MIG disabled). */
    void placeWholeGpu(QueuedJob job, GpuView gpu);

    /**
     * Changes an idle, schedulable GPU's MIG mode ({@code enabled}: on), for {@code why} (journaled
     * and shown). Allowed only where {@link GpuView#migModeChangeable()}; the GPU takes no work until
     * the change ends. Throws {@link IllegalStateException} when the GPU is not idle.
     */
    void changeMigMode(GpuView gpu, boolean enabled, String why);

    /** Applies a plan that serves no job in particular (a layout change). */
    void reconfigure(GpuView gpu, Plan.Possible plan);

    /**
     * Stops the job on {@code instance} at its checkpoint so that {@code forJob}, waiting, can have its
     * slices (allowed only where {@link GpuView#preemptible}); the stopped job goes back to the queue
     * and resumes from that checkpoint. Journaled with {@code why}; the slices free when its process
     * exits, a later event.
     */
    void preempt(GpuView gpu, Instance instance, QueuedJob forJob, String why);

    /**
     * Whether runs may be stopped for this waiting job: not when it was itself stopped for another
     * (a stopped run that stopped others in turn would pass the same slices back and forth).
     */
    boolean mayPreemptFor(QueuedJob job);

    /** Ends a job that can never run under this policy, with the reason. */
    void reject(QueuedJob job, String reason);

    /**
     * Asks for a round at {@code atS} even if nothing else happens by then (a time-based decision
     * such as the end of a reservation's delay); asking again is harmless.
     */
    void wakeAt(double atS);

    /**
     * Says that this round holds up to {@code computeSlices} of {@code gpu}'s free slices for
     * {@code job}, a blocked job the GPU is draining for (a reservation), until a later round says
     * otherwise; at most one job per GPU, the last one said. Changes nothing the engine does: it is
     * journaled, so that idle slices held for a drain are told apart from those no placement rule
     * could fill.
     */
    default void hold(GpuView gpu, int computeSlices, QueuedJob job) {
    }

    /**
     * Says why this round leaves {@code job} waiting, as data ({@link Refusal}). What the last round
     * said stands until the next round (a job it said nothing of has only the capacity side of its
     * reason). Changes nothing the engine does: people read it in {@code explain}, {@code queue} and
     * {@code show}.
     */
    default void refuse(QueuedJob job, Refusal refusal) {
    }
}
