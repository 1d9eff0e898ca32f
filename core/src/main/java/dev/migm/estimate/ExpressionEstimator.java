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
        double bytes = MemoryExpression.bytes(expr, Params.numbers(job));
        long context = Params.number(job, "context_mib").map(Math::round).orElse(CONTEXT_MIB);
        return Optional.of(new Estimate(Params.mib(bytes) + context, "expression " + expr, 0.85));
    }
}
