package dev.migm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.sim.Jobs;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Estimators on real model sizes (published configurations). */
final class EstimatorsTest {
    private static JobSpec withParams(JobClass c, String app, Map<String, String> params) {
        return new JobSpec("j", 0, app, c, OptionalLong.empty(), params, false, java.util.OptionalDouble.empty());
    }

    @Test
    void llm_llama2_7b_fp16_weightsPlusKvCache() {
        // Llama-2-7B (Touvron et al. 2023, config.json): 6.74e9 parameters, 32 layers, 32 KV heads,
        // head dim 128. fp16 weights: 6.74e9 * 2 = 13.48e9 B = 12856 MiB (ceil).
        // KV cache for 4096 tokens, batch 1: 2 * 32 * 32 * 128 * 2 B * 4096 = 2^31 B = 2048 MiB.
        // workspace = max(256, 5% of 12856 = 643) = 643; context 500. Total 12856 + 2048 + 643 + 500 = 16047.
        JobSpec job = withParams(JobClass.LLM, "llama-2-7b-serve", Map.of("params_b", "6.74", "layers", "32",
                "kv_heads", "32", "head_dim", "128", "tokens", "4096"));
        Estimate e = new LlmEstimator().estimate(job).orElseThrow();
        assertThat(LlmEstimator.kvCacheBytes(32, 32, 128, 2, 4096, 1)).isEqualTo(2147483648.0);
        assertThat(e.mib()).isEqualTo(12856 + 2048 + 643 + 500);
        assertThat(e.lowerBound()).isFalse();
    }

    @Test
    void llm_mistral7b_groupedQueryAttentionHasAQuarterOfTheKvCache() {
        // Mistral-7B (Jiang et al. 2023): 32 layers, 8 KV heads (GQA), head dim 128:
        // 2 * 32 * 8 * 128 * 2 B = 131072 B = 128 KiB per token; 8192 tokens x batch 4 -> 4 GiB.
        assertThat(LlmEstimator.kvCacheBytes(32, 8, 128, 2, 8192, 4)).isEqualTo(4.0 * (1L << 30));
    }

    @Test
    void llm_withoutParametersReadsTheSizeFromTheAppNameAsALowerBound() {
        // llama-13b in fp16: 13e9 * 2 B = 24796 MiB (ceil); workspace 5% = 1240; context 500.
        JobSpec job = Jobs.aJob("x").app("llama-13b").kind(JobClass.LLM).build().spec();
        Estimate e = new LlmEstimator().estimate(job).orElseThrow();
        assertThat(e.mib()).isEqualTo(24796 + 1240 + 500);
        assertThat(e.lowerBound()).isTrue();
        assertThat(new LlmEstimator().estimate(Jobs.aJob("y").app("phi-2").kind(JobClass.LLM).build().spec())).isEmpty();
        assertThat(new LlmEstimator().estimate(Jobs.aJob("z").app("llama-13b").kind(JobClass.ML).build().spec())).isEmpty();
    }

    @Test
    void training_gpt2_1_5b_mixedPrecisionAdamStatesAre24GB() {
        // ZeRO (Rajbhandari et al. 2020), section 3.1: "a GPT-2 model with 1.5B parameters requires
        // at least 24 GB of memory for its model states": 1.5e9 * 16 B = 24e9 B = 22889 MiB (ceil).
        JobSpec job = withParams(JobClass.ML, "gpt2-xl", Map.of("params_b", "1.5"));
        Estimate e = new TrainingEstimator().estimate(job).orElseThrow();
        assertThat(e.mib()).isEqualTo(22889 + 500);
        assertThat(TrainingEstimator.stateBytesPerParam("adam", "mixed")).isEqualTo(16);
        assertThat(TrainingEstimator.stateBytesPerParam("sgd", "fp32")).isEqualTo(12);
    }

    @Test
    void training_resnet50_sgdWithActivations() {
        // ResNet-50: 25.6e6 parameters; fp32 SGD with momentum 12 B/param = 307.2e6 B = 293 MiB (ceil);
        // batch 64 at 100 MiB of activations per 224x224 sample (assumed here) = 6400 MiB; context 500.
        JobSpec job = withParams(JobClass.ML, "resnet50-train", Map.of("params_m", "25.6", "optimizer", "sgd",
                "precision", "fp32", "batch", "64", "activation_mib_per_sample", "100"));
        assertThat(new TrainingEstimator().estimate(job).orElseThrow().mib()).isEqualTo(293 + 6400 + 500);
    }

    @Test
    void training_qloraKeepsFrozenWeightsInFourBits() {
        // Qwen1.5-1.8B frozen in 4 bits (0.5 B/param) with 20M trainable LoRA parameters at 16 B:
        // 1.78e9 * 0.5 + 20e6 * 16 = 0.89e9 + 0.32e9 = 1.21e9 B = 1154 MiB (ceil); + context 500.
        JobSpec job = withParams(JobClass.ML, "qlora", Map.of("params_b", "1.8", "trainable_params_m", "20",
                "frozen_bytes_per_param", "0.5"));
        double bytes = (1.8e9 - 20e6) * 0.5 + 20e6 * 16;
        assertThat(new TrainingEstimator().estimate(job).orElseThrow().mib())
                .isEqualTo((long) Math.ceil(bytes / (1 << 20)) + 500);
    }

    @Test
    void expression_addsTheCudaContext() {
        JobSpec job = withParams(JobClass.SCIENTIFIC, "gaussian", Map.of("n", "8192", "mem_expr", "2 * n * n * 4"));
        // 2 * 8192^2 * 4 B = 512 MiB, + 500 MiB context.
        assertThat(new ExpressionEstimator().estimate(job).orElseThrow().mib()).isEqualTo(1012);
    }

    @Test
    void history_isRobustToAllocatorCachingAndCountsOoms() {
        InMemoryHistory store = new InMemoryHistory(50);
        JobSpec job = Jobs.aJob("j").app("bert").kind(JobClass.ML).build().spec();
        HistoryEstimator h = new HistoryEstimator(store);
        assertThat(h.estimate(job)).isEmpty();
        // Three completed runs. On the 7g.40gb (40192 MiB) JAX-style preallocation showed 38000 MiB,
        // but the other runs prove ~9000 suffices: needs counted = min(peak, slot) = 9000, 9200, 38000.
        store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.COMPLETED, 9000, 9856));
        store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.COMPLETED, 9200, 9856));
        store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.COMPLETED, 38000, 40192));
        // median of {9000, 9200, 38000} = 9200: the cached 38000 does not move the estimate.
        assertThat(h.estimate(job).orElseThrow().mib()).isEqualTo(9200);
        // An OOM on 4864 counts as needing at least 4865 (or what it used).
        store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.OOM, 6000, 4864));
        // {6000, 9000, 9200, 38000}: ceil(0.5 * 4) - 1 = index 1 -> 9000.
        assertThat(h.estimate(job).orElseThrow().mib()).isEqualTo(9000);
    }

    @Test
    void history_countsWhatARunStoppedEarlyWasProjectedToReach() {
        // The llm suites' first waves: siblings of one application start together on 20 GiB slots,
        // the first ones are stopped early with projections of 25-32 GiB and an OOM says > 19968.
        // Those three say the next sibling needs the median of {19969, 25138, 32183} = 25138, where
        // counting completions alone said nothing yet.
        InMemoryHistory store = new InMemoryHistory(50);
        JobSpec job = Jobs.aJob("j").app("llama-7b").kind(JobClass.LLM).build().spec();
        HistoryEstimator h = new HistoryEstimator(store);
        store.record("llama-7b", JobClass.LLM, new HistoryStore.Observation(HistoryStore.Kind.PROJECTED, 25138, 0));
        store.record("llama-7b", JobClass.LLM, new HistoryStore.Observation(HistoryStore.Kind.PROJECTED, 32183, 0));
        assertThat(h.estimate(job)).as("two observations say nothing").isEmpty();
        store.record("llama-7b", JobClass.LLM, new HistoryStore.Observation(HistoryStore.Kind.OOM, 19968, 19968));
        assertThat(h.estimate(job).orElseThrow().mib()).isEqualTo(25138);
        // Not trusted alone (no run completed): the chain takes it as one estimate among the others.
        assertThat(h.estimate(job).orElseThrow().confidence()).isLessThan(EstimatorChain.TRUSTED);
    }

    @Test
    void chain_takesTheLargestEstimateUnlessHistoryIsTrusted_plusTheMargin() {
        InMemoryHistory store = new InMemoryHistory(50);
        EstimatorChain chain = EstimatorChain.defaults(store);
        JobSpec job = new JobSpec("j", 0, "llama-7b", JobClass.LLM, OptionalLong.of(20000), false);
        // llm from the name: 7e9 * 2 B = 13352 MiB + 668 + 500 = 14520; declared 20000 is larger:
        // need = ceil(20000 * 1.05) = 21000.
        assertThat(chain.initial(job).mib()).isEqualTo(21000);
        // Five completed runs at 15000 make history trusted (confidence 0.3 + 5 * 0.15 >= 0.7):
        for (int i = 0; i < 5; i++) {
            chain.learn(job, i + 1, 15000, 14000, 19968);
        }
        assertThat(chain.initial(job).mib()).isEqualTo(15750);
        assertThat(chain.initial(job).source()).startsWith("history of llama-7b");
        assertThat(chain.takeInvalidated()).contains("llama-7b", "class:llm");
    }

    @Test
    void history_replacesAShapesEstimateWithLess_onlyAfterThreeRunsAllBelowIt() {
        // Llama-2-7B's shape: 16047 MiB (llm_llama2_7b_fp16_weightsPlusKvCache), 16850 with the 5% margin.
        InMemoryHistory store = new InMemoryHistory(50);
        EstimatorChain chain = EstimatorChain.defaults(store);
        JobSpec job = withParams(JobClass.LLM, "serve.py --model llama-2-7b", Map.of("params_b", "6.74", "layers", "32",
                "kv_heads", "32", "head_dim", "128", "tokens", "4096"));
        assertThat(chain.initial(job).mib()).isEqualTo(16850);
        // Two quiet runs (short prompts) and one that filled its KV cache: history's median (5109) is
        // trusted, but not every recent run stayed below the shape, so the shape stands.
        chain.learn(job, 1, 5109, 4000, 19968);
        chain.learn(job, 2, 16100, 4000, 19968);
        chain.learn(job, 3, 5109, 4000, 19968);
        assertThat(chain.initial(job).mib()).isEqualTo(16850);
        assertThat(chain.initial(job).source()).startsWith("llm");
        // Three more quiet runs: the last three all peaked below 16047 / 1.05, and history (5109) replaces it.
        for (int i = 4; i < 7; i++) chain.learn(job, i, 5109, 4000, 19968);
        assertThat(chain.initial(job).source()).startsWith("history of serve.py --model llama-2-7b");
        assertThat(chain.initial(job).mib()).isLessThan(6000);
        // An OOM among them brings the shape back.
        chain.afterOom(job, 7, chain.initial(job), 9856, 9856);
        assertThat(chain.initial(job).mib()).isGreaterThanOrEqualTo(16850);
    }

    @Test
    void history_countsAnAttemptHeardTwiceOnce() {
        // A replayed journal delivers an attempt's observation again: it must not weigh twice.
        InMemoryHistory store = new InMemoryHistory(50);
        EstimatorChain chain = EstimatorChain.defaults(store);
        JobSpec job = Jobs.aJob("j").app("bert").kind(JobClass.ML).build().spec();
        chain.learn(job, 1, 9000, 8000, 9856);
        chain.learn(job, 1, 9000, 8000, 9856);
        chain.afterOom(job, 2, new dev.migm.engine.MemoryPolicy.Need(5000, "x"), 4864, 4864);
        chain.afterOom(job, 2, new dev.migm.engine.MemoryPolicy.Need(5000, "x"), 4864, 4864);
        assertThat(store.observations("bert")).hasSize(2);
        // Unkeyed observations (imports, tests) are all kept.
        store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.COMPLETED, 9000, 9856));
        store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.COMPLETED, 9000, 9856));
        assertThat(store.observations("bert")).hasSize(4);
    }

    @Test
    void chain_grows_lowerBoundEstimatesByTheClassGrowthFactor() {
        InMemoryHistory store = new InMemoryHistory(50);
        EstimatorChain chain = EstimatorChain.defaults(store);
        // Three completed LLM runs of another app grew from 10000 to 13000 MiB (x1.3).
        JobSpec other = Jobs.aJob("o").app("gemma-2b").kind(JobClass.LLM).build().spec();
        for (int i = 0; i < 3; i++) {
            chain.learn(other, i + 1, 13000, 10000, 19968);
        }
        assertThat(chain.growth(JobClass.LLM)).isEqualTo(1.3);
        // llama-7b from its name: 14520 MiB of weights (a lower bound) x 1.3 = 18876, + 5% = 19820.
        JobSpec job = Jobs.aJob("j").app("llama-7b").kind(JobClass.LLM).build().spec();
        assertThat(chain.initial(job).mib()).isEqualTo((long) Math.ceil(Math.round(14520 * 1.3) * 1.05));
        assertThat(chain.initial(job).source()).contains("growth");
    }

    /**
     * Jobs alike in what the estimators read (application, class, declared memory, parameters) get
     * the estimate made for the first while their application's history stays the same; a run
     * recorded into the store, by the chain or not, is seen by the next estimate of any of them.
     */
    @Test
    void chain_estimatesAlikeJobsOnce_andSeesEveryRunRecordedSince() {
        InMemoryHistory store = new InMemoryHistory(50);
        EstimatorChain chain = EstimatorChain.defaults(store);
        JobSpec first = new JobSpec("a-1", 0, "bert", JobClass.ML, OptionalLong.of(8000), false);
        JobSpec sibling = new JobSpec("a-2", 5, "bert", JobClass.ML, OptionalLong.of(8000), false);
        JobSpec declaredMore = new JobSpec("a-3", 5, "bert", JobClass.ML, OptionalLong.of(12000), false);
        // Declared 8000 and nothing else known: ceil(8000 * 1.05) = 8400; 12000 -> 12600.
        assertThat(chain.initial(first).mib()).isEqualTo(8400);
        assertThat(chain.initial(sibling)).isSameAs(chain.initial(first));
        assertThat(chain.initial(declaredMore).mib()).isEqualTo(12600);
        // Five runs at 6000 recorded straight into the store (a journal's replay): history is
        // trusted (confidence 0.3 + 5 * 0.15 >= 0.7) and says 6000 * 1.05 = 6300 for every one of them.
        for (int i = 0; i < 5; i++) {
            store.record("bert", JobClass.ML, new HistoryStore.Observation(HistoryStore.Kind.COMPLETED, 6000, 9856));
        }
        assertThat(chain.initial(sibling).mib()).isEqualTo(6300);
        assertThat(chain.initial(first).mib()).isEqualTo(6300);
        assertThat(chain.initial(declaredMore).mib()).isEqualTo(6300);
    }
}
