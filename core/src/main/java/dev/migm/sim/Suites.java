package dev.migm.sim;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.workload.TraceJob;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The bundled workload traces: five generated from models.md (copies of shared/data/traces), and
 * {@code alibaba}, a window of Alibaba's public GPU cluster trace converted with
 * {@link AlibabaTrace}'s defaults.
 */
public final class Suites {
    public static final List<String> NAMES = List.of("scientific", "ml", "llm", "mixed", "mixed-online", "alibaba");
    /** The bundled slice of cluster-trace-gpu-v2023: the pod list's first 452 rows (see its README). */
    public static final String ALIBABA_PODS = "traces/alibaba-v2023-head.csv";
    /**
     * Where the {@code alibaba} suite's window starts: pods 0000-0025 were created over the 115 days
     * before it (long-lived services, most still running at the trace's end); from here on 426
     * pods arrive within 3.2 days.
     */
    public static final long ALIBABA_SINCE_S = 9_900_000;

    private Suites() {
    }

    public static List<TraceJob> load(String name) {
        if (!NAMES.contains(name)) {
            throw new InvalidInputException("unknown suite " + TextFiles.quote(name) + " (known: " + String.join(", ", NAMES) + ")");
        }
        if (name.equals("alibaba")) {
            AlibabaTrace.Options options = AlibabaTrace.Options.defaults(dev.migm.gpu.Catalog.builtin().get("A100-40GB"))
                    .withSince(ALIBABA_SINCE_S);
            return AlibabaTrace.convert(resource(ALIBABA_PODS), "alibaba-v2023-head.csv", options).jobs();
        }
        return TraceReader.parse(resource("traces/" + name + ".csv"), name + ".csv");
    }

    /** A bundled resource's text. */
    public static String resource(String path) {
        try (InputStream in = Suites.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing bundled resource " + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
