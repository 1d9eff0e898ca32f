package dev.migm.cli;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.sim.AlibabaTrace;
import dev.migm.sim.TraceWriter;
import dev.migm.workload.TraceJob;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code migm convert-trace}: a public cluster trace as a {@code migm-trace v1} file. */
@Command(name = "convert-trace", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm convert-trace examples/alibaba-pods.csv -o alibaba.csv",
                "  migm convert-trace openb_pod_list_default.csv --time-compression 20 --gpu H100-80GB -o a.csv --json"},
        description = {"Convert Alibaba's cluster-trace-gpu-v2023 pod list (openb_pod_list_*.csv) into a migm-trace v1"
                + " file. The pod list says what each pod asked for and when it ran, not how it used the GPU: every"
                + " assumption is an option below, and docs/traces.md states each."})
final class ConvertTraceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POD_CSV", description = "the pod list (name,cpu_milli,memory_mib,num_gpu,...)")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, description = "output file")
    Path output;

    @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "GPU the memory shares are taken of: a pod asking"
            + " for share s declares s of its largest instance's memory (default ${DEFAULT-VALUE})")
    String gpu;

    @Option(names = "--max-duration-s", defaultValue = "86400", description = "longer runs are cut to this (default"
            + " ${DEFAULT-VALUE})")
    double maxDurationS;

    @Option(names = "--keep-censored", description = "keep pods still running when the trace ends (default: skip them)")
    boolean keepCensored;

    @Option(names = "--multi-gpu", defaultValue = "skip", description = "pods asking for several GPUs: skip, or split"
            + " into one whole-GPU job per GPU (default ${DEFAULT-VALUE})")
    String multiGpu;

    @Option(names = "--peak-share", defaultValue = "0.7..1.0", description = "true peak as a share of the declared"
            + " memory, drawn per pod from a hash of its name (default ${DEFAULT-VALUE})")
    String peakShare;

    @Option(names = "--c", defaultValue = "0.9", description = "the scaling share c of every job, models.md section 1;"
            + " sat is the share of the GPU the pod asked for (default ${DEFAULT-VALUE})")
    double c;

    @Option(names = "--activity", defaultValue = "0.7", description = "power activity factor of every job (default"
            + " ${DEFAULT-VALUE})")
    double activity;

    @Option(names = "--since", defaultValue = "0", description = "leave out pods created before this trace time, seconds"
            + " (default ${DEFAULT-VALUE})")
    long sinceS;

    @Option(names = "--time-compression", defaultValue = "1", description = "divide arrival times by this (default"
            + " ${DEFAULT-VALUE}: as in the trace)")
    double timeCompression;

    @Option(names = "--batch", description = "every job arrives at 0")
    boolean batch;

    @Option(names = "--json", description = "JSON summary on stdout: {schema, input, output, gpu, pods, jobs, skipped,"
            + " cut_to_max_duration, options}")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        GpuModel model = Catalog.builtin().get(gpu);
        AlibabaTrace.MultiGpu multi = switch (multiGpu) {
            case "skip" -> AlibabaTrace.MultiGpu.SKIP;
            case "split" -> AlibabaTrace.MultiGpu.SPLIT;
            default -> throw new InvalidInputException("--multi-gpu: expected skip or split, got " + TextFiles.quote(multiGpu));
        };
        String[] range = peakShare.split("\\.\\.", -1);
        double low;
        double high;
        try {
            if (range.length != 2) throw new NumberFormatException();
            low = Double.parseDouble(range[0].strip());
            high = Double.parseDouble(range[1].strip());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--peak-share: expected LOW..HIGH such as 0.7..1.0, got " + TextFiles.quote(peakShare));
        }
        AlibabaTrace.Options options = new AlibabaTrace.Options(model, maxDurationS, keepCensored, multi, low, high, c,
                activity, sinceS, timeCompression, batch);
        AlibabaTrace.Conversion conversion = AlibabaTrace.convert(TextFiles.read(input), input.toString(), options);
        if (conversion.jobs().isEmpty()) {
            throw new InvalidInputException(input + ": no pod became a job (" + skippedText(conversion.skipped()) + ")");
        }
        try (BufferedWriter w = Files.newBufferedWriter(output)) {
            TraceWriter writer = new TraceWriter(w);
            writer.header();
            writer.comment("converted by migm convert-trace from " + input.getFileName() + " (Alibaba cluster-trace-gpu-v2023)"
                    + String.format(Locale.ROOT, ": gpu %s, max duration %.0f s, peak share %s..%s, c %s, activity %s,"
                            + " since %d, time compression %s%s%s", model.name(), maxDurationS, low, high, c, activity,
                    sinceS, timeCompression, batch ? ", batch" : "", keepCensored ? ", censored kept" : ""));
            writer.comment(conversion.pods() + " pods, " + conversion.jobs().size() + " jobs; skipped: "
                    + skippedText(conversion.skipped()) + "; cut to the maximum duration: " + conversion.cutToMaxDuration());
            for (TraceJob job : conversion.jobs()) writer.job(job);
        } catch (IOException | UncheckedIOException e) {
            throw new InvalidInputException(output + ": cannot write: " + e.getMessage());
        }
        if (json) {
            Map<String, Object> doc = Json.doc("convert-trace");
            doc.put("input", input.toString());
            doc.put("output", output.toString());
            doc.put("gpu", model.name());
            doc.put("pods", conversion.pods());
            doc.put("jobs", conversion.jobs().size());
            Map<String, Object> skipped = new java.util.LinkedHashMap<>();
            conversion.skipped().forEach((k, v) -> skipped.put(k.replace(' ', '_').replace("'", ""), v));
            doc.put("skipped", skipped);
            doc.put("cut_to_max_duration", conversion.cutToMaxDuration());
            Map<String, Object> opts = new java.util.LinkedHashMap<>();
            opts.put("max_duration_s", Json.decimal(maxDurationS, 1));
            opts.put("keep_censored", keepCensored);
            opts.put("multi_gpu", multiGpu);
            opts.put("peak_share", java.util.List.of(Json.decimal(low, 3), Json.decimal(high, 3)));
            opts.put("c", Json.decimal(c, 3));
            opts.put("activity", Json.decimal(activity, 3));
            opts.put("since_s", sinceS);
            opts.put("time_compression", Json.decimal(timeCompression, 3));
            opts.put("batch", batch);
            doc.put("options", opts);
            spec.commandLine().getOut().println(Json.write(doc));
        } else {
            spec.commandLine().getOut().println(conversion.pods() + " pods -> " + conversion.jobs().size() + " jobs in "
                    + output + " (skipped: " + skippedText(conversion.skipped()) + "; cut to " + (long) maxDurationS + " s: "
                    + conversion.cutToMaxDuration() + ")");
        }
        return 0;
    }

    private static String skippedText(Map<String, Integer> skipped) {
        StringBuilder b = new StringBuilder();
        skipped.forEach((k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
        return b.toString();
    }
}
