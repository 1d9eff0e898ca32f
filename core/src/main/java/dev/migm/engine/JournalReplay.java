package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rebuilds the engine's {@link EngineState} from its journal, record by record: the fold that the
 * node service runs on its SQLite journal after a restart. Pure: the same records give the same
 * state.
 */
public final class JournalReplay {
    private JournalReplay() {
    }

    public static EngineState replay(List<EngineRecord> records) {
        Map<String, EngineState.JobState> jobs = new LinkedHashMap<>();
        List<Layout> layouts = new ArrayList<>();
        List<Boolean> draining = new ArrayList<>();
        List<Boolean> lost = new ArrayList<>();
        List<Boolean> mig = new ArrayList<>();
        List<Boolean> changing = new ArrayList<>();
        long modeChanges = 0;
        long reconfigurations = 0;
        long restarts = 0;
        long ooms = 0;
        long early = 0;
        long rejected = 0;
        Map<String, Integer> queuedFor = new java.util.HashMap<>();
        for (EngineRecord r : records) {
            switch (r) {
                case EngineRecord.Started s -> {
                    layouts.clear();
                    layouts.addAll(s.layouts());
                    draining.clear();
                    lost.clear();
                    mig.clear();
                    mig.addAll(s.migEnabled());
                    changing.clear();
                    for (int i = 0; i < s.layouts().size(); i++) {
                        draining.add(false);
                        lost.add(false);
                        changing.add(false);
                    }
                }
                case EngineRecord.Submitted s -> jobs.put(s.spec().id(),
                        new EngineState.JobState(Engine.State.QUEUED, 0, 0, "", 0, Optional.empty(), ""));
                case EngineRecord.Recovered rec -> jobs.put(rec.spec().id(), new EngineState.JobState(
                        rec.running() ? Engine.State.RUNNING : Engine.State.QUEUED, rec.attempts().size(), rec.needMib(),
                        rec.needSource(), rec.progress(), rec.running() ? Optional.of(rec.attempts().getLast().slot().toString())
                        : Optional.empty(), rec.lastReason()));
                case EngineRecord.SubmitRejected s -> rejected++;
                case EngineRecord.Queued q -> {
                    EngineState.JobState j = jobs.get(q.jobId());
                    if (q.attempt() > j.attempts() + 1) {
                        throw new IllegalStateException("journal: " + q.jobId() + " queued for attempt " + q.attempt()
                                + " after " + j.attempts());
                    }
                    Integer before = queuedFor.put(q.jobId(), q.attempt());
                    if (before != null && q.attempt() > before) restarts++;
                    jobs.put(q.jobId(), new EngineState.JobState(Engine.State.QUEUED, j.attempts(), q.needMib(),
                            q.needSource(), q.progress(), Optional.empty(), q.lastReason()));
                }
                case EngineRecord.Placed p -> {
                    EngineState.JobState j = jobs.get(p.jobId());
                    String slot = "gpu" + p.gpu() + ":" + p.instance().map(Instance::toString).orElse("whole");
                    jobs.put(p.jobId(), new EngineState.JobState(p.ticket().isPresent() ? Engine.State.PLACING
                            : Engine.State.STARTING, j.attempts(), j.needMib(), j.needSource(), j.progress(),
                            Optional.of(slot), j.lastReason()));
                }
                case EngineRecord.ReconfigurationPlanned p -> {
                    reconfigurations++;
                    layouts.set(p.gpu(), p.result());
                }
                case EngineRecord.ReconfigurationApplied a -> layouts.set(a.gpu(), a.layout());
                case EngineRecord.MigModeChangeRequested m -> {
                    modeChanges++;
                    mig.set(m.gpu(), m.enabled());
                    changing.set(m.gpu(), true);
                    layouts.set(m.gpu(), Layout.empty(layouts.get(m.gpu()).gpu()));
                }
                case EngineRecord.MigModeChangeEnded m -> {
                    mig.set(m.gpu(), m.enabled());
                    changing.set(m.gpu(), false);
                    layouts.set(m.gpu(), m.layout());
                }
                case EngineRecord.ReconfigurationFailed f -> layouts.set(f.gpu(), f.layout());
                case EngineRecord.ReconfigurationAnsweredLate l -> {
                    if (l.adopted()) layouts.set(l.gpu(), l.layout());
                }
                case EngineRecord.AttemptLaunched l -> {
                    EngineState.JobState j = jobs.get(l.jobId());
                    jobs.put(l.jobId(), new EngineState.JobState(Engine.State.STARTING, l.attempt(), j.needMib(),
                            j.needSource(), j.progress(), Optional.of(l.slot().toString()), j.lastReason()));
                }
                case EngineRecord.AttemptRunning a -> {
                    EngineState.JobState j = jobs.get(a.jobId());
                    jobs.put(a.jobId(), new EngineState.JobState(Engine.State.RUNNING, j.attempts(), j.needMib(),
                            j.needSource(), j.progress(), j.slot(), j.lastReason()));
                }
                case EngineRecord.StopRequested s -> {
                    if (s.earlyRestart()) early++;
                }
                case EngineRecord.AttemptExited x -> {
                    EngineState.JobState j = jobs.get(x.jobId());
                    if (x.outcome() instanceof Outcome.OutOfMemory) ooms++;
                    jobs.put(x.jobId(), new EngineState.JobState(j.state(), j.attempts(), j.needMib(), j.needSource(),
                            j.progress(), Optional.empty(), j.lastReason()));
                }
                case EngineRecord.Learned l -> {
                }
                case EngineRecord.Done d -> {
                    EngineState.JobState j = jobs.get(d.jobId());
                    jobs.put(d.jobId(), new EngineState.JobState(Engine.State.DONE, j.attempts(), j.needMib(),
                            j.needSource(), j.progress(), Optional.empty(), j.lastReason()));
                }
                case EngineRecord.CommandRefused c -> {
                }
                case EngineRecord.CancelRequested c -> {
                }
                case EngineRecord.Cancelled c -> {
                    EngineState.JobState j = jobs.get(c.jobId());
                    jobs.put(c.jobId(), new EngineState.JobState(Engine.State.CANCELLED, j.attempts(), j.needMib(),
                            j.needSource(), j.progress(), Optional.empty(), c.reason()));
                }
                case EngineRecord.GpuDrain d -> draining.set(d.gpu(), d.drain());
                case EngineRecord.SlicesHeld h -> {
                }
                case EngineRecord.GpuHealth h -> {
                    lost.set(h.gpu(), h.lost());
                    layouts.set(h.gpu(), h.layout());
                }
                case EngineRecord.Failed f -> {
                    EngineState.JobState j = jobs.get(f.jobId());
                    jobs.put(f.jobId(), new EngineState.JobState(Engine.State.FAILED, j.attempts(), j.needMib(),
                            j.needSource(), j.progress(), Optional.empty(), f.reason()));
                }
            }
        }
        List<String> status = new ArrayList<>();
        for (int i = 0; i < layouts.size(); i++) {
            status.add(lost.get(i) ? "lost" : draining.get(i) ? "draining" : changing.get(i) ? "mode-change" : "ok");
        }
        return new EngineState(jobs, layouts, mig, status, new EngineState.Counters(reconfigurations, restarts, ooms, early,
                rejected, modeChanges));
    }
}
