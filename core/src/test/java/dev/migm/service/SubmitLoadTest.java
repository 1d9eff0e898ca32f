package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 submits from 20 parallel clients are 1,000 distinct jobs, none lost or doubled; then the
 * daemon is killed, the journal's log gets a torn last write (half a frame of junk, as a crash in the
 * middle of a write leaves it), and the restarted daemon starts, says what it recovered, and has every
 * acknowledged job. The GPUs are drained first so that the jobs wait (this test is about the queue).
 */
final class SubmitLoadTest {
    @Test
    @org.junit.jupiter.api.Timeout(300)
    void aThousandSubmitsFromTwentyClients_areAThousandJobs_andSurviveATornJournal(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        Set<String> ids = Collections.synchronizedSet(new HashSet<>());
        List<String> all = Collections.synchronizedList(new ArrayList<>());
        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--gpus", "1")) {
            try (ApiClient api = d.client()) {
                assertThat(api.post("/v1/gpus/0/drain", null).ok()).isTrue();
            }
            ExecutorService clients = Executors.newFixedThreadPool(20);
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 20; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    try (ApiClient api = d.client()) {
                        for (int i = 0; i < 50; i++) {
                            String text = "version: v1\njobs:\n  - {name: c" + client + "-" + i + ", command: [x],"
                                    + " memory: 1GiB, workload: {work: 5s, mem: 1GiB}}\n";
                            List<String> got = DaemonCrashTest.submit(api, "load.yaml", text);
                            all.addAll(got);
                            ids.addAll(got);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(120, TimeUnit.SECONDS);
            clients.shutdown();
            assertThat(all).hasSize(1000);
            assertThat(ids).hasSize(1000);
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM jobs")).isEqualTo(1000);
            assertThat(DaemonProcess.count(home, "SELECT count(DISTINCT name) FROM jobs")).isEqualTo(1000);
            d.kill9();
        }
        Path wal = home.resolve("journal.db-wal");
        if (Files.exists(wal)) {
            byte[] torn = new byte[3000];
            new java.util.Random(11).nextBytes(torn);
            Files.write(wal, torn, StandardOpenOption.APPEND);
        }
        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--gpus", "1")) {
            assertThat(d.output()).contains("recovered 1000 unfinished jobs").contains("1000 waiting");
            for (List<String> row : DaemonProcess.rows(home, "SELECT id FROM jobs")) ids.remove(row.getFirst());
            assertThat(ids).as("acknowledged jobs missing after the restart").isEmpty();
            try (ApiClient api = d.client()) {
                assertThat(api.get("/v1/gpus").body().toString()).as("the drain was kept").contains("status=draining");
            }
            Thread.sleep(1000);
            assertThat(DaemonProcess.count(home, "SELECT count(*) FROM attempts"))
                    .as("nothing placed on the drained GPU, not even in the first round after the restart").isZero();
        }
    }
}
