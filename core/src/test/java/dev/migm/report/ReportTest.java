package dev.migm.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code migm report} of a {@code migm simulate --suite mixed} comparison, opened in a real browser. */
final class ReportTest {
    private static String migm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertThat(rc).as(err.toString()).isZero();
        return out.toString();
    }

    @Test
    void aThreePolicyComparison_opensInChromiumWithEveryElement(@TempDir Path dir) throws Exception {
        Path timeline = dir.resolve("mixed.json");
        Path html = dir.resolve("mixed.html");
        migm("simulate", "--suite", "mixed", "--policies", "serial,s1,migm", "--timeline", timeline.toString(), "--quiet");
        assertThat(migm("report", timeline.toString(), "-o", html.toString())).contains("3 run(s)");
        Timeline.File file = Timeline.read(timeline);
        assertThat(file.runs()).hasSize(3);
        List<String> ids = file.runs().getFirst().jobs().stream().map(Timeline.JobLine::id).toList();
        assertThat(ids).hasSize(300);
        // Per run: every attempt is a box (a job with k attempts has k), and the jobs' energies, split
        // by the chip-share model, are the board's but for the moments nothing held an instance.
        for (Timeline.Run run : file.runs()) {
            int attempts = run.jobs().stream().mapToInt(Timeline.JobLine::attempts).sum();
            assertThat(run.gpus().getFirst().boxes()).as(run.policy()).hasSize(attempts);
            double jobs = run.jobs().stream().mapToDouble(Timeline.JobLine::energyJ).sum();
            double board = run.gpus().stream().mapToDouble(g -> HtmlReport.energyJ(g.watts(), run.startS(), run.endS()))
                    .sum();
            assertThat(jobs).as(run.policy()).isCloseTo(board, within(0.01 * board));
        }
        Chromium.checkReport(html, 3, 1, ids);
        Chromium.checkReadable(html, 3, 1, false);
        // The figures each run shows are those simulate printed for it (rounded as the CLI rounds them).
        String page = Files.readString(html);
        tools.jackson.databind.JsonNode printed = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(migm("simulate", "--suite", "mixed", "--policies", "serial,s1,migm", "--json"));
        for (tools.jackson.databind.JsonNode run : printed.get("runs")) {
            assertThat(page).as(run.get("policy").asString()).contains(String.format(java.util.Locale.ROOT,
                    "makespan %d s &middot; board energy %d J", run.get("makespan_s").asLong(), run.get("energy_j").asLong()));
        }
        Chromium.screenshot(html, Path.of("target/report-mixed.png"), 1600, 1000);
        assertThat(Files.size(html)).as("a small file").isLessThan(1_000_000);
    }

    @Test
    void badInputs_getOneLine(@TempDir Path dir) throws Exception {
        Path notTimeline = dir.resolve("x.json");
        Files.writeString(notTimeline, "{\"schema\": \"migm.simulate/v1\"}");
        StringWriter err = new StringWriter();
        int rc = Main.run(new String[] {"report", notTimeline.toString(), "-o", dir.resolve("r.html").toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(rc).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("migm: " + notTimeline + ": expected schema migm.timeline/v1");
        err = new StringWriter();
        rc = Main.run(new String[] {"report", dir.toString(), "-o", dir.resolve("r.html").toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(rc).isEqualTo(2);
        assertThat(err.toString()).contains("expected a run directory with timeline.json");
    }

    @Test
    void curvesAreTimeWeightedMeansPerBin() {
        // 100 W over [0, 300), 400 W over [300, 600): bins of 1 s, the bin holding 300 s averages exactly.
        double[] w = HtmlReport.binned(List.of(new Timeline.Point(0, 100), new Timeline.Point(300, 400)), 0, 600);
        assertThat(w[0]).isEqualTo(100);
        assertThat(w[299]).isEqualTo(100);
        assertThat(w[300]).isEqualTo(400);
        // A step in the middle of a bin of 2 s: half of each.
        double[] half = HtmlReport.binned(List.of(new Timeline.Point(0, 100), new Timeline.Point(1, 300)), 0, 1200);
        assertThat(half[0]).isCloseTo(200, within(1e-9));
        assertThat(HtmlReport.esc("<a href=\"x\">&'")).isEqualTo("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
