package dev.migm.arch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The architecture's rules, read from the main sources: which package uses which (imports and
 * fully qualified names), that no cycle exists, and that the simulated world's truth (package
 * {@code workload}) reaches nothing that decides. The engine, the policies and the planner must be
 * able to run live, where no workload model exists.
 */
final class PackageRulesTest {
    private static final Path MAIN = Path.of("src/main/java/dev/migm");
    private static final Pattern USE = Pattern.compile("\\bdev\\.migm\\.([a-z]+)\\.");
    /** package -> packages it uses */
    private static final Map<String, Set<String>> USES = new TreeMap<>();
    /** file (relative to MAIN) -> packages it uses */
    private static final Map<String, Set<String>> FILE_USES = new TreeMap<>();

    @BeforeAll
    static void read() throws IOException {
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String rel = MAIN.relativize(f).toString();
                String pkg = rel.contains("/") ? rel.substring(0, rel.indexOf('/')) : "";
                Set<String> used = new TreeSet<>();
                Matcher m = USE.matcher(stripComments(Files.readString(f)));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) used.add(m.group(1));
                }
                USES.computeIfAbsent(pkg, k -> new TreeSet<>()).addAll(used);
                FILE_USES.put(rel, used);
            }
        }
    }

    private static String stripComments(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
    }

    @Test
    void packages_formNoCycle() {
        List<String> cycle = findCycle();
        assertThat(cycle).as("package cycle " + cycle + " in " + USES).isEmpty();
        assertThat(USES).containsKeys("engine", "schedule", "estimate", "sim", "workload", "exec", "backend");
    }

    @Test
    void theDecidingPackages_neverSeeTheWorkloadModelOrTheSimulatedWorld() {
        for (String pkg : List.of("engine", "schedule", "partition", "gpu")) {
            assertThat(USES.getOrDefault(pkg, Set.of())).as(pkg)
                    .doesNotContain("workload", "sim", "backend", "exec", "cli", "virtual");
        }
    }

    /** The engine's rooms: no file above about 600 lines, and no two files that use each other, even by a detour. */
    @Test
    void theEngine_isRoomsOfAtMost600LinesWithNoCircleOfFiles() throws IOException {
        Path engine = MAIN.resolve("engine");
        Map<String, String> sources = new TreeMap<>();
        try (Stream<Path> files = Files.list(engine)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = f.getFileName().toString().replace(".java", "");
                List<String> lines = Files.readAllLines(f);
                assertThat(lines.size()).as(f + " lines").isLessThanOrEqualTo(600);
                if (!name.equals("package-info")) sources.put(name, stripComments(String.join("\n", lines)));
            }
        }
        Map<String, Set<String>> uses = new TreeMap<>();
        sources.forEach((name, source) -> {
            Set<String> used = new TreeSet<>();
            for (String other : sources.keySet()) {
                if (!other.equals(name) && Pattern.compile("\\b" + other + "\\b").matcher(source).find()) used.add(other);
            }
            uses.put(name, used);
        });
        Map<String, Integer> state = new HashMap<>();
        for (String f : uses.keySet()) {
            List<String> path = new ArrayList<>();
            assertThat(dfs(f, state, path, uses)).as("engine files in a circle: " + path).isFalse();
        }
        assertThat(uses.get("SchedulingRound")).as("what the model sees of the uses").contains("EngineMoves", "NodeGpus");
    }

    @Test
    void onlyTheOracleEstimators_readTheTruthAmongTheEstimators() {
        FILE_USES.forEach((file, used) -> {
            if (file.startsWith("estimate/") && used.contains("workload")) {
                assertThat(file).as("estimator using the workload model").matches("estimate/Oracle[A-Za-z]+\\.java");
            }
        });
    }

    @Test
    void executorsAndBackends_meetOnlyThroughTheEngineSeams() {
        assertThat(USES.getOrDefault("exec", Set.of())).doesNotContain("backend", "sim");
        assertThat(USES.getOrDefault("backend", Set.of())).doesNotContain("exec", "sim");
    }

    private static List<String> findCycle() {
        Map<String, Integer> state = new HashMap<>();
        for (String p : USES.keySet()) {
            List<String> path = new ArrayList<>();
            if (dfs(p, state, path, USES)) return path;
        }
        return List.of();
    }

    private static boolean dfs(String p, Map<String, Integer> state, List<String> path, Map<String, Set<String>> uses) {
        int s = state.getOrDefault(p, 0);
        if (s == 2) return false;
        path.add(p);
        if (s == 1) return true;
        state.put(p, 1);
        for (String q : uses.getOrDefault(p, Set.of())) {
            if (dfs(q, state, path, uses)) return true;
        }
        state.put(p, 2);
        path.removeLast();
        return false;
    }

    static {
        if (!Files.isDirectory(MAIN)) {
            throw new UncheckedIOException(new IOException("run from the core module: " + MAIN.toAbsolutePath()));
        }
    }
}
