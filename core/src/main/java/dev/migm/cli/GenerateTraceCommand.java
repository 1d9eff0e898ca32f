package dev.migm.cli;

import dev.migm.io.InvalidInputException;
import dev.migm.sim.Suites;
import dev.migm.sim.TraceGenerator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code migm generate-trace}: a large synthetic trace for scale runs. */
@Command(name = "generate-trace", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm generate-trace --jobs 500 --gpus 2 --load 1.5 --seed 7 -o trace.csv", "  migm generate-trace --from llm --jobs 1000 --gpus 8 --load 0.9 -o llm.csv --json"},
        description = "Write a synthetic migm-trace v1 file resampled from a bundled suite.")
final class GenerateTraceCommand implements Callable<Integer> {
    @Option(names = "--jobs", required = true, description = "number of jobs")
    int jobs;

    @Option(names = "--from", defaultValue = "mixed", description = "suite to resample (default ${DEFAULT-VALUE})")
    String from;

    @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "GPU model (default ${DEFAULT-VALUE})")
    String gpu;

    @Option(names = "--gpus", defaultValue = "1", description = "GPUs the load is computed for (default ${DEFAULT-VALUE})")
    int gpus;

    @Option(names = "--load", defaultValue = "0.9", description = "offered load, 1.0 = capacity by the lower bound (default ${DEFAULT-VALUE})")
    double load;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = {"-o", "--output"}, required = true, description = "output file")
    Path output;

    @Option(names = "--json", description = "JSON summary on stdout: {schema, output, from, jobs, gpus, gpu, load, seed,"
            + " columns}")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (jobs < 1) throw new InvalidInputException("--jobs must be positive, got " + jobs);
        if (!(load > 0) || Double.isInfinite(load)) {
            throw new InvalidInputException("--load must be a positive number, got " + load);
        }
        if (jobs > 10_000_000) throw new InvalidInputException("--jobs must be at most 10000000, got " + jobs);
        if (!Suites.NAMES.contains(from)) Suites.load(from);
        try (BufferedWriter w = Files.newBufferedWriter(output)) {
            TraceGenerator.write(w, from, jobs, SimulateCommand.node(gpu, gpus), load, seed);
        } catch (IOException e) {
            throw new InvalidInputException(output + ": cannot write: " + e.getMessage());
        }
        if (json) {
            java.util.Map<String, Object> doc = Json.doc("generate-trace");
            doc.put("output", output.toString());
            doc.put("from", from);
            doc.put("jobs", jobs);
            doc.put("gpus", gpus);
            doc.put("gpu", dev.migm.gpu.Catalog.builtin().get(gpu).name());
            doc.put("load", Json.decimal(load, 3));
            doc.put("seed", seed);
            doc.put("columns", dev.migm.sim.TraceReader.COLUMNS);
            spec.commandLine().getOut().println(Json.write(doc));
        }
        return 0;
    }
}
