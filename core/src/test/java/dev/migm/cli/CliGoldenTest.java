package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.core.type.TypeReference;

/**
 * Golden files pin every verb's {@code --json} document (the inputs are the repository's
 * {@code examples/}). A deliberate change of shape or value is regenerated with
 * {@code ./test -Dtest=CliGoldenTest -Dmigm.golden.update=true} and explained in the commit; a new
 * key may be added within v1, none renamed or removed (docs/json.md).
 */
final class CliGoldenTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden/cli");
    private static final String EX = "../examples/";

    static List<Object[]> verbs() {
        return List.of(
                new Object[] {"gpus", new String[] {"gpus", "--json"}},
                new Object[] {"profiles", new String[] {"profiles", "A100-40GB", "--json"}},
                new Object[] {"layouts", new String[] {"layouts", "A30", "--json"}},
                new Object[] {"plan", new String[] {"plan", "A100-40GB", "--layout", "1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4*",
                        "--want", "4g.20gb", "--json"}},
                new Object[] {"plan-impossible", new String[] {"plan", "A100-40GB", "--layout",
                        "1g.5gb@0,2g.10gb@2*,3g.20gb@4", "--want", "4g.20gb", "--json"}},
                new Object[] {"import-smi", new String[] {"import-smi", "--lgip", EX + "a100-lgip.txt", "--lgipp",
                        EX + "a100-lgipp.txt", "--lgi", EX + "a100-lgi.txt", "--json"}},
                new Object[] {"import-smi-b200", new String[] {"import-smi", "--lgip", EX + "b200-lgip-partial.txt",
                        "--json"}},
                new Object[] {"import-smi-unknown", new String[] {"import-smi", "--lgip",
                        EX + "rtx-pro-6000-lgip-partial.txt", "--name", "RTX-PRO-6000", "--json"}},
                new Object[] {"export", new String[] {"export", "--gpu", "A100-40GB", "--layout", "3g.20gb@0,3g.20gb@4",
                        "--layout", "7g.40gb@0", "--json"}},
                new Object[] {"import-mig-parted", new String[] {"import-mig-parted", EX + "mig-parted.yaml", "--gpu",
                        "A100-40GB", "--gpus", "2", "--json"}},
                new Object[] {"simulate", new String[] {"simulate", EX + "trace-small.csv", "--policies",
                        "serial,static:7x1g,migm", "--json", "--quiet"}});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verbs")
    void everyVerbsJson_matchesItsGoldenFile(String name, String[] args) throws IOException {
        CliTest.Result r = CliTest.run(args);
        assertThat(r.status()).as(r.err()).isIn(Main.OK, Main.FOUND_A_PROBLEM);
        Map<String, Object> doc = Json.MAPPER.readValue(r.out(), new TypeReference<>() { });
        assertThat(doc.keySet().iterator().next()).isEqualTo("schema");
        assertThat((String) doc.get("schema")).matches("migm\\.[a-z-]+/v1");
        assertSnakeCase(doc, name);
        Path golden = GOLDEN.resolve(name + ".json");
        if (Boolean.getBoolean("migm.golden.update")) {
            Files.createDirectories(GOLDEN);
            Files.writeString(golden, r.out());
            return;
        }
        assertThat(r.out()).as("differs from " + golden).isEqualTo(Files.readString(golden));
    }

    @SuppressWarnings("unchecked")
    private static void assertSnakeCase(Object node, String where) {
        if (node instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                String key = (String) e.getKey();
                if (!where.endsWith(".mig_devices")) {
                    assertThat(key).as(where).matches("[a-z][a-z0-9_]*");
                }
                assertSnakeCase(e.getValue(), where + "." + key);
            }
        } else if (node instanceof List<?> l) {
            for (Object o : l) assertSnakeCase(o, where + "[]");
        }
    }

    @Test
    void generateTraceJson_describesWhatItWrote(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("t.csv");
        CliTest.Result r = CliTest.run("generate-trace", "--jobs", "50", "--gpus", "2", "--load", "1.5", "--seed", "7",
                "-o", out.toString(), "--json");
        assertThat(r.status()).isZero();
        Map<String, Object> doc = Json.MAPPER.readValue(r.out(), new TypeReference<>() { });
        assertThat(doc).containsEntry("schema", "migm.generate-trace/v1").containsEntry("output", out.toString())
                .containsEntry("jobs", 50).containsEntry("seed", 7);
        assertThat(Files.readAllLines(out)).hasSize(52);
    }

    @Test
    void noOutputAnywhere_containsNaNOrInfinity(@TempDir Path dir) throws IOException {
        // Every verb in every format, including runs with undefined figures: a policy that cannot
        // finish (static:7x1g holds no 26000 MiB job) has no ratios, a run with nothing to wait has
        // no p95 wait.
        List<String[]> calls = new ArrayList<>();
        for (Object[] v : verbs()) {
            String[] args = (String[]) v[1];
            calls.add(args);
            calls.add(java.util.Arrays.stream(args).filter(a -> !a.equals("--json")).toArray(String[]::new));
        }
        calls.add(new String[] {"simulate", EX + "trace-small.csv", "--policies", "static:7x1g,migm", "--csv", "--quiet",
                "--per-job", dir.resolve("jobs.csv").toString()});
        calls.add(new String[] {"simulate", EX + "trace-small.csv", "--policies", "static:7x1g,migm", "--wide", "--quiet"});
        for (String[] args : calls) {
            CliTest.Result r = CliTest.run(args);
            assertThat(r.out() + r.err()).as(String.join(" ", args)).doesNotContain("NaN").doesNotContain("Infinity");
        }
        assertThat(Files.readString(dir.resolve("jobs.csv"))).doesNotContain("NaN");
    }
}
