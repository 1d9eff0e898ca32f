package dev.migm.engine;

import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A job as its submitter declared it: everything the engine, the policies and the estimators may
 * know about a job before it runs. How the job really behaves (its run time, scaling and memory)
 * is not here: in the simulator that is the trace's workload model, which only the simulated world
 * and the oracle see; live it is the real process.
 *
 * @param id          unique job id
 * @param submitS     arrival time, seconds
 * @param app         application name (runs of one app have similar needs: history)
 * @param jobClass    workload class
 * @param declaredMib the memory need the submitter declared, if any (may be wrong)
 * @param params      the job's parameters for analytic estimators (e.g. {@code n}, {@code params_b},
 *                    {@code mem_expr}); empty for trace jobs
 * @param checkpoints whether the job writes checkpoints it can resume from (and one on the stop signal)
 * @param expectedS   the run time the submitter expects alone on a whole GPU, if they said (may be wrong)
 * @param limits      the submitter's limits on attempts and on each attempt's time
 */
public record JobSpec(String id, double submitS, String app, JobClass jobClass, OptionalLong declaredMib,
                      Map<String, String> params, boolean checkpoints, OptionalDouble expectedS, Limits limits) {
    /**
     * The {@link #params} key that makes the declared memory an allocation rather than an estimate:
     * the job gets an instance of at least that size, without the estimators' margin, whatever history
     * says (a Slurm job's gpumem, which Slurm has already granted).
     */
    public static final String MEMORY_EXACT = "memory_exact";

    /**
     * Limits a submitter may set on a job, each enforced by the engine in every world.
     *
     * @param maxAttempts attempts before the job fails for good (empty: the engine's default)
     * @param timeLimitS  the longest an attempt may hold its instance, from its launch (start-up
     *                    included, as Slurm counts a job's time); an attempt that reaches it is stopped
     *                    and the job fails, not requeued (Slurm's TIMEOUT)
     */
    public record Limits(OptionalInt maxAttempts, OptionalDouble timeLimitS) {
        public static final Limits NONE = new Limits(OptionalInt.empty(), OptionalDouble.empty());

        public Limits {
            if (maxAttempts.isPresent() && !(maxAttempts.getAsInt() >= 1 && maxAttempts.getAsInt() <= 1000)) {
                throw new IllegalArgumentException("max_attempts must be in [1, 1000]");
            }
            if (timeLimitS.isPresent() && !(timeLimitS.getAsDouble() > 0 && timeLimitS.getAsDouble() < 1e9)) {
                throw new IllegalArgumentException("time_limit must be in (0, 1e9) s");
            }
        }
    }

    /** A job without limits. */
    public JobSpec(String id, double submitS, String app, JobClass jobClass, OptionalLong declaredMib,
                   Map<String, String> params, boolean checkpoints, OptionalDouble expectedS) {
        this(id, submitS, app, jobClass, declaredMib, params, checkpoints, expectedS, Limits.NONE);
    }

    /** A job without parameters, expected run time or limits (trace jobs). */
    public JobSpec(String id, double submitS, String app, JobClass jobClass, OptionalLong declaredMib,
                   boolean checkpoints) {
        this(id, submitS, app, jobClass, declaredMib, Map.of(), checkpoints, OptionalDouble.empty());
    }

    /**
     * The same job under another id and arrival time, with everything the submitter declared (a
     * generated copy of a template, a submission given its node-wide id and the node's clock).
     */
    public JobSpec at(String newId, double newSubmitS) {
        return new JobSpec(newId, newSubmitS, app, jobClass, declaredMib, params, checkpoints, expectedS, limits);
    }

    public JobSpec {
        params = Map.copyOf(params);
        if (id == null || id.isBlank()) throw new IllegalArgumentException("id must not be blank");
        if (app == null || app.isBlank()) throw new IllegalArgumentException("app must not be blank");
        if (!(submitS >= 0 && submitS < 1e12)) throw new IllegalArgumentException("submit_s must be in [0, 1e12)");
        if (declaredMib.isPresent() && (declaredMib.getAsLong() < 0 || declaredMib.getAsLong() > (1L << 40))) {
            throw new IllegalArgumentException("declared_mib must be in [0, 2^40]");
        }
        if (expectedS.isPresent() && !(expectedS.getAsDouble() > 0 && expectedS.getAsDouble() < 1e9)) {
            throw new IllegalArgumentException("expected_s must be in (0, 1e9)");
        }
    }
}
