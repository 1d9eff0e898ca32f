package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import java.util.Optional;

/**
 * {@code expression}: for scientific codes, the allocation sizes as an expression of the job's
 * inputs (what a compiler analysis of its {@code cudaMalloc} calls yields), given as the job
 * parameter {@code mem_expr}, e.g. {@code 3 * n * n * 8 + 512MiB}, evaluated with the other
 * parameters by {@link MemoryExpression}. The CUDA context is added unless the expression says
 * {@code context}-free ({@code context_mib} parameter, default {@value #CONTEXT_MIB}).
 */
public final class ExpressionEstimator implements MemoryEstimator {
    /** A CUDA context costs a few hundred MiB (models.md section 2). */
    public static final long CONTEXT_MIB = 500;

    @Override
    public String name() {
        return "expression";
    }

    @Override
    public Optional<Estimate> estimate(JobSpec job) {
        String expr = job.params().get("mem_expr");
        if (expr == null) return Optional.empty();
        double bytes;
        try {
            bytes = MemoryExpression.ofParams(expr, job.params());
        } catch (dev.migm.io.InvalidInputException e) {
            throw e instanceof ParameterException p ? p : new ParameterException("mem_expr", e.getMessage());
        }
        if (!(bytes >= 0 && bytes <= EstimatorChain.MAX_MIB * (double) (1 << 20))) {
            throw new ParameterException("mem_expr", "memory expression " + dev.migm.io.TextFiles.quote(expr)
                    + " gives " + (bytes < 0 ? "a negative size" : "more than " + EstimatorChain.MAX_MIB + " MiB")
                    + " with the job's parameters");
        }
        long context = Params.number(job, "context_mib", 0, 1 << 20).map(Math::round).orElse(CONTEXT_MIB);
        return Optional.of(new Estimate(Params.mib(bytes) + context, "expression " + expr, 0.85));
    }
}
