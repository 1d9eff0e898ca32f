package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.JobState;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-job series: who is on an instance, energy that adds up, and series that end an hour after their job. */
final class NodeMetricsTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");
    private static final Instance LEFT = Layout.parse(A100, "3g.20gb@0").instances().getFirst();
    private static final Instance RIGHT = Layout.parse(A100, "3g.20gb@4").instances().getFirst();

    private double now = 10_000;
    private Map<Slot, String> occupants = Map.of();

    private final NodeMetrics metrics = new NodeMetrics(new NodeMetrics.Source() {
        @Override
        public NodeMetrics.EngineView engine() {
            return new NodeMetrics.EngineView(Map.of(JobState.RUNNING, occupants.size()), occupants, List.of("ok"), 0, 0, 0,
                    0, 0, 0);
        }

        @Override
        public List<NodeMetrics.GpuView> gpus() {
            return List.of(new NodeMetrics.GpuView("GPU-1", A100, true, Map.of(LEFT, 1, RIGHT, 2)));
        }

        @Override
        public NodeMetrics.JobLabels jobLabels(String jobId) {
            // Job 8 is a Slurm holder (slurm-41-0), job 7 an ordinary job of alice's.
            return jobId.equals("8") ? new NodeMetrics.JobLabels("8", "bob", SlurmSlices.slurmJobOf("slurm-41-0").orElseThrow())
                    : new NodeMetrics.JobLabels(jobId, "alice", "");
        }
    }, 1, () -> now);

    private String scrape() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jobsAreNamedOnTheirInstances_theirEnergyAddsUp_andTheirSeriesEndAnHourAfterThem() throws Exception {
        occupants = Map.of(Slot.of(0, LEFT), "7", Slot.of(0, RIGHT), "8");
        // One tick the meter split as 120 J idle, 100 J to job 7, 80 J to job 8.
        metrics.energyTick(new double[] {1_000}, new double[] {120}, 1,
                List.of(new NodeMetrics.Share(Slot.of(0, LEFT), "7", 100), new NodeMetrics.Share(Slot.of(0, RIGHT), "8", 80)));
        String text = scrape();
        assertThat(text).containsPattern("migm_instance_occupied\\{GPU_I_ID=\"1\",.*hpc_job=\"\",job=\"7\",.*user=\"alice\"\\} 1\\.0");
        assertThat(text).containsPattern("migm_instance_occupied\\{GPU_I_ID=\"2\",.*hpc_job=\"41\",job=\"8\",.*user=\"bob\"\\} 1\\.0");
        assertThat(text).containsPattern("migm_job_energy_joules_total\\{.*job=\"7\".*\\} 100\\.0");
        assertThat(text).containsPattern("migm_job_energy_joules_total\\{.*hpc_job=\"41\",job=\"8\".*\\} 80\\.0");
        assertThat(text).contains("migm_gpu_attributed_energy_joules_total{UUID=\"GPU-1\",gpu=\"0\",modelName=\"A100-SXM4-40GB\"} 180.0");

        // Job 7 ends and its instance is destroyed: its series and the GPU's attributed energy stay.
        occupants = Map.of(Slot.of(0, RIGHT), "8");
        metrics.observe(new EngineRecord.Done(20, "7"));
        metrics.energyTick(new double[] {1_200}, new double[] {50}, 1, List.of(new NodeMetrics.Share(Slot.of(0, RIGHT), "8", 150)));
        now += NodeMetrics.JOB_SERIES_RETENTION_S - 1;
        text = scrape();
        assertThat(text).containsPattern("migm_job_energy_joules_total\\{.*job=\"7\".*\\} 100\\.0");
        assertThat(text).containsPattern("migm_instance_occupied\\{GPU_I_ID=\"1\",.*job=\"\",.*user=\"\"\\} 0\\.0");
        // Sums of the meter's split of each tick: idle 120 + 50, attributed 180 + 150 (the board's
        // counter, 1,000 then 1,200 J, is the driver's since it loaded).
        assertThat(text).contains("migm_gpu_attributed_energy_joules_total{UUID=\"GPU-1\",gpu=\"0\",modelName=\"A100-SXM4-40GB\"} 330.0");
        assertThat(text).contains("migm_gpu_idle_energy_joules_total{UUID=\"GPU-1\",gpu=\"0\",modelName=\"A100-SXM4-40GB\"} 170.0");

        // An hour after it ended, job 7's series is gone; job 8, still running, keeps its own.
        now += 2;
        text = scrape();
        assertThat(text).doesNotContainPattern("migm_job_energy_joules_total\\{.*job=\"7\"");
        assertThat(text).containsPattern("migm_job_energy_joules_total\\{.*job=\"8\".*\\} 230\\.0");
    }
}
