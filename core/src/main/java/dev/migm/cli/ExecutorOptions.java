package dev.migm.cli;

import picocli.CommandLine.Option;

/** How jobs' processes are watched and stopped: shared by {@code run} and {@code daemon}. */
final class ExecutorOptions {
    @Option(names = "--sample-every", defaultValue = "1s", description = "how often each job's GPU memory is sampled"
            + " (modelled time; default ${DEFAULT-VALUE})")
    String sampleEvery;

    @Option(names = "--grace", defaultValue = "10s", description = "SIGTERM to SIGKILL when a job is stopped (modelled"
            + " time; default ${DEFAULT-VALUE})")
    String grace;

    double sampleS() {
        return RunCommand.seconds("--sample-every", sampleEvery, 0.05, 3600);
    }

    double graceS() {
        return RunCommand.seconds("--grace", grace, 0.1, 3600);
    }
}
