package dev.migm.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.estimate.EstimatorChain;
import dev.migm.io.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every job-file field is checked when the file is read, by the code that will use it later: a
 * memory expression is evaluated with the job's parameters, the LLM and training shapes are read by
 * their estimators, so a file the door accepts can always be estimated (and a node's journal, which
 * keeps accepted files, can always be replayed). Issue 24: each of these files passed the door
 * before and failed on the engine's thread after it was accepted.
 */
final class JobFileDoorTest {
    private static String job(String fields) {
        return "version: v1\njobs:\n  - name: bad\n    command: \"sleep 1\"\n" + fields;
    }

    private static String refusal(String text) {
        try {
            BatchFile.parse(text, "jobs.yaml");
        } catch (InvalidInputException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted:\n" + text);
    }

    @Test
    void poisonedFiles_areRefusedAtTheFieldThatPoisonsThem() {
        assertThat(refusal(job("    expr: \"n / 0\"\n    params: {n: 4}\n")))
                .isEqualTo("jobs.yaml:5:11: jobs[0].expr: memory expression 'n / 0' at position 6: division by zero");
        assertThat(refusal(job("    expr: \"10^10^10^10\"\n")))
                .isEqualTo("jobs.yaml:5:11: jobs[0].expr: memory expression '10^10^10^10' is not finite");
        assertThat(refusal(job("    expr: \"3*n\"\n    params: {n: abc}\n")))
                .isEqualTo("jobs.yaml:6:17: jobs[0].params.n: expected a number (a variable of the memory expression),"
                        + " got 'abc'");
        assertThat(refusal(job("    expr: \"3*m\"\n    params: {n: 1}\n")))
                .isEqualTo("jobs.yaml:5:11: jobs[0].expr: memory expression '3*m' at position 4: unknown parameter 'm'"
                        + " (job parameters: [n])");
        assertThat(refusal(job("    expr: \"0 - 5GiB\"\n")))
                .isEqualTo("jobs.yaml:5:11: jobs[0].expr: memory expression '0 - 5GiB' gives a negative size with the"
                        + " job's parameters");
        assertThat(refusal(job("    class: llm\n    llm: {params_b: -7}\n")))
                .isEqualTo("jobs.yaml:6:21: jobs[0].llm.params_b: expected a number in (0, 100000], got '-7'");
        assertThat(refusal(job("    llm: {params_b: 7, layers: 0, kv_heads: 8, head_dim: 128, tokens: 4096}\n")))
                .isEqualTo("jobs.yaml:5:32: jobs[0].llm.layers: expected a number in (0, 100000], got '0'");
        assertThat(refusal(job("    training: {params_m: 10, optimizer: sgdX}\n")))
                .isEqualTo("jobs.yaml:5:41: jobs[0].training.optimizer: expected one of adam, adamw, sgd, got 'sgdX'");
        assertThat(refusal(job("    training: {params_m: 10, precision: fp8}\n")))
                .isEqualTo("jobs.yaml:5:41: jobs[0].training.precision: expected one of mixed, fp32, got 'fp8'");
        assertThat(refusal(job("    training: {params_m: 10, trainable_params_m: 20}\n")))
                .isEqualTo("jobs.yaml:5:50: jobs[0].training.trainable_params_m: expected a number in [0, 10], got '20'");
        // From defaults, the error names where the value stood: the defaults' line.
        assertThat(refusal("version: v1\ndefaults: {training: {params_m: 10, optimizer: lion}}\njobs:\n"
                + "  - {name: a, command: \"true\"}\n"))
                .startsWith("jobs.yaml:2:48: jobs[0].training.optimizer: expected one of adam, adamw, sgd");
    }

    @Test
    void sensibleFiles_stillPass_andTheirNeedIsWhatTheEstimatorsSay() {
        List<SubmittedJob> jobs = BatchFile.parse("""
                version: v1
                jobs:
                  - {name: stencil, command: "true", expr: "3 * n * n * 8 + 512MiB", params: {n: 12000}}
                  - {name: bert, command: "true", training: {params_m: 110, optimizer: AdamW, precision: mixed, batch: 32,
                     activation_mib_per_sample: 120}}
                  - {name: llama, command: "true", class: llm, llm: {params_b: 6.74, layers: 32, kv_heads: 32,
                     head_dim: 128, tokens: 4096}}
                """, "ok.yaml");
        // 3 * 12000^2 * 8 B = 3456000000 B = 3296 MiB (rounded up), + 512 MiB + the 500 MiB CUDA context.
        assertThat(EstimatorChain.declaredNeed(jobs.get(0).toJobSpec()).orElseThrow().mib()).isEqualTo(3296 + 512 + 500);
        // 110e6 parameters x 16 B (mixed-precision Adam) = 1679 MiB (rounded up), + 32 x 120 MiB + 500 MiB.
        assertThat(EstimatorChain.declaredNeed(jobs.get(1).toJobSpec()).orElseThrow().mib()).isEqualTo(1679 + 3840 + 500);
        // An LLM's params_b is its size for inference: 2 bytes a parameter, not the training estimator's 16.
        assertThat(EstimatorChain.declaredNeed(jobs.get(2).toJobSpec()).orElseThrow().source()).startsWith("llm:");
    }

    @Test
    void aLineLongerThanAnyJobFileHas_isRefusedBeforeParsing_andTabsAreNamed() {
        String longComment = "#" + "x".repeat(200_000) + "\n" + job("");
        assertThat(refusal(longComment)).isEqualTo("jobs.yaml:1: a line of more than 65536 characters (write a long"
                + " command as a list, or over several lines in YAML's folded style)");
        assertThat(refusal("version: v1\njobs:\n\t- {name: a, command: \"true\"}\n"))
                .isEqualTo("jobs.yaml:3: not valid YAML: a tab character in the indentation (YAML indents with spaces"
                        + " only)");
        assertThatThrownBy(() -> BatchFile.parse("x".repeat(Yaml.MAX_CHARS + 1), "big.yaml"))
                .hasMessage("big.yaml: more than 64 Mi characters (split the batch into several files)");
    }
}
