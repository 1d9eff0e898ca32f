package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import dev.migm.io.TextFiles;
import java.util.Optional;

/**
 * Typed, bounded access to a job's parameters, the one place the estimators read them: a value is
 * a finite number within the range its estimator can use, or the read fails with
 * {@link ParameterException} naming the parameter and what was expected. The door (a job file, a
 * trace row, a submit) runs the estimators once ({@link EstimatorChain#declaredNeed}), so a job whose
 * parameters its estimators cannot use is refused there, never later on the engine's thread.
 */
final class Params {
    private Params() {
    }

    /** The parameter as a number in {@code [min, max]}; empty when the job does not give it. */
    static Optional<Double> number(JobSpec job, String name, double min, double max) {
        String v = job.params().get(name);
        if (v == null) return Optional.empty();
        double d;
        try {
            d = Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (!(d >= min && d <= max)) {
            throw new ParameterException(name, "expected a number in " + range(min, max) + ", got " + TextFiles.quote(v));
        }
        return Optional.of(d);
    }

    /** A positive number, at most {@code max}. */
    static Optional<Double> positive(JobSpec job, String name, double max) {
        try {
            Optional<Double> d = number(job, name, 0, max);
            if (d.isPresent() && d.get() > 0) return d;
            if (d.isEmpty()) return d;
        } catch (ParameterException e) {
            // said below, with the range that excludes 0
        }
        throw new ParameterException(name, "expected a number in (0, " + fmt(max) + "], got "
                + TextFiles.quote(job.params().get(name)));
    }

    /** One of {@code allowed} (case-insensitive), or {@code orElse} when not given. */
    static String choice(JobSpec job, String name, java.util.List<String> allowed, String orElse) {
        String v = job.params().get(name);
        if (v == null) return orElse;
        String lower = v.strip().toLowerCase(java.util.Locale.ROOT);
        if (!allowed.contains(lower)) {
            throw new ParameterException(name, "expected one of " + String.join(", ", allowed) + ", got "
                    + TextFiles.quote(v));
        }
        return lower;
    }

    private static String range(double min, double max) {
        return "[" + fmt(min) + ", " + fmt(max) + "]";
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    /** Bytes as whole MiB, rounded up. */
    static long mib(double bytes) {
        return (long) Math.ceil(bytes / (1 << 20));
    }

}
