package dev.migm.engine;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.partition.GpuState;

/** A read-only view of one GPU for policies. */
public interface GpuView {
    int index();

    GpuModel model();

    boolean migEnabled();

    /**
     * Whether new work may go there: false while an admin drains the GPU or while it is lost
     * (NVML's {@code GPU_IS_LOST}) until it answers again. Policies place nothing and plan no
     * reconfiguration on a GPU that is not schedulable.
     */
    boolean schedulable();

    /** The layout with every occupied instance (running, launching or reserved) marked busy. */
    GpuState state();

    /** Whether a reconfiguration is in flight (new plans with operations must wait for it). */
    boolean reconfiguring();

    /** Changes whenever {@link #state()} or {@link #reconfiguring()} changes: a cache key. */
    long version();

    /**
     * When the job on an occupied instance is expected to release it, as estimated at its launch (a
     * time in the past once the run outlives its estimate); {@code -infinity} if it is not occupied.
     * It changes only with {@link #version()} (a placement or a launch sets it), so a policy may keep
     * it with what it keeps per version.
     */
    double expectedReleaseS(Instance instance);

    /**
     * When the job on an occupied instance is expected to release it given that it still runs: its
     * launch's estimate while that lies ahead, then its median time left at its age (a run past its
     * estimate is not about to end); {@code -infinity} if it is not occupied.
     */
    double releaseGivenAgeS(Instance instance);

    /** The id of the job on an instance, if any. */
    java.util.Optional<String> occupant(Instance instance);

    /**
     * Whether the job on an occupied instance may be stopped at its checkpoint to give its slices to
     * a waiting job ({@link SchedulingContext#preempt}): its attempt runs (its process is up), it
     * writes a checkpoint on the stop signal and resumes from it, nothing else stops it already, and
     * it neither yielded before nor had runs yield to it (once per job: stops do not chain).
     */
    boolean preemptible(Instance instance);

    /** Whether the policy may change this GPU's MIG mode ({@link SchedulingContext#changeMigMode}). */
    boolean migModeChangeable();

    /** How long a MIG mode change is expected to take here, seconds (infinite where not changeable). */
    double migModeChangeS();

    /** Whether a MIG mode change is in flight: nothing may be placed or planned there until it ends. */
    boolean changingMigMode();

    /** Whether nothing runs, starts or is being created there (cheaper than {@link #state()}). */
    default boolean idle() {
        return state().busy().isEmpty() && !wholeGpuBusy() && !reconfiguring();
    }

    /** With MIG disabled: whether a job holds the whole GPU. */
    boolean wholeGpuBusy();

    /** With MIG disabled: when the whole-GPU job is expected to end. */
    double wholeGpuReleaseS();
}
