package dev.migm.service;

import dev.migm.backend.HealthMonitor;
import dev.migm.backend.LiveBackend;
import dev.migm.engine.Engine;
import dev.migm.engine.EngineLoop;
import dev.migm.engine.EngineRecord;
import dev.migm.engine.EngineSettings;
import dev.migm.engine.Executor;
import dev.migm.engine.Journal;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.HistoryStore;
import dev.migm.estimate.LearnedRuntime;
import dev.migm.exec.ProcessExecutor;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.store.JournalHistory;
import dev.migm.store.NodeJournal;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A node's engine with real processes, assembled in one place for {@code migm run} and the daemon
 * (only the clock, the backend and the executor differ from the simulator's): the process executor
 * for the jobs of {@code jobsDir}, the engine's loop with the policy, the default estimator chain
 * over a durable history and learned run times, and the GPU health monitor. The engine's records go
 * to {@code journal}; what the estimators learn goes to the home's journal ({@code HOME/journal.db},
 * its {@code history} table), so that what one run or daemon learned is there for the next and for
 * {@code migm history}.
 *
 * @param executor the process executor (the daemon wraps it to record each launch's process)
 * @param loop     the engine's loop, started
 * @param health   the health monitor, started
 */
public record LiveNode(ProcessExecutor executor, EngineLoop loop, HealthMonitor health) implements AutoCloseable {
    /**
     * What a live node is made of.
     *
     * @param jobsDir     where jobs' logs and checkpoints go ({@code jobs/ID/} under it)
     * @param launches    how a job, by id, is launched
     * @param history     where the estimators' history lives (durable)
     * @param notBeforeS  the clock starts no earlier (a journal's last time: it never goes back)
     * @param recording   wraps the executor (the daemon records each launch's process)
     * @param runtime     the run-time estimate, with what the node's journal already knows of run times
     */
    public record Parts(Path jobsDir, LiveBackend backend, Function<String, ProcessExecutor.Launch> launches,
                        String policy, double timeScale, double sampleS, double graceS, Journal journal,
                        HistoryStore history, double notBeforeS, UnaryOperator<Executor> recording,
                        LearnedRuntime runtime) {
    }

    /**
     * A run-time estimate that has learned the completed runs a journal holds (as the engine learned
     * them when they ended): what a node learned of run times outlives it, as its peaks do. A run
     * whose GPU or instance this node no longer has is skipped.
     */
    public static LearnedRuntime runtimeOf(dev.migm.store.NodeJournal journal, List<dev.migm.gpu.GpuModel> models) {
        return runtimeOf(journal.completedRuns(null), models);
    }

    /**
     * A run-time estimate that learned these completed runs: each on its recorded SMs (a run of {@code
     * migm run}) or on those of its instance on this node's GPU {@code models} (the node service's).
     */
    public static LearnedRuntime runtimeOf(List<dev.migm.store.NodeJournal.CompletedRun> runs,
                                           List<dev.migm.gpu.GpuModel> models) {
        LearnedRuntime runtime = new LearnedRuntime();
        for (dev.migm.store.NodeJournal.CompletedRun r : runs) {
            try {
                int sms;
                int smFull;
                if (r.sms() > 0 && r.smFull() >= r.sms()) {
                    sms = r.sms();
                    smFull = r.smFull();
                } else {
                    if (r.gpu() < 0 || r.gpu() >= models.size()) continue;
                    dev.migm.gpu.GpuModel model = models.get(r.gpu());
                    sms = dev.migm.engine.Slot.recorded(r.gpu(), model, r.instance()).sms();
                    smFull = model.sms();
                }
                runtime.learn(r.app(), dev.migm.engine.JobClass.parse(r.jobClass()), sms, smFull, r.runS(),
                        1 - r.startProgress());
            } catch (RuntimeException e) {
                // an instance of a profile this GPU model does not have: not this node's run to learn
            }
        }
        return runtime;
    }

    /** Assembles and starts a node's engine. */
    public static LiveNode start(Parts p) {
        ProcessExecutor executor = new ProcessExecutor(p.jobsDir(), p.launches(), p.backend(), p.timeScale(),
                p.sampleS(), p.graceS());
        Executor seen = p.recording().apply(executor);
        EngineLoop loop = new EngineLoop("engine", p.timeScale(), p.notBeforeS(), timers -> new Engine(timers,
                p.journal(), p.backend(), seen, PolicyRegistry.create(p.policy(), p.backend().gpus()),
                EstimatorChain.defaults(p.history()), p.runtime(), EngineSettings.DEFAULT));
        return new LiveNode(executor, loop, new HealthMonitor(p.backend(), loop::post));
    }

    /** How many observations per application the estimators' history keeps. */
    public static final int HISTORY = 50;

    /**
     * The durable history of a home for a run: the history of its journal ({@code HOME/journal.db},
     * the daemon's when it serves the same home; SQLite lets both write), and the journal to append
     * what the run learns to, with each job's id made unique to the run ({@code run-ID/name}: a job's
     * history is keyed by job and attempt, and the next run's job of the same name is another job).
     */
    public static final class RunHistory implements AutoCloseable {
        private final NodeJournal journal;
        private final HistoryStore history;
        private final String runId;
        private final List<dev.migm.gpu.GpuModel> models;
        /** The run's jobs as submitted, by id (their application and class, for their run times). */
        private final Map<String, dev.migm.engine.JobSpec> specs = new HashMap<>();
        /** Attempts launched and not ended, by {@code job/attempt}: where they run and since when. */
        private final Map<String, Started> started = new HashMap<>();

        private record Started(dev.migm.engine.Slot slot, double startProgress, double runningAtS) {
        }

        private RunHistory(NodeJournal journal, HistoryStore history, String runId, List<dev.migm.gpu.GpuModel> models) {
            this.journal = journal;
            this.history = history;
            this.runId = runId;
            this.models = List.copyOf(models);
        }

        /** The home's history for the run {@code runId} on GPUs of these {@code models}. */
        public static RunHistory open(Path home, String runId, List<dev.migm.gpu.GpuModel> models) {
            NodeJournal j = NodeJournal.open(home.resolve("journal.db"));
            return new RunHistory(j, new JournalHistory(j, HISTORY), runId, models);
        }

        /** The home's journal, which keeps what runs learned. */
        public NodeJournal journal() {
            return journal;
        }

        /** The memory history of the home, for the run's estimators. */
        public HistoryStore history() {
            return history;
        }

        /**
         * Keeps what a run's engine learned ({@link EngineRecord.Learned}), under the run's job ids, and
         * each completed attempt's run time (from its process's report to its exit, as the node service
         * counts it) with its instance, for {@link #runtimeOf} of the next run and {@code migm history}.
         */
        public void learned(EngineRecord record) {
            switch (record) {
                case EngineRecord.Learned l -> journal.append(new EngineRecord.Learned(l.atS(), runId + "/" + l.jobId(),
                        l.attempt(), l.app(), l.jobClass(), l.what(), l.mib(), l.slotMib()));
                case EngineRecord.Submitted s -> specs.put(s.spec().id(), s.spec());
                case EngineRecord.AttemptLaunched l -> started.put(l.jobId() + "/" + l.attempt(),
                        new Started(l.slot(), l.startProgress(), Double.NaN));
                case EngineRecord.AttemptRunning r -> started.computeIfPresent(r.jobId() + "/" + r.attempt(),
                        (k, s) -> new Started(s.slot(), s.startProgress(), r.atS()));
                case EngineRecord.AttemptExited x -> {
                    Started s = started.remove(x.jobId() + "/" + x.attempt());
                    dev.migm.engine.JobSpec spec = specs.get(x.jobId());
                    if (s != null && spec != null && x.outcome() instanceof dev.migm.engine.Outcome.Completed
                            && x.atS() > s.runningAtS()) {
                        journal.runCompleted(new NodeJournal.CompletedRun(runId + "/" + x.jobId(), x.attempt(),
                                spec.app(), spec.jobClass().name(), s.slot().gpu(),
                                s.slot().instance().map(Object::toString).orElse(null), x.atS() - s.runningAtS(),
                                s.startProgress(), s.slot().sms(), models.get(s.slot().gpu()).sms()), x.atS());
                    }
                }
                default -> {
                }
            }
        }

        @Override
        public void close() {
            journal.close();
        }
    }

    /** Stops the engine and the health monitor; the executor is the caller's to close or detach. */
    @Override
    public void close() {
        health.close();
        loop.close();
    }

    /** The journals a record goes to, in order. */
    public static Journal all(List<Journal> journals) {
        return record -> {
            for (Journal j : journals) j.append(record);
        };
    }
}
