package dev.migm.report;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One self-contained HTML file (inline CSS and SVG, no script, nothing fetched) showing runs side
 * by side: per GPU a timeline of its instances (rows are memory slices, labelled; boxes the attempts
 * that held them, labelled with their job's name where it fits and coloured by how they ended;
 * reconfigurations and MIG mode changes marked; a time axis in wall-clock time, or in seconds from
 * the trace's start for a simulation), the board's power and cumulative energy, the queue over time,
 * and a table of the jobs with their names and users. Drawn as SVG by hand: the slice timeline is no
 * chart type a charting library has, and inline SVG needs no code to open. Every SVG keeps its aspect
 * ratio (text is never stretched); curves are averaged into {@value #BINS} bins per run, so a long run
 * stays a small file. The run's makespan and energy are the figures its CLI printed where the run
 * carries them.
 */
public final class HtmlReport {
    /** Time bins of a power or queue curve: more than a screen's columns, few enough to stay small. */
    static final int BINS = 600;
    private static final double WIDTH = 1000;
    /** The gutter left of every plot, for the slice labels; plots share it, so their times line up. */
    private static final double LEFT = 56;
    private static final double RIGHT = 8;
    private static final double PLOT = WIDTH - LEFT - RIGHT;
    private static final double SLICE_HEIGHT = 18;
    private static final double CURVE_HEIGHT = 90;
    private static final double AXIS = 18;
    /** Width of one character of a box label, in the SVG's units (12-unit sans-serif, measured average). */
    private static final double CHAR_WIDTH = 6.6;
    /** Steps of the time axis, seconds: the first that gives at most {@link #TICKS} ticks. */
    private static final double[] TICK_STEPS = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400,
            21_600, 43_200, 86_400, 172_800, 604_800};
    private static final int TICKS = 8;

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
                .append("</h1>\n<p class=\"legend\">Boxes: an attempt on its instance, named by its job (rows are the"
                        + " GPU's memory slices). ")
                .append("<span class=\"key completed\">completed</span> <span class=\"key oom\">out of memory</span> ")
                .append("<span class=\"key early-restart\">early restart</span> <span class=\"key stopped\">stopped</span> ")
                .append("<span class=\"key running\">running</span>; dashed lines: reconfigurations and MIG mode changes.")
                .append(runs.stream().anyMatch(Timeline.Run::wallClock) ? " Times are local (" + esc(ZONE_NAME) + ")." : "")
                .append("</p>\n<div class=\"runs\" style=\"grid-template-columns: repeat(").append(runs.size())
                .append(", minmax(0, 1fr))\">\n");
        for (int r = 0; r < runs.size(); r++) run(h, r, runs.get(r));
        h.append("</div>\n</body></html>\n");
        return h.toString();
    }

    private static final java.time.ZoneId ZONE = java.time.ZoneId.systemDefault();
    private static final String ZONE_NAME = ZONE.getDisplayName(java.time.format.TextStyle.SHORT, Locale.ROOT);

    private static void run(StringBuilder h, int index, Timeline.Run run) {
        double span = Math.max(1e-9, run.endS() - run.startS());
        long completed = run.jobs().stream().filter(j -> j.state().equals("done")).count();
        double energy = run.energyJ() != null ? run.energyJ()
                : run.gpus().stream().mapToDouble(g -> energyJ(g.watts(), run.startS(), run.endS())).sum();
        String length = run.world().equals("live") ? String.format(Locale.ROOT, "the last %.0f s, from %s", span,
                clock(run.startS(), true)) : String.format(Locale.ROOT, "makespan %.0f s",
                run.makespanS() != null ? run.makespanS() : span);
        Map<String, String> names = new HashMap<>();
        for (Timeline.JobLine j : run.jobs()) names.put(j.id(), j.name() == null || j.name().isBlank() ? j.id() : j.name());
        h.append("<section class=\"run\" id=\"run-").append(index).append("\" data-policy=\"").append(esc(run.policy()))
                .append("\">\n<h2>").append(esc(run.trace())).append(" &middot; ").append(esc(run.policy()))
                .append(" <small>(").append(esc(run.world())).append(")</small></h2>\n")
                .append(String.format(Locale.ROOT, "<p class=\"figures\">%d of %d jobs done &middot; %s &middot;"
                        + " board energy %.0f J &middot; per-job energy model %s</p>\n", completed, run.jobs().size(),
                        esc(length), energy, esc(run.energyModel())));
        for (Timeline.Gpu g : run.gpus()) {
            h.append("<h3>gpu").append(g.gpu()).append(" &middot; ").append(esc(g.model())).append("</h3>\n");
            timeline(h, g, run, names);
            power(h, g, run);
        }
        h.append("<h3>queue</h3>\n");
        queue(h, run);
        jobs(h, run.jobs());
        h.append("</section>\n");
    }

    private static double x(double atS, Timeline.Run run) {
        return LEFT + (atS - run.startS()) / Math.max(1e-9, run.endS() - run.startS()) * PLOT;
    }

    private static void timeline(StringBuilder h, Timeline.Gpu g, Timeline.Run run, Map<String, String> names) {
        double rows = g.memorySlices() * SLICE_HEIGHT;
        double height = rows + AXIS;
        h.append(String.format(Locale.ROOT, "<svg class=\"timeline\" data-gpu=\"%d\" viewBox=\"0 0 %.0f %.0f\""
                + " role=\"img\" aria-label=\"instances of gpu%d over time\">\n", g.gpu(), WIDTH, height, g.gpu()));
        for (int s = 0; s < g.memorySlices(); s++) {
            if (s > 0) {
                h.append(String.format(Locale.ROOT, "<line class=\"slice\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                        LEFT, WIDTH - RIGHT, s * SLICE_HEIGHT, s * SLICE_HEIGHT));
            }
            h.append(String.format(Locale.ROOT, "<text class=\"row\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">slice %d</text>",
                    LEFT - 4, s * SLICE_HEIGHT + SLICE_HEIGHT / 2 + 4, s));
        }
        h.append('\n');
        for (Timeline.Box b : g.boxes()) {
            double x = x(b.fromS(), run);
            double w = Math.max(0.3, x(b.toS(), run) - x);
            double y = b.startSlice() * SLICE_HEIGHT + 0.5;
            double boxHeight = b.slices() * SLICE_HEIGHT - 1;
            String name = names.getOrDefault(b.job(), b.job());
            h.append(String.format(Locale.ROOT, "<rect class=\"box %s\" data-job=\"%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\""
                            + " height=\"%.1f\"><title>%s (job %s) attempt %d on %s (slices %d-%d), %s to %s (%.0f s): %s</title>"
                            + "</rect>\n",
                    esc(b.outcome()), esc(b.job()), x, y, w, boxHeight, esc(name), esc(b.job()), b.attempt(),
                    esc(b.profile()), b.startSlice(), b.startSlice() + b.slices() - 1, clock(b.fromS(), run.wallClock()),
                    clock(b.toS(), run.wallClock()), b.toS() - b.fromS(), esc(b.outcome())));
            // The name inside the box where it fits, else none (the tooltip and the table say it).
            if (w >= name.length() * CHAR_WIDTH + 6 && boxHeight >= 14) {
                h.append(String.format(Locale.ROOT, "<text class=\"box-label\" x=\"%.2f\" y=\"%.1f\">%s</text>\n", x + 3,
                        y + Math.min(boxHeight, SLICE_HEIGHT) / 2 + 4, esc(name)));
            }
        }
        for (Timeline.Mark m : g.marks()) {
            double x = x(m.atS(), run);
            h.append(String.format(Locale.ROOT, "<line class=\"mark %s\" x1=\"%.2f\" x2=\"%.2f\" y1=\"0\" y2=\"%.0f\"/>",
                    esc(m.kind()), x, x, rows));
        }
        axis(h, run, rows);
        h.append("</svg>\n");
    }

    /** The time axis under a plot whose bottom is at {@code y}: ticks at a round step, labelled. */
    private static void axis(StringBuilder h, Timeline.Run run, double y) {
        double span = Math.max(1e-9, run.endS() - run.startS());
        double step = TICK_STEPS[TICK_STEPS.length - 1];
        for (double s : TICK_STEPS) {
            if (span / s <= TICKS) {
                step = s;
                break;
            }
        }
        h.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                LEFT, WIDTH - RIGHT, y, y));
        // Ticks at whole steps of the clock (10:05:00, not 10:04:37 plus steps), from the run's start.
        double offset = run.wallClock() ? java.time.Instant.ofEpochMilli((long) (run.startS() * 1000)).atZone(ZONE)
                .getOffset().getTotalSeconds() : 0;
        for (double t = Math.ceil((run.startS() + offset) / step) * step - offset; t <= run.endS() + 1e-9; t += step) {
            double x = x(t, run);
            String anchor = x < LEFT + 30 ? "start" : x > WIDTH - RIGHT - 30 ? "end" : "middle";
            h.append(String.format(Locale.ROOT, "<line class=\"tick\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                    + "<text class=\"tick\" x=\"%.2f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", x, x, y, y + 4, x,
                    y + AXIS - 3, anchor, esc(run.wallClock() ? clock(t, true) : offsetLabel(t - run.startS()))));
        }
        h.append('\n');
    }

    /** A time for people: local HH:MM:SS on the wall clock, else seconds from the trace's start. */
    static String clock(double atS, boolean wallClock) {
        if (!wallClock) return offsetLabel(atS);
        return java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZONE)
                .format(java.time.Instant.ofEpochMilli(Math.round(atS * 1000)));
    }

    /** Seconds from a start: {@code 90 s}, {@code 1h 30m}. */
    static String offsetLabel(double s) {
        long whole = Math.round(s);
        if (Math.abs(whole) < 600) return whole + " s";
        long h = whole / 3600;
        long m = (whole % 3600) / 60;
        return h == 0 ? m + "m" : m == 0 ? h + "h" : h + "h " + m + "m";
    }

    /** Board power (averaged per bin) and cumulative energy, each scaled to the panel. */
    private static void power(StringBuilder h, Timeline.Gpu g, Timeline.Run run) {
        double start = run.startS();
        double end = run.endS();
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
                + " role=\"img\" aria-label=\"board power of gpu%d\">\n", g.gpu(), WIDTH, CURVE_HEIGHT, g.gpu()));
        h.append(String.format(Locale.ROOT, "<text class=\"row\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">power</text>"
                + "<text class=\"row energy-label\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">energy</text>\n",
                LEFT - 4, CURVE_HEIGHT / 2 - 4, LEFT - 4, CURVE_HEIGHT / 2 + 10));
        h.append("<polyline class=\"watts\" points=\"").append(points(watts, maxW, CURVE_HEIGHT)).append("\"/>\n");
        h.append("<polyline class=\"energy\" points=\"").append(points(energy, Math.max(1e-9, sum), CURVE_HEIGHT)).append("\"/>\n");
        h.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"13\">peak %.0f W (means of %s s)</text>"
                + "<text x=\"%.0f\" y=\"13\" text-anchor=\"end\" class=\"energy-label\">%.0f J</text>\n</svg>\n",
                LEFT + 4, maxW, binS >= 10 ? String.format(Locale.ROOT, "%.0f", binS) : String.format(Locale.ROOT, "%.2g", binS),
                WIDTH - RIGHT - 4, sum));
    }

    private static void queue(StringBuilder h, Timeline.Run run) {
        double[] waiting = binned(run.queue(), run.startS(), run.endS());
        double max = 1;
        for (double w : waiting) max = Math.max(max, w);
        double height = CURVE_HEIGHT / 2;
        h.append(String.format(Locale.ROOT, "<svg class=\"queue\" viewBox=\"0 0 %.0f %.0f\" role=\"img\""
                + " aria-label=\"jobs waiting\">\n<text class=\"row\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">waiting</text>"
                + "<polyline points=\"%s\"/>\n<text x=\"%.0f\" y=\"13\">at most %.0f waiting</text>\n", WIDTH,
                height + AXIS, LEFT - 4, height / 2 + 4, points(waiting, max, height), LEFT + 4, max));
        axis(h, run, height);
        h.append("</svg>\n");
    }

    /**
     * The jobs' table: id, name and user where the run knows them (a trace's jobs have neither: the
     * columns are left out rather than filled with copies of the id and dashes), how each ran; it
     * scrolls sideways in a narrow column rather than squeezing its cells.
     */
    private static void jobs(StringBuilder h, List<Timeline.JobLine> jobs) {
        boolean named = jobs.stream().anyMatch(j -> j.name() != null && !j.name().equals(j.id()));
        boolean users = jobs.stream().anyMatch(j -> j.user() != null && !j.user().isEmpty());
        h.append("<div class=\"table\"><table class=\"jobs\"><thead><tr><th>job</th>").append(named ? "<th>name</th>" : "")
                .append(users ? "<th>user</th>" : "").append("<th>state</th><th>attempts</th><th>instance</th><th>estimate</th>"
                        + "<th>source</th><th>peak MiB</th><th>energy J</th></tr></thead><tbody>\n");
        for (Timeline.JobLine j : jobs) {
            h.append("<tr class=\"job\" data-job=\"").append(esc(j.id())).append("\"><td>").append(esc(j.id())).append("</td>");
            if (named) h.append("<td>").append(esc(j.name() == null ? j.id() : j.name())).append("</td>");
            if (users) h.append("<td>").append(esc(j.user() == null || j.user().isEmpty() ? "-" : j.user())).append("</td>");
            h.append(String.format(Locale.ROOT, "<td>%s</td><td>%d</td><td>%s</td><td>%s</td><td class=\"source\" title=\"%s\">%s"
                            + "</td><td>%s</td><td>%s</td></tr>\n", esc(j.state()), j.attempts(), esc(j.slot()),
                    j.needMib() > 0 ? j.needMib() + " MiB" : "none", esc(j.needSource()), esc(j.needSource()),
                    j.peakMib() > 0 ? Long.toString(j.peakMib()) : "-",
                    Double.isNaN(j.energyJ()) ? "-" : String.format(Locale.ROOT, "%.0f", j.energyJ())));
        }
        h.append("</tbody></table></div>\n");
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
            p.append(String.format(Locale.ROOT, "%.1f,%.1f ", LEFT + (i + 0.5) / values.length * PLOT,
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
            svg { width: 100%; height: auto; display: block; background: #fafafa; border: 1px solid #ddd; }
            line.slice { stroke: #e4e4e4; stroke-width: 0.5; }
            line.axis, line.tick { stroke: #999; stroke-width: 0.8; }
            rect.box { stroke: #fff; stroke-width: 0.6; }
            .completed { fill: #4c9a6a; background: #4c9a6a; } .oom { fill: #d0453b; background: #d0453b; }
            .early-restart { fill: #e39b2b; background: #e39b2b; } .stopped, .crashed { fill: #888; background: #888; }
            .running { fill: #5b7fd0; background: #5b7fd0; }
            .key { color: #fff; padding: 0 4px; border-radius: 3px; }
            line.mark { stroke: #333; stroke-dasharray: 2 2; stroke-width: 0.8; }
            polyline { fill: none; stroke-width: 1.4; }
            polyline.watts { stroke: #c0392b; } polyline.energy { stroke: #2c3e50; stroke-dasharray: 4 2; }
            svg.queue polyline { stroke: #5b7fd0; }
            svg text { font-size: 12px; fill: #555; } svg text.row, svg text.tick { font-size: 11px; }
            svg text.box-label { fill: #fff; font-size: 12px; pointer-events: none; }
            div.table { overflow-x: auto; }
            table.jobs { border-collapse: collapse; margin-top: 8px; font-size: 12px; width: 100%; }
            table.jobs td { white-space: nowrap; }
            table.jobs th, table.jobs td { border-bottom: 1px solid #eee; padding: 1px 4px; text-align: left; }
            table.jobs td.source { max-width: 12em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
            """;
}
