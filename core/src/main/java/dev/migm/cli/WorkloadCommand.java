package dev.migm.cli;

import dev.migm.exec.WorkloadHelper;
import dev.migm.io.InvalidInputException;
import dev.migm.workload.WorkloadModel;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code migm workload}: the job-like process the emulated GPU runs (see {@link WorkloadHelper}). */
@Command(name = "workload", mixinStandardHelpOptions = true, description = "Run as a job of models.md on the emulated"
        + " MIG instance CUDA_VISIBLE_DEVICES names: work, memory growth, checkpoints, PyTorch-style OOM.",
        footerHeading = "%nExamples:%n", footer = {"  migm workload --work 600s --c 0.8 --mem 3GiB --grow-to 9GiB"
                + " --checkpoint-every 60s"})
final class WorkloadCommand implements Callable<Integer> {
    @Option(names = "--work", required = true, description = "work alone on a whole GPU, e.g. 600s")
    String work;

    @Option(names = "--c", defaultValue = "0.5", description = "share of the work that scales with SMs")
    double c;

    @Option(names = "--sat", defaultValue = "1.0", description = "share of the GPU's SMs beyond which it stops speeding up")
    double sat;

    @Option(names = "--mem", required = true, description = "memory held from the start, e.g. 3GiB")
    String mem;

    @Option(names = "--grow-to", description = "memory at the end (default: --mem)")
    String growTo;

    @Option(names = "--activity", defaultValue = "0.5", description = "power activity in [0,1]")
    double activity;

    @Option(names = "--checkpoint-every", description = "checkpoint interval in seconds of work (default: none)")
    String checkpointEvery;

    @Option(names = "--progress", description = "report progress where migm reads it")
    boolean progress;

    @Option(names = "--print-progress", paramLabel = "FORMAT", description = "print progress as a framework does: "
            + "tqdm, hf, lightning, keras, vllm or deepspeed")
    String printProgress;

    @Option(names = "--progress-every", paramLabel = "DURATION", description = "say the progress once every DURATION"
            + " of the run (e.g. 30s), as a trainer that logs every N steps does (default: as each step is done)")
    String progressEvery;

    @Override
    public Integer call() {
        WorkloadModel model;
        try {
            double workS = dev.migm.spec.Units.seconds(work, "--work: ");
            long memMib = dev.migm.spec.Units.mib(mem, "--mem: ");
            long peak = growTo == null ? memMib : dev.migm.spec.Units.mib(growTo, "--grow-to: ");
            double every = checkpointEvery == null ? 0 : dev.migm.spec.Units.seconds(checkpointEvery, "--checkpoint-every: ");
            model = new WorkloadModel(workS, c, sat, memMib, peak, activity, every, progress);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("workload: " + e.getMessage());
        }
        if (printProgress != null && !dev.migm.progress.ProgressPrinter.FORMATS.contains(printProgress)) {
            throw new InvalidInputException("workload: --print-progress: one of "
                    + String.join(", ", dev.migm.progress.ProgressPrinter.FORMATS) + ", got " + printProgress);
        }
        double progressEveryS = 0;
        if (progressEvery != null) {
            if (!progress && printProgress == null) {
                throw new InvalidInputException("workload: --progress-every: give --progress or --print-progress too");
            }
            progressEveryS = dev.migm.spec.Units.seconds(progressEvery, "workload: --progress-every: ");
        }
        return WorkloadHelper.run(model, System.getenv(), System.out, System.err, java.util.Optional.ofNullable(printProgress),
                progressEveryS);
    }
}
