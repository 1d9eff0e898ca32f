package dev.migm.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.migm.backend.SimulatedGpuBackend;
import dev.migm.estimate.OracleMemory;
import dev.migm.estimate.OracleRuntime;
import dev.migm.exec.ModelExecutor;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Layout;
import dev.migm.partition.Plan;
import dev.migm.schedule.PolicyRegistry;
import dev.migm.sim.Jobs;
import dev.migm.virtual.VirtualTime;
import dev.migm.workload.TraceJob;
import dev.migm.workload.Truth;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine against seams that misbehave: a GPU that does not answer or that someone else
 * changed, an executor that loses or refuses a launch, a duplicate submit. Each has a defined
 * outcome on record, and no job is lost.
 */
final class EngineSeamsTest {
    private static final GpuModel A100 = Catalog.builtin().get("A100-40GB");

    /** An engine on simulated A100s under migm with oracle estimates; seams may be wrapped. */
    private static final class Rig {
        final VirtualTime time = new VirtualTime();
        final SimulatedGpuBackend gpus;
        final InMemoryJournal journal = new InMemoryJournal();
        final Engine engine;
        final List<TraceJob> jobs;

        Rig(List<TraceJob> jobs, java.util.function.UnaryOperator<GpuBackend> backend,
            java.util.function.UnaryOperator<Executor> executor) {
            this(jobs, backend, executor, 1);
        }

        Rig(List<TraceJob> jobs, java.util.function.UnaryOperator<GpuBackend> backend,
            java.util.function.UnaryOperator<Executor> executor, int gpuCount) {
            this(jobs, backend, executor, gpuCount, m -> m);
        }

        Rig(List<TraceJob> jobs, java.util.function.UnaryOperator<GpuBackend> backend,
            java.util.function.UnaryOperator<Executor> executor, int gpuCount,
            java.util.function.UnaryOperator<MemoryPolicy> memory) {
            this.jobs = jobs;
            List<GpuModel> node = java.util.Collections.nCopies(gpuCount, A100);
            gpus = new SimulatedGpuBackend(time, node, SimulatedGpuBackend.Latency.DEFAULT);
            Truth truth = Truth.of(jobs);
            Executor model = new ModelExecutor(time, node, gpus, truth, 1.0, ModelExecutor.Sampling.OFF);
            engine = new Engine(time, journal, backend.apply(gpus), executor.apply(model),
                    PolicyRegistry.create("migm", node), memory.apply(new OracleMemory(truth)), new OracleRuntime(truth),
                    EngineSettings.DEFAULT.withEarlyRestart(EarlyRestart.OFF));
        }

        void at(double s, EngineEvent e) {
            time.at(s, () -> engine.handle(e));
        }

        void runToEnd() {
            for (TraceJob j : jobs) {
                time.at(j.spec().submitS(), () -> engine.handle(new EngineEvent.JobSubmitted(j.spec())));
            }
            while (time.runNextStep()) {
                engine.schedule();
            }
        }

        JobView job(String id) {
            return engine.jobs().stream().filter(j -> j.spec().id().equals(id)).findFirst().orElseThrow();
        }

        <T extends EngineRecord> List<T> records(Class<T> type) {
            return journal.records().stream().filter(type::isInstance).map(type::cast).toList();
        }
    }

    /** How a wrapped backend applies a plan, given the real backend's apply. */
    @FunctionalInterface
    private interface Apply {
        void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink);
    }

    /** The real backend with its {@code apply} replaced. */
    private static GpuBackend withApply(GpuBackend real, Apply apply) {
        return new GpuBackend() {
            @Override
            public List<GpuModel> gpus() {
                return real.gpus();
            }

            @Override
            public Layout layout(int gpu) {
                return real.layout(gpu);
            }

            @Override
            public void setMigEnabled(int gpu, boolean enabled) {
                real.setMigEnabled(gpu, enabled);
            }

            @Override
            public void apply(int gpu, Plan.Possible plan, long ticket, EventSink sink) {
                apply.apply(gpu, plan, ticket, sink);
            }

            @Override
            public double energyJoules() {
                return real.energyJoules();
            }
        };
    }

    /** A backend whose first apply is never answered (a hung driver call). */
    private static GpuBackend silentOnce(GpuBackend real) {
        boolean[] swallowed = new boolean[1];
        return withApply(real, (gpu, plan, ticket, sink) -> {
            if (!swallowed[0]) {
                swallowed[0] = true;
                return;
            }
            real.apply(gpu, plan, ticket, sink);
        });
    }

    @Test
    void aReconfigurationThatNeverAnswers_timesOutIntoAFailure_andTheJobIsPlacedAgain() {
        // The first plan (create 1g.5gb for "a") is swallowed. After the 60 s time-out the engine
        // reads the layout back (still empty), records the failure and requeues "a"; the next round
        // creates the instance (0.13 s), then start-up 1 s and 10 s of work: it ends at 71.13 s.
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(3000).scaling(0, 1).duration(10).build()),
                EngineSeamsTest::silentOnce, e -> e);
        rig.runToEnd();
        assertThat(rig.job("a").state()).isEqualTo(JobState.DONE);
        assertThat(rig.job("a").endS()).isCloseTo(60 + 0.13 + 1 + 10, within(1e-9));
        assertThat(rig.records(EngineRecord.ReconfigurationFailed.class)).singleElement()
                .satisfies(f -> assertThat(f.reason()).contains("no answer from the GPU in 60.0 s"));
        assertThat(rig.job("a").attempts()).hasSize(1);
    }

    @Test
    void aGpuChangedBySomeoneElse_isAConflict_notASurprise() {
        // Someone creates a 7g.40gb behind migm's back at t = 0 (done at 0.13 s). The job arrives at
        // 1 s; the engine, which still believes the GPU empty, plans a create on the empty layout.
        // The backend refuses the plan (made for another layout), the engine adopts the layout it
        // reads back and places the job on the idle 7g it finds there (no operation needed; c = 0
        // makes every instance equally fast, so the placement without operations wins).
        Rig rig = new Rig(List.of(Jobs.aJob("a").at(1).flat(3000).scaling(0, 1).duration(10).build()), b -> b, e -> e);
        rig.gpus.apply(0, (Plan.Possible) dev.migm.partition.Planner.transition(
                dev.migm.partition.GpuState.idle(Layout.empty(A100)), Layout.parse(A100, "7g.40gb@0")), 0, event -> { });
        rig.runToEnd();
        assertThat(rig.records(EngineRecord.ReconfigurationFailed.class)).singleElement().satisfies(f -> {
            assertThat(f.reason()).startsWith("conflict: the plan was made for -, the GPU has 7g.40gb@0");
            assertThat(f.layout().toString()).isEqualTo("7g.40gb@0");
        });
        assertThat(rig.job("a").state()).isEqualTo(JobState.DONE);
        assertThat(rig.job("a").attempts()).singleElement()
                .satisfies(at -> assertThat(at.slot().toString()).isEqualTo("gpu0:7g.40gb@0"));
    }

    @Test
    void aLaunchThatIsLostOrRefused_comesBackAsACrash_andIsRetried() {
        // The executor loses the first launch of "a" (never reports it up) and refuses the first of
        // "b" (throws). "a" times out after 120 s and runs again; "b" crashes at once and runs again.
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(3000).scaling(0, 1).duration(10).build(),
                Jobs.aJob("b").flat(3000).scaling(0, 1).duration(10).build()), b -> b, real -> new Executor() {
            int launches;

            @Override
            public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
                if (attempt.number() == 1 && spec.id().equals("a")) {
                    return;
                }
                if (attempt.number() == 1 && spec.id().equals("b")) {
                    throw new IllegalStateException("fork failed: resource temporarily unavailable");
                }
                launches++;
                real.launch(attempt, spec, sink);
            }

            @Override
            public void stop(Attempt attempt, String why) {
                real.stop(attempt, why);
            }
        });
        rig.runToEnd();
        assertThat(rig.job("a").state()).isEqualTo(JobState.DONE);
        assertThat(rig.job("a").attempts()).hasSize(2);
        assertThat(rig.job("a").attempts().get(1).launchS()).isGreaterThanOrEqualTo(120);
        assertThat(rig.job("b").state()).isEqualTo(JobState.DONE);
        assertThat(rig.job("b").attempts()).hasSize(2);
        assertThat(rig.job("b").attempts().get(1).launchS()).isLessThan(5);
        assertThat(rig.records(EngineRecord.AttemptExited.class).stream().map(x -> x.outcome().toString()))
                .anySatisfy(o -> assertThat(o).contains("not reported up in 120.0 s"))
                .anySatisfy(o -> assertThat(o).contains("launch failed: fork failed"));
    }

    @Test
    void cancel_endsAQueuedJobAtOnce_stopsARunningOne_andRefusesWhatItCannotCancel() {
        // One A100, three jobs of 30000 MiB (only the 7g holds one): "a" runs from 0.13 s, "b" and
        // "c" wait. At 5 s "c" (queued) is cancelled at once and "a" (running) is stopped: it ends
        // cancelled at 5 s and "b" takes the 7g. Cancelling "c" again, a done job or an unknown id
        // is refused on record.
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(30000).duration(100).build(),
                Jobs.aJob("b").flat(30000).duration(100).build(), Jobs.aJob("c").flat(30000).duration(100).build()),
                b -> b, e -> e);
        rig.at(5, new EngineEvent.CancelJob("c", "alice"));
        rig.at(5, new EngineEvent.CancelJob("a", "alice"));
        rig.at(6, new EngineEvent.CancelJob("c", "alice"));
        rig.at(6, new EngineEvent.CancelJob("nope", "alice"));
        rig.at(500, new EngineEvent.CancelJob("b", "alice"));
        rig.runToEnd();
        assertThat(rig.job("c").state()).isEqualTo(JobState.CANCELLED);
        assertThat(rig.job("c").attempts()).isEmpty();
        assertThat(rig.job("a").state()).isEqualTo(JobState.CANCELLED);
        assertThat(rig.job("a").endS()).isEqualTo(5.0);
        assertThat(rig.job("a").lastReason()).isEqualTo("cancelled by alice");
        assertThat(rig.job("b").state()).isEqualTo(JobState.DONE);
        assertThat(rig.job("b").attempts().getFirst().launchS()).isEqualTo(5.0);
        assertThat(rig.records(EngineRecord.CommandRefused.class)).extracting(EngineRecord.CommandRefused::reason)
                .containsExactly("the job already ended cancelled", "no such job", "the job already ended done");
        assertThat(JournalReplay.replay(rig.journal.records())).isEqualTo(rig.engine.snapshot());
    }

    @Test
    void aDrainedGpu_getsNoNewWork_untilItReturnsToService() {
        // Two A100s; gpu0 is drained before anything arrives: the first ten small jobs all go to
        // gpu1. It returns to service at 50 s, so jobs arriving after that may use it again.
        List<TraceJob> jobs = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) jobs.add(Jobs.aJob("early" + i).flat(3000).scaling(0, 1).duration(30).build());
        for (int i = 0; i < 10; i++) {
            jobs.add(Jobs.aJob("late" + i).at(60).flat(3000).scaling(0, 1).duration(30).build());
        }
        Rig rig = new Rig(jobs, b -> b, e -> e, 2);
        rig.engine.handle(new EngineEvent.DrainGpu(0, true));
        rig.at(50, new EngineEvent.DrainGpu(0, false));
        rig.at(1, new EngineEvent.DrainGpu(7, true));
        rig.runToEnd();
        assertThat(rig.engine.jobs()).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.DONE));
        assertThat(rig.engine.jobs().stream().filter(j -> j.spec().id().startsWith("early"))
                .flatMap(j -> j.attempts().stream())).allSatisfy(a -> assertThat(a.slot().gpu()).isEqualTo(1));
        assertThat(rig.engine.jobs().stream().filter(j -> j.spec().id().startsWith("late"))
                .flatMap(j -> j.attempts().stream()).map(a -> a.slot().gpu())).contains(0);
        assertThat(rig.records(EngineRecord.CommandRefused.class)).singleElement()
                .satisfies(r -> assertThat(r.reason()).isEqualTo("no such GPU (the node has 2)"));
        assertThat(JournalReplay.replay(rig.journal.records())).isEqualTo(rig.engine.snapshot());
    }

    @Test
    void aLostGpu_sendsItsJobsElsewhere_andComesBackWhenItAnswers() {
        // Two A100s, two 30000 MiB jobs (one 7g each) of 100 s; gpu0 is lost at 10 s: its job
        // crashes and is requeued; with gpu1 busy until ~101 s it waits and runs there next. gpu0
        // answers again at 300 s; a third job arriving at 310 s may run on either.
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(30000).scaling(0, 1).duration(100).build(),
                Jobs.aJob("b").flat(30000).scaling(0, 1).duration(100).build(),
                Jobs.aJob("c").at(310).flat(30000).scaling(0, 1).duration(100).build()), b -> b, e -> e, 2);
        rig.at(10, new EngineEvent.GpuLost(0, "NVML_ERROR_GPU_IS_LOST"));
        double[] statusAt20 = new double[1];
        rig.time.at(20, () -> statusAt20[0] = rig.engine.snapshot().gpuStatus().get(0).equals("lost") ? 1 : 0);
        rig.at(300, new EngineEvent.GpuRecovered(0));
        rig.runToEnd();
        JobView victim = rig.engine.jobs().stream().filter(j -> j.attempts().size() == 2).findFirst().orElseThrow();
        assertThat(victim.state()).isEqualTo(JobState.DONE);
        assertThat(victim.attempts().getFirst().slot().gpu()).isEqualTo(0);
        assertThat(victim.attempts().get(1).slot().gpu()).isEqualTo(1);
        assertThat(statusAt20[0]).isEqualTo(1);
        assertThat(rig.job("c").state()).isEqualTo(JobState.DONE);
        assertThat(rig.engine.snapshot().gpuStatus()).containsExactly("ok", "ok");
        assertThat(rig.records(EngineRecord.AttemptExited.class)).anySatisfy(x ->
                assertThat(x.outcome().toString()).contains("GPU lost: NVML_ERROR_GPU_IS_LOST"));
        assertThat(JournalReplay.replay(rig.journal.records())).isEqualTo(rig.engine.snapshot());
    }

    @Test
    void aDuplicateJobId_isARejectedSubmit_onRecord() {
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(3000).duration(10).build()), b -> b, e -> e);
        JobSpec twin = Jobs.aJob("a").flat(9000).duration(99).build().spec();
        rig.time.at(0.5, () -> rig.engine.handle(new EngineEvent.JobSubmitted(twin)));
        rig.runToEnd();
        assertThat(rig.engine.jobs()).hasSize(1);
        assertThat(rig.engine.counters().rejectedSubmits()).isEqualTo(1);
        assertThat(rig.records(EngineRecord.SubmitRejected.class)).singleElement()
                .satisfies(r -> assertThat(r.reason()).isEqualTo("duplicate job id 'a'"));
        assertThat(rig.job("a").state()).isEqualTo(JobState.DONE);
    }

    @Test
    void aJobItsEstimatorsCannotSize_failsWithTheReason_andNothingElseIsHeldUp() {
        // The memory policy throws for "poisoned" (as the estimators did for a memory expression that
        // divides by zero, before the door checked it): that job fails on record, "fine" runs, and the
        // queue and its explanations keep answering (they threw on the job's missing estimate).
        Rig rig = new Rig(List.of(Jobs.aJob("poisoned").flat(3000).duration(10).build(),
                Jobs.aJob("fine").flat(3000).duration(10).build()), b -> b, e -> e, 1, oracle -> new MemoryPolicy() {
            @Override
            public Need initial(JobSpec job) {
                if (job.id().equals("poisoned")) {
                    throw new dev.migm.io.InvalidInputException("memory expression 'n / 0' at position 3: division by zero");
                }
                return oracle.initial(job);
            }

            @Override
            public Need afterOom(JobSpec job, int attempt, Need previous, long slotMib, long usedMib) {
                return oracle.afterOom(job, attempt, previous, slotMib, usedMib);
            }
        });
        rig.time.at(0.5, () -> assertThat(rig.engine.waitingReasons(List.of("poisoned", "fine"))).doesNotContainKey("poisoned"));
        rig.runToEnd();
        assertThat(rig.job("poisoned").state()).isEqualTo(JobState.FAILED);
        assertThat(rig.job("poisoned").lastReason()).isEqualTo("its memory cannot be estimated: memory expression"
                + " 'n / 0' at position 3: division by zero");
        assertThat(rig.job("poisoned").attempts()).isEmpty();
        assertThat(rig.job("fine").state()).isEqualTo(JobState.DONE);
        assertThat(JournalReplay.replay(rig.journal.records())).isEqualTo(rig.engine.snapshot());
    }

    @Test
    void onceStopping_theEngineLaunchesNothing_andAJobWhoseInstanceWasBeingMadeWaitsWithoutAnAttemptCounted() {
        // "a" is placed at 0 on a 1g.5gb the engine asks for (c = 0: every instance is as fast, the
        // tightest wins; answered at 0.13 s). At 0.05 s the service stops: the answer comes, the
        // instance exists, but "a" goes back to the queue without an attempt, and "b" (arriving at 1 s)
        // is never placed: no round runs any more.
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(3000).scaling(0, 1).duration(10).build(),
                Jobs.aJob("b").at(1).flat(3000).scaling(0, 1).duration(10).build()), b -> b, e -> e);
        rig.time.at(0.05, rig.engine::stopLaunching);
        rig.runToEnd();
        assertThat(rig.records(EngineRecord.ReconfigurationApplied.class)).hasSize(1);
        assertThat(rig.records(EngineRecord.AttemptLaunched.class)).isEmpty();
        assertThat(rig.job("a").state()).isEqualTo(JobState.QUEUED);
        assertThat(rig.job("a").attempts()).isEmpty();
        assertThat(rig.job("a").lastReason()).isEqualTo("migm stopped before it started");
        assertThat(rig.job("b").state()).isEqualTo(JobState.QUEUED);
        assertThat(rig.engine.snapshot().layouts().getFirst().toString()).isEqualTo("1g.5gb@0");
        assertThat(JournalReplay.replay(rig.journal.records())).isEqualTo(rig.engine.snapshot());
    }

    /** A backend that answers its first plan 90 s late (a stuck driver call that completes after all). */
    private static GpuBackend lateOnce(SimulatedGpuBackend real, java.util.function.Supplier<VirtualTime> clock) {
        boolean[] delayed = new boolean[1];
        return withApply(real, (gpu, plan, ticket, sink) -> {
            if (delayed[0]) {
                real.apply(gpu, plan, ticket, sink);
                return;
            }
            delayed[0] = true;
            VirtualTime time = clock.get();
            time.at(time.nowS() + 90, () -> real.apply(gpu, plan, ticket, sink));
        });
    }

    @Test
    void aPlanAnsweredAfterItsTimeOut_isRecordedWithWhatItCreated_andItsLayoutAdopted() {
        // The first plan (create 1g.5gb@0 for "a"; c = 0, so the tightest instance) reaches the GPU
        // only at 90 s, past the 60 s time-out. At 60 s "a" is requeued and placed again: the engine,
        // believing the GPU empty, asks for 1g.5gb@0 again (answered at 60.13 s). At 90 s the late plan
        // meets a GPU that is no longer empty and fails at once as a conflict; its late answer is on
        // record with the layout the GPU has (NodeJournalTest: what a late plan created is migm's).
        Rig[] rig = new Rig[1];
        rig[0] = new Rig(List.of(Jobs.aJob("a").flat(3000).scaling(0, 1).duration(100).build()),
                b -> lateOnce((SimulatedGpuBackend) b, () -> rig[0].time), e -> e);
        rig[0].runToEnd();
        assertThat(rig[0].job("a").state()).isEqualTo(JobState.DONE);
        assertThat(rig[0].records(EngineRecord.ReconfigurationAnsweredLate.class)).singleElement().satisfies(l -> {
            assertThat(l.atS()).isCloseTo(90, within(1e-9));
            assertThat(l.failure()).hasValueSatisfying(f -> assertThat(f).startsWith("conflict"));
            assertThat(l.base().toString()).isEqualTo("-");
            assertThat(l.result().toString()).isEqualTo("1g.5gb@0");
            assertThat(l.layout().toString()).isEqualTo("1g.5gb@0");
        });
        assertThat(JournalReplay.replay(rig[0].journal.records())).isEqualTo(rig[0].engine.snapshot());
    }

    @Test
    void aPlanInFlightWhenItsGpuIsLost_isAnsweredOnRecordWhenTheGpuAnswersIt() {
        // The first plan (create 1g.5gb@0 for "a") is refused by the GPU only at 5 s, with its own
        // reason; gpu0 is lost at 1 s, which fails the plan at once ("GPU lost"). The GPU's answer
        // at 5 s is news (why it refused, what it has): it is on record as a late answer, not dropped.
        Rig[] rig = new Rig[1];
        rig[0] = new Rig(List.of(Jobs.aJob("a").flat(3000).scaling(0, 1).duration(10).build()),
                b -> withApply(b, (gpu, plan, ticket, sink) -> {
                    if (ticket > 1) {
                        b.apply(gpu, plan, ticket, sink);
                        return;
                    }
                    rig[0].time.at(5, () -> sink.deliver(new EngineEvent.ReconfigurationFinished(gpu, ticket,
                            java.util.Optional.of("create refused (injected fault 7-1)"))));
                }), e -> e);
        rig[0].at(1, new EngineEvent.GpuLost(0, "NVML_ERROR_GPU_IS_LOST"));
        rig[0].at(6, new EngineEvent.GpuRecovered(0));
        rig[0].runToEnd();
        assertThat(rig[0].job("a").state()).isEqualTo(JobState.DONE);
        // Nobody read the lost GPU: the failure records what it had before the plan ("-"), not the
        // plan's 1g.5gb@0 (a journal reading the plan's result as the GPU's counted instances the
        // GPU still had as destroyed, and a restart took them for another tool's).
        assertThat(rig[0].records(EngineRecord.ReconfigurationFailed.class)).first().satisfies(f -> {
            assertThat(f.reason()).startsWith("GPU lost");
            assertThat(f.layout().toString()).isEqualTo("-");
        });
        assertThat(rig[0].records(EngineRecord.ReconfigurationAnsweredLate.class)).singleElement().satisfies(l -> {
            assertThat(l.atS()).isCloseTo(5, within(1e-9));
            assertThat(l.failure()).hasValue("create refused (injected fault 7-1)");
            assertThat(l.adopted()).as("a lost GPU's layout is read when it answers again").isFalse();
        });
        assertThat(JournalReplay.replay(rig[0].journal.records())).isEqualTo(rig[0].engine.snapshot());
    }

    @Test
    void anAttemptThatCannotStart_failsItsJobAtOnce_withoutARetry() {
        // The executor reports that "a"'s command cannot start as its user (a missing program): the
        // job fails after that one attempt, where a crash would be retried up to max_attempts (6).
        Rig rig = new Rig(List.of(Jobs.aJob("a").flat(3000).duration(10).build()), b -> b, real -> new Executor() {
            @Override
            public void launch(Attempt attempt, JobSpec spec, EventSink sink) {
                sink.deliver(new EngineEvent.AttemptRunning(spec.id(), attempt.number()));
                sink.deliver(new EngineEvent.AttemptExited(spec.id(), attempt.number(),
                        new Outcome.CannotStart("command not found: pythn")));
            }

            @Override
            public void stop(Attempt attempt, String why) {
            }
        });
        rig.runToEnd();
        assertThat(rig.job("a").state()).isEqualTo(JobState.FAILED);
        assertThat(rig.job("a").attempts()).hasSize(1);
        assertThat(rig.job("a").lastReason()).isEqualTo("cannot start: command not found: pythn");
        assertThat(JournalReplay.replay(rig.journal.records())).isEqualTo(rig.engine.snapshot());
    }
}
