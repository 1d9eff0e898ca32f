package dev.migm.bench;

import dev.migm.service.ApiClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load issue 14 names, against a running {@code migm daemon} (loopback only): {@code preload}
 * jobs queued first (one batch), then {@code rate} one-job submits per second for {@code seconds}
 * from {@code clients} clients, open loop (each request has its time on a fixed schedule, and its
 * latency counts from that time, so a slow daemon cannot hide by slowing the clients: no coordinated
 * omission), while one poller reads the queue ({@code GET /v1/jobs}) and one the metrics
 * ({@code GET /metrics}) once a second, and the daemon's resident memory is read once a second. At
 * the end it checks that the daemon's journal holds every acknowledged job. Usage:
 * {@code java -cp benchmarks.jar dev.migm.bench.HostileLoad SOCKET HTTP_HOST:PORT DAEMON_PID PRELOAD RATE SECONDS CLIENTS [WARMUP_S]}
 * (the first WARMUP_S seconds, default 10, are sent at the same rate but not counted).
 */
public final class HostileLoad {
    private HostileLoad() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String http = args[1];
        long daemonPid = Long.parseLong(args[2]);
        int preload = Integer.parseInt(args[3]);
        int rate = Integer.parseInt(args[4]);
        int seconds = Integer.parseInt(args[5]);
        int clients = Integer.parseInt(args[6]);
        // Both JVMs start cold: the first seconds of submits (the generator's and the daemon's JIT,
        // class loading) are sent and stored but not counted in the latencies.
        int warmupS = args.length > 7 ? Integer.parseInt(args[7]) : 10;

        long preloadStart = System.nanoTime();
        try (ApiClient api = new ApiClient(socket)) {
            StringBuilder batch = new StringBuilder("version: v1\njobs:\n");
            for (int i = 0; i < preload; i++) {
                batch.append("  - {name: pre-").append(i).append(", command: [x], memory: 1GiB, workload: {work: 60s, mem: 1GiB}}\n");
            }
            ApiClient.Answer a = api.post("/v1/jobs", body("preload.yaml", batch.toString()));
            if (!a.ok()) throw new IllegalStateException("preload refused: " + a.error());
        }
        System.out.printf(Locale.ROOT, "preloaded %d queued jobs in one submit: %.1f s%n", preload,
                (System.nanoTime() - preloadStart) / 1e9);
        long rssBefore = rssKib(daemonPid);

        int warm = rate * warmupS;
        int total = warm + rate * seconds;
        long[] latency = new long[total];
        Arrays.fill(latency, -1);
        AtomicLong refused = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Long> queueMs = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Long> metricsMs = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Long> rss = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(3);
        long t0 = System.nanoTime() + 200_000_000L;
        // Open loop: each submit leaves at its due time on a thread of its own, whatever the ones
        // before it are doing, over one of `clients` connections pools (Jetty clients), round robin.
        List<ApiClient> apis = new ArrayList<>();
        for (int c = 0; c < clients; c++) apis.add(new ApiClient(socket));
        ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            int n = i;
            long due = t0 + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            done.add(senders.submit(() -> {
                try {
                    ApiClient.Answer a = apis.get(n % clients).post("/v1/jobs", body("load.yaml", "version: v1\njobs:\n"
                            + "  - {name: load-" + n + ", command: [x], memory: 1GiB, workload: {work: 60s, mem: 1GiB}}\n"));
                    if (!a.ok()) refused.incrementAndGet();
                } catch (ApiClient.Unreachable e) {
                    failed.incrementAndGet();
                }
                latency[n] = System.nanoTime() - due;
                return null;
            }));
            if (i == 0) startPollers(pool, socket, http, daemonPid, running, queueMs, metricsMs, rss);
        }
        for (Future<?> f : done) f.get();
        double wallS = (System.nanoTime() - t0) / 1e9;
        running.set(false);
        senders.shutdown();
        apis.forEach(ApiClient::close);
        pool.shutdown();
        pool.awaitTermination(30, TimeUnit.SECONDS);

        long[] sorted = Arrays.stream(latency, warm, total).filter(l -> l >= 0).sorted().toArray();
        wallS -= warmupS;
        System.out.printf(Locale.ROOT, "%d submits at %d/s from %d clients over %.1f s after %d s of warm-up (%.0f/s achieved), %d refused, %d unanswered;"
                        + " latency from each submit's due time: p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms%n",
                sorted.length, rate, clients, wallS, warmupS, sorted.length / wallS, refused.get(), failed.get(), pct(sorted, 0.5), pct(sorted, 0.99),
                pct(sorted, 0.999), sorted[sorted.length - 1] / 1e6);
        System.out.printf(Locale.ROOT, "queue polls (GET /v1/jobs, %d-%d jobs): %d, p50 %d ms, max %d ms; /metrics polls: %d,"
                        + " p50 %d ms, max %d ms%n", preload, preload + total, queueMs.size(), median(queueMs), max(queueMs),
                metricsMs.size(), median(metricsMs), max(metricsMs));
        // (queue and /metrics polls run through the warm-up too)
        long[] every = java.util.stream.LongStream.concat(Arrays.stream(sorted),
                java.util.stream.Stream.concat(queueMs.stream(), metricsMs.stream()).mapToLong(ms -> ms * 1_000_000))
                .sorted().toArray();
        System.out.printf(Locale.ROOT, "every API request (the counted submits and every poll): %d, p50 %.1f ms, p99 %.1f ms,"
                + " p99.9 %.1f ms%n", every.length, pct(every, 0.5), pct(every, 0.99), pct(every, 0.999));
        System.out.printf(Locale.ROOT, "daemon resident memory: %d MiB before the load, max %d MiB, %d MiB at the end%n",
                rssBefore / 1024, rss.stream().mapToLong(Long::longValue).max().orElse(0) / 1024, rssKib(daemonPid) / 1024);
        try (ApiClient api = new ApiClient(socket)) {
            Map<?, ?> counts = (Map<?, ?>) api.get("/v1/health").body().get("jobs");
            long inJournal = counts.values().stream().mapToLong(v -> ((Number) v).longValue()).sum();
            long expected = preload + (total - refused.get() - failed.get());
            System.out.printf(Locale.ROOT, "journal: %d jobs, expected %d (preload + acknowledged): %s%n", inJournal,
                    expected, inJournal == expected ? "nothing lost"
                            : inJournal > expected && inJournal <= expected + failed.get()
                            ? "nothing lost (" + (inJournal - expected) + " unanswered submits were stored)" : "MISMATCH");
        }
        System.exit(0); // the pollers' pool and the Jetty clients hold threads
    }

    /** The queue and /metrics pollers and the memory reader, once a second each, until {@code running} ends. */
    private static void startPollers(ExecutorService pool, Path socket, String http, long daemonPid, AtomicBoolean running,
                                     List<Long> queueMs, List<Long> metricsMs, List<Long> rss) {
        if (!Boolean.getBoolean("migm.load.noQueuePolls")) pool.submit(() -> {
            try (ApiClient api = new ApiClient(socket)) {
                while (running.get()) {
                    long s = System.nanoTime();
                    try {
                        if (api.get("/v1/jobs").ok()) queueMs.add((System.nanoTime() - s) / 1_000_000);
                    } catch (ApiClient.Unreachable e) {
                        System.out.println("a queue poll failed: " + e.getMessage());
                    }
                    TimeUnit.MILLISECONDS.sleep(Math.max(0, 1000 - (System.nanoTime() - s) / 1_000_000));
                }
            }
            return null;
        });
        pool.submit(() -> {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest get = HttpRequest.newBuilder(URI.create("http://" + http + "/metrics")).build();
            while (running.get()) {
                long s = System.nanoTime();
                HttpResponse<String> r = client.send(get, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) metricsMs.add((System.nanoTime() - s) / 1_000_000);
                TimeUnit.MILLISECONDS.sleep(Math.max(0, 1000 - (System.nanoTime() - s) / 1_000_000));
            }
            return null;
        });
        pool.submit(() -> {
            while (running.get()) {
                rss.add(rssKib(daemonPid));
                TimeUnit.SECONDS.sleep(1);
            }
            return null;
        });
    }

    private static Map<String, Object> body(String source, String text) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("source", source);
        body.put("cwd", "/tmp");
        body.put("text", text);
        return body;
    }

    private static double pct(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] / 1e6;
    }

    private static long median(List<Long> v) {
        List<Long> s = new ArrayList<>(v);
        s.sort(null);
        return s.isEmpty() ? 0 : s.get(s.size() / 2);
    }

    private static long max(List<Long> v) {
        return v.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** The process's resident set ({@code VmRSS} in {@code /proc/PID/status}), KiB. */
    private static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // gone
        }
        return 0;
    }
}
