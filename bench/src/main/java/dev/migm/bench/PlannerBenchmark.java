package dev.migm.bench;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Profile;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.Planner;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one {@link Planner#planFor} call on a full A100-40GB (7 instances, 7x1g.5gb).
 *
 * <pre>
 * mvn -B -ntp -q -Pbench -DskipTests package
 * java -jar bench/target/benchmarks.jar PlannerBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class PlannerBenchmark {
    private GpuState sevenIdle;
    private GpuState sevenHalfBusy;
    private Profile threeG;
    private Profile sevenG;
    private Profile oneG;

    @Setup
    public void setUp() {
        GpuModel a100 = Catalog.builtin().get("A100-40GB");
        String seven = "1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.5gb@6";
        sevenIdle = GpuState.parse(a100, seven);
        sevenHalfBusy = GpuState.parse(a100, "1g.5gb@0*,1g.5gb@1,1g.5gb@2*,1g.5gb@3,1g.5gb@4,1g.5gb@5*,1g.5gb@6");
        threeG = a100.profile("3g.20gb");
        sevenG = a100.profile("7g.40gb");
        oneG = a100.profile("1g.5gb");
    }

    /** Fusion of four idle 1g into a 3g (two candidate placements, both free of busy instances). */
    @Benchmark
    public Plan fusionSevenIdleToThreeG() {
        return Planner.planFor(sevenIdle, threeG);
    }

    /** Fusion of all seven into the 7g. */
    @Benchmark
    public Plan fusionSevenIdleToSevenG() {
        return Planner.planFor(sevenIdle, sevenG);
    }

    /** Both 3g placements blocked by busy instances: the "impossible" path with its reason. */
    @Benchmark
    public Plan impossibleThreeG() {
        return Planner.planFor(sevenHalfBusy, threeG);
    }

    /** An idle 1g exists: the fast path. */
    @Benchmark
    public Plan useFreeOneG() {
        return Planner.planFor(sevenHalfBusy, oneG);
    }
}
