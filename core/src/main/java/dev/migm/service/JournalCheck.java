package dev.migm.service;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.JobSpec;
import dev.migm.estimate.EstimatorChain;
import dev.migm.spec.BatchFile;
import dev.migm.spec.SubmittedJob;
import dev.migm.store.NodeJournal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a journal's open jobs can be taken over by this migm: each job's submission parsed again
 * and its declarations run through the estimators, the very steps a starting node service takes
 * ({@link #replay}). A job that fails them (a record an older, laxer migm accepted, or a damaged
 * one) is an unreplayable job: the service fails it with the reason at start and starts
 * ({@link NodeService}); {@code migm journal check} lists such jobs and {@code migm journal repair}
 * fails them offline, in one transaction, after a backup of the file.
 */
public final class JournalCheck {
    private JournalCheck() {
    }

    /** An open job this migm cannot take over, and why. */
    public record Problem(String jobId, String name, String user, long submission, String reason) {
    }

    /**
     * A job of a stored submission as the node service takes it over: the submission parsed as a job
     * file (every field checked as at submit), the job at {@code index}, its declarations estimated.
     * Throws the first reason it cannot be, one line.
     *
     * @param parsed submissions parsed so far, by id (a batch of n jobs is parsed once)
     */
    static SubmittedJob replay(NodeJournal.Submission s, int index, Map<Long, List<SubmittedJob>> parsed) {
        List<SubmittedJob> jobs = parsed.computeIfAbsent(s.id(), k -> BatchFile.parse(s.text(), s.source()));
        if (index < 0 || index >= jobs.size()) {
            throw new IllegalStateException("its submission " + s.id() + " has " + jobs.size() + " jobs, not a job "
                    + index);
        }
        SubmittedJob job = jobs.get(index);
        EstimatorChain.declaredNeed(job.toJobSpec());
        return job;
    }

    /** The open jobs of the journal that {@link #replay} refuses. */
    public static List<Problem> check(NodeJournal journal) {
        List<Problem> out = new ArrayList<>();
        Map<Long, List<SubmittedJob>> parsed = new HashMap<>();
        Map<Long, String> unparsable = new HashMap<>();
        for (NodeJournal.JobRow row : journal.jobs(false)) {
            String failed = unparsable.get(row.submission());
            if (failed == null) {
                try {
                    replay(journal.submission(row.submission()), row.index(), parsed);
                } catch (RuntimeException e) {
                    failed = oneLine(e);
                    if (!parsed.containsKey(row.submission())) unparsable.put(row.submission(), failed);
                }
            }
            if (failed != null) out.add(new Problem(row.id(), row.name(), row.user(), row.submission(), failed));
        }
        return out;
    }

    /** Why a replay failed, in one line. */
    static String oneLine(RuntimeException e) {
        String m = String.valueOf(e.getMessage()).replaceAll("\\R", " ");
        return m.length() > 300 ? m.substring(0, 297) + "..." : m;
    }

    /** The reason an unreplayable job ends with. */
    static String failedBecause(String reason) {
        return "its journal record cannot be replayed by this migm: " + reason;
    }

    /**
     * Fails the problem jobs in one transaction, after copying the journal to {@code backup}; returns
     * how many were failed. Only for a journal no daemon serves (the caller holds its lock).
     */
    public static int repair(NodeJournal journal, List<Problem> problems, Path backup, double nowS) {
        journal.backupTo(backup);
        journal.inOneTransaction(() -> {
            for (Problem p : problems) {
                journal.append(new EngineRecord.Failed(nowS, p.jobId(), failedBecause(p.reason())));
            }
        });
        return problems.size();
    }

    /** The engine's view of a submitted job: its id, its arrival and what the submitter declared. */
    static JobSpec spec(String id, SubmittedJob job, double atS) {
        return job.toJobSpec().at(id, atS);
    }
}
