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
 * A job file's {@code time_limit} on real processes: the engine's timer stops the attempt's process
 * group (SIGTERM) when the limit is reached, and the job fails with the reason instead of being
 * requeued; a job within its limit is untouched. The run exits 1 (a job failed).
 */
final class LiveLimitsTest {
    @Test
    void aProcessPastItsTimeLimit_isStopped_andItsJobFails(@TempDir Path dir) throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        Files.writeString(jobs, """
                version: v1
                defaults: {memory: 1GiB}
                jobs:
                  - {name: sleeper, command: "sleep 60", time_limit: 2s}
                  - {name: quick, command: "true", time_limit: 30s}
                """);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long started = System.nanoTime();
        int rc = Main.run(new String[] {"run", jobs.toString(), "--home", dir.resolve("home").toString(), "--json"},
                new PrintWriter(out), new PrintWriter(err));
        double wallS = (System.nanoTime() - started) / 1e9;
        assertThat(rc).as(err.toString()).isEqualTo(1);
        Map<String, Object> doc = JsonMapper.builder().build().readValue(out.toString(), new TypeReference<>() { });
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) doc.get("run");
        assertThat(run).containsEntry("completed", 1);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> failures = (List<Map<String, Object>>) run.get("failures");
        assertThat(failures).singleElement().satisfies(f -> {
            assertThat(f).containsEntry("id", "sleeper");
            assertThat((String) f.get("reason")).startsWith("time limit of 2 s reached on attempt 1");
        });
        // Stopped at its limit, not after its 60 s of sleep; and nothing of it is left.
        assertThat(wallS).isLessThan(30);
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
    }

    @Test
    void aProcessThatIgnoresSigterm_isKilledAfterTheGracePeriodGiven(@TempDir Path dir) throws Exception {
        Path jobs = dir.resolve("jobs.yaml");
        // The job ignores SIGTERM; with --grace 1s the SIGKILL comes 1 s after the 1 s limit (the default
        // grace, 10 s, would keep it 10 s longer).
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: stubborn, command: ["sh", "-c", "trap '' TERM; sleep 60 & wait; wait"], memory: 1GiB, time_limit: 1s}
                """);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long started = System.nanoTime();
        int rc = Main.run(new String[] {"run", jobs.toString(), "--home", dir.resolve("home").toString(), "--json",
                "--grace", "1s", "--sample-every", "500ms"}, new PrintWriter(out), new PrintWriter(err));
        double wallS = (System.nanoTime() - started) / 1e9;
        assertThat(rc).as(err.toString()).isEqualTo(1);
        assertThat(out.toString()).contains("time limit of 1 s reached");
        assertThat(wallS).isLessThan(8);
    }
}
