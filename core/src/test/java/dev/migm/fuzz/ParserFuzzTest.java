package dev.migm.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.migm.estimate.MemoryExpression;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.gpu.MigParted;
import dev.migm.gpu.ProfileName;
import dev.migm.gpu.smi.SmiImport;
import dev.migm.gpu.smi.SmiParser;
import dev.migm.io.InvalidInputException;
import dev.migm.schedule.LayoutSpecs;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.Knobs;
import dev.migm.sim.TraceReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of every parser: real inputs (the examples, the nvidia-smi fixtures, a
 * trace, mig-parted configs, layout and profile strings, memory expressions) are cut, spliced and
 * salted with hostile values, and each parser must either accept the result or refuse it with an
 * {@link InvalidInputException} whose message says where (the file and line, or the field or
 * option), within 10 s. Anything else (another exception, a hang, an error without a place) fails
 * and prints the input that caused it. Coverage-guided fuzzing with Jazzer is the hostile-world
 * issue's; this is the seeded pass the CLI issue asks for.
 */
final class ParserFuzzTest {
    private static final int ROUNDS = Integer.getInteger("migm.fuzz.rounds", 400);
    /** Mixed into every parser's seed; longer runs from a script vary it ({@code -Dmigm.fuzz.seed=N}). */
    private static final long SEED = Long.getLong("migm.fuzz.seed", 0);
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final ExecutorService RUNNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz");
        t.setDaemon(true);
        return t;
    });
    private static final List<String> SALT = List.of("", "-", ",", "@", "*", ":", "#", "\"", "'", "{", "}", "[", "]",
            "-1", "0", "1e308", "-1e308", "NaN", "Infinity", "9".repeat(40), "0x1F", "\u0000", "\t", "\r\n", "\n\n",
            "é", "\uD83D\uDE00", " ", "+me", "7g.40gb", "MIG", "|", "GPU", "version: v2", "mig-configs:", "&a", "*a",
            "!!binary", "1g.5gb@", "@0", "3g.20gb@4*");

    @AfterAll
    static void stop() {
        RUNNER.shutdownNow();
    }

    static String resource(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One mutation of {@code seed}: cut, duplicate, swap lines, truncate or salt, 1-4 times. */
    static String mutate(String seed, SplittableRandom r) {
        StringBuilder s = new StringBuilder(seed);
        int n = 1 + r.nextInt(4);
        for (int k = 0; k < n; k++) {
            int len = s.length();
            int at = len == 0 ? 0 : r.nextInt(len + 1);
            switch (r.nextInt(6)) {
                case 0 -> s.insert(at, SALT.get(r.nextInt(SALT.size())));
                case 1 -> {
                    int end = Math.min(len, at + r.nextInt(20));
                    s.delete(at, end);
                }
                case 2 -> {
                    int end = Math.min(len, at + r.nextInt(40));
                    s.insert(Math.min(s.length(), r.nextInt(s.length() + 1)), s.substring(at, end));
                }
                case 3 -> s.setLength(at);
                case 4 -> {
                    if (at < len) s.setCharAt(at, (char) r.nextInt(0x20, 0x7F));
                }
                default -> {
                    String[] lines = s.toString().split("\n", -1);
                    if (lines.length > 2) {
                        int i = r.nextInt(lines.length);
                        int j = r.nextInt(lines.length);
                        String t = lines[i];
                        lines[i] = lines[j];
                        lines[j] = t;
                        s = new StringBuilder(String.join("\n", lines));
                    }
                }
            }
        }
        return s.toString();
    }

    /**
     * Runs {@code parser} on {@code ROUNDS} mutations of the seeds; a refusal must satisfy
     * {@code placed} (its message says where).
     */
    static void fuzz(String name, List<String> seeds, Consumer<String> parser, Predicate<String> placed) {
        SplittableRandom r = new SplittableRandom(name.hashCode() ^ SEED * 0x9E3779B97F4A7C15L);
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < ROUNDS; i++) {
            String input = mutate(seeds.get(r.nextInt(seeds.size())), r);
            Future<?> f = RUNNER.submit(() -> parser.accept(input));
            try {
                f.get(10, TimeUnit.SECONDS);
                accepted++;
            } catch (TimeoutException e) {
                f.cancel(true);
                fail(name + ": no answer in 10 s for input:\n" + input);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (!(cause instanceof InvalidInputException bad)) {
                    throw new AssertionError(name + ": " + cause + " for input:\n" + input, cause);
                }
                String message = bad.getMessage();
                assertThat(message).as(name + " input:\n" + input).isNotBlank().doesNotContain("\n")
                        .doesNotContain("Exception").doesNotContain("java.");
                assertThat(placed.test(message)).as(name + ": no place in '" + message + "' for input:\n" + input)
                        .isTrue();
                assertThat(message.length()).as(name).isLessThan(600);
                refused++;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
        assertThat(accepted + refused).isEqualTo(ROUNDS);
        assertThat(refused).as(name + " refused nothing: the mutations do not bite").isPositive();
    }

    private static Predicate<String> startsWith(String source) {
        return m -> m.startsWith(source + ":") || m.startsWith(source + " ");
    }

    @Test
    void traces() {
        fuzz("trace", List.of(resource("../examples/trace-small.csv"),
                        resource("src/main/resources/dev/migm/sim/traces/scientific.csv").lines().limit(20)
                                .reduce("", (a, b) -> a + b + "\n")),
                t -> TraceReader.parse(t, "fuzz.csv"), startsWith("fuzz.csv"));
    }

    @Test
    void nvidiaSmiTables() {
        List<String> lgip = List.of(resource("src/test/resources/nvidia-smi/a100-sxm4-40gb_lgip_1.txt"),
                resource("src/test/resources/nvidia-smi/h100-nvl_lgip_1.txt"),
                resource("src/test/resources/nvidia-smi/b200_lgip_pr166.txt"),
                resource("src/test/resources/nvidia-smi/h200_lgip_issue120.txt"));
        fuzz("lgip", lgip, t -> SmiImport.models(SmiParser.parseLgip(t, "lgip.txt"), List.of(), Catalog.builtin(), null),
                m -> m.startsWith("lgip.txt") || m.startsWith("GPU "));
        fuzz("lgipp", List.of(resource("src/test/resources/nvidia-smi/a100-sxm4-40gb_lgipp_1.txt"),
                        resource("src/test/resources/nvidia-smi/h100-nvl_lgipp_1.txt")),
                t -> SmiImport.models(SmiParser.parseLgip(lgip.getFirst(), "lgip.txt"), SmiParser.parseLgipp(t, "lgipp.txt"),
                        Catalog.builtin(), null), m -> m.startsWith("lgipp.txt") || m.startsWith("GPU "));
        GpuModel a100 = A100;
        fuzz("lgi", List.of(resource("src/test/resources/nvidia-smi/a100-sxm4-40gb_lgi_1.txt"),
                        resource("src/test/resources/nvidia-smi/a30_lgi_1.txt")),
                t -> SmiImport.layout(SmiParser.parseLgi(t, "lgi.txt"), 0, a100, "lgi.txt"), startsWith("lgi.txt"));
    }

    @Test
    void jobFiles() {
        fuzz("job-file", List.of(resource("../examples/batch-demo.yaml"), """
                version: v1
                defaults: {class: ml, checkpoint: true, max_attempts: 4}
                jobs:
                  - name: a
                    command: "python train.py --epochs 3"
                    memory: 20GiB
                    env: {OMP_NUM_THREADS: "4"}
                    workload: {work: 10m, mem: 1GiB, grow_to: 2GiB, checkpoint_every: 60s}
                """), t -> dev.migm.spec.BatchFile.parse(t, "jobs.yaml"), startsWith("jobs.yaml"));
    }

    @Test
    void migPartedConfigs() {
        fuzz("mig-parted", List.of(resource("../examples/mig-parted.yaml"), """
                version: v1
                mig-configs:
                  all-balanced:
                    - device-filter: ["0x20B010DE"]
                      devices: all
                      mig-enabled: true
                      mig-devices:
                        "1g.5gb": 2
                        "2g.10gb": 1
                        "3g.20gb": 1
                """), t -> {
                    Map<String, List<MigParted.DeviceEntry>> configs = MigParted.read(t, "c.yaml");
                    for (List<MigParted.DeviceEntry> entries : configs.values()) {
                        for (int gpu = 0; gpu < 2; gpu++) MigParted.layoutFor(entries, gpu, A100, "c.yaml");
                    }
                }, startsWith("c.yaml"));
    }

    @Test
    void layoutsProfilesAndPolicyNames() {
        Predicate<String> saysWhat = m -> m.contains("layout") || m.contains("profile") || m.contains("instance")
                || m.contains("'") || m.contains("GPU");
        fuzz("layout", List.of("1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4*", "7g.40gb@0", "-", "3g.20gb@0,3g.20gb@4"),
                t -> dev.migm.partition.Planner.planFor(dev.migm.partition.GpuState.parse(A100, t),
                        A100.profile("1g.5gb")), saysWhat);
        fuzz("profile", List.of("1g.5gb", "3g.20gb+me", "7g.40gb", "4g.20gb", "1c.3g.20gb"), ProfileName::parse,
                saysWhat);
        fuzz("layout-spec", List.of("balanced", "7x1g", "2x3g", "3g.20gb@0+3g.20gb@4"),
                t -> LayoutSpecs.resolve(A100, t), saysWhat);
        fuzz("policy", List.of("migm", "migm:5", "static:balanced", "s1", "serial"),
                t -> PolicyRegistry.create(t, List.of(A100)), m -> m.contains("polic") || m.contains("layout")
                        || m.contains("'"));
        fuzz("tune", List.of("z=3", "margin=0.1", "min_span=0.05"), t -> Knobs.parse(List.of(t)),
                m -> m.startsWith("--tune"));
    }

    @Test
    void memoryExpressions() {
        fuzz("expression", List.of("3*n*n*8 + 512MiB", "2 * n * n * 4", "(n + 1) * 1GiB", "params_b * 2e9"),
                t -> MemoryExpression.bytes(t, Map.of("n", 20000.0, "params_b", 7.0)),
                m -> m.contains("expression") || m.contains("'"));
    }
}
