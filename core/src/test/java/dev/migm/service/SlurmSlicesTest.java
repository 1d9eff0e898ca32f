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
 * The daemon's side of the Slurm integration through its API, without Slurm: what a Prolog and an
 * Epilog ask ({@code /v1/slurm/prepare}, {@code /v1/slurm/release}) and what they are answered. The
 * whole path with real Slurm daemons is {@link SlurmTest}.
 */
final class SlurmSlicesTest {
    private static final String ME = System.getProperty("user.name");

    @Test
    @Timeout(120)
    void aSliceIsPreparedOnce_waitedFor_andReleasedOnce(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--time-scale", "20", "--http-listen", "off");
             ApiClient api = d.client()) {
            Map<String, Object> ask = Map.of("job", "42", "restart", 0, "bytes", 4L << 30, "user", ME);
            ApiClient.Answer a = awaitSlice(api, ask);
            Object id = a.body().get("id");
            @SuppressWarnings("unchecked")
            List<String> env = (List<String>) a.body().get("env");
            assertThat(env).anyMatch(l -> l.startsWith("export CUDA_VISIBLE_DEVICES=MIG-"));
            assertThat(env).contains("export MIGM_CHECKPOINT_DIR=" + home.toAbsolutePath().resolve("slurm/jobs/42/checkpoints"));
            assertThat(env).anyMatch(l -> l.startsWith("export MIGM_EMULATED_DIR="));
            // 4 GiB exactly (no margin): the tightest instance, a 1g.5gb.
            assertThat(a.body().get("instance")).isEqualTo("1g.5gb@0");
            // A Prolog that asks again gets the same slice.
            assertThat(api.post("/v1/slurm/prepare", ask).body().get("id")).isEqualTo(id);

            ApiClient.Answer r = api.post("/v1/slurm/release", Map.of("job", "42", "restart", 0, "exit", "3:0"));
            assertThat(r.body()).containsEntry("result", "released").containsEntry("id", id);
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE id = " + id + " AND state = 'failed'"
                    + " AND reason LIKE '%exit status 3%'", 30_000)).isTrue();
            // Every Epilog releases, also for jobs that had no slice or gave it back already.
            assertThat(api.post("/v1/slurm/release", Map.of("job", "42", "restart", 0, "exit", "0:0")).body())
                    .containsEntry("result", "nothing held");
            assertThat(api.post("/v1/slurm/release", Map.of("job", "77", "restart", 0, "exit", "0:9")).body())
                    .containsEntry("result", "nothing held");

            // An OOM reported by the Epilog ends the holder as an OOM the engine learns from; the
            // requeue is the admin's choice, off here.
            awaitSlice(api, Map.of("job", "43", "restart", 0, "bytes", 4L << 30, "user", ME));
            ApiClient.Answer oom = api.post("/v1/slurm/release", Map.of("job", "43", "restart", 0, "exit", "1:0",
                    "oom_evidence", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"));
            assertThat(oom.body().get("requeue").toString()).startsWith("off");
            assertThat(DaemonProcess.await(home, "SELECT count(*) FROM jobs WHERE name = 'slurm-43-0' AND state = 'failed'"
                    + " AND reason LIKE 'out of memory on gpu0:1g.5gb%CUDA out of memory%'", 30_000)).isTrue();
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM history WHERE app = 'slurm-43' AND what = 'oom'"))
                    .isEqualTo(1);

            // What can never fit, and what is not a Prolog's request, are refused in one line; what can
            // never fit is the user's request (422: the Prolog cancels the job), not the node's fault.
            ApiClient.Answer tooBig = api.post("/v1/slurm/prepare", Map.of("job", "44", "restart", 0, "bytes", 50L << 30,
                    "user", ME));
            assertThat(tooBig.status()).isEqualTo(SlurmSlices.USERS_REQUEST);
            assertThat(tooBig.error()).contains("more than any one GPU of this node holds").contains("40192M");
            ApiClient.Answer badJob = api.post("/v1/slurm/prepare", Map.of("job", "12; rm -rf /", "restart", 0,
                    "bytes", 1, "user", ME));
            assertThat(badJob.status()).isEqualTo(400);
            assertThat(badJob.error()).startsWith("job: expected a Slurm job id");
            ApiClient.Answer badExit = api.post("/v1/slurm/release", Map.of("job", "45", "restart", 0, "exit", "x"));
            assertThat(badExit.status()).isEqualTo(400);
            assertThat(badExit.error()).startsWith("exit: expected CODE:SIGNAL");
            assertThat(api.post("/v1/slurm/prepare", Map.of("job", "46")).error()).startsWith("restart: expected a whole number");
        }
    }

    private static ApiClient.Answer awaitSlice(ApiClient api, Map<String, Object> ask) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            ApiClient.Answer a = api.post("/v1/slurm/prepare", ask);
            assertThat(a.ok()).as(a.body().toString()).isTrue();
            if (a.body().containsKey("env")) return a;
            assertThat(System.nanoTime()).as("the slice was placed: " + a.body()).isLessThan(until);
            Thread.sleep(100);
        }
    }
}
