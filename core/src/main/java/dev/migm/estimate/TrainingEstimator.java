package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import java.util.Optional;

/**
 * {@code training}: model states plus activations plus the CUDA context.
 * Model states per trainable parameter follow ZeRO (Rajbhandari et al., SC'20, section 3.1): mixed
 * precision Adam keeps fp16 weights and gradients (2 + 2 bytes) and fp32 master weights, momentum and
 * variance (12 bytes), 16 bytes in all; fp32 Adam also 16 (4 + 4 + 8); SGD with momentum in fp32 12.
 * Frozen parameters (LoRA/QLoRA) hold only their weights ({@code frozen_bytes_per_param}, 0.5 for
 * 4-bit). Parameters: {@code params_m} (millions; or {@code params_b}), {@code trainable_params_m}
 * (default all), {@code optimizer} (adam | adamw | sgd), {@code precision} (mixed | fp32),
 * {@code batch} and {@code activation_mib_per_sample}, or {@code activations_mib}.
 */
public final class TrainingEstimator implements MemoryEstimator {
    /** The optimizers whose states the estimator counts (ZeRO, section 3.1). */
    static final java.util.List<String> OPTIMIZERS = java.util.List.of("adam", "adamw", "sgd");
    /** Mixed precision (fp16 or bf16 weights and gradients, fp32 master copy) or fp32 throughout. */
    static final java.util.List<String> PRECISIONS = java.util.List.of("mixed", "fp32");

    /**
     * An LLM job's {@code params_b} is its model's size for inference ({@link LlmEstimator}), not a
     * model to train: read as one, it would cost 16 bytes per parameter instead of 2.
     */
    private static boolean isLlm(JobSpec job) {
        return job.jobClass() == dev.migm.engine.JobClass.LLM;
    }

    @Override
    public String name() {
        return "training";
    }

    @Override
    public Optional<Estimate> estimate(JobSpec job) {
        if (job.params().containsKey("tokens")) return Optional.empty(); // an LLM's inference shape
        Optional<Double> millions = Params.positive(job, "params_m", LlmEstimator.MAX_PARAMS_B * 1000);
        if (millions.isEmpty() && job.params().containsKey("params_b") && !isLlm(job)) {
            millions = Params.positive(job, "params_b", LlmEstimator.MAX_PARAMS_B).map(b -> b * 1000);
        }
        if (millions.isEmpty()) return Optional.empty();
        double params = millions.get() * 1e6;
        double trainable = Params.number(job, "trainable_params_m", 0, millions.get()).map(m -> m * 1e6).orElse(params);
        double frozen = params - trainable;
        double frozenBytes = Params.number(job, "frozen_bytes_per_param", 0, 16).orElse(2.0);
        String optimizer = Params.choice(job, "optimizer", OPTIMIZERS, "adam");
        String precision = Params.choice(job, "precision", PRECISIONS, "mixed");
        double perParam = stateBytesPerParam(optimizer, precision);
        double states = trainable * perParam + frozen * frozenBytes;
        Optional<Double> whole = Params.number(job, "activations_mib", 0, EstimatorChain.MAX_MIB);
        double batch = Params.number(job, "batch", 0, 1e7).orElse(0.0);
        double perSample = Params.number(job, "activation_mib_per_sample", 0, EstimatorChain.MAX_MIB).orElse(0.0);
        double activationsMib = whole.orElse(batch * perSample);
        long total = Params.mib(states) + Math.round(activationsMib) + ExpressionEstimator.CONTEXT_MIB;
        boolean withActivations = activationsMib > 0;
        return Optional.of(new Estimate(total, "training: " + optimizer + "/" + precision + " states"
                + (withActivations ? " + activations" : " (no activation parameters)"), withActivations ? 0.7 : 0.35));
    }

    /** Bytes of model state per trainable parameter (ZeRO, section 3.1). */
    public static double stateBytesPerParam(String optimizer, String precision) {
        boolean adam = optimizer.startsWith("adam");
        if (precision.equals("mixed")) {
            return adam ? 16 : 2 + 2 + 4 + 4;
        }
        return adam ? 4 + 4 + 8 : 4 + 4 + 4;
    }
}
