package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.spec.BatchFile;
import dev.migm.spec.SubmittedJob;
import dev.migm.workload.TraceJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job file's {@code max_attempts} and {@code time_limit} are the engine's to enforce, here in the
 * simulated world (the live world runs the same engine; {@code dev.migm.live.LiveLimitsTest}).
 */
final class JobLimitsTest {
    private final List<GpuModel> a100 = List.of(Catalog.builtin().get("A100-40GB"));

    private SimResult simulate(Path dir, String yaml) throws Exception {
        Path file = dir.resolve("jobs.yaml");
        Files.writeString(file, yaml);
        List<TraceJob> jobs = BatchFile.read(file).stream().map(SubmittedJob::toTraceJob)
                .map(java.util.Optional::orElseThrow).toList();
        // Honest estimates (the declaration): the oracle's would place each job where it never OOMs.
        return Simulator.run("limits", jobs, PolicyRegistry.create("migm", a100), Simulator.Options.of(a100)
                .withMemory(() -> EstimatorChain.declaredOnly(new InMemoryHistory(50))));
    }

    @Test
    void aTimeLimitShorterThanTheWork_stopsTheAttempt_andFailsTheJobWithoutARequeue(@TempDir Path dir) throws Exception {
        // 600 s of work with c = 1 on a 1g.5gb (14 of 98 SMs) takes far longer than 120 s: the limit fires.
        // The other job (60 s of work, no limit) is untouched.
        SimResult r = simulate(dir, """
                version: v1
                jobs:
                  - {name: slow, command: [x], memory: 1GiB, time_limit: 120s, workload: {work: 600s, c: 1, mem: 1GiB}}
                  - {name: free, command: [x], memory: 1GiB, workload: {work: 60s, c: 1, mem: 1GiB}}
                """);
        assertThat(r.completed()).isEqualTo(1);
        assertThat(r.failed()).isEqualTo(1);
        assertThat(r.failures()).singleElement().asString()
                .contains("slow").contains("time limit of 120 s reached on attempt 1");
        assertThat(r.restarts()).isZero();
    }

    @Test
    void maxAttempts_overridesTheEnginesDefault_forThatJobOnly(@TempDir Path dir) throws Exception {
        // Both declare 1 GiB and grow to 8 GiB, so the first attempt (on a 1g.5gb, 4864 MiB) dies of OOM.
        // "once" may try once and fails; "twice" is requeued larger and completes.
        SimResult r = simulate(dir, """
                version: v1
                defaults: {checkpoint: false}
                jobs:
                  - {name: once, command: [x], memory: 1GiB, max_attempts: 1, workload: {work: 60s, mem: 1GiB, grow_to: 8GiB}}
                  - {name: twice, command: [x], memory: 1GiB, workload: {work: 60s, mem: 1GiB, grow_to: 8GiB}}
                """);
        assertThat(r.completed()).isEqualTo(1);
        assertThat(r.failures()).singleElement().asString().contains("once").contains("gave up after 1 attempts");
    }
}
