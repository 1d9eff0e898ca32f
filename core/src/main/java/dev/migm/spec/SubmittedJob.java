package dev.migm.spec;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A job as a user submits it (job files, {@code version: v1}): what to run and what the submitter
 * says about it. The engine gets {@link #toJobSpec()}; the live runtime runs {@link #argv()}. A job
 * may also carry the {@link Workload} of the {@code migm workload} helper, which is how the same
 * file drives the simulator ({@link #toTraceJob()}).
 *
 * @param name        unique in its batch
 * @param argv        the command; a shell line is {@code [/bin/sh, -c, line]}
 * @param workdir     where it runs (empty: migm's run directory)
 * @param env         extra environment
 * @param declaredMib the {@code memory} hint
 * @param params      estimator parameters ({@code expr} as {@code mem_expr}, {@code params}, {@code llm},
 *                    {@code training}), as text
 * @param maxAttempts attempts before it fails for good (empty: the engine's default)
 * @param timeLimitS  a limit on each attempt's run time
 * @param expectedS   the run time the submitter expects alone on a whole GPU
 * @param submitS     when it arrives, from the batch's start
 * @param progress    how its output says its progress: a format of {@link dev.migm.progress.ProgressFormats}
 *                    ({@code auto}: any of them), {@code none}, or a pattern with named groups
 * @param steps       its total steps where the submitter declared them ({@code steps}): a checkpoint's
 *                    or a printed step becomes a share of the work against it
 */
public record SubmittedJob(String name, List<String> argv, Optional<String> workdir, Map<String, String> env,
                           JobClass jobClass, String app, OptionalLong declaredMib, Map<String, String> params,
                           boolean checkpoints, OptionalDouble maxAttempts, OptionalDouble timeLimitS,
                           OptionalDouble expectedS, double submitS, Optional<Workload> workload, String progress,
                           java.util.OptionalLong steps) {
    public SubmittedJob {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        params = Map.copyOf(params);
    }

    /**
     * The job as {@code migm workload} models it (models.md sections 1-5): work alone on a whole GPU,
     * scaling, memory from {@code mem} growing to {@code growTo}, power activity, checkpoint interval
     * in seconds of work (0: none), whether it reports its progress, the format it prints it in,
     * and how often it says it (seconds of its run; 0: as each step is done).
     */
    public record Workload(double workS, double c, double sat, long memMib, long growToMib, double activity,
                           double checkpointEveryS, boolean reportsProgress, Optional<String> prints,
                           double progressEveryS) {
        public WorkloadModel model() {
            // A job that prints its progress makes it known as one that reports it does (the simulator's view).
            return new WorkloadModel(workS, c, sat, memMib, growToMib, activity, checkpointEveryS,
                    reportsProgress || prints.isPresent(), progressEveryS);
        }
    }

    public JobSpec toJobSpec() {
        return new JobSpec(name, submitS, app, jobClass, declaredMib, params, checkpoints, expectedS,
                new JobSpec.Limits(maxAttempts.isPresent() ? java.util.OptionalInt.of((int) maxAttempts.getAsDouble())
                        : java.util.OptionalInt.empty(), timeLimitS));
    }

    /** The job with its workload model for the simulator; empty when it has no {@code workload}. */
    public Optional<TraceJob> toTraceJob() {
        return workload.map(w -> new TraceJob(toJobSpec(), w.model()));
    }
}
