package dev.migm.live;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.cli.Main;
import dev.migm.nvml.NvmlStub;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code migm run --backend nvml} end to end against the stub libnvidia-ml (two A100-40GB, GPU 0
 * with MIG on): the engine cuts GPU 0 through NVML's create calls, each job's own command runs with
 * {@code CUDA_VISIBLE_DEVICES} naming the MIG device NVML made for it, and GPU 1 (MIG off) is skipped
 * with the reason. Options that make no sense on real GPUs are one-line errors.
 */
final class NvmlRunTest {
    @TempDir
    static Path dir;
    static NvmlStub stub;

    @BeforeAll
    static void buildTheStub() throws Exception {
        stub = NvmlStub.build(dir);
    }

    private static int run(StringWriter out, StringWriter err, String... args) {
        return Main.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    /** The {@code run} object of {@code migm run --json}'s output. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> runSummary(String json) {
        Map<String, Object> doc = JsonMapper.builder().build().readValue(json, new TypeReference<>() { });
        return (Map<String, Object>) doc.get("run");
    }

    @Test
    void jobsRunTheirCommands_onMigDevicesNvmlCreated() throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        // 3 GiB fits a 1g.5gb (4864 MiB); 15 GiB needs a 3g.20gb (19968 MiB). The workload section is
        // the emulator's: on real GPUs the command runs.
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: small
                    command: sh -c 'echo "$CUDA_VISIBLE_DEVICES"; sleep 0.3'
                    memory: 3GiB
                    workload: {work: 20s, mem: 3GiB}
                  - name: big
                    command: sh -c 'echo "$CUDA_VISIBLE_DEVICES"; sleep 0.3'
                    memory: 15GiB
                """);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = run(out, err, "run", jobs.toString(), "--home", dir.resolve("home").toString(), "--backend", "nvml",
                "--nvml-library", stub.library().toString(), "--json");
        assertThat(rc).as(err.toString()).isZero();
        Map<String, Object> doc = JsonMapper.builder().build().readValue(out.toString(), new TypeReference<>() { });
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = (Map<String, Object>) doc.get("run");
        assertThat(summary).containsEntry("jobs", 2).containsEntry("completed", 2);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) doc.get("jobs");
        Map<String, String> slots = new java.util.HashMap<>();
        rows.forEach(r -> slots.put((String) r.get("id"), (String) r.get("slot")));
        assertThat(slots.get("small")).contains("1g.5gb");
        assertThat(slots.get("big")).contains("3g.20gb");
        Path runDir = Path.of((String) summary.get("run_dir"));
        String small = Files.readString(runDir.resolve("jobs/small/attempt-1.out")).strip();
        String big = Files.readString(runDir.resolve("jobs/big/attempt-1.out")).strip();
        assertThat(small).startsWith("MIG-8e2a1c34-");
        assertThat(big).startsWith("MIG-8e2a1c34-").isNotEqualTo(small);
        assertThat(Files.readString(runDir.resolve("events.log"))).contains("ReconfigurationApplied");
    }

    @Test
    void withTheAdminsOptIn_onHopper_aGpuWithMigOff_runsAWholeGpuJob() throws Throwable {
        // The stub's GPUs report Hopper: GPU 1 (MIG off) is driven too, as one whole-GPU slot. 40,500
        // MiB is more than a 7g.40gb holds (40,192) and less than the whole A100-40GB (40,960): only
        // GPU 1 with MIG off holds it, and its command sees the GPU's own device.
        stub.reset();
        stub.setArchitecture(9);
        try {
            Path jobs = dir.resolve("whole.yaml");
            Files.writeString(jobs, """
                    version: v1
                    jobs:
                      - name: whole
                        command: sh -c 'echo "$CUDA_VISIBLE_DEVICES"; sleep 0.3'
                        memory: 40500MiB
                      - name: small
                        command: sh -c 'echo "$CUDA_VISIBLE_DEVICES"; sleep 0.3'
                        memory: 3GiB
                    """);
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int rc = run(out, err, "run", jobs.toString(), "--home", dir.resolve("whole-home").toString(), "--backend",
                    "nvml", "--nvml-library", stub.library().toString(), "--allow-mig-mode-change", "--json");
            assertThat(rc).as(err.toString()).isZero();
            Map<String, Object> summary = runSummary(out.toString());
            assertThat(summary).containsEntry("jobs", 2).containsEntry("completed", 2);
            Path runDir = Path.of((String) summary.get("run_dir"));
            assertThat(Files.readString(runDir.resolve("jobs/whole/attempt-1.out")).strip())
                    .isEqualTo("GPU-5d5a3b5e-0000-4000-8000-000000000001");
            assertThat(Files.readString(runDir.resolve("jobs/small/attempt-1.out")).strip()).startsWith("MIG-");
            // Without the opt-in the same node offers only GPU 0 with MIG on: no slot holds the declared
            // 40,500 MiB (its largest instance has 40,192), so the node refuses the file at its door,
            // naming that slot (issue 24), instead of trying the job on an instance too small.
            StringWriter out2 = new StringWriter();
            StringWriter err2 = new StringWriter();
            int rc2 = run(out2, err2, "run", jobs.toString(), "--home", dir.resolve("whole-home2").toString(),
                    "--backend", "nvml", "--nvml-library", stub.library().toString(), "--json");
            assertThat(rc2).isEqualTo(2);
            assertThat(err2.toString().strip()).isEqualTo("migm: " + jobs + ": job 'whole': memory: needs 40500 MiB"
                    + " (declared), more than the largest slot of this node: 7g.40gb of A100-SXM4-40GB with 40192 MiB;"
                    + " a job runs on one GPU");
        } finally {
            stub.reset();
        }
    }

    @Test
    void auto_withoutUsableNvml_saysWhy_andRunsOnTheEmulatedGpu() throws Exception {
        Path jobs = dir.resolve("auto.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: one
                    command: [x]
                    memory: 3GiB
                    workload: {work: 10s, mem: 3GiB}
                """);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = run(out, err, "run", jobs.toString(), "--home", dir.resolve("auto-home").toString(), "--backend", "auto",
                "--nvml-library", dir.resolve("missing.so").toString(), "--time-scale", "50", "--view", "live");
        assertThat(rc).as(err.toString()).isZero();
        assertThat(err.toString()).startsWith("migm: NVML not available: cannot load").contains("running on the emulated GPU");
        // The live view (redrawn in place) ends with the job done on its instance, then the summary.
        assertThat(out.toString()).contains("\033[J").contains("running 0  done 1  failed 0")
                .containsPattern("\n1 of 1 jobs done in [0-9]+ s");
    }

    @Test
    void optionsThatRealGpusCannotHonour_areOneLineErrors() {
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "run", "../examples/batch-demo.yaml", "--backend", "nvml",
                "--nvml-library", stub.library().toString(), "--time-scale", "20")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("migm: --time-scale: real GPUs run at 1, got 20.0\n");
        StringWriter err2 = new StringWriter();
        assertThat(run(new StringWriter(), err2, "run", "../examples/batch-demo.yaml", "--backend", "nvml",
                "--nvml-library", dir.resolve("missing.so").toString())).isEqualTo(2);
        assertThat(err2.toString()).startsWith("migm: NVML not available: cannot load").doesNotContain("\tat ");
        StringWriter err3 = new StringWriter();
        assertThat(run(new StringWriter(), err3, "run", "../examples/batch-demo.yaml", "--backend", "gpu")).isEqualTo(2);
        assertThat(err3.toString()).contains("--backend: expected emulated, nvml or auto, got 'gpu'");
    }
}
