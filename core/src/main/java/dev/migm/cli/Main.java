package dev.migm.cli;

import dev.migm.io.InvalidInputException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code migm} command line. Verbs follow the shape of the tools GPU admins know
 * (nvidia-smi, mig-parted).
 *
 * <p>Exit statuses, the same for every verb: {@value #OK} success; {@value #FOUND_A_PROBLEM} the
 * command ran and found a problem it reports (an impossible plan); {@value #BAD_INPUT} bad usage or
 * input (unknown verb, option, GPU or profile, an unparseable or out-of-range file), with one line
 * on stderr naming the file, line and field or the option; {@value #INTERNAL_ERROR} an internal
 * error (a bug): one line on stderr naming a log file that holds the details. No path prints a Java
 * stack trace to the user.
 */
@Command(name = "migm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs batches and queues of GPU jobs on NVIDIA Multi-Instance GPUs.",
        footerHeading = "%nExit status:%n",
        footer = {"  0  success", "  1  the command ran and found a problem (e.g. an impossible plan)",
                "  2  bad usage or input (one line on stderr names the file, line and field)",
                "  3  internal error (one line on stderr names the log file with the details)"},
        subcommands = {GpuCommands.Gpus.class, GpuCommands.Profiles.class, GpuCommands.Layouts.class,
                GpuCommands.PlanCmd.class, GpuCommands.ImportSmi.class, GpuCommands.Export.class,
                GpuCommands.ImportMigParted.class, SimulateCommand.class, GenerateTraceCommand.class, ConvertTraceCommand.class, ReportCommand.class,
                RunCommand.class, WorkloadCommand.class, ServiceCommands.Daemon.class, ServiceCommands.Submit.class, CheckCommand.class,
                ServiceCommands.Queue.class, ServiceCommands.Show.class, ServiceCommands.Cancel.class,
                ServiceCommands.Logs.class, ServiceCommands.History.class, ServiceCommands.Replay.class, ServiceCommands.Drain.class,
                ServiceCommands.Resume.class, SlurmCommands.class, JournalCommands.class, DocsCommands.Completion.class, DocsCommands.Man.class,
                AotTrainingCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int FOUND_A_PROBLEM = 1;
    /** Exit status for bad input. */
    public static final int BAD_INPUT = 2;
    public static final int INTERNAL_ERROR = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static {
        // Jetty logs through SLF4J: warnings and errors only, on stderr (the daemon's log).
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty(
                "org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * The command line for {@code args}: the whole tree (every verb's options read from its
     * annotations, a few hundred milliseconds of a CLI call) only where it is needed (help, the man
     * page, completion, a mistyped verb); a known verb gets a root holding that verb alone, so that
     * {@code migm queue} pays for {@code queue} only. Both roots have the same name, options and exit
     * statuses; the root's usage lists every verb.
     */
    static CommandLine commandLine(String[] args) {
        Class<?> verb = args.length == 0 ? null : verbs().get(args[0]);
        if (verb == null || verb == CommandLine.HelpCommand.class || verb == DocsCommands.Completion.class
                || verb == DocsCommands.Man.class) {
            return new CommandLine(new Main());
        }
        CommandLine root = new CommandLine(new LazyRoot());
        root.addSubcommand(args[0], new CommandLine(verb, CommandLine.defaultFactory()));
        return root;
    }

    /** The root of a call to one known verb: as {@link Main}, without the other verbs. */
    @Command(name = "migm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class)
    static final class LazyRoot implements Runnable {
        @Override
        public void run() {
            new CommandLine(new Main()).usage(System.out);
        }
    }

    private static java.util.Map<String, Class<?>> verbs;

    /** Verb name to its command class, read from {@link Main}'s annotation (no picocli model built). */
    static synchronized java.util.Map<String, Class<?>> verbs() {
        if (verbs == null) {
            java.util.Map<String, Class<?>> m = new java.util.HashMap<>();
            for (Class<?> c : Main.class.getAnnotation(Command.class).subcommands()) {
                Command cmd = c.getAnnotation(Command.class);
                m.put(cmd.name(), c);
                for (String alias : cmd.aliases()) m.put(alias, c);
            }
            verbs = m;
        }
        return verbs;
    }

    /** Runs the CLI with the given streams and returns the exit status (used by tests too). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            for (String line : new Version().getVersion()) out.println(line);
            out.flush();
            return OK;
        }
        java.util.Optional<Integer> direct = DirectClientVerbs.run(args, out, err);
        if (direct.isPresent()) return direct.get();
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("migm: " + oneLine(ex.getMessage()) + suggestions(ex));
            return BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof InvalidInputException) {
                err.println("migm: " + oneLine(ex.getMessage()));
                return BAD_INPUT;
            }
            return internalError(ex, args, err);
        });
        int rc;
        try {
            rc = cl.execute(args);
        } catch (RuntimeException | Error e) {
            rc = internalError(e, args, err);
        }
        out.flush();
        err.flush();
        return rc;
    }

    /** picocli's "did you mean" for a mistyped verb or option, on the same line. */
    private static String suggestions(CommandLine.ParameterException ex) {
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            return " (did you mean: " + String.join(", ", u.getSuggestions()) + "?)";
        }
        return "";
    }

    /** At most one line of at most 300 characters: messages never echo a file's contents. */
    static String oneLine(String message) {
        String m = message == null ? "" : message.replaceAll("\\R", " ");
        return m.length() > 300 ? m.substring(0, 297) + "..." : m;
    }

    /**
     * A bug: the details go to a log file ({@code $MIGM_HOME/logs} or the temp directory), the user
     * gets one line naming it.
     */
    static int internalError(Throwable e, String[] args, PrintWriter err) {
        String where;
        try {
            String home = System.getenv("MIGM_HOME");
            java.nio.file.Path dir = home != null && !home.isBlank() ? java.nio.file.Path.of(home, "logs")
                    : java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "migm-" + System.getProperty("user.name"));
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Path log = dir.resolve("error-" + java.time.LocalDateTime.now()
                    .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-"
                    + ProcessHandle.current().pid() + ".log");
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            java.nio.file.Files.writeString(log, "migm " + String.join(" ", args) + "\n" + trace);
            where = "details in " + log;
        } catch (java.io.IOException | RuntimeException io) {
            where = "no log could be written (" + oneLine(io.getMessage()) + ")";
        }
        if (e instanceof OutOfMemoryError) {
            // Not a bug: the work outgrew the heap the launcher gave Java.
            err.println("migm: out of memory (" + (Runtime.getRuntime().maxMemory() >> 20) + " MiB of heap); run it with"
                    + " a larger heap, e.g. MIGM_HEAP=8g ./migm ... (simulate holds every job with --per-job or an unsorted"
                    + " trace); " + where);
            return INTERNAL_ERROR;
        }
        err.println("migm: internal error (a bug; please report it): " + oneLine(String.valueOf(e.getMessage()))
                + "; " + where);
        return INTERNAL_ERROR;
    }

    /**
     * {@code migm VERSION (commit COMMIT)}: the version and the commit the jar was built from, as the
     * build wrote them into {@code dev/migm/build.properties} ("dev" and "unknown" when built without).
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            java.util.Properties p = new java.util.Properties();
            try (java.io.InputStream in = Main.class.getResourceAsStream("/dev/migm/build.properties")) {
                if (in != null) p.load(in);
            } catch (java.io.IOException e) {
                // no build information: dev
            }
            String v = p.getProperty("version", "");
            String commit = p.getProperty("commit", "");
            return new String[] {"migm " + (v.isBlank() || v.startsWith("${") ? "dev" : v) + " (commit "
                    + (commit.isBlank() || commit.startsWith("${") ? "unknown" : commit) + ")"};
        }
    }
}
