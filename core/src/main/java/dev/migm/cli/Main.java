package dev.migm.cli;

import dev.migm.gpu.InvalidInputException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code migm} command line. Verbs follow the shape of the tools GPU admins know
 * (nvidia-smi, mig-parted). Contract: bad input of any kind (unknown GPU, bad profile, illegal
 * layout, unparseable file, bad option) prints one line on stderr and exits with status 2;
 * success exits 0; an assertion-style verb that finds a mismatch exits 1.
 */
@Command(name = "migm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs batches and queues of GPU jobs on NVIDIA Multi-Instance GPUs.",
        subcommands = {GpuCommands.Gpus.class, GpuCommands.Profiles.class, GpuCommands.Layouts.class,
                GpuCommands.PlanCmd.class, GpuCommands.ImportSmi.class, GpuCommands.Export.class,
                GpuCommands.ImportMigParted.class, SimulateCommand.class, GenerateTraceCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit status for bad input. */
    public static final int BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit status (used by tests too). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("migm: " + ex.getMessage());
            return BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof InvalidInputException) {
                err.println("migm: " + ex.getMessage());
                return BAD_INPUT;
            }
            throw ex;
        });
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"migm " + (v == null ? "dev" : v)};
        }
    }
}
