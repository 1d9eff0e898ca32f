package dev.migm.cli;

import dev.migm.io.InvalidInputException;
import dev.migm.service.JournalCheck;
import dev.migm.spec.DaemonConfig;
import dev.migm.store.NodeJournal;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code migm journal check|repair}: the node's journal offline (no daemon serving it). {@code check}
 * lists the open jobs whose records this migm cannot take over ({@link JournalCheck}); {@code repair}
 * fails them with the reason, in one transaction, after copying the journal beside itself. A
 * starting daemon fails such jobs by itself; these verbs let an admin see and settle them first.
 */
@Command(name = "journal", mixinStandardHelpOptions = true, description = "Check or repair the node's journal offline"
        + " (stop the daemon first).", subcommands = {JournalCommands.Check.class, JournalCommands.Repair.class})
final class JournalCommands implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** What both verbs share: the home, its lock and the journal. */
    abstract static class Offline implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--home", description = "the daemon's home (default: the config's, else $MIGM_HOME, else"
                + " ./.migm)")
        Path home;

        @Option(names = "--config", description = "the daemon's config file, for its home")
        Path config;

        @Option(names = "--json", description = "JSON output")
        boolean json;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        @Override
        public Integer call() throws IOException {
            DaemonConfig cfg = config == null ? DaemonConfig.DEFAULTS : DaemonConfig.read(config);
            Path base = (home != null ? home : cfg.home().orElse(RunCommand.home(null))).toAbsolutePath();
            Path file = base.resolve("journal.db");
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": no journal here (is " + base + " the daemon's home?)");
            }
            // The daemon's lock: held by a running daemon for its whole life.
            try (FileChannel lockFile = FileChannel.open(base.resolve("daemon.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.READ);
                 FileLock lock = tryLock(lockFile)) {
                if (lock == null) {
                    throw new InvalidInputException("a migm daemon serves " + base + "; stop it first (migm journal"
                            + " works on a journal no daemon uses)");
                }
                try (NodeJournal journal = NodeJournal.open(file)) {
                    return work(journal, base);
                }
            } catch (java.nio.file.AccessDeniedException e) {
                throw new InvalidInputException(base + ": permission denied (the journal is its daemon's user's: run"
                        + " as root)");
            }
        }

        abstract int work(NodeJournal journal, Path base) throws IOException;

        /** The lock, or null when someone holds it (another process, or a daemon in this JVM). */
        private static FileLock tryLock(FileChannel channel) throws IOException {
            try {
                return channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                return null;
            }
        }

        void print(List<JournalCheck.Problem> problems, String verb) {
            if (json) {
                var doc = Json.doc("journal");
                doc.put(verb, problems.stream().map(p -> {
                    var m = new java.util.LinkedHashMap<String, Object>();
                    m.put("id", p.jobId());
                    m.put("name", p.name());
                    m.put("user", p.user());
                    m.put("submission", p.submission());
                    m.put("reason", p.reason());
                    return m;
                }).toList());
                out().println(Json.write(doc));
                return;
            }
            for (JournalCheck.Problem p : problems) {
                out().printf(Locale.ROOT, "job %s (%s, %s, submission %d): %s%n", p.jobId(), p.name(), p.user(),
                        p.submission(), p.reason());
            }
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = "List the open jobs whose journal records"
            + " this migm cannot take over (exit 1 when there are some).", footerHeading = "%nExamples:%n",
            footer = {"  migm journal check --config /etc/migm/migm.yaml", "  migm journal check --home /var/lib/migm --json"})
    static final class Check extends Offline {
        @Override
        int work(NodeJournal journal, Path base) {
            List<JournalCheck.Problem> problems = JournalCheck.check(journal);
            print(problems, "unreplayable");
            if (!json) {
                out().println(problems.isEmpty() ? "journal " + journal.file() + ": every open job can be taken over"
                        : problems.size() + " open job(s) cannot be taken over; migm journal repair fails them (a"
                        + " starting daemon does too)");
            }
            return problems.isEmpty() ? Main.OK : Main.FOUND_A_PROBLEM;
        }
    }

    @Command(name = "repair", mixinStandardHelpOptions = true, description = "Fail the open jobs whose journal records"
            + " this migm cannot take over, with the reason, in one transaction, after a backup of the journal.",
            footerHeading = "%nExamples:%n", footer = {"  systemctl stop migm; migm journal repair --config"
            + " /etc/migm/migm.yaml; systemctl start migm"})
    static final class Repair extends Offline {
        @Override
        int work(NodeJournal journal, Path base) {
            List<JournalCheck.Problem> problems = JournalCheck.check(journal);
            if (problems.isEmpty()) {
                if (!json) out().println("journal " + journal.file() + ": nothing to repair");
                else print(problems, "failed");
                return Main.OK;
            }
            Path backup = base.resolve("journal.db.backup-" + java.time.LocalDateTime.now().format(
                    java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            JournalCheck.repair(journal, problems, backup, Math.max(journal.lastClockS(),
                    System.currentTimeMillis() / 1000.0));
            print(problems, "failed");
            if (!json) out().println("failed " + problems.size() + " job(s); the journal before is " + backup);
            return Main.OK;
        }
    }
}
