package dev.migm.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.io.InvalidInputException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Job files (v1): what a user writes, read whole or refused whole with file:line:column and field. */
final class BatchFileTest {
    private static final String HEAD = "version: v1\njobs:\n";

    @Test
    void theSiteExamples_giveEachEstimatorWhatItNeeds() {
        List<SubmittedJob> jobs = BatchFile.read(Path.of("../examples/site-jobs.yaml"));
        assertThat(jobs).extracting(SubmittedJob::jobClass).containsExactly(JobClass.SCIENTIFIC, JobClass.ML, JobClass.LLM);
        assertThat(jobs).allSatisfy(j -> assertThat(j.workload()).isEmpty());
        var chain = dev.migm.estimate.EstimatorChain.defaults(new dev.migm.estimate.InMemoryHistory(50));
        var needs = jobs.stream().map(j -> chain.initial(j.toJobSpec())).toList();
        // stencil: 3 * 20000^2 * 8 B = 9155.3 MiB, + 512 MiB = 9667 MiB before the chain's margin.
        assertThat(needs.get(0).mib()).isBetween(9667L, 9667L * 12 / 10);
        assertThat(needs.get(0).source()).doesNotContain("declared");
        // Each hint produced its own estimate (no job fell through to a class default).
        assertThat(needs).allSatisfy(n -> assertThat(n.mib()).isPositive());
        assertThat(needs.get(1).source()).isNotEqualTo(needs.get(2).source());
        var llama = jobs.get(2).toJobSpec();
        assertThat(llama.limits().timeLimitS()).hasValue(8 * 3600);
        assertThat(llama.limits().maxAttempts()).hasValue(4);
        assertThat(jobs.get(2).env()).containsEntry("VLLM_WORKER_MULTIPROC_METHOD", "spawn");
    }

    @Test
    void howOftenAWorkloadSaysItsProgress_isRead_andNeedsProgressToSay() {
        SubmittedJob j = BatchFile.parse(HEAD + "  - {name: a, command: [x], workload: {work: 100s, mem: 1GiB,"
                + " prints: tqdm, progress_every: 2m}}\n", "e.yaml").getFirst();
        assertThat(j.workload().orElseThrow().model().progressEveryS()).isEqualTo(120);
        assertThat(j.workload().orElseThrow().model().reportsProgress()).isTrue();
        assertThat(dev.migm.exec.Launches.of(j, List.of("migm", "workload"), null).argv())
                .containsSubsequence("--print-progress", "tqdm", "--progress-every", "120.0s");
        assertThatThrownBy(() -> BatchFile.parse(HEAD + "  - {name: a, command: [x], workload: {work: 100s, mem: 1GiB,"
                + " progress_every: 2m}}\n", "e.yaml"))
                .hasMessageMatching("e\\.yaml:\\d+:\\d+: jobs\\[0\\]\\.workload\\.progress_every: the workload says no progress .*");
        assertThatThrownBy(() -> BatchFile.parse(HEAD + "  - {name: a, command: [x], workload: {work: 100s, mem: 1GiB,"
                + " progress: true, progress_every: often}}\n", "e.yaml"))
                .hasMessageContaining("progress_every: expected a duration like 600s");
    }

    @Test
    void anExactMemory_isGivenAsDeclared_withoutTheMarginOrHistory() {
        // Slurm's gpumem is an allocation: a 9856 MiB request must fit a 10gb instance (9856 MiB),
        // which the chain's 5% margin (10349 MiB) would push to a 20gb one.
        var chain = dev.migm.estimate.EstimatorChain.defaults(new dev.migm.estimate.InMemoryHistory(50));
        SubmittedJob exact = BatchFile.parse(HEAD + "  - {name: a, memory: 9856MiB, memory_exact: true, command: [x]}\n",
                "e.yaml").getFirst();
        assertThat(chain.initial(exact.toJobSpec()).mib()).isEqualTo(9856);
        assertThat(chain.initial(exact.toJobSpec()).source()).isEqualTo("declared, exact");
        SubmittedJob hint = BatchFile.parse(HEAD + "  - {name: a, memory: 9856MiB, command: [x]}\n", "e.yaml").getFirst();
        assertThat(chain.initial(hint.toJobSpec()).mib()).isEqualTo(10349);
        assertThatThrownBy(() -> BatchFile.parse(HEAD + "  - name: a\n    memory_exact: true\n    command: [x]\n", "e.yaml"))
                .hasMessageStartingWith("e.yaml:4:19: jobs[0].memory_exact: needs memory");
        assertThatThrownBy(() -> BatchFile.parse(HEAD + "  - {name: a, memory: 1GiB, memory_exact: maybe, command: [x]}\n",
                "e.yaml")).hasMessageContaining("memory_exact: expected true or false");
    }

    @Test
    void theDemoBatch_readsEveryJobAsWritten() {
        List<SubmittedJob> jobs = BatchFile.read(Path.of("../examples/batch-demo.yaml"));
        assertThat(jobs).hasSize(9).extracting(SubmittedJob::name).startsWith("stencil-1", "bfs-1");
        SubmittedJob stencil = jobs.getFirst();
        assertThat(stencil.argv()).containsExactly("./stencil", "--n", "20000");
        assertThat(stencil.app()).isEqualTo("stencil");
        assertThat(stencil.jobClass()).isEqualTo(JobClass.SCIENTIFIC);
        assertThat(stencil.params()).containsEntry("mem_expr", "3 * n * n * 8 + 512MiB").containsEntry("n", "12000");
        assertThat(stencil.maxAttempts()).hasValue(6);
        SubmittedJob bfs = jobs.get(1);
        assertThat(bfs.argv()).containsExactly("/bin/sh", "-c", "./bfs graph-1M.txt");
        assertThat(bfs.app()).isEqualTo("bfs");
        assertThat(bfs.declaredMib()).hasValue(1536);
        SubmittedJob bert = jobs.get(3);
        assertThat(bert.checkpoints()).isTrue();
        assertThat(bert.params()).containsEntry("params_m", "110").containsEntry("optimizer", "adam");
        SubmittedJob gemma = jobs.get(7);
        assertThat(gemma.expectedS()).hasValue(180);
        assertThat(gemma.workload().orElseThrow().prints()).hasValue("tqdm");
        assertThat(gemma.workload().orElseThrow().model().reportsProgress()).isTrue();
        assertThat(gemma.progress()).isEqualTo("auto");
        // Unnamed, each job is its script and model, not the interpreter that runs it.
        assertThat(gemma.app()).isEqualTo("serve.py --model gemma-2b");
        assertThat(jobs.getLast().submitS()).isEqualTo(30);
        // The engine sees the declaration only; the estimators read its parameters: the stencil's
        // expression 3 * 12000^2 * 8 B + 512 MiB = 3,992,870,912 B = 3808 MiB (ceil), + 500 MiB of CUDA
        // context = 4308 MiB; with the 5% margin the need is ceil(4308 * 1.05) = 4524 MiB.
        JobSpec spec = stencil.toJobSpec();
        assertThat(EstimatorChain.defaults(new InMemoryHistory(50)).initial(spec).mib()).isEqualTo(4524);
        assertThat(BatchFile.traceJobs(jobs, "demo")).hasSize(9);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown field | '  - name: a\n    command: [x]\n    memmory: 3GiB\n' | f.yaml:5:5: jobs[0].memmory: unknown field",
        "bad unit | '  - name: a\n    command: [x]\n    memory: 3 GiBs\n' | f.yaml:5:13: jobs[0].memory: unknown unit 'GiBs'",
        "bad class | '  - name: a\n    command: [x]\n    class: gpu\n' | f.yaml:5:12: jobs[0].class: unknown job class 'gpu'",
        "duplicate name | '  - name: a\n    command: [x]\n  - name: a\n    command: [y]\n' | f.yaml:5:11: jobs[1].name: duplicate name 'a'",
        "no command | '  - name: a\n    memory: 1GiB\n' | f.yaml:3:5: jobs[0].command: required",
        "empty command | '  - name: a\n    command: []\n' | f.yaml:4:14: jobs[0].command: expected a non-empty list",
        "shrinking workload | '  - name: a\n    command: [x]\n    workload: {work: 10s, mem: 2GiB, grow_to: 1GiB}\n' | f.yaml:5:47: jobs[0].workload.grow_to: must be at least mem",
        "attempts | '  - name: a\n    command: [x]\n    max_attempts: 0\n' | f.yaml:5:19: jobs[0].max_attempts: expected a whole number in [1, 100]",
        "duration | '  - name: a\n    command: [x]\n    expected: soon\n' | f.yaml:5:15: jobs[0].expected: expected a duration",
        "checkpoint mismatch | '  - name: a\n    command: [x]\n    checkpoint: true\n    workload: {work: 10s, mem: 1GiB}\n' | f.yaml:5:17: jobs[0].checkpoint: the job checkpoints but its workload has no checkpoint_every",
        "bad env name | '  - name: a\n    command: [x]\n    env: {1X: y}\n' | f.yaml:5:11: jobs[0].env: not a variable name",
        "broken yaml | '  - name: a\n    command: [x\n' | f.yaml:4:16: not valid YAML"})
    void aBadField_namesTheFileLineColumnAndField(String what, String jobs, String expected) {
        assertThatThrownBy(() -> BatchFile.parse(HEAD + jobs, "f.yaml")).as(what)
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith(expected)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aBatchWithOneBadJob_isRefusedWhole_andDefaultsApplyToEveryJob() {
        String text = "version: v1\ndefaults: {class: llm, memory: 20GiB}\njobs:\n"
                + "  - name: a\n    command: [x]\n  - name: b\n    command: [y]\n    class: ml\n"
                + "  - name: c\n    command: [z]\n    memory: -1GiB\n";
        assertThatThrownBy(() -> BatchFile.parse(text, "d.yaml")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("d.yaml:11:13: jobs[2].memory:");
        List<SubmittedJob> ok = BatchFile.parse(text.substring(0, text.indexOf("  - name: c")), "d.yaml");
        assertThat(ok).extracting(SubmittedJob::jobClass).containsExactly(JobClass.LLM, JobClass.ML);
        assertThat(ok).allSatisfy(j -> assertThat(j.declaredMib()).hasValue(20480));
        assertThatThrownBy(() -> BatchFile.parse("jobs: []\n", "v.yaml")).hasMessageStartingWith("v.yaml:1:1: version:");
        assertThat(BatchFile.parse("version: v1\njobs:\n  - name: a\n    command: [x]\n", "s.yaml")).hasSize(1);
    }
}
