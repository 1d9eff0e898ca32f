package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GPU that falls off the bus, live: the daemon's health monitor finds gpu0 lost (the emulated GPU
 * answers NVML_ERROR_GPU_IS_LOST for 15 s of wall time from its start), the node shows it lost, its
 * metric says so, a job submitted meanwhile runs on gpu1, and gpu0 comes back only once it answers
 * again.
 */
final class LostGpuTest {
    @Test
    @Timeout(120)
    void aLostGpuIsShownLost_workGoesElsewhere_andItReturnsWhenItAnswers(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--gpus", "2", "--time-scale", "20",
                "--http-listen", "off", "--emulated-faults", "lose-gpu:0:15")) {
            assertThat(awaitStatus(d, 0, "lost", 5_000)).as("gpu0 shown lost").isTrue();
            assertThat(status(d, 1)).isEqualTo("ok");
            String id = DaemonCrashTest.submit(d, "j.yaml", """
                    version: v1
                    jobs:
                      - {name: j, command: [sleep, "1"], memory: 4GiB}
                    """).getFirst();
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM attempts WHERE job=" + id, 10_000)).isTrue();
            assertThat(DaemonProcess.rows(home, "SELECT gpu FROM attempts WHERE job=" + id).getFirst().getFirst())
                    .as("placed on the GPU that answers").isEqualTo("1");
            // The journal has it within its 20 ms of buffering (the engine's records it does not act on).
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM events WHERE kind='GpuHealth' AND json_extract(record,"
                    + " '$.gpu') = 0 AND json_extract(record, '$.lost') = 1 AND json_extract(record, '$.reason') LIKE"
                    + " '%GPU_IS_LOST%injected fault%'", 5_000)).isTrue();
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM events WHERE kind='GpuHealth' AND json_extract(record,"
                    + " '$.gpu') = 0 AND json_extract(record, '$.lost') = 1 AND json_extract(record, '$.reason') LIKE"
                    + " '%GPU_IS_LOST%injected fault%'")).isEqualTo(1);
            assertThat(awaitStatus(d, 0, "ok", 30_000)).as("gpu0 back once it answers").isTrue();
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM events WHERE kind='GpuHealth' AND json_extract(record,"
                    + " '$.gpu') = 0 AND json_extract(record, '$.lost') = 0 AND text LIKE '%answers again%'", 5_000)).isTrue();
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM events WHERE kind='GpuHealth' AND json_extract(record,"
                    + " '$.gpu') = 0 AND json_extract(record, '$.lost') = 0 AND text LIKE '%answers again%'")).isEqualTo(1);
            assertThat(java.nio.file.Files.readString(home.resolve("faults.log"))).contains("lose-gpu gpu0");
        }
    }

    /** The status {@code GET /v1/gpus} gives a GPU. */
    @SuppressWarnings("unchecked")
    private static String status(DaemonProcess d, int gpu) {
        try (ApiClient api = d.client()) {
            List<Map<String, Object>> gpus = (List<Map<String, Object>>) api.get("/v1/gpus").body().get("gpus");
            return (String) gpus.get(gpu).get("status");
        }
    }

    private static boolean awaitStatus(DaemonProcess d, int gpu, String prefix, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            if (status(d, gpu).startsWith(prefix)) return true;
            Thread.sleep(50);
        }
        return false;
    }
}
