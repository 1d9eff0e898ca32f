package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** A generated trace keeps everything its templates' submitters declared. */
final class TraceGeneratorTest {
    private static final List<GpuModel> NODE = List.of(Catalog.builtin().get("A100-40GB"));

    @Test
    void generatedJobs_keepTheTemplatesParametersAndExpectedRunTime() {
        // One template with parameters for the analytic estimators and an expected run time: every
        // generated copy carries both (they reach the estimators), with its own id and arrival.
        TraceJob template = new TraceJob(new JobSpec("t", 0, "llama-7b", JobClass.LLM, OptionalLong.of(16000),
                Map.of("params_b", "7", "batch", "4"), true, OptionalDouble.of(600)),
                new WorkloadModel(600, 0.5, 0.5, 14000, 15000, 0.8, 60, false));
        StringWriter out = new StringWriter();
        TraceGenerator.write(out, List.of(template), 5, NODE, 1.0, 7);
        List<TraceJob> jobs = TraceReader.parse(out.toString(), "generated");
        assertThat(jobs).hasSize(5);
        assertThat(jobs).extracting(j -> j.spec().id()).doesNotHaveDuplicates().allMatch(id -> id.startsWith("gen-"));
        assertThat(jobs).allSatisfy(j -> {
            assertThat(j.spec().params()).isEqualTo(template.spec().params());
            assertThat(j.spec().expectedS()).isEqualTo(template.spec().expectedS());
            assertThat(j.spec().declaredMib()).isEqualTo(template.spec().declaredMib());
            assertThat(j.spec().checkpoints()).isTrue();
        });
        assertThat(jobs).extracting(j -> j.spec().submitS()).isSorted();
    }
}
