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
import java.util.List;
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
        LearnedRuntime runtime = new LearnedRuntime();
        for (dev.migm.store.NodeJournal.CompletedRun r : journal.completedRuns(null)) {
            if (r.gpu() < 0 || r.gpu() >= models.size()) continue;
            dev.migm.gpu.GpuModel model = models.get(r.gpu());
            try {
                runtime.learn(r.app(), dev.migm.engine.JobClass.parse(r.jobClass()),
                        dev.migm.engine.Slot.recorded(r.gpu(), model, r.instance()).sms(), model.sms(), r.runS(),
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
    public record RunHistory(NodeJournal journal, HistoryStore history, String runId) implements AutoCloseable {
        public static RunHistory open(Path home, String runId) {
            NodeJournal j = NodeJournal.open(home.resolve("journal.db"));
            return new RunHistory(j, new JournalHistory(j, HISTORY), runId);
        }

        /** Keeps what a run's engine learned ({@link EngineRecord.Learned}), under the run's job ids. */
        public void learned(EngineRecord record) {
            if (record instanceof EngineRecord.Learned l) {
                journal.append(new EngineRecord.Learned(l.atS(), runId + "/" + l.jobId(), l.attempt(), l.app(),
                        l.jobClass(), l.what(), l.mib(), l.slotMib()));
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
