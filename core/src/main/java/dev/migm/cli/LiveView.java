package dev.migm.cli;

import dev.migm.engine.JobState;
import dev.migm.engine.JobView;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code migm run}'s view on a terminal, redrawn in place about once a second: elapsed modelled
 * time, how many jobs wait, start, run, are done or failed, and each GPU's layout with the job on
 * each instance. In a pipe (or with {@code --quiet}/{@code --json}) the run prints one line per
 * event instead. Rendering is a pure function of the engine's job views and the GPUs' layouts.
 */
final class LiveView {
    /** Instances per line before a GPU's layout wraps. */
    private static final int PER_LINE = 4;

    private LiveView() {
    }

    static List<String> render(String title, double elapsedS, List<JobView> jobs, List<Layout> layouts) {
        Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
        Map<String, String> whoOn = new HashMap<>();
        for (JobView v : jobs) {
            counts.merge(v.state(), 1, Integer::sum);
            if ((v.state() == JobState.RUNNING || v.state() == JobState.STARTING) && !v.attempts().isEmpty()) {
                var slot = v.attempts().getLast().slot();
                whoOn.put(slot.gpu() + ":" + slot.instance().map(Instance::toString).orElse("whole"),
                        v.spec().id() + (v.state() == JobState.STARTING ? " (starting)" : ""));
            }
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "migm run %s  %.0f s (modelled)  waiting %d  starting %d  running %d  done %d"
                        + "  failed %d", title, elapsedS,
                counts.getOrDefault(JobState.QUEUED, 0) + counts.getOrDefault(JobState.PLACING, 0),
                counts.getOrDefault(JobState.STARTING, 0), counts.getOrDefault(JobState.RUNNING, 0),
                counts.getOrDefault(JobState.DONE, 0),
                counts.getOrDefault(JobState.FAILED, 0) + counts.getOrDefault(JobState.CANCELLED, 0)));
        for (int g = 0; g < layouts.size(); g++) {
            Layout layout = layouts.get(g);
            List<String> cells = new ArrayList<>();
            for (Instance i : layout.instances()) {
                cells.add(i + " " + whoOn.getOrDefault(g + ":" + i, "(free)"));
            }
            String whole = whoOn.get(g + ":whole");
            if (whole != null) cells.add("whole GPU " + whole);
            String head = "gpu" + g + " " + layout.gpu().name() + ": ";
            if (cells.isEmpty()) {
                lines.add(head + "no instances");
                continue;
            }
            for (int k = 0; k < cells.size(); k += PER_LINE) {
                lines.add((k == 0 ? head : " ".repeat(head.length()))
                        + String.join("  |  ", cells.subList(k, Math.min(cells.size(), k + PER_LINE))));
            }
        }
        return lines;
    }

    /** ANSI: move the cursor up {@code lines} lines to column 1 and clear to the end of the screen. */
    static String rewind(int lines) {
        return lines == 0 ? "" : "\033[" + lines + "F\033[J";
    }
}
