package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.Attempt;
import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.JobState;
import dev.migm.engine.JobView;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

final class LiveViewTest {
    private final GpuModel a100 = Catalog.builtin().get("A100-40GB");

    private static JobView view(String id, JobState state, List<Attempt> attempts) {
        return new JobView(new JobSpec(id, 0, "app", JobClass.ML, OptionalLong.empty(), false), state, attempts,
                0, Double.NaN, 0, 0, "", 1024, "declared");
    }

    @Test
    void theViewCountsJobsByState_andNamesWhoRunsOnEachInstance() {
        Layout gpu0 = Layout.parse(a100, "3g.20gb@0,2g.10gb@4,1g.5gb@6");
        Layout gpu1 = Layout.empty(a100);
        var three = gpu0.instances().get(0);
        var two = gpu0.instances().get(1);
        List<JobView> jobs = List.of(
                view("train", JobState.RUNNING, List.of(new Attempt("train", 1, Slot.of(0, three), 0, 0))),
                view("serve", JobState.STARTING, List.of(new Attempt("serve", 1, Slot.of(0, two), 0, 0))),
                view("queued", JobState.QUEUED, List.of()),
                view("ok", JobState.DONE, List.of(new Attempt("ok", 1, Slot.of(0, two), 0, 0))),
                view("bad", JobState.FAILED, List.of()));
        assertThat(LiveView.render("jobs.yaml", 123.4, jobs, List.of(gpu0, gpu1))).containsExactly(
                "migm run jobs.yaml  123 s (modelled)  waiting 1  starting 1  running 1  done 1  failed 1",
                "gpu0 A100-SXM4-40GB: 3g.20gb@0 train  |  2g.10gb@4 serve (starting)  |  1g.5gb@6 (free)",
                "gpu1 A100-SXM4-40GB: no instances");
        assertThat(LiveView.rewind(3)).isEqualTo("\033[3F\033[J");
        assertThat(LiveView.rewind(0)).isEmpty();
    }

    @Test
    void anUnknownView_isAOneLineError() {
        StringWriter err = new StringWriter();
        int rc = Main.run(new String[] {"run", "../examples/batch-demo.yaml", "--view", "tv"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertThat(rc).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("migm: --view: expected auto, live or events, got 'tv'\n");
    }
}
