package dev.migm.bench;

import dev.migm.engine.GpuView;
import dev.migm.engine.JobSpec;
import dev.migm.engine.RuntimeExpectation;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.Suites;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One scheduling round (one decision of a policy) with 10,000 queued jobs on 8 A100-40GB. Each GPU
 * starts half busy ({@code 3g.20gb@0*,1g.5gb@4*,1g.5gb@5,1g.10gb@6}): two idle instances and no free
 * slice. Placements of the round are applied to a copy of the GPU states, which is reset before
 * each round, so every invocation decides from the same state. Jobs are the mixed suite, repeated.
 *
 * <pre>
 * mvn -B -ntp -q -Pbench -DskipTests package
 * java -jar bench/target/benchmarks.jar SchedulingRoundBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SchedulingRoundBenchmark {
    @Param({"migm", "s1", "s2", "static"})
    public String policyName;

    private SchedulingPolicy policy;
    private List<QueuedJob> queue;
    private GpuState[] initial;
    private Ctx ctx;

    @Setup
    public void setUp() {
        GpuModel a100 = Catalog.builtin().get("A100-40GB");
        List<GpuModel> node = java.util.Collections.nCopies(8, a100);
        policy = PolicyRegistry.create(policyName, node);
        List<TraceJob> templates = Suites.load("mixed");
        TreeSet<QueuedJob> sorted = new TreeSet<>(policy.queueOrder().thenComparingLong(QueuedJob::seq));
        for (int i = 0; i < 10_000; i++) {
            TraceJob t = templates.get(i % templates.size());
            JobSpec j = new JobSpec("q" + i, t.spec().submitS(), t.spec().app(), t.spec().jobClass(),
                    t.spec().declaredMib(), t.spec().checkpoints());
            WorkloadModel m = t.model();
            sorted.add(new QueuedJob(j, m.memPeakMib(), true, i, 1, 0, "oracle", 0,
                    RuntimeExpectation.certain(m.durationS(), m.c(), m.sat(), "oracle")));
        }
        queue = List.copyOf(sorted);
        initial = new GpuState[8];
        for (int g = 0; g < 8; g++) {
            initial[g] = GpuState.parse(a100, "3g.20gb@0*,1g.5gb@4*,1g.5gb@5,1g.10gb@6");
        }
        ctx = new Ctx(a100);
    }

    @Benchmark
    public int oneRound() {
        ctx.reset(initial, queue);
        policy.schedule(ctx);
        return ctx.placed;
    }

    /** A context that applies decisions to GPU states only, so a round can be repeated. */
    static final class Ctx implements SchedulingContext {
        final List<View> gpus = new ArrayList<>();
        List<QueuedJob> queue;
        Set<String> taken = new HashSet<>();
        int placed;

        Ctx(GpuModel model) {
            for (int g = 0; g < 8; g++) gpus.add(new View(g, model));
        }

        void reset(GpuState[] states, List<QueuedJob> q) {
            for (int g = 0; g < states.length; g++) {
                gpus.get(g).state = states[g];
                gpus.get(g).version++;
            }
            queue = q;
            taken.clear();
            placed = 0;
        }

        @Override public double nowS() { return 0; }
        @Override public double startupS() { return 1; }
        @Override public List<? extends GpuView> gpus() { return gpus; }

        @Override
        public List<QueuedJob> waiting(int limit) {
            List<QueuedJob> out = new ArrayList<>();
            for (QueuedJob q : queue) {
                if (out.size() >= limit) break;
                if (!taken.contains(q.id())) out.add(q);
            }
            return out;
        }

        @Override public int waitingCount() { return queue.size() - taken.size(); }

        @Override
        public double expectedRuntimeS(QueuedJob job, GpuView gpu, int sms) {
            return 1 + job.runtime().onSlotS(sms, gpu.model().sms());
        }

        @Override
        public void place(QueuedJob job, GpuView gpu, Plan.Possible plan) {
            View v = (View) gpu;
            Set<Instance> busy = new HashSet<>(v.state.busy());
            busy.add(plan.target().orElseThrow());
            v.state = new GpuState(plan.result(), busy);
            v.version++;
            taken.add(job.id());
            placed++;
        }

        @Override
        public void placeWholeGpu(QueuedJob job, GpuView gpu) {
            taken.add(job.id());
            placed++;
        }

        @Override
        public void changeMigMode(GpuView gpu, boolean enabled, String why) {
        }

        @Override
        public void reconfigure(GpuView gpu, Plan.Possible plan) {
            View v = (View) gpu;
            v.state = new GpuState(plan.result(), v.state.busy());
            v.version++;
        }

        @Override
        public void reject(QueuedJob job, String reason) {
            taken.add(job.id());
        }

        @Override
        public void wakeAt(double atS) {
        }
    }

    static final class View implements GpuView {
        final int index;
        final GpuModel model;
        GpuState state;
        long version;

        View(int index, GpuModel model) {
            this.index = index;
            this.model = model;
        }

        @Override public int index() { return index; }
        @Override public GpuModel model() { return model; }
        @Override public boolean migEnabled() { return true; }
        @Override public GpuState state() { return state; }
        @Override public boolean reconfiguring() { return false; }
        @Override public boolean schedulable() { return true; }
        @Override public long version() { return version; }
        @Override public double expectedReleaseS(Instance instance) { return 500; }
        @Override public Optional<String> occupant(Instance instance) { return Optional.empty(); }
        @Override public boolean migModeChangeable() { return false; }
        @Override public double migModeChangeS() { return Double.POSITIVE_INFINITY; }
        @Override public boolean changingMigMode() { return false; }
        @Override public boolean wholeGpuBusy() { return false; }
        @Override public double wholeGpuReleaseS() { return 0; }
    }
}
