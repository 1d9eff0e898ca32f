package dev.migm.service;

import dev.migm.engine.JobSpec;
import dev.migm.estimate.Estimate;
import dev.migm.estimate.EstimatorChain;
import dev.migm.exec.CommandCheck;
import dev.migm.exec.ProcessExecutor;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The node's door, shared by {@code migm run} and the daemon: what a job file must be to be accepted
 * on this node, beyond what {@link dev.migm.spec.BatchFile} checks of any file (fields, expressions
 * and model shapes, evaluated by the estimators that will use them). A job is refused when what its
 * submitter declared needs more memory than the largest slot any GPU of the node offers (it could
 * never run: the refusal names that slot), and when its command cannot start as the user it runs as
 * ({@link CommandCheck}: a missing program or working directory fails every attempt the same way).
 * Each refusal is one line naming the file, the job and the field.
 */
public final class Admission {
    /** The largest slot of a node: its memory and what it is ("7g.40gb of an A100-SXM4-40GB"). */
    public record Largest(long mib, String what) {
    }

    private Admission() {
    }

    /**
     * The largest slot of these GPUs, from the most memory each can give one job
     * ({@link dev.migm.engine.Engine#largestSlotsMib}): its largest MIG instance, or the whole GPU.
     */
    public static Largest largest(List<GpuModel> models, List<Long> slotsMib) {
        Largest best = new Largest(-1, "");
        for (int g = 0; g < models.size(); g++) {
            GpuModel m = models.get(g);
            long mib = slotsMib.get(g);
            Largest here = mib == m.largestProfile().memoryMib() ? new Largest(mib, m.largestProfile().name() + " of "
                    + m.name()) : new Largest(mib, "the whole " + m.name() + " (MIG off)");
            if (here.mib() > best.mib()) best = here;
        }
        return best;
    }

    /** Refuses a job whose declared need is above the largest slot: it could never run here. */
    public static void checkFits(String source, JobSpec spec, String name, Largest largest) {
        Optional<Estimate> declared = EstimatorChain.declaredNeed(spec);
        if (declared.isPresent() && declared.get().mib() > largest.mib()) {
            throw new InvalidInputException(source + ": job " + TextFiles.quote(name) + ": "
                    + (declared.get().source().equals("declared") ? "memory" : "estimate") + ": needs "
                    + declared.get().mib() + " MiB (" + declared.get().source() + "), more than the largest slot of"
                    + " this node: " + largest.what() + " with " + largest.mib() + " MiB; a job runs on one GPU");
        }
    }

    /**
     * Refuses a job whose command cannot start as {@code user} (the launch as the executor will run
     * it; its working directory defaults to {@code defaultDir}).
     */
    public static void checkCanStart(String source, String name, ProcessExecutor.Launch launch, Path defaultDir,
                                     CommandCheck.User user, String path) {
        Path workdir = launch.workdir() != null ? launch.workdir().toAbsolutePath() : defaultDir;
        String jobPath = launch.env().getOrDefault("PATH", path);
        CommandCheck.problem(workdir, launch.argv(), jobPath, user).ifPresent(problem -> {
            throw new InvalidInputException(source + ": job " + TextFiles.quote(name) + ": "
                    + (problem.startsWith("working directory") ? "workdir" : "command") + ": " + problem
                    + " (as " + user.name() + ")");
        });
    }
}
