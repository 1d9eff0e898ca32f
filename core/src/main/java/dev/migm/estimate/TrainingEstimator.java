package dev.migm.estimate;

import dev.migm.engine.JobSpec;
import java.util.Locale;
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
    @Override
    public String name() {
        return "training";
    }

    @Override
    public Optional<Estimate> estimate(JobSpec job) {
        Optional<Double> millions = Params.number(job, "params_m")
                .or(() -> Params.number(job, "params_b").map(b -> b * 1000));
        if (millions.isEmpty() || job.params().containsKey("tokens")) return Optional.empty();
        double params = millions.get() * 1e6;
        double trainable = Params.number(job, "trainable_params_m").map(m -> m * 1e6).orElse(params);
        double frozen = params - trainable;
        double frozenBytes = Params.number(job, "frozen_bytes_per_param").orElse(2.0);
        String optimizer = job.params().getOrDefault("optimizer", "adam").toLowerCase(Locale.ROOT);
        String precision = job.params().getOrDefault("precision", "mixed").toLowerCase(Locale.ROOT);
        double perParam = stateBytesPerParam(optimizer, precision);
        double states = trainable * perParam + frozen * frozenBytes;
        double activationsMib = Params.number(job, "activations_mib")
                .orElseGet(() -> Params.number(job, "batch").orElse(0.0)
                        * Params.number(job, "activation_mib_per_sample").orElse(0.0));
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
