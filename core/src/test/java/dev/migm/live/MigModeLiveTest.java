package dev.migm.live;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * MIG mode per GPU with real processes: on an emulated A100 at 100 modelled seconds per second, a
 * whole-GPU job declared to run 600 s (c = 1: 661 s on 7g.40gb's 98 SMs, 61 s more than the 30 s
 * mode change) gets the GPU with MIG off first (it goes first: it needs the largest instance), as
 * one {@code GPU-} device holding all 108 SMs; then the two small jobs that waited are more than the
 * one free whole GPU, and MIG goes back on for them.
 */
final class MigModeLiveTest {
    @Test
    void aWholeGpuJobRunsWithMigOff_thenMigGoesBackOnForSmallJobs(@TempDir Path dir) throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - name: whole
                    command: [x]
                    memory: 30GiB
                    expected: 600s
                    workload: {work: 600s, c: 1, sat: 1, mem: 30GiB}
                  - name: small-1
                    command: [x]
                    memory: 3GiB
                    workload: {work: 50s, c: 0.2, mem: 3GiB}
                  - name: small-2
                    command: [x]
                    memory: 3GiB
                    workload: {work: 50s, c: 0.2, mem: 3GiB}
                """);
        Path home = dir.resolve("home");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(new String[] {"run", jobs.toString(), "--home", home.toString(), "--time-scale", "100", "--json"},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(rc).as(err.toString()).isZero();
        Map<String, Object> doc = JsonMapper.builder().build().readValue(out.toString(), new TypeReference<>() { });
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) doc.get("run");
        assertThat(run).containsEntry("completed", 3);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) doc.get("jobs");
        Map<String, Object> whole = rows.stream().filter(r -> r.get("id").equals("whole")).findFirst().orElseThrow();
        assertThat((String) whole.get("slot")).isEqualTo("gpu0:whole");
        assertThat(rows).filteredOn(r -> ((String) r.get("id")).startsWith("small"))
                .allSatisfy(r -> assertThat((String) r.get("slot")).contains("1g."));
        Path runDir = Path.of((String) run.get("run_dir"));
        String events = Files.readString(runDir.resolve("events.log"));
        assertThat(events).contains("MigModeChangeRequested: gpu0: turning MIG off: MIG off for whole")
                .contains("MigModeChangeRequested: gpu0: turning MIG on");
        // The job saw the whole GPU: its device was a GPU- device, not a MIG- one.
        assertThat(events).contains("AttemptLaunched: whole attempt 1 launched on gpu0:whole");
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
        try (var left = Files.list(home.resolve("emulated/mig"))) {
            assertThat(left.toList()).isEmpty();
        }
    }
}
