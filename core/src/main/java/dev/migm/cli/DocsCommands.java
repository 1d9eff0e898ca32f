package dev.migm.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Spec;

/** Documents generated from the command definitions themselves: shell completion and the man page. */
final class DocsCommands {
    private DocsCommands() {
    }

    @Command(name = "completion", mixinStandardHelpOptions = true,
            description = "Print a bash (or zsh, with bashcompinit) completion script for migm, generated from its"
                    + " commands.",
            footerHeading = "%nExamples:%n", footer = {"  source <(migm completion)",
                    "  migm completion > /etc/bash_completion.d/migm"})
    static final class Completion implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(AutoComplete.bash("migm", spec.root().commandLine()));
            return Main.OK;
        }
    }

    @Command(name = "man", mixinStandardHelpOptions = true,
            description = "Print migm's man page (roff), generated from its commands.",
            footerHeading = "%nExamples:%n", footer = {"  migm man > /usr/local/share/man/man1/migm.1",
                    "  migm man | man -l -"})
    static final class Man implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(manPage(spec.root()));
            return Main.OK;
        }
    }

    /** The man page of a command tree, in roff (man(7) macros). */
    static String manPage(CommandSpec root) {
        StringBuilder sb = new StringBuilder();
        sb.append(".TH ").append(root.name().toUpperCase(Locale.ROOT)).append(" 1 \"\" \"")
                .append(root.version().length > 0 ? esc(root.version()[0]) : root.name()).append("\" \"User Commands\"\n");
        sb.append(".SH NAME\n").append(root.name()).append(" \\- ").append(esc(String.join(" ", root.usageMessage()
                .description()))).append('\n');
        sb.append(".SH SYNOPSIS\n.B ").append(root.name()).append("\n.I VERB\n[\\fIOPTIONS\\fR]\n");
        sb.append(".SH DESCRIPTION\n").append(esc(String.join(" ", root.usageMessage().description())))
                .append(" Each verb is described below; \\fB").append(root.name())
                .append(" VERB \\-\\-help\\fR prints the same.\n");
        sb.append(".SH COMMANDS\n");
        for (var e : root.subcommands().entrySet()) {
            CommandSpec c = e.getValue().getCommandSpec();
            if (c.name().equals("help")) continue;
            sb.append(".SS ").append(esc(c.name())).append('\n');
            sb.append(esc(String.join(" ", c.usageMessage().description()))).append('\n');
            for (PositionalParamSpec p : c.positionalParameters()) {
                sb.append(".TP\n.I ").append(esc(p.paramLabel())).append('\n')
                        .append(esc(String.join(" ", p.description()))).append('\n');
            }
            for (OptionSpec o : c.options()) {
                if (o.usageHelp() || o.versionHelp()) continue;
                sb.append(".TP\n.B ").append(esc(String.join(", ", o.names())));
                if (o.arity().max() > 0) sb.append(" \\fI").append(esc(o.paramLabel())).append("\\fR");
                sb.append('\n').append(esc(String.join(" ", o.description()).replace("${DEFAULT-VALUE}",
                        String.valueOf(o.defaultValue())))).append('\n');
            }
            List<String> footer = List.of(c.usageMessage().footer());
            if (!footer.isEmpty()) {
                sb.append(".PP\nExamples:\n.RS\n.nf\n");
                footer.forEach(f -> sb.append(esc(f.strip())).append('\n'));
                sb.append(".fi\n.RE\n");
            }
        }
        sb.append(".SH EXIT STATUS\n");
        for (String f : root.usageMessage().footer()) {
            String t = f.strip();
            if (t.isEmpty()) continue;
            int space = t.indexOf(' ');
            sb.append(".TP\n.B ").append(t, 0, space).append('\n').append(esc(t.substring(space + 1).strip())).append('\n');
        }
        sb.append(".SH ENVIRONMENT\n");
        for (String[] v : ENVIRONMENT) sb.append(".TP\n.B ").append(esc(v[0])).append('\n').append(esc(v[1])).append('\n');
        sb.append(".SH FILES\n");
        for (String[] f : FILES) sb.append(".TP\n.I ").append(esc(f[0])).append('\n').append(esc(f[1])).append('\n');
        sb.append(".SH SEE ALSO\n.BR nvidia\\-smi (1),\n.BR nvidia\\-mig\\-parted (1)\n");
        return sb.toString();
    }

    /**
     * The variables migm reads, and those it sets for a job: the man page's ENVIRONMENT section (the
     * code that reads each: RunCommand.home, ServiceCommands.Where, the launchers, SlurmCommands,
     * exec.ProcessExecutor).
     */
    static final List<String[]> ENVIRONMENT = List.of(
            new String[] {"MIGM_HOME", "migm's home (journal, jobs' directories, the daemon's socket, logs) when --home is"
                    + " not given; else $XDG_STATE_HOME/migm, i.e. ~/.local/state/migm. The package's daemon uses"
                    + " /var/lib/migm (its config)."},
            new String[] {"MIGM_SOCKET", "the daemon's socket for the client verbs when --socket is not given; else"
                    + " HOME/migm.sock when a home is named, else /run/migm/migm.sock when the package's daemon runs."},
            new String[] {"XDG_STATE_HOME", "where the default home is (XDG Base Directory): $XDG_STATE_HOME/migm."},
            new String[] {"MIGM_HEAP", "the launcher's Java heap limit (default 2g), e.g. MIGM_HEAP=8g for a simulation of"
                    + " millions of jobs."},
            new String[] {"MIGM_JAVA_OPTS", "more options for the launcher's Java (e.g. -Xlog:class+load)."},
            new String[] {"SLURM_CONF", "the slurm.conf the Slurm verbs, and the daemon's calls to scontrol and squeue,"
                    + " use (as Slurm's own commands do)."},
            new String[] {"CUDA_VISIBLE_DEVICES", "set for each job to its MIG instance (MIG-<uuid>), or its GPU when MIG"
                    + " is off; a job file cannot set it."},
            new String[] {"MIGM_CHECKPOINT_DIR", "set for each job: its checkpoint directory, the same for every attempt;"
                    + " a job that declares checkpoint: true resumes from what it wrote there."},
            new String[] {"MIGM_JOB_ID, MIGM_ATTEMPT", "set for each job: its id and the attempt's number (1, 2, ...)."});

    /** The files and directories a site meets: the man page's FILES section. */
    static final List<String[]> FILES = List.of(
            new String[] {"/etc/migm/migm.yaml", "the package's daemon config (migm daemon --config)."},
            new String[] {"/var/lib/migm/", "the package's daemon's home: journal.db (SQLite), jobs/ID/ (each job's"
                    + " output and checkpoints)."},
            new String[] {"/run/migm/migm.sock", "the package's daemon's socket (group migm may submit)."},
            new String[] {"/var/cache/migm/migm.aot", "the ahead-of-time class cache the package made at install."},
            new String[] {"/usr/share/migm/slurm/one-node.sh", "a one-node Slurm cluster over the node's daemon."},
            new String[] {"$MIGM_HOME/logs/", "logs of internal errors (else $TMPDIR/migm-$USER/)."});

    /** roff escapes: backslashes, leading dots and quotes, and hyphens that are minus signs. */
    private static String esc(String s) {
        String t = s.replace("\\", "\\e").replace("-", "\\-");
        return t.startsWith(".") || t.startsWith("'") ? "\\&" + t : t;
    }
}
