package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running daemon's {@code /metrics}, scraped over its loopback HTTP view as Prometheus would:
 * checked by {@code promtool check metrics} (Debian's {@code prometheus} package; {@code ./test}
 * installs it when missing), against a golden file of names, types and labels, and for values that
 * follow from the batch it ran.
 */
final class MetricsTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden/metrics.txt");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    @Timeout(180)
    void aLiveScrape_passesPromtool_matchesTheGolden_andCountsWhatRan(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        Path jobs = dir.resolve("jobs.yaml");
        // Three short jobs on one emulated A100: each a 1g.5gb-sized workload of 20 modelled seconds
        // (2 s at time scale 10: long enough to be sampled at least once on a loaded machine, which
        // the estimate-ratio count needs; 3 modelled seconds ended unsampled under load).
        Files.writeString(jobs, """
                version: v1
                jobs:
                  - {name: a, command: ["train"], memory: 1GiB, workload: {work: 20s, mem: 1GiB}}
                  - {name: b, command: ["train"], memory: 1GiB, workload: {work: 20s, mem: 1GiB}}
                  - {name: c, command: ["train"], memory: 1GiB, workload: {work: 20s, mem: 1GiB}}
                """);
        try (DaemonProcess d = DaemonProcess.start(home, "--gpu", "A100-40GB", "--time-scale", "10",
                "--http-listen", "127.0.0.1:0")) {
            Matcher m = Pattern.compile("http (127\\.0\\.0\\.1:\\d+)").matcher(d.output());
            assertThat(m.find()).as(d.output()).isTrue();
            String base = "http://" + m.group(1);
            // The counters before any job: board, attributed and idle energy as of the same tick (the
            // first tick comes a second after the daemon is ready; until then the board has no series).
            Map<String, Double> before = Map.of();
            for (int i = 0; i < 100 && sum(before, "migm_gpu_energy_joules_total{") == 0; i++) {
                Thread.sleep(50);
                before = values(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
            }
            assertThat(sum(before, "migm_gpu_energy_joules_total{")).isPositive();
            assertThat(ServiceCliTest.migm(home, "submit", jobs.toString()).rc()).isZero();
            // While a job runs, its instance's occupancy names it and its submitter (DCGM-exporter's job
            // mapping; hpc_job is empty outside Slurm).
            String user = System.getProperty("user.name");
            // Labels in any order: the client sorts them.
            Pattern occupiedBy = Pattern.compile("(?m)^migm_instance_occupied\\{(?=[^}]*\\bhpc_job=\"\")(?=[^}]*\\bjob=\"[123]\")"
                    + "(?=[^}]*\\buser=\"" + Pattern.quote(user) + "\")[^}]*\\} 1\\.0$");
            boolean seenOccupied = false;
            for (long until = System.nanoTime() + 120_000_000_000L; !seenOccupied && System.nanoTime() < until; ) {
                seenOccupied = occupiedBy.matcher(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).find();
                if (!seenOccupied) Thread.sleep(50);
            }
            assertThat(seenOccupied).as("an occupied instance labelled with its job and user").isTrue();
            assertThat(DaemonProcess.await(home, "SELECT count(*) = 3 FROM jobs WHERE state='done'", 120_000)).isTrue();
            // One energy tick after the last job ended (ticks are 1 s apart).
            Thread.sleep(1500);

            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
            String text = r.body();

            promtoolAccepts(text, dir);
            goldenNamesTypesAndLabels(text);

            Map<String, Double> v = values(text);
            assertThat(v.get("migm_jobs_ended_total{state=\"done\"}")).isEqualTo(3.0);
            assertThat(v.get("migm_jobs{state=\"queued\"}")).isEqualTo(0.0);
            assertThat(v.get("migm_estimate_ratio_count")).as(d.output()).isEqualTo(3.0);
            assertThat(v.get("migm_reconfigurations_total")).isPositive();
            assertThat(v.get("migm_reconfiguration_duration_seconds_count")).isPositive();
            // Energy between the two scrapes (each reads the counters of one energy tick): every joule
            // the board counted went to an instance's attempts or was the idle GPU's (the chip-share
            // model gives the jobs all of the energy of the ticks they held the GPU).
            double board = sum(v, "migm_gpu_energy_joules_total{") - sum(before, "migm_gpu_energy_joules_total{");
            double attributed = sum(v, "migm_gpu_attributed_energy_joules_total{")
                    - sum(before, "migm_gpu_attributed_energy_joules_total{");
            double idle = sum(v, "migm_gpu_idle_energy_joules_total{") - sum(before, "migm_gpu_idle_energy_joules_total{");
            assertThat(board).isPositive();
            assertThat(attributed).isPositive();
            assertThat(attributed + idle).isCloseTo(board, org.assertj.core.api.Assertions.within(0.01 * board));
            // ... and per attempt, as the journal keeps it for `migm show`, the same joules.
            double perAttempt = Double.parseDouble(DaemonProcess.rows(home, "SELECT total(energy_j) FROM attempts")
                    .getFirst().getFirst());
            assertThat(perAttempt).isCloseTo(sum(v, "migm_instance_energy_joules_total{"),
                    org.assertj.core.api.Assertions.within(0.01 * attributed + 1));
            // One scrape adds up: the per-job counters of the jobs it shows (all three: they ended less
            // than an hour ago) are the GPU's attributed energy, which outlives the instances.
            for (String job : List.of("1", "2", "3")) {
                assertThat(v.keySet()).as("job " + job).anySatisfy(k -> assertThat(k).startsWith(
                        "migm_job_energy_joules_total{").contains("job=\"" + job + "\"").contains("user=\"" + user + "\""));
            }
            assertThat(sum(v, "migm_job_energy_joules_total{")).isCloseTo(sum(v, "migm_gpu_attributed_energy_joules_total{"),
                    org.assertj.core.api.Assertions.within(1e-6 * attributed + 1e-6));
            assertThat(v.keySet()).anySatisfy(k -> assertThat(k).startsWith("migm_instance_occupied{GPU_I_ID="));
            assertThat(sum(v, "migm_gpu_power_watts{")).isPositive();

            // The live view: the report of the node's last hours, in a real browser.
            HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("content-type").orElse("")).startsWith("text/html");
            assertThat(page.body()).contains("<meta http-equiv=\"refresh\"");
            Path html = dir.resolve("live.html");
            Files.writeString(html, page.body());
            dev.migm.report.Chromium.checkReport(html, 1, 1, List.of("1", "2", "3"));
            dev.migm.report.Chromium.checkReadable(html, 1, 1, true);
            // Titled by the host, and the table names each job and its user.
            assertThat(page.body()).contains("<title>migm on " + Files.readString(Path.of("/proc/sys/kernel/hostname")).strip()
                    + "</title>").contains("<td>a</td><td>" + user + "</td>");
            dev.migm.report.Chromium.screenshot(html, Path.of("target/live-view.png"), 1200, 700);

            // Read-only, two paths.
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/jobs")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            // Only loopback names: a page that rebinds its own name to 127.0.0.1 (DNS rebinding) still
            // sends that name, and is refused.
            String address = m.group(1);
            assertThat(statusWithHost(address, "evil.example:" + address.split(":")[1])).isEqualTo(421);
            assertThat(statusWithHost(address, "127.0.0.1.evil.example")).isEqualTo(421);
            for (String host : List.of("localhost:" + address.split(":")[1], address, "127.0.0.1", "[::1]:9410")) {
                assertThat(statusWithHost(address, host)).as(host).isEqualTo(200);
            }
            // The health document says where the view is.
            assertThat(ServiceCliTest.migm(home, "gpus", "--backend", "daemon").rc()).isZero();
        } finally {
            DaemonCrashTest.liveJobProcesses(home).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    /**
     * {@code promtool check metrics}: exit 0, or exit 3 (lint only) where every finding is the
     * camelCase lint on DCGM-exporter's own label {@code modelName}, which migm keeps so that
     * dashboards built for DCGM-exporter join on it. A parse error (exit 1) or any other finding fails.
     */
    private static void promtoolAccepts(String text, Path dir) throws Exception {
        Path in = dir.resolve("scrape.txt");
        Files.writeString(in, text);
        Process p;
        try {
            p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(in.toFile()).redirectErrorStream(true)
                    .start();
        } catch (java.io.IOException e) {
            throw new AssertionError("promtool is missing: install Debian's prometheus package (./test does when run as"
                    + " root)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isIn(0, 3);
        for (String line : out.lines().toList()) {
            assertThat(line).as(out).matches("migm_\\w+ label names should be written in 'snake_case' not 'camelCase'");
        }
    }

    /** Each family's name, type and label names, as {@code golden/metrics.txt} pins them. */
    private static void goldenNamesTypesAndLabels(String text) throws Exception {
        Map<String, String> types = new TreeMap<>();
        Map<String, TreeSet<String>> labels = new TreeMap<>();
        for (String line : text.lines().toList()) {
            if (line.startsWith("# TYPE ")) {
                String[] t = line.split(" ");
                types.put(t[2], t[3]);
                labels.putIfAbsent(t[2], new TreeSet<>());
            } else if (!line.startsWith("#") && line.contains("{")) {
                String series = line.substring(0, line.indexOf('{'));
                String family = types.keySet().stream().filter(series::startsWith).reduce((a, b) -> a.length() >= b.length()
                        ? a : b).orElse(series);
                Matcher m = Pattern.compile("(\\w+)=\"").matcher(line.substring(line.indexOf('{')));
                while (m.find()) if (!m.group(1).equals("le")) labels.get(family).add(m.group(1));
            }
        }
        List<String> rows = new ArrayList<>();
        types.forEach((name, type) -> rows.add(name + " " + type + " "
                + (labels.get(name).isEmpty() ? "-" : String.join(",", labels.get(name)))));
        String now = String.join("\n", rows) + "\n";
        if (Boolean.getBoolean("migm.golden.update")) {
            Files.createDirectories(GOLDEN.getParent());
            Files.writeString(GOLDEN, now);
            return;
        }
        assertThat(now).as("metric names, types or labels differ from " + GOLDEN).isEqualTo(Files.readString(GOLDEN));
    }

    private static Map<String, Double> values(String text) {
        Map<String, Double> v = new TreeMap<>();
        for (String line : text.lines().toList()) {
            if (line.startsWith("#") || line.isBlank()) continue;
            int space = line.lastIndexOf(' ');
            v.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return v;
    }

    private static double sum(Map<String, Double> v, String prefix) {
        return v.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(Map.Entry::getValue).sum();
    }

    /** The status of {@code GET /metrics} sent with this {@code Host} header (the JDK's client will not set it). */
    private static int statusWithHost(String address, String host) throws Exception {
        String[] hp = address.split(":");
        try (java.net.Socket socket = new java.net.Socket(hp[0], Integer.parseInt(hp[1]))) {
            socket.getOutputStream().write(("GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            return Integer.parseInt(status.split(" ")[1]);
        }
    }
}
