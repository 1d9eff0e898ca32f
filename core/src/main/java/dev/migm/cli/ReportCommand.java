package dev.migm.cli;

import dev.migm.io.InvalidInputException;
import dev.migm.report.HtmlReport;
import dev.migm.report.Timeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code migm report}: runs' timelines as one self-contained HTML file. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write one self-contained HTML file (no network needed to open it) showing runs side by side:"
                + " per GPU the instances over time with the job in each (OOMs, early restarts and reconfigurations"
                + " marked), board power and cumulative energy, the queue over time, and every job's attempts,"
                + " instance, estimate and its source, peak and energy.",
        footerHeading = "%nExamples:%n", footer = {
                "  migm run examples/batch-demo.yaml --time-scale 20 && migm report .migm/runs/<run> -o demo.html",
                "  migm simulate --suite mixed --policies serial,s1,migm --timeline mixed.json --quiet",
                "  migm report mixed.json -o mixed.html"})
final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "RUN_DIR|TIMELINE.json", arity = "1..*",
            description = "a run directory of migm run (its timeline.json) or a file of migm simulate --timeline")
    List<Path> inputs;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the HTML file to write")
    Path output;

    @Option(names = "--title", description = "the report's title (default: migm report)")
    String title = "migm report";

    @Override
    public Integer call() {
        List<Timeline.Run> runs = new ArrayList<>();
        for (Path in : inputs) {
            Path file = Files.isDirectory(in) ? in.resolve("timeline.json") : in;
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(in + ": expected a run directory with timeline.json (migm run writes"
                        + " one) or a file written by migm simulate --timeline");
            }
            runs.addAll(Timeline.read(file).runs());
        }
        if (runs.isEmpty()) throw new InvalidInputException(inputs.getFirst() + ": holds no runs");
        String html = HtmlReport.render(title, runs);
        try {
            dev.migm.io.TextFiles.writeAtomically(output, html);
        } catch (IOException e) {
            throw new InvalidInputException(output + ": cannot write: " + e.getMessage());
        }
        spec.commandLine().getOut().printf(java.util.Locale.ROOT, "%s: %d run(s), %d KiB%n", output, runs.size(),
                (html.length() + 1023) / 1024);
        return Main.OK;
    }
}
