package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.workload.TraceJob;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlibabaTraceTest {
    private static final String HEADER = String.join(",", AlibabaTrace.COLUMNS) + "\n";
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    private static AlibabaTrace.Conversion convert(String rows, AlibabaTrace.Options options) {
        return AlibabaTrace.convert(HEADER + rows, "pods.csv", options);
    }

    @Test
    void eachAssumptionAsDocumented() {
        // Rows of openb_pod_list_default.csv (0001, 0005, 0017, 0061, 0125, 0039, 0022); 0039's and
        // 0022's deletion times set to 10200000 to end this file (as 12902960 ends the trace,
        // stamped on every pod still running then) and 0001's to 10002960 (so it ended).
        String rows = """
                openb-pod-0001,6000,12288,1,460,,LS,Running,427061,10002960,427061
                openb-pod-0005,20000,65536,0,0,,LS,Running,2759674,10002960,2759676
                openb-pod-0017,88000,327680,8,1000,,Burstable,Succeeded,9437497,10769854,9437497
                openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403,
                openb-pod-0125,6000,6144,1,460,,LS,Running,10033713,10034312,10033713
                openb-pod-0039,4000,15258,1,50,,BE,Running,9973948,10200000,9973949
                openb-pod-0022,4000,15258,1,220,,BE,Running,9679175,10200000,9679175
                """.replace("10769854", "10100000");
        AlibabaTrace.Conversion c = convert(rows, AlibabaTrace.Options.defaults(A100));
        // 0005: cpu only; 0061: never scheduled; 0017: 8 GPUs; 0039 and 0022: running at the end
        // (censored). Left: 0001 and 0125.
        assertThat(c.pods()).isEqualTo(7);
        assertThat(c.skipped()).containsEntry("cpu only", 1).containsEntry("never scheduled", 1)
                .containsEntry("several GPUs", 1).containsEntry("running at the trace's end", 2);
        assertThat(c.jobs()).extracting(TraceJob::id).containsExactly("openb-pod-0001", "openb-pod-0125");
        TraceJob first = c.jobs().get(0);
        // 460 milli of the A100-40GB's largest instance (7g.40gb, 40192 MiB): ceil(0.46 * 40192) = 18489.
        assertThat(A100.largestProfile().memoryMib()).isEqualTo(40192);
        assertThat(first.spec().declaredMib()).hasValue(18489);
        // Run time: 10002960 - 427061 = 9575899 s, cut to 24 h; sat = the share asked for.
        assertThat(first.model().durationS()).isEqualTo(86_400);
        assertThat(c.cutToMaxDuration()).isEqualTo(1);
        assertThat(first.model().sat()).isEqualTo(0.46);
        assertThat(first.model().c()).isEqualTo(0.9);
        assertThat(first.model().memPeakMib()).isBetween(Math.round(0.7 * 18489), 18489L)
                .isEqualTo(first.model().memBaseMib());
        assertThat(first.spec().submitS()).isZero();
        assertThat(first.spec().app()).isEqualTo("alibaba:LS:460:6000:12288");
        TraceJob second = c.jobs().get(1);
        // 10034312 - 10033713 = 599 s; arrives 10033713 - 427061 = 9606652 s after the first.
        assertThat(second.model().durationS()).isEqualTo(599);
        assertThat(second.spec().submitS()).isEqualTo(9_606_652);
        // Another host memory request, another app; the same input converts to the same jobs.
        assertThat(second.spec().app()).isEqualTo("alibaba:LS:460:6000:6144");
        assertThat(convert(rows, AlibabaTrace.Options.defaults(A100)).jobs()).isEqualTo(c.jobs());
    }

    @Test
    void optionsChangeWhatTheyName() {
        String rows = """
                a,1000,1000,2,1000,,LS,Succeeded,100,400,100
                b,1000,1000,1,250,,BE,Succeeded,300,300,300
                c,1000,1000,1,1000,,LS,Running,500,900,700
                d,1000,1000,1,1000,,LS,Running,600,900,600
                """;
        var d = AlibabaTrace.Options.defaults(A100);
        var split = new AlibabaTrace.Options(A100, 100, true, AlibabaTrace.MultiGpu.SPLIT, 1.0, 1.0, 0.5, 0.3, 200, 10,
                false);
        AlibabaTrace.Conversion c = convert(rows, split);
        // a is created before --since 200; b runs 0 s (1 s kept); c runs 200 s, cut to 100, and it
        // and d are kept although their shared deletion time ends the file; arrivals (c - b) / 10
        // = 20 s, (d - b) / 10 = 30 s.
        assertThat(c.skipped()).containsEntry("created before --since", 1);
        assertThat(c.jobs()).extracting(TraceJob::id).containsExactly("b", "c", "d");
        assertThat(c.jobs()).extracting(j -> j.model().durationS()).containsExactly(1.0, 100.0, 100.0);
        assertThat(c.jobs()).extracting(j -> j.spec().submitS()).containsExactly(0.0, 20.0, 30.0);
        assertThat(c.jobs().get(0).model().memPeakMib()).isEqualTo(10048); // 0.25 * 40192, peak share 1
        assertThat(c.jobs().get(1).model().activity()).isEqualTo(0.3);
        // Split: one whole-GPU job per GPU asked for.
        var splitAll = new AlibabaTrace.Options(A100, 100, true, AlibabaTrace.MultiGpu.SPLIT, 1.0, 1.0, 0.5, 0.3, 0, 1,
                true);
        assertThat(convert(rows, splitAll).jobs()).extracting(TraceJob::id).containsExactly("a-0", "a-1", "b", "c", "d");
        assertThat(convert(rows, splitAll).jobs()).allMatch(j -> j.spec().submitS() == 0);
        assertThat(convert(rows, d).skipped()).containsEntry("several GPUs", 1).containsEntry("running at the trace's end", 2);
        // A lone last deletion time is a pod that ended, not the trace's end.
        assertThat(convert("x,1,1,1,500,,LS,Running,1,9,1\ny,1,1,1,500,,LS,Running,1,5,1\n", d).jobs()).hasSize(2);
    }

    @Test
    void writtenTraceReadsBackAsTheSameJobs() {
        List<TraceJob> jobs = Suites.load("alibaba");
        StringWriter out = new StringWriter();
        TraceWriter w = new TraceWriter(out);
        w.header();
        w.comment("round trip");
        jobs.forEach(w::job);
        List<TraceJob> back = TraceReader.parse(out.toString(), "back.csv");
        assertThat(back).isEqualTo(jobs);
    }

    @Test
    void theBundledSliceIsMostlyWholeGpuWork() {
        List<TraceJob> jobs = Suites.load("alibaba");
        // Counted from the bundled file with awk: 452 pods; before 9,900,000 s 26; of the rest 31 CPU
        // only, 27 never scheduled, 4 with several GPUs: 364 jobs.
        assertThat(jobs).hasSize(364);
        long whole = jobs.stream().filter(j -> j.model().sat() == 1.0).count();
        assertThat(whole).isEqualTo(236);
        assertThat(jobs.stream().mapToDouble(j -> j.spec().submitS()).max().orElseThrow()).isLessThan(3.2 * 86400);
    }

    @Test
    void badInputNamesFileLineAndColumn() {
        var d = AlibabaTrace.Options.defaults(A100);
        assertThatThrownBy(() -> AlibabaTrace.convert("id,submit_s\n", "p.csv", d)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("p.csv:1: expected the header name,cpu_milli,");
        assertThatThrownBy(() -> convert("a,1,1,1,x,,LS,Running,1,2,1\n", d)).isInstanceOf(InvalidInputException.class)
                .hasMessage("pods.csv:2: column gpu_milli: expected a whole number in [0, 1000], got 'x'");
        assertThatThrownBy(() -> convert("a,1,1,1,1500,,LS,Running,1,2,1\n", d))
                .hasMessage("pods.csv:2: column gpu_milli: expected a whole number in [0, 1000], got '1500'");
        assertThatThrownBy(() -> convert("a,1,1,1,500,,LS,Running,5,2,1\n", d))
                .hasMessage("pods.csv:2: column deletion_time: expected at least creation_time 5, got 2");
        assertThatThrownBy(() -> convert("a,1,1,1,500,,LS,Running,1,9,12\n", d))
                .hasMessage("pods.csv:2: column scheduled_time: expected between creation_time and deletion_time, got 12");
        assertThatThrownBy(() -> convert("a,1,1\n", d)).hasMessage("pods.csv:2: expected 11 columns, got 3");
        assertThatThrownBy(() -> new AlibabaTrace.Options(A100, 100, false, AlibabaTrace.MultiGpu.SKIP, 0.9, 0.5, 0.5,
                0.5, 0, 1, false)).hasMessageStartingWith("--peak-share must be LOW..HIGH");
    }
}
