package dev.migm.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.InMemoryHistory;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.schedule.PolicyRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random workloads on mixed nodes under every policy, with estimates and early restart:
 * whatever happens, every job ends done or failed with a reason, the engine never breaks an
 * invariant (it throws on a plan that destroys a busy instance or places a retry below its need),
 * a completed batch never beats the lower bound, and the board never draws less than idle power.
 * Runs are compared across worlds rather than with figures pinned from their own output: the oracle
 * (which knows every peak) never runs out of memory; a run that keeps every job in memory equals one
 * that streams them; samples judged ahead equal samples sent as events. (The bench's
 * {@code bench/goldens.sh} pins every simulator output to the digit, for changes that must not move one.)
 */
final class RandomRunsTest {
    private static final List<String> APPS = List.of("bfs", "llama-7b", "bert-finetune", "cifar-cnn", "gemma-2b", "lud");

    static List<TraceJob> randomJobs(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TraceJob> jobs = new ArrayList<>();
        double t = 0;
        for (int i = 0; i < n; i++) {
            t += r.nextInt(3) == 0 ? 0 : r.nextDouble() * 60;
            int a = r.nextInt(APPS.size());
            JobClass c = switch (a) {
                case 0, 5 -> JobClass.SCIENTIFIC;
                case 1, 4 -> JobClass.LLM;
                default -> JobClass.ML;
            };
            long base = 300 + r.nextInt(30000);
            long peak = base + (r.nextBoolean() ? 0 : r.nextInt(12000));
            OptionalLong declared = r.nextInt(3) == 0 ? OptionalLong.of(base) : OptionalLong.empty();
            WorkloadModel model = new WorkloadModel(5 + r.nextDouble() * 400, r.nextDouble(), 0.05 + 0.95 * r.nextDouble(),
                    base, peak, r.nextDouble(), r.nextBoolean() ? 0 : 10 + r.nextInt(60), false);
            jobs.add(new TraceJob(new JobSpec("r" + seed + "-" + i, t, APPS.get(a), c, declared, model.checkpoints()),
                    model));
        }
        return jobs;
    }

    static String figures(SimResult r) {
        return String.format(java.util.Locale.ROOT, "%d,%d,%.3f,%.1f,%d,%d,%d,%d", r.completed(), r.failed(),
                r.makespanS(), r.energyJ(), r.reconfigurations(), r.restarts(), r.oomKills(), r.earlyRestarts());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void everyPolicy_accountsForEveryJobAndRespectsTheBounds(long seed) {
        List<TraceJob> jobs = randomJobs(seed, 80);
        List<GpuModel> node = List.of(Catalog.builtin().get("A100-40GB"), Catalog.builtin().get("H100-80GB"));
        double idleWatts = node.stream().mapToDouble(GpuModel::idleWatts).sum();
        for (String policy : List.of("serial", "static", "s1", "s2", "migm", "migm:0")) {
            for (boolean estimated : new boolean[] {false, true}) {
                Simulator.Options o = Simulator.Options.of(node).withEarlyRestart(estimated);
                if (estimated) {
                    o = o.withMemory(() -> EstimatorChain.defaults(new InMemoryHistory(50)));
                }
                String ctx = "seed " + seed + " " + policy + (estimated ? " estimated" : " oracle");
                SimResult r = Simulator.run("random", jobs, PolicyRegistry.create(policy, node), o);
                assertThat(r.completed() + r.failed()).as(ctx).isEqualTo(jobs.size());
                assertThat(r.failures()).as(ctx).allSatisfy(f -> assertThat(f.reason()).isNotBlank().isNotEqualTo("null"));
                assertThat(r.energyJ()).as(ctx).isGreaterThanOrEqualTo(idleWatts * r.makespanS() * (1 - 1e-9));
                if (r.failed() == 0) {
                    assertThat(r.makespanS()).as(ctx).isGreaterThanOrEqualTo(r.lowerBoundS());
                }
                if (!policy.equals("static")) {
                    // Only jobs above the largest instance (H100: 81152 MiB) could fail; none is here.
                    assertThat(r.failed()).as(ctx + " " + r.failures()).isZero();
                }
                if (!estimated) {
                    // The oracle sizes every attempt by the true peak (<= 42300 MiB here, which an
                    // H100 instance or whole GPU holds): no attempt runs out of memory or restarts
                    // early; migm moves a run that checkpoints to a larger instance at most once when
                    // nothing waits (TailGrowth), the others never restart.
                    assertThat(r.oomKills()).as(ctx).isZero();
                    assertThat(r.earlyRestarts()).as(ctx).isZero();
                    long checkpointing = jobs.stream().filter(j -> j.spec().checkpoints()).count();
                    assertThat(r.restarts()).as(ctx).isLessThanOrEqualTo(policy.startsWith("migm") ? checkpointing : 0);
                }
                // A run that keeps every ended job (per-job rows) decides exactly as one that streams
                // the trace and forgets ended jobs.
                SimResult kept = Simulator.run("random", jobs, PolicyRegistry.create(policy, node), o.withPerJob(true));
                assertThat(figures(kept)).as(ctx + " kept against streamed").isEqualTo(figures(r));
                assertThat(kept.perJob()).as(ctx).hasSize(jobs.size());
            }
        }
    }

    @org.junit.jupiter.api.Test
    void samplesJudgedAhead_giveTheRunOfSamplesSentAsEventsAtTheirTimes() {
        // The simulator offers an attempt's samples to the engine's judge when it starts running and
        // sends an event only for the one the trigger fires on; a live sampler sends each as it is
        // taken. Same samples, same verdicts at the same times: the runs must agree job by job.
        // The runs must exercise the trigger: at least one early restart among them (asserted below).
        List<GpuModel> node = List.of(Catalog.builtin().get("A100-40GB"), Catalog.builtin().get("H100-80GB"));
        long earlyRestarts = 0;
        for (long seed = 1; seed <= 4; seed++) for (String policy : List.of("s1", "migm")) {
            List<TraceJob> jobs = randomJobs(seed, 80);
            Simulator.Options ahead = Simulator.Options.of(node).withEarlyRestart(true)
                    .withMemory(() -> EstimatorChain.defaults(new InMemoryHistory(50)));
            assertThat(ahead.sampling().ahead()).isTrue();
            Simulator.Options events = ahead.withSampling(ahead.sampling().asEvents());
            SimResult judged = Simulator.run("random", jobs, PolicyRegistry.create(policy, node), ahead);
            SimResult sent = Simulator.run("random", jobs, PolicyRegistry.create(policy, node), events);
            assertThat(figures(judged)).as("seed %d %s", seed, policy).isEqualTo(figures(sent));
            assertThat(judged.perJob()).as("seed %d %s", seed, policy).isEqualTo(sent.perJob());
            earlyRestarts += sent.earlyRestarts();
        }
        assertThat(earlyRestarts).as("the runs compared must exercise the trigger").isPositive();
    }
}
