package dev.migm.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The report's pictures for people: names where they fit, times on the clock, "none" for no estimate. */
final class HtmlReportTest {
    @Test
    void boxesNameTheirJobsWhereTheyFit_andTimesAreOnTheClock() {
        // A run of 600 s on the wall clock from 1,796,644,800 s (2026-12-07T12:00:00Z): the plot is
        // 1000 - 56 - 8 = 936 units wide, so a 300 s box is 468 units (room for "train-bert", 10
        // characters of 6.6 units) and a 3 s box 4.7 units (no room for "tiny").
        double t0 = 1_796_644_800;
        Timeline.Box wide = new Timeline.Box(0, 4, "3g.20gb", t0, t0 + 300, "1", 1, "completed");
        Timeline.Box narrow = new Timeline.Box(4, 1, "1g.5gb", t0 + 10, t0 + 13, "2", 1, "oom");
        Timeline.Gpu gpu = new Timeline.Gpu(0, "A100-SXM4-40GB", 8, List.of(wide, narrow), List.of(),
                List.of(new Timeline.Point(t0, 100)));
        Timeline.Run run = new Timeline.Run("node", "migm", "live", t0, t0 + 600, List.of(gpu), List.of(), List.of(
                new Timeline.JobLine("1", "train-bert", "alice", "done", 1, "gpu0:3g.20gb@0", 20_000, "declared +5%", 18_000, 5_000),
                new Timeline.JobLine("2", "tiny", "bob", "queued", 1, "", 0, "", 0, 0)), "chip-share", null, null);
        String html = HtmlReport.render("migm on gpu01", List.of(run));
        assertThat(html).contains("<title>migm on gpu01</title>");
        assertThat(html).containsPattern("<text class=\"box-label\"[^>]*>train-bert</text>");
        assertThat(html).doesNotContainPattern("<text class=\"box-label\"[^>]*>tiny</text>");
        // The tooltip says name, job and clock times, not epoch seconds.
        assertThat(html).contains("<title>train-bert (job 1) attempt 1 on 3g.20gb (slices 0-3), "
                + HtmlReport.clock(t0, true) + " to " + HtmlReport.clock(t0 + 300, true) + " (300 s): completed</title>");
        assertThat(html).doesNotContain("1796644800");
        // 600 s at most 8 ticks: a step of 120 s (60 s would give 10), so 6 ticks from the start.
        assertThat(html.split("<text class=\"tick\"", -1).length - 1).as("ticks under the timeline and the queue")
                .isEqualTo(2 * 6);
        assertThat(html).contains("<td>tiny</td><td>bob</td>").contains("<td>none</td>").contains("<td>20000 MiB</td>");
        assertThat(html).doesNotContain("preserveAspectRatio");
    }

    @Test
    void aSimulatedRun_countsSecondsFromItsStart_andShowsItsOwnFigures() {
        Timeline.Gpu gpu = new Timeline.Gpu(0, "A100-SXM4-40GB", 8, List.of(), List.of(), List.of(new Timeline.Point(0, 50)));
        Timeline.Run run = new Timeline.Run("ml", "migm", "simulated", 0, 7200, List.of(gpu), List.of(), List.of(),
                "chip-share", null, null).withFigures(7199.6, 123_456.4);
        String html = HtmlReport.render("ml", List.of(run));
        // 7,200 s: a step of 900 s (600 s would give 12 ticks): 0 s, 15m, 30m, ... 2h.
        assertThat(html).contains(">0 s</text>").contains(">15m</text>").contains(">1h 45m</text>").contains(">2h</text>");
        assertThat(html).contains("makespan 7200 s &middot; board energy 123456 J");
        assertThat(HtmlReport.offsetLabel(90)).isEqualTo("90 s");
        assertThat(HtmlReport.offsetLabel(5400)).isEqualTo("1h 30m");
    }
}
