package dev.migm.sim;

import dev.migm.io.InvalidInputException;
import dev.migm.workload.TraceJob;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The bundled workload traces (copies of shared/data/traces, generated from models.md). */
public final class Suites {
    public static final List<String> NAMES = List.of("scientific", "ml", "llm", "mixed", "mixed-online");

    private Suites() {
    }

    public static List<TraceJob> load(String name) {
        if (!NAMES.contains(name)) {
            throw new InvalidInputException("unknown suite '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        }
        String resource = "traces/" + name + ".csv";
        try (InputStream in = Suites.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing bundled trace " + resource);
            return TraceReader.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), name + ".csv");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
