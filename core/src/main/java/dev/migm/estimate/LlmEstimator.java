package dev.migm.estimate;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code llm}: LLM inference memory = weights + KV cache + workspace + CUDA context.
 * <ul>
 *   <li>weights = parameters x bytes per parameter ({@code params_b} in billions, or the size in the
 *       app name such as {@code llama-13b}; {@code bytes_per_param}, default 2 = fp16);</li>
 *   <li>KV cache = 2 (K and V) x layers x KV heads x head dim x bytes x tokens x batch
 *       ({@code layers}, {@code kv_heads}, {@code head_dim}, {@code kv_bytes} default = bytes per
 *       parameter, {@code tokens} = prompt plus output, {@code batch} default 1);</li>
 *   <li>workspace = {@code workspace_mib}, default the larger of 256 MiB and 5% of the weights;</li>
 *   <li>context = {@value ExpressionEstimator#CONTEXT_MIB} MiB.</li>
 * </ul>
 * Without the KV parameters the estimate is weights only, a lower bound with low confidence: the
 * run-time projection then catches the KV cache's growth.
 */
public final class LlmEstimator implements MemoryEstimator {
    /** The largest model the estimator takes, in billions of parameters (a hundred times today's largest). */
    static final double MAX_PARAMS_B = 100_000;
    private static final Pattern SIZE_IN_NAME = Pattern.compile("(\\d+(?:\\.\\d+)?)b(?![a-z])");

    @Override
    public String name() {
        return "llm";
    }

    @Override
    public Optional<Estimate> estimate(JobSpec job) {
        Optional<Double> billions = Params.positive(job, "params_b", MAX_PARAMS_B);
        String basis = "params_b";
        if (billions.isEmpty()) {
            if (job.jobClass() != JobClass.LLM) return Optional.empty();
            Matcher m = SIZE_IN_NAME.matcher(job.app().toLowerCase(Locale.ROOT));
            if (!m.find()) return Optional.empty();
            billions = Optional.of(Double.parseDouble(m.group(1)));
            basis = "size in app name '" + job.app() + "'";
        }
        double bytesPerParam = Params.positive(job, "bytes_per_param", 16).orElse(2.0);
        double weights = billions.get() * 1e9 * bytesPerParam;
        // Every shape parameter is read (and so checked) whether or not the KV cache can be counted.
        Optional<Double> layers = Params.positive(job, "layers", 100_000);
        Optional<Double> kvHeads = Params.positive(job, "kv_heads", 100_000);
        Optional<Double> headDim = Params.positive(job, "head_dim", 100_000);
        Optional<Double> tokens = Params.positive(job, "tokens", 1e10);
        double kvBytes = Params.positive(job, "kv_bytes", 16).orElse(bytesPerParam);
        double batch = Params.positive(job, "batch", 1e7).orElse(1.0);
        double kv = 0;
        boolean withKv = layers.isPresent() && kvHeads.isPresent() && headDim.isPresent() && tokens.isPresent();
        if (withKv) {
            kv = kvCacheBytes(layers.get(), kvHeads.get(), headDim.get(), kvBytes, tokens.get(), batch);
        }
        long weightsMib = Params.mib(weights);
        long workspace = Params.number(job, "workspace_mib", 0, EstimatorChain.MAX_MIB).map(Math::round)
                .orElse(Math.max(256, Math.round(0.05 * weightsMib)));
        long total = weightsMib + Params.mib(kv) + workspace + ExpressionEstimator.CONTEXT_MIB;
        return Optional.of(new Estimate(total, "llm: weights from " + basis + (withKv ? " + KV cache" : " (no KV cache parameters)"),
                withKv ? 0.8 : 0.4, !withKv));
    }

    /** {@code 2 x layers x kvHeads x headDim x bytes x tokens x batch}. */
    public static double kvCacheBytes(double layers, double kvHeads, double headDim, double bytes, double tokens,
                                      double batch) {
        return 2 * layers * kvHeads * headDim * bytes * tokens * batch;
    }
}
