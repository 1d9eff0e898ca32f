package dev.migm.bench;

import dev.migm.service.ApiClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Submit load against a running {@code migm daemon}: {@code clients} threads, each with its own
 * connection pool, send {@code submits} one-job files in all; prints the latency of each acknowledged
 * submit (p50, p99, max) and the accepted submits per second. Usage:
 * {@code java -cp migm-bench.jar dev.migm.bench.SubmitLoad SOCKET CLIENTS SUBMITS}.
 */
public final class SubmitLoad {
    private SubmitLoad() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int clients = Integer.parseInt(args[1]);
        int submits = Integer.parseInt(args[2]);
        long[] latencies = new long[submits];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> done = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client = c;
            done.add(pool.submit(() -> {
                try (ApiClient api = new ApiClient(socket)) {
                    for (int i = client; i < submits; i += clients) {
                        Map<String, Object> body = new LinkedHashMap<>();
                        body.put("source", "load.yaml");
                        body.put("cwd", "/tmp");
                        body.put("text", "version: v1\njobs:\n  - {name: load-" + i + ", command: [x], memory: 1GiB,"
                                + " workload: {work: 60s, mem: 1GiB}}\n");
                        long s = System.nanoTime();
                        ApiClient.Answer a = api.post("/v1/jobs", body);
                        latencies[i] = System.nanoTime() - s;
                        if (!a.ok()) throw new IllegalStateException(a.error());
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) f.get();
        double wallS = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        Arrays.sort(latencies);
        System.out.printf(Locale.ROOT, "%d submits from %d clients in %.2f s: %.0f accepted/s; latency p50 %.2f ms, p99 %.2f ms,"
                        + " max %.2f ms%n", submits, clients, wallS, submits / wallS, latencies[submits / 2] / 1e6,
                latencies[(int) Math.min(submits - 1, Math.ceil(submits * 0.99) - 1)] / 1e6, latencies[submits - 1] / 1e6);
    }
}
