package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The direct path of queue, show and submit reads arguments exactly as picocli does, or leaves them to it. */
final class DirectClientVerbsTest {
    /** What a parsed client verb carries, from whichever parser. */
    private record Parsed(Class<?> verb, boolean json, Path home, Path socket, Object argument) {
        static Parsed of(ServiceCommands.Client c) {
            Object argument = switch (c) {
                case ServiceCommands.Queue q -> q.all;
                case ServiceCommands.Show s -> s.id;
                case ServiceCommands.Submit s -> s.file;
                default -> throw new AssertionError(c.getClass());
            };
            return new Parsed(c.getClass(), c.json, c.where.home, c.where.socket, argument);
        }
    }

    private static Parsed byPicocli(String... args) {
        ServiceCommands.Client c = switch (args[0]) {
            case "queue" -> new ServiceCommands.Queue();
            case "show" -> new ServiceCommands.Show();
            case "submit" -> new ServiceCommands.Submit();
            default -> throw new AssertionError(args[0]);
        };
        new CommandLine(c).parseArgs(Arrays.copyOfRange(args, 1, args.length));
        return Parsed.of(c);
    }

    @Test
    void plainArguments_areParsedAsPicocliParsesThem() {
        List<String[]> plain = List.of(
                new String[] {"queue"}, new String[] {"queue", "--all"}, new String[] {"queue", "--json", "--all"},
                new String[] {"queue", "--home", "/tmp/h"}, new String[] {"queue", "--home=/tmp/h", "--json"},
                new String[] {"queue", "--socket", "/run/x.sock", "--all"}, new String[] {"show", "12"},
                new String[] {"show", "--json", "job-7"}, new String[] {"show", "3", "--socket=/s", "--home", "h"},
                new String[] {"submit", "jobs.yaml"}, new String[] {"submit", "--json", "dir/jobs.yaml", "--home", "/h"});
        for (String[] args : plain) {
            Optional<ServiceCommands.Client> direct = DirectClientVerbs.parse(args);
            assertThat(direct).as(String.join(" ", args)).isPresent();
            assertThat(Parsed.of(direct.get())).as(String.join(" ", args)).isEqualTo(byPicocli(args));
        }
    }

    @Test
    void anythingElse_isLeftToPicocli() {
        List<String[]> others = List.of(
                new String[] {}, new String[] {"cancel", "1"}, new String[] {"queue", "--help"}, new String[] {"queue", "-h"},
                new String[] {"queue", "--bogus"}, new String[] {"queue", "extra"}, new String[] {"queue", "--all", "--all"},
                new String[] {"queue", "--home"}, new String[] {"queue", "--home", "--json"}, new String[] {"queue", "--json=true"},
                new String[] {"show"}, new String[] {"show", "1", "2"}, new String[] {"show", "--all", "1"},
                new String[] {"show", "--", "-1"}, new String[] {"submit"}, new String[] {"submit", "a.yaml", "b.yaml"},
                new String[] {"submit", "-V"}, new String[] {"queue", "--socket="});
        for (String[] args : others) {
            assertThat(DirectClientVerbs.parse(args)).as(String.join(" ", args)).isEmpty();
        }
    }

    @Test
    void aDirectCall_printsWhatThePicocliCallPrints(@TempDir Path dir) {
        // No daemon on this socket: both paths name it in one line and exit 1.
        String socket = dir.resolve("none.sock").toString();
        CliTest.Result direct = CliTest.run("queue", "--socket", socket);
        assertThat(direct.status()).isEqualTo(Main.FOUND_A_PROBLEM);
        assertThat(direct.err()).startsWith("migm: ").contains(socket).doesNotContain("\n ");
        // `--socket=` with `--json=false` is not plain: picocli runs it, and says the same.
        CliTest.Result viaPicocli = CliTest.run("queue", "--socket=" + socket, "--json=false");
        assertThat(viaPicocli.status()).isEqualTo(direct.status());
        assertThat(viaPicocli.err()).isEqualTo(direct.err());
        // A file that is not there: bad input, one line naming it, on both paths.
        String missing = dir.resolve("missing.yaml").toString();
        CliTest.Result submit = CliTest.run("submit", missing, "--socket", socket);
        assertThat(submit.status()).isEqualTo(Main.BAD_INPUT);
        assertThat(submit.err()).contains(missing);
        CliTest.Result submitPicocli = CliTest.run("submit", "--json=false", missing, "--socket", socket);
        assertThat(submitPicocli.err()).isEqualTo(submit.err());
        assertThat(submitPicocli.status()).isEqualTo(submit.status());
    }
}
