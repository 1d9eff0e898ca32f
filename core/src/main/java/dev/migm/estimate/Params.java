package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import dev.migm.io.InvalidInputException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Typed access to a job's parameters; errors name the job and the parameter. */
final class Params {
    private Params() {
    }

    static Optional<Double> number(JobSpec job, String name) {
        String v = job.params().get(name);
        if (v == null) return Optional.empty();
        try {
            return Optional.of(Double.parseDouble(v.trim()));
        } catch (NumberFormatException e) {
            throw new InvalidInputException("job " + job.id() + ": parameter " + name + ": expected a number, got " + dev.migm.io.TextFiles.quote(v));
        }
    }

    static Map<String, Double> numbers(JobSpec job) {
        Map<String, Double> out = new HashMap<>();
        for (var e : job.params().entrySet()) {
            try {
                out.put(e.getKey(), Double.parseDouble(e.getValue().trim()));
            } catch (NumberFormatException ignored) {
                // non-numeric parameters (names, paths) are not variables of expressions
            }
        }
        return out;
    }

    static long mib(double bytes) {
        return (long) Math.ceil(bytes / (1 << 20));
    }
}
