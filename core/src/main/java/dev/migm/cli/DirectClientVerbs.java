package dev.migm.cli;

import dev.migm.io.InvalidInputException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The client verbs people call most ({@code queue}, {@code show ID}, {@code submit FILE}) run
 * without picocli when their arguments are the plain ones: picocli builds its model of a verb by
 * reading annotations reflectively, about 150 ms of a 300 ms call on this machine even with the
 * package's AOT cache, and its classes (Java 5 class files) cannot be stored in that cache
 * (BENCHMARKS.md section 24). The verb's own command object does the work, so what it prints, its
 * exit statuses and its errors are picocli's path to the byte.
 *
 * <p>Contract: {@link #run} accepts only the options each verb declares ({@code --json},
 * {@code --all} for queue, {@code --home}, {@code --socket}, each with its value as the next
 * argument or after {@code =}) and exactly the positional arguments it declares; for anything else
 * (help, {@code --}, a clustered or unknown option, a missing or extra argument, a repeated option)
 * it answers empty and the caller runs picocli, which owns every message about usage.
 * {@code DirectClientVerbsTest} holds the two parsers equal.
 */
final class DirectClientVerbs {
    private DirectClientVerbs() {
    }

    /** The verb's exit status, or empty when picocli should run it. */
    static Optional<Integer> run(String[] args, PrintWriter out, PrintWriter err) {
        Optional<ServiceCommands.Client> verb = parse(args);
        if (verb.isEmpty()) return Optional.empty();
        ServiceCommands.Client client = verb.get();
        client.directOut = out;
        client.directErr = err;
        int rc;
        try {
            rc = client.call();
        } catch (InvalidInputException e) {
            err.println("migm: " + Main.oneLine(e.getMessage()));
            rc = Main.BAD_INPUT;
        } catch (RuntimeException | Error e) {
            rc = Main.internalError(e, args, err);
        }
        out.flush();
        err.flush();
        return Optional.of(rc);
    }

    /** The verb with its fields set as picocli would set them, or empty when the arguments are not plain. */
    static Optional<ServiceCommands.Client> parse(String[] args) {
        if (args.length == 0) return Optional.empty();
        ServiceCommands.Client client;
        int positionals;
        switch (args[0]) {
            case "queue" -> {
                client = new ServiceCommands.Queue();
                positionals = 0;
            }
            case "show" -> {
                client = new ServiceCommands.Show();
                positionals = 1;
            }
            case "submit" -> {
                client = new ServiceCommands.Submit();
                positionals = 1;
            }
            default -> {
                return Optional.empty();
            }
        }
        String positional = null;
        boolean json = false;
        boolean all = false;
        String home = null;
        String socket = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) {
                if (positional != null || positionals == 0) return Optional.empty();
                positional = a;
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "--json" -> {
                    if (json || value != null) return Optional.empty();
                    json = true;
                }
                case "--all" -> {
                    if (all || value != null || !(client instanceof ServiceCommands.Queue)) return Optional.empty();
                    all = true;
                }
                case "--home", "--socket" -> {
                    if (value == null) {
                        if (i + 1 >= args.length || args[i + 1].startsWith("-")) return Optional.empty();
                        value = args[++i];
                    }
                    if (value.isEmpty()) return Optional.empty();
                    if (name.equals("--home")) {
                        if (home != null) return Optional.empty();
                        home = value;
                    } else {
                        if (socket != null) return Optional.empty();
                        socket = value;
                    }
                }
                default -> {
                    return Optional.empty();
                }
            }
        }
        if (positionals == 1 && positional == null) return Optional.empty();
        client.json = json;
        if (home != null) client.where.home = Path.of(home);
        if (socket != null) client.where.socket = Path.of(socket);
        switch (client) {
            case ServiceCommands.Queue q -> q.all = all;
            case ServiceCommands.Show s -> s.id = positional;
            case ServiceCommands.Submit s -> s.file = Path.of(positional);
            default -> throw new IllegalStateException("no direct parse for " + client.getClass());
        }
        return Optional.of(client);
    }
}
