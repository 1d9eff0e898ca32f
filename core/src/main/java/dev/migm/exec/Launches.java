package dev.migm.exec;

import dev.migm.spec.SubmittedJob;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How a submitted job is launched on a backend. */
public final class Launches {
    private Launches() {
    }

    /**
     * The command line that starts this program's {@code workload} verb: this process's Java and class
     * path with a small heap, then {@code mainClass} and the verb.
     */
    public static List<String> helperCommand(String mainClass) {
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "-Xmx24m", "-Xss256k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:CICompilerCount=1", "-Xshare:auto", "-cp", absoluteClassPath(System.getProperty("java.class.path")),
                mainClass, "workload");
    }

    /** A class path with each entry made absolute: the helper runs in its job's directory, not migm's. */
    static String absoluteClassPath(String classPath) {
        return java.util.Arrays.stream(classPath.split(java.io.File.pathSeparator))
                .filter(e -> !e.isEmpty())
                .map(e -> Path.of(e).toAbsolutePath().normalize().toString())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /**
     * On the emulated GPU ({@code helper} not empty), a job with a {@code workload:} section is played
     * by the {@code helper} command ({@link #helperCommand}: its own command names a program this
     * machine does not have); every other job, and every job on real GPUs, runs its own command. A
     * relative working directory is resolved against {@code base} (the submitter's directory); none
     * means the job's directory.
     */
    public static ProcessExecutor.Launch of(SubmittedJob job, List<String> helper, Path base) {
        List<String> argv;
        if (!helper.isEmpty() && job.workload().isPresent()) {
            SubmittedJob.Workload w = job.workload().get();
            argv = new ArrayList<>(helper);
            argv.addAll(List.of("--work", w.workS() + "s", "--c", Double.toString(w.c()),
                    "--sat", Double.toString(w.sat()), "--mem", w.memMib() + "MiB", "--grow-to", w.growToMib() + "MiB",
                    "--activity", Double.toString(w.activity())));
            if (w.checkpointEveryS() > 0) argv.addAll(List.of("--checkpoint-every", w.checkpointEveryS() + "s"));
            if (w.reportsProgress()) argv.add("--progress");
            w.prints().ifPresent(f -> argv.addAll(List.of("--print-progress", f)));
            if (w.progressEveryS() > 0) argv.addAll(List.of("--progress-every", w.progressEveryS() + "s"));
        } else {
            argv = job.argv();
        }
        Path workdir = job.workdir().map(d -> base == null ? Path.of(d) : base.resolve(d)).orElse(null);
        return new ProcessExecutor.Launch(argv, job.env(), workdir, java.util.Optional.empty(), job.progress(), job.steps());
    }
}
