package dev.migm.engine;

import dev.migm.gpu.Layout;
import java.util.List;
import java.util.Map;

/**
 * What the engine holds at a moment, as values: every job's state and the GPUs' planned layouts.
 * {@link Engine#snapshot()} takes it from a running engine and {@link JournalReplay#replay} rebuilds
 * it from the journal; the two agree at every point of a run.
 *
 * @param jobs     every job the engine accepted, by id, with its state ({@link JobTransitions})
 * @param layouts  each GPU's layout as the engine plans with it (a reconfiguration in flight counts
 *                 as done until it fails)
 * @param migEnabled each GPU's MIG mode as the engine plans with it (a change in flight counts as
 *                 done until it fails)
 * @param gpuStatus each GPU's status: {@code ok}, {@code draining}, {@code lost} or {@code mode-change}
 *                 (a MIG mode change in flight)
 * @param counters the engine's counters
 */
public record EngineState(Map<String, JobStatus> jobs, List<Layout> layouts, List<Boolean> migEnabled,
                          List<String> gpuStatus, Counters counters) {
    public EngineState {
        jobs = Map.copyOf(jobs);
        layouts = List.copyOf(layouts);
        migEnabled = List.copyOf(migEnabled);
        gpuStatus = List.copyOf(gpuStatus);
    }

    /**
     * The engine's counters.
     *
     * @param preemptions running attempts stopped at their checkpoint to give their slices to a waiting job
     */
    public record Counters(long reconfigurations, long restarts, long oomKills, long earlyRestarts,
                           long rejectedSubmits, long migModeChanges, long preemptions) {
    }
}
