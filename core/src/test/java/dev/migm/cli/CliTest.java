package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.Layouts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;

final class CliTest {
    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(rc, out.toString(), err.toString());
    }

    @Test
    void layoutsMaximalJson_isAnArrayOfLayoutsOfProfileStartSize() {
        Result r = run("layouts", "A100-40GB", "--maximal", "--json");
        assertThat(r.status()).isZero();
        Map<String, Object> doc = Json.MAPPER.readValue(r.out(), new TypeReference<>() { });
        assertThat(doc.get("schema")).isEqualTo("migm.layouts/v1");
        @SuppressWarnings("unchecked")
        List<List<Map<String, Object>>> layouts = (List<List<Map<String, Object>>>) doc.get("layouts");
        assertThat(doc.get("count")).isEqualTo(layouts.size());
        assertThat(layouts).hasSize(Layouts.maximal(Catalog.builtin().get("A100-40GB"), false).size());
        assertThat(layouts).contains(List.of(Map.of("profile", "7g.40gb", "start", 0, "size", 8)));
        assertThat(layouts).contains(List.of(Map.of("profile", "4g.20gb", "start", 0, "size", 4),
                Map.of("profile", "3g.20gb", "start", 4, "size", 4)));
    }

    @Test
    void plan_printsTheFusionAndExitsZero_orImpossibleWithOne() {
        Result ok = run("plan", "A100-40GB", "--layout", "1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4*", "--want", "4g.20gb", "--json");
        assertThat(ok.status()).isZero();
        assertThat(ok.out()).contains("\"kind\" : \"fusion\"").contains("\"op\" : \"create\"");
        Result no = run("plan", "A100-40GB", "--layout", "1g.5gb@0,2g.10gb@2*,3g.20gb@4", "--want", "4g.20gb");
        assertThat(no.status()).isEqualTo(1);
        assertThat(no.out()).startsWith("impossible:");
    }

    @Test
    void badInput_isOneLineOnStderrAndStatusTwo() {
        for (String[] args : List.of(
                new String[] {"profiles", "V100"},
                new String[] {"plan", "A100-40GB", "--layout", "3g.20gb@1", "--want", "1g.5gb"},
                new String[] {"plan", "A100-40GB", "--layout", "3g.20gb@0,3g.20gb@2", "--want", "1g.5gb"},
                new String[] {"plan", "A100-40GB", "--layout", "", "--want", "9g.99gb"},
                new String[] {"layouts", "A100-40GB", "--bogus"},
                new String[] {"import-smi", "--lgip", "/nonexistent/file.txt"})) {
            Result r = run(args);
            assertThat(r.status()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).startsWith("migm: ");
        }
    }

    @Test
    void simulateJson_hasTheIssuesKeysAndRatiosToTheFirstPolicy() {
        Result r = run("simulate", "--suite", "scientific", "--policies", "serial,migm", "--estimate",
                "oracle", "--json", "--quiet");
        assertThat(r.status()).isZero();
        Map<String, Object> doc = Json.MAPPER.readValue(r.out(), new TypeReference<>() { });
        assertThat(doc.get("schema")).isEqualTo("migm.simulate/v1");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) doc.get("runs");
        assertThat(rows).hasSize(2);
        assertThat(rows.getFirst().keySet()).contains("jobs", "completed", "makespan_s", "throughput_jobs_per_h",
                "energy_j", "mean_jct_s", "p95_wait_s", "reconfigurations", "restarts", "busy_slice_share",
                "lower_bound_s", "oom_kills", "early_restarts", "false_early_restarts", "wasted_gpu_s",
                "first_fit_rate", "overprovision", "speedup", "energy_ratio");
        assertThat(((Number) rows.getFirst().get("speedup")).doubleValue()).isEqualTo(1.0);
        assertThat(((Number) rows.get(1).get("speedup")).doubleValue()).isGreaterThan(5.0);
    }

    @Test
    void simulateExplainMakespan_splitsEachMakespanIntoEightPartsThatAddUp() {
        Result json = run("simulate", "--suite", "scientific", "--policies", "serial,migm", "--explain-makespan", "--json",
                "--quiet");
        assertThat(json.status()).as(json.err()).isZero();
        Map<String, Object> doc = Json.MAPPER.readValue(json.out(), new TypeReference<>() { });
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> runs = (List<Map<String, Object>>) doc.get("runs");
        assertThat(runs).hasSize(2);
        for (Map<String, Object> run : runs) {
            @SuppressWarnings("unchecked")
            Map<String, Number> parts = (Map<String, Number>) run.get("explanation");
            assertThat(parts.keySet()).containsExactly("ideal_s", "profile_excess_s", "startup_s", "failed_attempts_s",
                    "reconfiguration_s", "drain_s", "idle_waiting_s", "idle_no_work_s");
            // Each part is rounded to 0.1 s: eight of them sum to the makespan (itself whole seconds) within 1 s.
            double sum = parts.values().stream().mapToDouble(Number::doubleValue).sum();
            assertThat(sum).isCloseTo(((Number) run.get("makespan_s")).doubleValue(), org.assertj.core.api.Assertions.within(1.0));
            @SuppressWarnings("unchecked")
            Map<String, Object> excess = (Map<String, Object>) run.get("excess");
            @SuppressWarnings("unchecked")
            Map<String, Number> byReason = (Map<String, Number>) excess.get("by_reason");
            assertThat(byReason.keySet()).containsExactly("memory_slices", "estimate", "placement", "whole_gpu", "mig_sms");
            assertThat((List<?>) excess.get("largest")).hasSizeLessThanOrEqualTo(5);
        }
        Result table = run("simulate", "--suite", "scientific", "--policies", "serial,migm", "--explain-makespan", "--quiet");
        assertThat(table.out()).contains("makespan decomposed").containsPattern(
                "trace +policy +makespan_s +lp_bound_s +over_lp +ideal +excess +startup +failed +reconfig +drain +idle_wait +idle_none\n")
                .containsPattern("\nscientific +serial +14382 ").containsPattern("\nscientific +migm +[0-9]+ ")
                .containsPattern("\nscientific +migm +memory_slices [0-9]+ estimate [0-9]+ placement [0-9]+ whole_gpu [0-9]+ mig_sms [0-9]+\n");
    }

    @Test
    void simulate_badTraceRowIsNamedWithFileLineAndColumn(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t.csv");
        Files.writeString(f, "# migm-trace v1\n" + String.join(",", dev.migm.sim.TraceReader.REQUIRED) + "\n"
                + "a,0,bfs,scientific,10,0.1,0.1,100,100,0.3,0,\n"
                + "b,0,bfs,scientific,ten,0.1,0.1,100,100,0.3,0,\n");
        Result r = run("simulate", f.toString(), "--quiet");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("migm: " + f + ":4: column duration_s: expected a number, got 'ten'");
        assertThat(run("simulate", "--suite", "mixed", "--policies", "static:3g.20gb@0+3g.20gb@4", "--quiet").status())
                .isZero();
    }

    @Test
    void importSmi_unparseableFileNamesTheLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lgip.txt");
        Files.writeString(f, "+----+\n| GPU instance profiles: |\nthis is not nvidia-smi\n");
        Result r = run("import-smi", "--lgip", f.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains(f + ":3:");
    }

    @Test
    void exportThenImportMigParted_roundTrips(@TempDir Path dir) throws Exception {
        Result exported = run("export", "--format", "mig-parted", "--gpu", "A100-40GB",
                "--layout", "2g.10gb@0,1g.5gb@2,1g.5gb@3,3g.20gb@4");
        assertThat(exported.status()).isZero();
        Path f = dir.resolve("config.yaml");
        Files.writeString(f, exported.out());
        Result back = run("import-mig-parted", f.toString(), "--gpu", "A100-40GB");
        assertThat(back.status()).isZero();
        // Counts 1x2g, 2x1g, 1x3g; placeCounts keeps the largest free run and the lowest layout text.
        assertThat(back.out()).contains("GPU 0: ").contains("3g.20gb@").contains("2g.10gb@");
        assertThat(run("export", "--format", "csv", "--layout", "-").status()).isEqualTo(2);
    }
}
