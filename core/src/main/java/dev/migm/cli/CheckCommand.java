package dev.migm.cli;

import dev.migm.estimate.Estimate;
import dev.migm.estimate.EstimatorChain;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.service.Admission;
import dev.migm.spec.BatchFile;
import dev.migm.spec.SubmittedJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code migm check FILE}: the door a submit goes through, without a daemon and without running
 * anything: the file parses, every job's fields are valid (the estimators evaluate its shape), and
 * what it declares fits the largest instance of the GPU named. For each job, what migm would plan for
 * it at first and the smallest profile that holds that.
 */
@Command(name = "check", mixinStandardHelpOptions = true, description = "Validate a job or batch file (version: v1)"
        + " without running it: the same checks as submit (file, fields, expressions, a declared need against the"
        + " GPU's largest instance), then each job's declared need and the smallest profile that holds it.",
        footerHeading = "%nExamples:%n", footer = {"  migm check examples/batch-demo.yaml",
        "  migm check job.yaml --gpu H100-80GB"})
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "a job or batch file (version: v1)")
    Path file;

    @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "the GPU model the jobs are checked against"
            + " (default ${DEFAULT-VALUE}; `migm gpus` lists them)")
    String gpu;

    @Override
    public Integer call() {
        GpuModel model = Catalog.builtin().get(gpu);
        List<SubmittedJob> jobs = BatchFile.read(file);
        // A whole GPU with MIG off is the most a node can give one job (where the policy may turn MIG off).
        Admission.Largest most = new Admission.Largest(model.memoryMib(), model.name() + " (whole GPU)");
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("JOB", "NEEDS", "FROM", "SMALLEST PROFILE"));
        for (SubmittedJob job : jobs) {
            Admission.checkFits(file.toString(), job.toJobSpec(), job.name(), most);
            Optional<Estimate> need = EstimatorChain.declaredNeed(job.toJobSpec());
            String profile = need.map(n -> model.tightestProfile(n.mib()).map(p -> p.name().toString())
                    .orElse("whole GPU (MIG off)")).orElse("sized at run time");
            rows.add(List.of(job.name(), need.map(n -> n.mib() + " MiB").orElse("none declared"),
                    need.map(Estimate::source).orElse("history, projection and OOM restarts"), profile));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(file + ": " + jobs.size() + (jobs.size() == 1 ? " job" : " jobs") + ", valid for " + model.name());
        ServiceCommands.table(out, rows);
        return Main.OK;
    }
}
