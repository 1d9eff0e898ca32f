package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.engine.JobClass;
import dev.migm.workload.TraceJob;
import dev.migm.io.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

final class TraceReaderTest {
    private static final String HEADER = "id,submit_s,app,class,duration_s,c,sat,mem_base_mib,mem_peak_mib,activity,checkpoint_s,declared_mib\n";

    @Test
    void parse_readsRowsAndOptionalDeclaredMemory() {
        List<TraceJob> jobs = TraceReader.parse("# migm-trace v1\n" + HEADER
                + "# a comment\n"
                + "a,0.0,bfs,scientific,26.1,0.158,0.058,1616,1616,0.30,0,1644\n"
                + "b,5.5,llama-7b,llm,135.1,0.770,0.778,13946,16261,0.61,49,\n", "t.csv");
        assertThat(jobs).hasSize(2);
        assertThat(jobs.get(0).spec().declaredMib()).hasValue(1644);
        assertThat(jobs.get(1).spec().declaredMib()).isEmpty();
        assertThat(jobs.get(1).spec().jobClass()).isEqualTo(JobClass.LLM);
        assertThat(jobs.get(1).spec().checkpoints()).isTrue();
        assertThat(jobs.get(1).model().checkpointS()).isEqualTo(49);
        assertThat(jobs.get(1).spec().expectedS()).isEmpty();
        assertThat(jobs.get(1).model().reportsProgress()).isFalse();
    }

    @Test
    void everyBundledSuiteParses() {
        for (String s : Suites.NAMES) {
            assertThat(Suites.load(s)).as(s).isNotEmpty();
        }
        assertThat(Suites.load("mixed-online")).hasSize(1000);
    }

    @Test
    void params_roundTripThroughTheWriter_andBadCellsAreNamed() {
        // What a memory expression or a framework estimator reads travels with the job: the replay of
        // a node's jobs estimates them as the node did.
        java.util.Map<String, String> params = new java.util.LinkedHashMap<>();
        params.put("n", "12000");
        params.put("mem_expr", "3 * n * n * 8 + 512MiB");
        params.put("odd", "a,b;c=d%e");
        TraceJob job = new TraceJob(new dev.migm.engine.JobSpec("j", 0, "stencil", JobClass.SCIENTIFIC,
                java.util.OptionalLong.empty(), params, false, java.util.OptionalDouble.empty(),
                dev.migm.engine.JobSpec.Limits.NONE),
                new dev.migm.workload.WorkloadModel(10, 0.5, 0.5, 100, 100, 0.5, 0, false));
        java.io.StringWriter text = new java.io.StringWriter();
        TraceWriter w = new TraceWriter(text);
        w.header();
        w.job(job);
        assertThat(text.toString()).contains(",mem_expr=3 * n * n * 8 + 512MiB;n=12000;odd=a%2Cb%3Bc%3Dd%25e,\n");
        assertThat(TraceReader.parse(text.toString(), "t.csv").getFirst().spec().params()).isEqualTo(params);
        String header = "# migm-trace v1\n" + String.join(",", TraceReader.REQUIRED) + ",params\n";
        assertThatThrownBy(() -> TraceReader.parse(header + "a,0.0,bfs,scientific,1,0.1,0.1,1,1,0.3,0,,n 12\n", "t.csv"))
                .hasMessage("t.csv:3: column params: expected name=value pairs joined by ';', got 'n 12'");
        assertThatThrownBy(() -> TraceReader.parse(header + "a,0.0,bfs,scientific,1,0.1,0.1,1,1,0.3,0,,n=1;n=2\n", "t.csv"))
                .hasMessage("t.csv:3: column params: param n given twice");
        assertThatThrownBy(() -> TraceReader.parse(header + "a,0.0,bfs,scientific,1,0.1,0.1,1,1,0.3,0,,n=5%\n", "t.csv"))
                .hasMessage("t.csv:3: column params: expected %25, %2C, %3B or %3D after '%' in the value of n");
    }

    @Test
    void howOftenAJobSaysItsProgress_isAColumn_writtenAndReadBack() {
        String header = "# migm-trace v1\n" + String.join(",", TraceReader.REQUIRED) + ",reports_progress,progress_every_s\n";
        List<TraceJob> jobs = TraceReader.parse(header
                + "a,0,bfs,ml,100,0.1,0.1,1,1,0.3,0,,1,60\n"
                + "b,0,bfs,ml,100,0.1,0.1,1,1,0.3,0,,1,\n"
                + "c,0,bfs,ml,100,0.1,0.1,1,1,0.3,0,,0,\n", "t.csv");
        assertThat(jobs.get(0).model().progressEveryS()).isEqualTo(60);
        assertThat(jobs.get(1).model().reportsProgress()).isTrue();
        assertThat(jobs.get(1).model().progressEveryS()).isZero();
        assertThat(jobs.get(2).model().reportsProgress()).isFalse();
        java.io.StringWriter text = new java.io.StringWriter();
        TraceWriter w = new TraceWriter(text);
        w.header();
        jobs.forEach(w::job);
        assertThat(TraceReader.parse(text.toString(), "t2.csv")).extracting(TraceJob::model)
                .isEqualTo(jobs.stream().map(TraceJob::model).toList());
        assertThatThrownBy(() -> TraceReader.parse(header + "a,0,bfs,ml,100,0.1,0.1,1,1,0.3,0,,0,60\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessage("t.csv:3: column progress_every_s: must be 0 or"
                        + " empty for a job that does not report its progress (reports_progress 0)");
        assertThatThrownBy(() -> TraceReader.parse(header + "a,0,bfs,ml,100,0.1,0.1,1,1,0.3,0,,1,often\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("t.csv:3: column progress_every_s: expected a number, got 'often'");
        assertThatThrownBy(() -> TraceReader.parse(header + "a,0,bfs,ml,100,0.1,0.1,1,1,0.3,0,,1,-5\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("t.csv:3: column progress_every_s: must be in [0,");
    }

    @Test
    void badInput_namesFileLineAndColumn() {
        assertThatThrownBy(() -> TraceReader.parse("# migm-trace v2\n" + HEADER, "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessage("t.csv:1: unsupported trace version 'v2' (this build reads v1)");
        assertThatThrownBy(() -> TraceReader.parse("id,submit_s\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("t.csv:1: expected '# migm-trace v1'");
        assertThatThrownBy(() -> TraceReader.parse("# migm-trace v1\n" + HEADER
                + "a,0.0,bfs,scientific,lots,0.158,0.058,1616,1616,0.30,0,\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("t.csv:3: column duration_s: expected a number, got 'lots'");
        assertThatThrownBy(() -> TraceReader.parse("# migm-trace v1\n" + HEADER
                + "a,0.0,bfs,quantum,1,0.1,0.1,1,1,0.3,0,\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("t.csv:3: column class: unknown job class 'quantum'");
        assertThatThrownBy(() -> TraceReader.parse("# migm-trace v1\n" + HEADER.replace("activity", "colour"), "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("unknown column 'colour'");
        assertThatThrownBy(() -> TraceReader.parse("# migm-trace v1\n" + HEADER
                + "a,0.0,bfs,ml,1,0.1,0.1,2000,1000,0.3,0,\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("t.csv:3:").hasMessageContaining("mem_peak_mib");
        assertThatThrownBy(() -> TraceReader.parse("# migm-trace v1\n" + HEADER
                + "a,0.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\na,0.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\n", "t.csv"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("t.csv:4: column id: duplicate job id 'a'");
    }

    @Test
    void aSortedFile_isStreamed_andRunsAsTheSameJobsInMemory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // The mixed suite written in submit order: open() streams it, and a run of it is the run of
        // the list, to the last digit (arrival order, bounds, every figure).
        List<TraceJob> jobs = Suites.load("mixed").stream()
                .sorted(java.util.Comparator.comparingDouble(j -> j.spec().submitS())).toList();
        java.nio.file.Path file = dir.resolve("mixed.csv");
        try (var out = java.nio.file.Files.newBufferedWriter(file)) {
            TraceWriter writer = new TraceWriter(out);
            writer.header();
            jobs.forEach(writer::job);
        }
        Workload streamed = TraceReader.open(file);
        assertThat(streamed.size()).isEqualTo(jobs.size());
        try (var arrivals = streamed.arrivals()) {
            assertThat(arrivals.map(TraceJob::id).toList()).isEqualTo(jobs.stream().map(TraceJob::id).toList());
        }
        var gpus = List.of(dev.migm.gpu.Catalog.builtin().get("A100-40GB"));
        var options = Simulator.Options.of(gpus).withPerJob(false);
        SimResult fromFile = Simulator.run("mixed", streamed, dev.migm.schedule.PolicyRegistry.create("migm", gpus), options);
        SimResult fromList = Simulator.run("mixed", jobs, dev.migm.schedule.PolicyRegistry.create("migm", gpus), options);
        assertThat(fromFile).isEqualTo(fromList);
    }

    @Test
    void aStreamedFile_isCheckedWholeFirst(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path dup = dir.resolve("dup.csv");
        java.nio.file.Files.writeString(dup, "# migm-trace v1\n" + HEADER + "a,0.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\n"
                + "b,1.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\na,2.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\n");
        assertThatThrownBy(() -> TraceReader.open(dup)).isInstanceOf(InvalidInputException.class)
                .hasMessage(dup + ":5: column id: duplicate job id 'a' (first on line 3)");
        java.nio.file.Path bad = dir.resolve("bad.csv");
        java.nio.file.Files.writeString(bad, "# migm-trace v1\n" + HEADER + "a,0.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\n"
                + "b,1.0,bfs,ml,x,0.1,0.1,1,1,0.3,0,\n");
        assertThatThrownBy(() -> TraceReader.open(bad)).hasMessage(bad + ":4: column duration_s: expected a number, got 'x'");
        // Out of submit order: read whole and sorted, the same jobs in arrival order.
        java.nio.file.Path unsorted = dir.resolve("unsorted.csv");
        java.nio.file.Files.writeString(unsorted, "# migm-trace v1\n" + HEADER + "late,5.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\n"
                + "early,1.0,bfs,ml,1,0.1,0.1,1,1,0.3,0,\n");
        try (var arrivals = TraceReader.open(unsorted).arrivals()) {
            assertThat(arrivals.map(TraceJob::id).toList()).containsExactly("early", "late");
        }
    }
}
