package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * What-if replay: a batch run by the daemon on the emulated GPU, turned into a trace of its
 * completed jobs and simulated under the daemon's own policy, lands within 10% of what happened.
 */
final class ReplayTest {
    @Test
    @Timeout(180)
    void aDaemonBatch_replayedUnderItsOwnPolicy_agreesWithWhatHappened(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        Path jobs = dir.resolve("jobs.yaml");
        // Five jobs whose declared memory holds them (no OOM), of 40 to 120 s of work alone on a whole
        // GPU, arriving together: migm cuts the A100 for them and they share it.
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: a, command: ["train"], memory: 3GiB, workload: {work: 120s, mem: 2GiB}}
                  - {name: b, command: ["train"], memory: 3GiB, workload: {work: 90s, mem: 2GiB}}
                  - {name: c, command: ["train"], memory: 8GiB, workload: {work: 60s, mem: 6GiB}}
                  - {name: d, command: ["train"], memory: 3GiB, workload: {work: 40s, mem: 1GiB}}
                  - {name: e, command: ["train"], memory: 16GiB, workload: {work: 80s, mem: 12GiB}}
                """);
        Path trace = dir.resolve("replay.csv");
        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--time-scale", "20",
                "--http-listen", "off")) {
            assertThat(ServiceCliTest.migm(home, "submit", jobs.toString()).rc()).isZero();
            assertThat(DaemonProcess.await(home, "SELECT count(*) = 5 FROM jobs WHERE state='done'", 120_000))
                    .as(d.output()).isTrue();
            ServiceCliTest.Result r = ServiceCliTest.migm(home, "replay", "--policies", "migm", "--export",
                    trace.toString(), "--json");
            assertThat(r.rc()).as(r.err()).isZero();
            Map<String, Object> doc = JsonMapper.builder().build().readValue(r.out(), new TypeReference<>() { });
            assertThat(doc.get("schema")).isEqualTo("migm.replay/v1");
            assertThat(doc.get("jobs")).isEqualTo(5);
            double real = ((Number) doc.get("real_makespan_s")).doubleValue();
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> runs = (List<Map<String, Object>>) ((Map<String, Object>) doc.get("simulated")).get("runs");
            double simulated = ((Number) runs.getFirst().get("makespan_s")).doubleValue();
            assertThat(simulated / real).as("simulated %s s against %s s", simulated, real).isCloseTo(1.0, within(0.10));
            // The exported trace: every completed job, arrivals relative to the first, observed peaks.
            List<String> rows = Files.readAllLines(trace).stream().filter(l -> !l.startsWith("#") && !l.startsWith("id,"))
                    .toList();
            assertThat(rows).hasSize(5);
            assertThat(rows).allSatisfy(l -> assertThat(l.split(",")[1]).isEqualTo("0.0"));
        } finally {
            DaemonCrashTest.liveJobProcesses(home).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
        // Nothing to replay: one line, status 1.
        ServiceCliTest.Result none = ServiceCliTest.migm(dir.resolve("empty"), "replay");
        assertThat(none.rc()).isEqualTo(1);
    }
}
