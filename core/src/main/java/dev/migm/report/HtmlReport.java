package dev.migm.report;

import java.util.List;
import java.util.Locale;

/**
 * One self-contained HTML file (inline CSS and SVG, no script, nothing fetched) showing runs side
 * by side: per GPU a timeline of its instances (rows are memory slices, boxes the attempts that held
 * them, coloured by how they ended; reconfigurations and MIG mode changes marked), the board's power
 * and cumulative energy, the queue over time, and a table of the jobs. Drawn as SVG by hand: the
 * slice timeline is no chart type a charting library has, and inline SVG needs no code to open.
 * Curves are averaged into {@value #BINS} bins per run, so a long run stays a small file.
 */
public final class HtmlReport {
    /** Time bins of a power or queue curve: more than a screen's columns, few enough to stay small. */
    static final int BINS = 600;
    private static final double WIDTH = 1000;
    private static final double SLICE_HEIGHT = 14;
    private static final double CURVE_HEIGHT = 120;

    private HtmlReport() {
    }

    public static String render(String title, List<Timeline.Run> runs) {
        return render(title, runs, 0);
    }

    /** The same, reloading itself every {@code refreshS} seconds when positive (the daemon's live view). */
    public static String render(String title, List<Timeline.Run> runs, int refreshS) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (refreshS > 0) h.append("<meta http-equiv=\"refresh\" content=\"").append(refreshS).append("\">");
        h.append("<title>").append(esc(title))
                .append("</title>\n<style>\n").append(CSS).append("</style></head>\n<body>\n<h1>").append(esc(title))
                .append("</h1>\n<p class=\"legend\">Boxes: an attempt on its instance (rows are memory slices). ")
                .append("<span class=\"key completed\">completed</span> <span class=\"key oom\">out of memory</span> ")
                .append("<span class=\"key early-restart\">early restart</span> <span class=\"key stopped\">stopped</span> ")
                .append("<span class=\"key running\">running</span>; dashed lines: reconfigurations and MIG mode changes.</p>\n")
                .append("<div class=\"runs\" style=\"grid-template-columns: repeat(").append(runs.size())
                .append(", minmax(0, 1fr))\">\n");
        for (int r = 0; r < runs.size(); r++) run(h, r, runs.get(r));
        h.append("</div>\n</body></html>\n");
        return h.toString();
    }

    private static void run(StringBuilder h, int index, Timeline.Run run) {
        double span = Math.max(1e-9, run.endS() - run.startS());
        long completed = run.jobs().stream().filter(j -> j.state().equals("done")).count();
        double energy = run.gpus().stream().mapToDouble(g -> energyJ(g.watts(), run.startS(), run.endS())).sum();
        h.append("<section class=\"run\" id=\"run-").append(index).append("\" data-policy=\"").append(esc(run.policy()))
                .append("\">\n<h2>").append(esc(run.trace())).append(" &middot; ").append(esc(run.policy()))
                .append(" <small>(").append(esc(run.world())).append(")</small></h2>\n")
                .append(String.format(Locale.ROOT, "<p class=\"figures\">%d of %d jobs done &middot; %s %.0f s &middot;"
                        + " board energy %.0f J &middot; per-job energy model %s</p>\n", completed, run.jobs().size(),
                        run.world().equals("live") ? "the last" : "makespan", span, energy, esc(run.energyModel())));
        for (Timeline.Gpu g : run.gpus()) {
            h.append("<h3>gpu").append(g.gpu()).append(" &middot; ").append(esc(g.model())).append("</h3>\n");
            timeline(h, g, run.startS(), span);
            power(h, g, run.startS(), run.endS());
        }
        h.append("<h3>queue</h3>\n");
        queue(h, run.queue(), run.startS(), run.endS());
        jobs(h, run.jobs());
        h.append("</section>\n");
    }

    private static void timeline(StringBuilder h, Timeline.Gpu g, double start, double span) {
        double height = g.memorySlices() * SLICE_HEIGHT;
        h.append(String.format(Locale.ROOT, "<svg class=\"timeline\" data-gpu=\"%d\" viewBox=\"0 0 %.0f %.0f\""
                + " preserveAspectRatio=\"none\" role=\"img\" aria-label=\"instances of gpu%d over time\">\n",
                g.gpu(), WIDTH, height, g.gpu()));
        for (int s = 1; s < g.memorySlices(); s++) {
            h.append(String.format(Locale.ROOT, "<line class=\"slice\" x1=\"0\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                    WIDTH, s * SLICE_HEIGHT, s * SLICE_HEIGHT));
        }
        h.append('\n');
        for (Timeline.Box b : g.boxes()) {
            double x = (b.fromS() - start) / span * WIDTH;
            double w = Math.max(0.3, (b.toS() - b.fromS()) / span * WIDTH);
            h.append(String.format(Locale.ROOT, "<rect class=\"box %s\" data-job=\"%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\""
                            + " height=\"%.1f\"><title>%s attempt %d on %s (slices %d-%d), %.0f-%.0f s: %s</title></rect>\n",
                    esc(b.outcome()), esc(b.job()), x, b.startSlice() * SLICE_HEIGHT + 0.5, w, b.slices() * SLICE_HEIGHT - 1,
                    esc(b.job()), b.attempt(), esc(b.profile()), b.startSlice(), b.startSlice() + b.slices() - 1,
                    b.fromS(), b.toS(), esc(b.outcome())));
        }
        for (Timeline.Mark m : g.marks()) {
            double x = (m.atS() - start) / span * WIDTH;
            h.append(String.format(Locale.ROOT, "<line class=\"mark %s\" x1=\"%.2f\" x2=\"%.2f\" y1=\"0\" y2=\"%.0f\"/>",
                    esc(m.kind()), x, x, height));
        }
        h.append("</svg>\n");
    }

    /** Board power (averaged per bin) and cumulative energy, each scaled to the panel. */
    private static void power(StringBuilder h, Timeline.Gpu g, double start, double end) {
        double[] watts = binned(g.watts(), start, end);
        double maxW = 1;
        for (double w : watts) maxW = Math.max(maxW, w);
        double binS = (end - start) / BINS;
        double[] energy = new double[BINS];
        double sum = 0;
        for (int i = 0; i < BINS; i++) {
            sum += watts[i] * binS;
            energy[i] = sum;
        }
        h.append(String.format(Locale.ROOT, "<svg class=\"power\" data-gpu=\"%d\" viewBox=\"0 0 %.0f %.0f\""
                + " preserveAspectRatio=\"none\" role=\"img\" aria-label=\"board power of gpu%d\">\n", g.gpu(), WIDTH,
                CURVE_HEIGHT, g.gpu()));
        h.append("<polyline class=\"watts\" points=\"").append(points(watts, maxW, CURVE_HEIGHT)).append("\"/>\n");
        h.append("<polyline class=\"energy\" points=\"").append(points(energy, Math.max(1e-9, sum), CURVE_HEIGHT)).append("\"/>\n");
        h.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"12\">peak %.0f W (bins of %.0f s)</text>"
                + "<text x=\"%.0f\" y=\"12\" text-anchor=\"end\" class=\"energy-label\">%.0f J</text>\n</svg>\n",
                maxW, binS, WIDTH - 4, sum));
    }

    private static void queue(StringBuilder h, List<Timeline.Point> queue, double start, double end) {
        double[] waiting = binned(queue, start, end);
        double max = 1;
        for (double w : waiting) max = Math.max(max, w);
        h.append(String.format(Locale.ROOT, "<svg class=\"queue\" viewBox=\"0 0 %.0f %.0f\" preserveAspectRatio=\"none\""
                + " role=\"img\" aria-label=\"jobs waiting\">\n<polyline points=\"%s\"/>\n"
                + "<text x=\"4\" y=\"12\">at most %.0f waiting</text>\n</svg>\n", WIDTH, CURVE_HEIGHT / 2,
                points(waiting, max, CURVE_HEIGHT / 2), max));
    }

    private static void jobs(StringBuilder h, List<Timeline.JobLine> jobs) {
        h.append("<table class=\"jobs\"><thead><tr><th>job</th><th>state</th><th>attempts</th><th>instance</th>"
                + "<th>estimate MiB</th><th>source</th><th>peak MiB</th><th>energy J</th></tr></thead><tbody>\n");
        for (Timeline.JobLine j : jobs) {
            h.append(String.format(Locale.ROOT, "<tr class=\"job\" data-job=\"%s\"><td>%s</td><td>%s</td><td>%d</td>"
                            + "<td>%s</td><td>%d</td><td class=\"source\" title=\"%s\">%s</td><td>%s</td><td>%s</td></tr>\n",
                    esc(j.id()), esc(j.id()), esc(j.state()), j.attempts(), esc(j.slot()), j.needMib(), esc(j.needSource()),
                    esc(j.needSource()),
                    j.peakMib() > 0 ? Long.toString(j.peakMib()) : "-",
                    Double.isNaN(j.energyJ()) ? "-" : String.format(Locale.ROOT, "%.0f", j.energyJ())));
        }
        h.append("</tbody></table>\n");
    }

    /** A step curve's time-weighted mean over each of {@link #BINS} bins of {@code [start, end]}. */
    static double[] binned(List<Timeline.Point> steps, double start, double end) {
        double[] out = new double[BINS];
        double binS = (end - start) / BINS;
        if (!(binS > 0) || steps.isEmpty()) return out;
        for (int i = 0; i < steps.size(); i++) {
            double from = Math.max(start, steps.get(i).atS());
            double to = Math.min(end, i + 1 < steps.size() ? steps.get(i + 1).atS() : end);
            double v = steps.get(i).value();
            if (!(to > from)) continue;
            for (int b = Math.max(0, Math.min(BINS - 1, (int) ((from - start) / binS))); b < BINS; b++) {
                double lo = start + b * binS;
                double hi = b == BINS - 1 ? end : start + (b + 1) * binS;
                double overlap = Math.min(to, hi) - Math.max(from, lo);
                if (overlap > 0) out[b] += v * overlap / binS;
                if (hi >= to) break;
            }
        }
        return out;
    }

    /** The energy under a power curve over {@code [start, end]}, as the report shows it. */
    static double energyJ(List<Timeline.Point> watts, double start, double end) {
        double sum = 0;
        for (double w : binned(watts, start, end)) sum += w * (end - start) / BINS;
        return sum;
    }

    private static String points(double[] values, double max, double panelHeight) {
        StringBuilder p = new StringBuilder(values.length * 12);
        double h = panelHeight - 16;
        for (int i = 0; i < values.length; i++) {
            p.append(String.format(Locale.ROOT, "%.1f,%.1f ", (i + 0.5) / values.length * WIDTH,
                    panelHeight - 2 - values[i] / max * h));
        }
        return p.toString().strip();
    }

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static final String CSS = """
            body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
            h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 8px 0 2px; }
            h3 { font-size: 13px; margin: 10px 0 2px; color: #444; }
            .runs { display: grid; gap: 16px; }
            .run { min-width: 0; border-top: 2px solid #ccc; }
            svg { width: 100%; display: block; background: #fafafa; border: 1px solid #ddd; }
            svg.timeline { height: 112px; } svg.power { height: 90px; } svg.queue { height: 50px; }
            line.slice { stroke: #e4e4e4; stroke-width: 0.5; vector-effect: non-scaling-stroke; }
            rect.box { stroke: #fff; stroke-width: 0.3; vector-effect: non-scaling-stroke; }
            .completed { fill: #4c9a6a; background: #4c9a6a; } .oom { fill: #d0453b; background: #d0453b; }
            .early-restart { fill: #e39b2b; background: #e39b2b; } .stopped, .crashed { fill: #888; background: #888; }
            .running { fill: #5b7fd0; background: #5b7fd0; }
            .key { color: #fff; padding: 0 4px; border-radius: 3px; }
            line.mark { stroke: #333; stroke-dasharray: 2 2; stroke-width: 0.6; vector-effect: non-scaling-stroke; }
            polyline { fill: none; stroke-width: 1.2; vector-effect: non-scaling-stroke; }
            polyline.watts { stroke: #c0392b; } polyline.energy { stroke: #2c3e50; stroke-dasharray: 4 2; }
            svg.queue polyline { stroke: #5b7fd0; }
            svg text { font-size: 10px; fill: #555; }
            table.jobs { border-collapse: collapse; margin-top: 8px; font-size: 12px; width: 100%; }
            table.jobs th, table.jobs td { border-bottom: 1px solid #eee; padding: 1px 4px; text-align: left; }
            table.jobs td.source { max-width: 12em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
            """;
}
