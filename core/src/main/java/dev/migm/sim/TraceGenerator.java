package dev.migm.sim;

import dev.migm.gpu.GpuModel;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.io.Writer;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Generates large {@code migm-trace v1} traces by resampling the jobs of a bundled suite (their
 * classes, apps, scaling and memory) with +-20% jitter on duration, and Poisson arrivals at the rate
 * that loads the node's GPUs to {@code load} (1.0 = the arrival rate of work equals what a perfect
 * packing could serve, by the lower bound's compute measure). Deterministic for a seed.
 */
public final class TraceGenerator {
    private TraceGenerator() {
    }

    public static void write(Writer out, String templateSuite, int jobs, List<GpuModel> gpus, double load, long seed) {
        write(out, Suites.load(templateSuite), jobs, gpus, load, seed);
    }

    /** As above, from these template jobs. */
    public static void write(Writer out, List<TraceJob> templates, int jobs, List<GpuModel> gpus, double load, long seed) {
        GpuModel g = gpus.getFirst();
        double meanWork = LowerBound.seconds(templates.stream().map(t -> new TraceJob(t.spec().at(t.id(), 0), t.model())).toList(), List.of(g)) / templates.size();
        double meanGapS = meanWork / (gpus.size() * load);
        SplittableRandom random = new SplittableRandom(seed);
        TraceWriter writer = new TraceWriter(out);
        writer.header();
        double t = 0;
        for (int i = 0; i < jobs; i++) {
            t += -Math.log(1 - random.nextDouble()) * meanGapS;
            TraceJob template = templates.get(random.nextInt(templates.size()));
            WorkloadModel s = template.model();
            double duration = s.durationS() * (0.8 + 0.4 * random.nextDouble());
            // Everything the template's submitter declared travels (parameters, expected run time, limits).
            writer.job(new TraceJob(template.spec().at(String.format(Locale.ROOT, "gen-%07d", i), t), new WorkloadModel(duration, s.c(), s.sat(),
                    s.memBaseMib(), s.memPeakMib(), s.activity(), s.checkpointS(), s.reportsProgress())));
        }
    }
}
