package dev.migm.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens a report in headless Chromium (Debian's {@code chromium}; {@code ./test} installs it when
 * missing), as a person's browser would, and checks the DOM the browser built from it: every run's
 * section, per GPU its instance timeline and power curve, the queue, and a row for every job. Saves
 * a screenshot under {@code target/} for a person to look at.
 */
public final class Chromium {
    private Chromium() {
    }

    private static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-dev-shm-usage");

    /** The DOM Chromium built from {@code html}, serialized. */
    public static String dom(Path html) throws Exception {
        return run(List.of("--dump-dom", html.toUri().toString()));
    }

    /** A screenshot of {@code html} at {@code width} x {@code height} into {@code png}. */
    public static void screenshot(Path html, Path png, int width, int height) throws Exception {
        Files.createDirectories(png.toAbsolutePath().getParent());
        run(List.of("--window-size=" + width + "," + height, "--screenshot=" + png.toAbsolutePath(),
                html.toUri().toString()));
        assertThat(png).exists();
        assertThat(Files.size(png)).as("a screenshot with something on it").isGreaterThan(10_000);
    }

    private static String run(List<String> args) throws Exception {
        String binary = Files.isExecutable(Path.of("/usr/bin/chromium")) ? "/usr/bin/chromium" : "chromium";
        List<String> cmd = new java.util.ArrayList<>(List.of(binary));
        cmd.addAll(FLAGS);
        cmd.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("chromium is missing: install Debian's chromium package (./test does when run as"
                    + " root)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        assertThat(p.exitValue()).as("chromium's exit status").isZero();
        return out;
    }

    /**
     * Checks the browser's DOM of a report: {@code runs} run sections, each with a timeline and a
     * power curve for each of {@code gpus} GPUs, a queue curve, and a row for every job id (each run
     * lists the same jobs); at least one instance box per job; nothing fetched from anywhere.
     */
    public static void checkReport(Path html, int runs, int gpus, List<String> jobIds) throws Exception {
        String source = Files.readString(html);
        assertThat(source).as("self-contained").doesNotContain("src=").doesNotContain("http://").doesNotContain("https://")
                .doesNotContain("<link");
        String dom = dom(html);
        assertThat(count(dom, "<section class=\"run\"")).isEqualTo(runs);
        assertThat(count(dom, "<svg class=\"timeline\"")).isEqualTo(runs * gpus);
        assertThat(count(dom, "<svg class=\"power\"")).isEqualTo(runs * gpus);
        assertThat(count(dom, "<polyline class=\"watts\"")).isEqualTo(runs * gpus);
        assertThat(count(dom, "<svg class=\"queue\"")).isEqualTo(runs);
        for (String id : jobIds) {
            assertThat(count(dom, "<tr class=\"job\" data-job=\"" + id + "\"")).as("rows of job %s", id).isEqualTo(runs);
            assertThat(count(dom, "data-job=\"" + id + "\" x=")).as("boxes of job %s", id).isGreaterThanOrEqualTo(runs);
        }
    }

    /**
     * Checks what makes a report readable, in the browser's DOM: no SVG stretched out of its aspect
     * ratio (its text would be), every slice row labelled, a time axis with labelled ticks under each
     * timeline and queue, job names on boxes wide enough for them, and, where the runs know them
     * ({@code named}: a node's or a run's jobs, not a trace's), names and users in the tables.
     */
    public static void checkReadable(Path html, int runs, int gpus, boolean named) throws Exception {
        String dom = dom(html);
        assertThat(dom).doesNotContain("preserveAspectRatio=\"none\"");
        assertThat(count(dom, "<text class=\"row\"")).as("slice labels").isGreaterThanOrEqualTo(runs * gpus * 8);
        assertThat(count(dom, "<text class=\"tick\"")).as("time-axis labels").isGreaterThanOrEqualTo(runs * (gpus + 1) * 2);
        assertThat(count(dom, "<text class=\"box-label\"")).as("boxes labelled with their job").isGreaterThan(0);
        assertThat(count(dom, "<th>name</th><th>user</th>")).isEqualTo(named ? runs : 0);
        assertThat(dom).doesNotContain("estimate MiB");
    }

    private static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) n++;
        return n;
    }
}
