package dev.migm.engine;

import dev.migm.gpu.Layout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds the engine's {@link EngineState} from its journal, record by record. Jobs move through
 * {@link JobTransitions}, the table the engine and the node's journal use; the GPUs' layouts, modes
 * and statuses and the engine's counters are folded here. Pure: the same records give the same
 * state. It also checks what a journal must never say: a job queued for an attempt beyond the next,
 * a record about a job it never heard of.
 */
public final class JournalReplay {
    private JournalReplay() {
    }

    public static EngineState replay(List<EngineRecord> records) {
        Map<String, JobStatus> jobs = new LinkedHashMap<>();
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
        long preemptions = 0;
        long rejected = 0;
        Map<String, Integer> queuedFor = new java.util.HashMap<>();
        for (EngineRecord r : records) {
            if (JobTransitions.moves(r)) {
                String id = JobTransitions.jobOf(r);
                JobStatus before = r instanceof EngineRecord.Submitted || r instanceof EngineRecord.Recovered
                        ? JobStatus.SUBMITTED : jobs.get(id);
                if (before == null) {
                    throw new IllegalStateException("journal: " + r.getClass().getSimpleName() + " of job " + id
                            + ", which was never submitted");
                }
                if (r instanceof EngineRecord.Queued q && q.attempt() > before.attempts() + 1) {
                    throw new IllegalStateException("journal: " + q.jobId() + " queued for attempt " + q.attempt()
                            + " after " + before.attempts());
                }
                jobs.put(id, JobTransitions.apply(before, r));
            }
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
                case EngineRecord.SubmitRejected s -> rejected++;
                case EngineRecord.Queued q -> {
                    Integer before = queuedFor.put(q.jobId(), q.attempt());
                    if (before != null && q.attempt() > before) restarts++;
                }
                case EngineRecord.ReconfigurationPlanned p -> {
                    reconfigurations++;
                    layouts.set(p.gpu(), p.result());
                }
                case EngineRecord.ReconfigurationApplied a -> layouts.set(a.gpu(), a.layout());
                case EngineRecord.ReconfigurationFailed f -> layouts.set(f.gpu(), f.layout());
                case EngineRecord.ReconfigurationAnsweredLate l -> {
                    if (l.adopted()) layouts.set(l.gpu(), l.layout());
                }
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
                case EngineRecord.StopRequested s -> {
                    if (s.earlyRestart()) early++;
                    if (s.forJob().isPresent()) preemptions++;
                }
                case EngineRecord.AttemptExited x -> {
                    if (x.outcome() instanceof Outcome.OutOfMemory) ooms++;
                }
                case EngineRecord.GpuDrain d -> draining.set(d.gpu(), d.drain());
                case EngineRecord.GpuHealth h -> {
                    lost.set(h.gpu(), h.lost());
                    layouts.set(h.gpu(), h.layout());
                }
                default -> {
                }
            }
        }
        List<String> status = new ArrayList<>();
        for (int i = 0; i < layouts.size(); i++) {
            status.add(lost.get(i) ? "lost" : draining.get(i) ? "draining" : changing.get(i) ? "mode-change" : "ok");
        }
        return new EngineState(jobs, layouts, mig, status, new EngineState.Counters(reconfigurations, restarts, ooms, early,
                rejected, modeChanges, preemptions));
    }
}
