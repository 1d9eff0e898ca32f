package dev.migm.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The scheduling engine shared by every world (simulation, emulated GPU, real GPU): it takes events,
 * moves jobs through their states and lets a {@link SchedulingPolicy} place them. Only the
 * {@link Clock}, the {@link GpuBackend} and the {@link Executor} differ between worlds.
 *
 * <p>Its rooms: this class owns the jobs (each job's attempts, what an exit means for it);
 * {@link WaitingQueue} holds the waiting ones in the policy's order; {@link NodeGpus} owns the GPUs
 * (modes, layouts, occupants, plans in flight); {@link SchedulingRound} is what a policy sees and
 * does in a round; {@link AttemptWatch} acts on what a running attempt shows (its start, samples,
 * limits) through the {@link AttemptMonitor} of each attempt (peaks, the early-restart trigger);
 * {@link WaitReasons} says why a job waits. The rooms ask the engine to move jobs through
 * {@link EngineMoves} and know nothing else of it. Every change of a job's state is a record
 * journaled first and applied through {@link JobTransitions}, the one table of job states the
 * journal and its replay use too.
 *
 * <p>No job is dropped silently: every job ends {@code DONE}, {@code FAILED} or {@code CANCELLED}
 * with a reason, or is still queued with an {@link #explain explanation}. An attempt that ends in
 * OOM, an early restart or a crash sends its job back to {@code QUEUED} with a new need, or to
 * {@code FAILED} after {@link EngineSettings#maxAttempts()} attempts or when nothing larger exists.
 *
 * <p>Threading: an actor. One thread delivers events ({@link #handle}) and runs rounds
 * ({@link #schedule}); backends, executors and alarms only post events to the sink they are given,
 * and nothing re-enters the engine from inside a call it made (a seam's answer, even an immediate
 * one, arrives as a later event). The simulator's single thread is that thread; live, an
 * {@link EngineLoop} owns the engine and {@link #confineTo confines} it to its thread.
 */
public final class Engine extends EngineMoves {
    private final Timers clock;
    private final Journal journal;
    private final GpuBackend backend;
    private final Executor executor;
    private final SchedulingPolicy policy;
    private final MemoryPolicy memory;
    private final RuntimeEstimator runtime;
    private final EngineSettings settings;
    private final NodeGpus gpus;
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final WaitingQueue queue;
    /** Where seams and alarms post events: straight to {@link #handle} in the simulator, the actor's inbox live. */
    private EventSink sink;
    /** The one thread allowed to touch the engine, once confined (live); null in the simulator. */
    private Thread owner;
    private final SchedulingRound round;
    private final AttemptWatch watch;
    private final TailGrowth tail;
    private final List<EngineListener> listeners = new ArrayList<>();
    private long nextSeq;
    private long restarts;
    private long oomKills;
    private long rejectedSubmits;
    private boolean dirty = true;
    /**
     * The run's input is one batch and it is all in: {@link EngineEvent.InputClosed} names a last
     * submit time no later than the first (every job at once, as {@code migm run} of a file without
     * arrival times).
     */
    private boolean batchClosed;
    /** The earliest submit time of the jobs submitted (their specs'; infinity before any). */
    private double firstSubmitS = Double.POSITIVE_INFINITY;
    /** Set by {@link #stopLaunching}: nothing new starts. */
    private boolean stopping;
    /** Wake-up asked for by the policy and not yet delivered (infinity when none). */
    private double pendingWakeS = Double.POSITIVE_INFINITY;

    public Engine(Timers clock, Journal journal, GpuBackend backend, Executor executor, SchedulingPolicy policy,
                  MemoryPolicy memory, RuntimeEstimator runtime, EngineSettings settings) {
        this.clock = clock;
        this.journal = journal;
        this.backend = backend;
        this.executor = executor;
        this.policy = policy;
        this.memory = memory;
        this.runtime = runtime;
        this.settings = settings;
        this.sink = this::handle;
        this.gpus = new NodeGpus(this, clock, backend, policy);
        this.queue = new WaitingQueue(this, clock, gpus.largestSlotMib, policy, memory, runtime);
        this.round = new SchedulingRound(this, clock, backend, settings, gpus, queue);
        this.watch = new AttemptWatch(this, clock, executor, settings);
        this.tail = new TailGrowth(watch);
        journal.append(new EngineRecord.Started(clock.nowS(), gpus.layouts(), gpus.migModes()));
    }

    /**
     * Makes {@code inbox} the sink that seams and alarms post to, and {@code thread} the only one
     * that may call {@link #handle} or {@link #schedule} from now on (an {@link EngineLoop}). Call
     * before the first event.
     */
    public void confineTo(Thread thread, EventSink inbox) {
        this.owner = thread;
        this.sink = inbox;
    }

    private void checkOwner() {
        if (owner != null && Thread.currentThread() != owner) {
            throw new IllegalStateException("the engine is confined to " + owner.getName() + ", called from "
                    + Thread.currentThread().getName());
        }
    }

    public void addListener(EngineListener listener) {
        listeners.add(listener);
    }

    @Override
    EventSink sink() {
        return sink;
    }

    @Override
    Job job(String id) {
        return jobs.get(id);
    }

    @Override
    void requeue(Job job) {
        queue.enqueue(job, job.queued.attempt(), job.queued.progress());
    }

    @Override
    boolean batchAllIn() {
        return batchClosed;
    }

    @Override
    boolean stopping() {
        return stopping;
    }

    /** Journals a record and moves its job (if it is about one) through {@link JobTransitions}. */
    @Override
    void record(EngineRecord r) {
        journal.append(r);
        if (JobTransitions.moves(r)) {
            Job job = jobs.get(JobTransitions.jobOf(r));
            if (job != null) job.status = JobTransitions.apply(job.status, r);
        }
    }

    // ---------------------------------------------------------------- events

    /** Applies one event. */
    public void handle(EngineEvent event) {
        checkOwner();
        // A memory sample changes nothing a policy reads (an early restart it triggers comes back as
        // the attempt's exit, which does): it needs no round. Every other event may.
        if (!(event instanceof EngineEvent.MemorySample || event instanceof EngineEvent.SampleFired)) dirty = true;
        switch (event) {
            case EngineEvent.JobSubmitted s -> submitted(s.spec());
            case EngineEvent.ReconfigurationFinished r -> gpus.reconfigured(r);
            case EngineEvent.MigModeChanged m -> gpus.modeChangeEnded(m, backend);
            case EngineEvent.AttemptRunning r -> {
                watch.running(r);
                Job job = jobs.get(r.jobId());
                if (job != null && job.current != null && job.current.number() == r.attempt()
                        && job.monitor.runningSinceS == clock.nowS()) {
                    runtime.running(job.spec, job.current.slot().sms(), gpus.get(job.current.slot().gpu()).model.sms(),
                            clock.nowS(), job.current.startProgress());
                    if (policy.movesRunsAtTheTail()) tail.running(job);
                }
            }
            case EngineEvent.AttemptExited x -> exited(x);
            case EngineEvent.MemorySample m -> watch.sampled(m);
            case EngineEvent.SampleFired f -> watch.sampleFired(f);
            case EngineEvent.CancelJob c -> cancel(c);
            case EngineEvent.DrainGpu d -> gpus.drain(d);
            case EngineEvent.GpuLost l -> gpus.lost(l, executor);
            case EngineEvent.GpuRecovered r -> gpus.recovered(r, backend);
            case EngineEvent.InputClosed c -> batchClosed = c.lastSubmitS() <= firstSubmitS;
            case EngineEvent.Wake w -> {
                if (clock.nowS() >= pendingWakeS) {
                    pendingWakeS = Double.POSITIVE_INFINITY;
                }
            }
            case EngineEvent.ReconfigurationTimedOut t -> {
                if (gpus.get(t.gpu()).modeTicket == t.ticket()) {
                    gpus.modeChangeEnded(new EngineEvent.MigModeChanged(t.gpu(), t.ticket(), Optional.of(
                            "no answer from the GPU in " + settings.migModeChangeTimeoutS() + " s")), backend);
                } else if (gpus.pending.containsKey(t.ticket())) {
                    gpus.reconfigured(new EngineEvent.ReconfigurationFinished(t.gpu(), t.ticket(), Optional.of(
                            NodeGpus.TIMED_OUT + settings.reconfigureTimeoutS() + " s")));
                }
            }
            case EngineEvent.TimeLimitReached t -> watch.timeLimitReached(t);
            case EngineEvent.LaunchTimedOut t -> watch.launchTimedOut(t);
        }
    }

    private void cancel(EngineEvent.CancelJob c) {
        Job job = jobs.get(c.jobId());
        if (job == null) {
            record(new EngineRecord.CommandRefused(clock.nowS(), "cancel " + c.jobId(), "no such job"));
            return;
        }
        switch (job.state()) {
            case DONE, FAILED, CANCELLED -> record(new EngineRecord.CommandRefused(clock.nowS(),
                    "cancel " + c.jobId(), "the job already ended " + job.state().label()));
            case SUBMITTED, QUEUED -> {
                takeWaiting(job.queued);
                cancelled(job, "cancelled by " + c.by());
            }
            case PLACING, STARTING, RUNNING -> {
                if (job.cancelledBy != null) {
                    return;
                }
                job.cancelledBy = c.by();
                record(new EngineRecord.CancelRequested(clock.nowS(), c.jobId(), c.by()));
                if (job.current != null) {
                    executor.stop(job.current, "cancelled by " + c.by());
                }
            }
        }
    }

    @Override
    void cancelled(Job job, String reason) {
        record(new EngineRecord.Cancelled(clock.nowS(), job.spec.id(), reason));
        end(job, reason);
    }

    // ---------------------------------------------------------------- jobs in

    private void submitted(JobSpec spec) {
        firstSubmitS = Math.min(firstSubmitS, spec.submitS());
        if (jobs.containsKey(spec.id())) {
            rejectedSubmits++;
            record(new EngineRecord.SubmitRejected(clock.nowS(), spec, "duplicate job id '" + spec.id() + "'"));
            for (EngineListener l : listeners) {
                l.submitRejected(spec, "duplicate job id '" + spec.id() + "'");
            }
            return;
        }
        Job job = new Job(spec, nextSeq++);
        jobs.put(spec.id(), job);
        record(new EngineRecord.Submitted(clock.nowS(), spec));
        Optional<String> unestimable = estimateFirst(job);
        if (unestimable.isPresent()) {
            fail(job, unestimable.get());
            return;
        }
        queue.enqueue(job, 1, 0.0);
    }

    /**
     * Sets the need of a job's first attempt from the memory policy; the reason the job cannot run
     * when the policy cannot estimate it (parameters its estimators cannot use: refused at every door
     * of a node, so only a record of an older migm brings one here). The job then fails, and nothing
     * else in the engine is held up by it.
     */
    private Optional<String> estimateFirst(Job job) {
        try {
            job.need = memory.initial(job.spec);
            return Optional.empty();
        } catch (RuntimeException e) {
            job.need = new MemoryPolicy.Need(0, "");
            return Optional.of("its memory cannot be estimated: " + e.getMessage());
        }
    }

    /**
     * Takes over a job the node service held when it last stopped (from its durable journal), before
     * the first scheduling round: with {@code running}, its last attempt's process still runs on that
     * slot (adopted by the executor, whose exit report comes as for any attempt); otherwise it waits
     * for its next attempt, from {@code progress} (its checkpoint). A job the engine already holds is
     * refused like a duplicate submit.
     *
     * @param attempts   the attempts launched so far, oldest first
     * @param needMib    the memory its next (or running) attempt is planned with; 0: estimate afresh
     * @param lastReason why it is where it is
     * @param yielded    its attempts were stopped at their checkpoint for another job before: never again
     * @param yieldedTo  another job's attempts were stopped for it before: it stops nobody in turn
     */
    public void recover(JobSpec spec, List<Attempt> attempts, boolean running, long needMib, String needSource,
                        double progress, String lastReason, boolean yielded, boolean yieldedTo) {
        checkOwner();
        dirty = true;
        if (jobs.containsKey(spec.id())) {
            submitted(spec);
            return;
        }
        if (running && attempts.isEmpty()) {
            throw new IllegalArgumentException(spec.id() + ": a running job needs its attempt");
        }
        Job job = new Job(spec, nextSeq++);
        job.attempts.addAll(attempts);
        job.lastReason = lastReason;
        job.yielded = yielded;
        job.yieldedTo = yieldedTo;
        Optional<String> unestimable = Optional.empty();
        if (needMib > 0) {
            job.need = new MemoryPolicy.Need(needMib, needSource);
        } else {
            unestimable = estimateFirst(job);
        }
        if (!attempts.isEmpty()) job.firstLaunchS = attempts.getFirst().launchS();
        jobs.put(spec.id(), job);
        record(new EngineRecord.Recovered(clock.nowS(), spec, attempts, running, job.need.mib(), job.need.source(),
                progress, lastReason));
        if (unestimable.isPresent() && !running) {
            fail(job, unestimable.get());
            return;
        }
        if (!running) {
            queue.enqueue(job, attempts.size() + 1, progress);
            return;
        }
        Attempt attempt = attempts.getLast();
        NodeGpu gpu = gpus.get(attempt.slot().gpu());
        RuntimeExpectation expected = runtime.expect(spec);
        job.queued = new QueuedJob(spec, job.need.mib(), false, job.seq, attempt.number(), attempt.startProgress(),
                job.need.source(), clock.nowS(), expected, NeedSpread.NONE);
        job.current = attempt;
        job.monitor = AttemptMonitor.of(job.queued, gpu.model, attempt.slot(), settings.earlyRestart(),
                gpus.largestSlotMib, settings.startupS());
        // Samples of the time before the restart are gone: the projection starts again now.
        job.monitor.runningSinceS = clock.nowS();
        runtime.running(spec, attempt.slot().sms(), gpu.model.sms(), clock.nowS(), attempt.startProgress());
        job.expectedEndS = Math.max(clock.nowS(), attempt.launchS() + expectedRuntime(job.queued, gpu, attempt.slot().sms()));
        job.endGivenAgeS = Double.NEGATIVE_INFINITY;
        gpu.occupy(attempt.slot(), job);
        spec.limits().timeLimitS().ifPresent(limit -> clock.at(Math.max(clock.nowS(), attempt.launchS() + limit),
                new EngineEvent.TimeLimitReached(spec.id(), attempt.number()), sink));
    }

    /** Takes a job out of the queue (placed, cancelled, failed). */
    @Override
    Job takeWaiting(QueuedJob queued) {
        return queue.take(queued, jobs);
    }

    // ---------------------------------------------------------------- attempts

    /** Launches the job's next attempt on a slot placed for it (the job has left the queue). */
    @Override
    void launch(Job job, NodeGpu gpu, Slot slot) {
        int number = job.attempts.size() + 1;
        double now = clock.nowS();
        Attempt attempt = new Attempt(job.spec.id(), number, slot, now, job.queued.progress());
        job.attempts.add(attempt);
        job.current = attempt;
        job.stopRequested = false;
        job.projectedMib = 0;
        job.monitor = AttemptMonitor.of(job.queued, gpu.model, slot, settings.earlyRestart(), gpus.largestSlotMib,
                settings.startupS());
        if (Double.isNaN(job.firstLaunchS)) {
            job.firstLaunchS = now;
        }
        job.expectedEndS = now + expectedRuntime(job.queued, gpu, slot.sms());
        job.endGivenAgeS = Double.NEGATIVE_INFINITY;
        gpu.occupy(slot, job);
        record(new EngineRecord.AttemptLaunched(now, job.spec.id(), number, slot, attempt.startProgress(),
                job.checkpointStep > 0 ? java.util.OptionalLong.of(job.checkpointStep) : java.util.OptionalLong.empty()));
        for (EngineListener l : listeners) {
            l.attemptLaunched(job.view(), attempt);
        }
        clock.at(now + settings.launchTimeoutS(), new EngineEvent.LaunchTimedOut(job.spec.id(), number), sink);
        job.spec.limits().timeLimitS().ifPresent(limit ->
                clock.at(now + limit, new EngineEvent.TimeLimitReached(job.spec.id(), number), sink));
        try {
            executor.launch(attempt, job.spec, sink);
        } catch (RuntimeException e) {
            // The executor could not start it: the attempt comes back as a crash, on the engine's
            // thread and after this round, like any answer.
            clock.at(now, new EngineEvent.AttemptExited(job.spec.id(), number,
                    new Outcome.Crashed("launch failed: " + e.getMessage())), sink);
        }
    }

    /** Expected time from launch to exit of the job's next attempt on a slot of {@code sms} SMs. */
    @Override
    double expectedRuntime(QueuedJob q, NodeGpu gpu, int sms) {
        return settings.startupS() + q.runtime().onSlotS(sms, gpu.model.sms()) * (1 - q.progress());
    }

    @Override
    void exited(EngineEvent.AttemptExited x) {
        Job job = jobs.get(x.jobId());
        if (job == null || job.current == null || job.current.number() != x.attempt()) {
            return;
        }
        Attempt attempt = job.current;
        double now = clock.nowS();
        record(new EngineRecord.AttemptExited(now, x.jobId(), x.attempt(), x.outcome()));
        NodeGpu gpu = gpus.get(attempt.slot().gpu());
        gpu.release(attempt.slot());
        runtime.notRunning(job.spec);
        tail.ended(job);
        job.current = null;
        job.heldSliceSeconds += (now - attempt.launchS()) * attempt.slot().computeSlices();
        for (EngineListener l : listeners) {
            l.attemptEnded(job.view(), attempt, x.outcome(), now);
        }
        if (job.cancelledBy != null && !(x.outcome() instanceof Outcome.Completed)) {
            cancelled(job, "cancelled by " + job.cancelledBy);
            return;
        }
        if (job.timedOut && !(x.outcome() instanceof Outcome.Completed)) {
            fail(job, AttemptWatch.timeLimitText(job) + " reached on attempt " + attempt.number() + " (" + attempt.slot() + ")");
            return;
        }
        AttemptMonitor seen = job.monitor;
        long slotMib = attempt.slot().memoryMib();
        switch (x.outcome()) {
            case Outcome.Completed c -> {
                job.endS = now;
                long peak = Math.min(slotMib, Math.max(c.peakSampledMib(), seen.observedPeakMib));
                long start = Math.min(slotMib, seen.startMib > 0 ? seen.startMib : c.firstSampledMib());
                if (peak > 0) {
                    record(new EngineRecord.Learned(now, job.spec.id(), attempt.number(), job.spec.app(),
                            job.spec.jobClass(), "completed", peak, slotMib));
                    memory.learn(job.spec, attempt.number(), peak, start, slotMib);
                }
                if (!Double.isNaN(seen.runningSinceS) && now > seen.runningSinceS) {
                    runtime.learn(job.spec, attempt.slot().sms(), gpu.model.sms(), now - seen.runningSinceS,
                            1 - attempt.startProgress());
                }
                record(new EngineRecord.Done(now, job.spec.id()));
                ended(job);
            }
            case Outcome.OutOfMemory oom -> {
                job.ooms++;
                oomKills++;
                job.failedOnLargest |= slotMib >= gpus.largestSlotMib;
                job.lastReason = "out of memory on " + attempt.slot() + " (" + slotMib + " MiB): " + oom.evidence();
                long used = Math.min(slotMib, Math.max(oom.usedMib(), seen.observedPeakMib));
                if (oom.checkpoint().exists()) job.checkpointStep = oom.checkpoint().step();
                record(new EngineRecord.Learned(now, job.spec.id(), attempt.number(), job.spec.app(),
                        job.spec.jobClass(), "oom", used, slotMib));
                retry(job, attempt, memory.afterOom(job.spec, attempt.number(), job.need, slotMib, used),
                        seen.keptShare(oom.checkpoint(), now));
            }
            case Outcome.Stopped s -> {
                job.lastReason = "stopped: " + s.why();
                if (s.checkpoint().exists()) job.checkpointStep = s.checkpoint().step();
                if (job.projectedMib > 0) {
                    record(new EngineRecord.Learned(now, job.spec.id(), attempt.number(), job.spec.app(),
                            job.spec.jobClass(), "projected", job.projectedMib, slotMib));
                }
                MemoryPolicy.Need need = job.projectedMib > 0
                        ? memory.afterProjection(job.spec, attempt.number(), job.need, job.projectedMib) : job.need;
                retry(job, attempt, need, seen.keptShare(s.checkpoint(), now));
            }
            case Outcome.CannotStart c -> fail(job, "cannot start: " + c.reason());
            case Outcome.Crashed c -> {
                job.lastReason = "crashed: " + c.reason();
                retry(job, attempt, job.need, attempt.startProgress());
            }
        }
        queue.reestimateInvalidated();
    }

    private void retry(Job job, Attempt attempt, MemoryPolicy.Need need, double progress) {
        if (attempt.number() >= job.attemptBudget(job.spec.limits().maxAttempts().orElse(settings.maxAttempts()))) {
            fail(job, job.lastReason + "; gave up after " + attempt.number() + " attempts");
            return;
        }
        restarts++;
        job.need = need;
        queue.enqueue(job, attempt.number() + 1, progress);
    }

    @Override
    void fail(Job job, String reason) {
        record(new EngineRecord.Failed(clock.nowS(), job.spec.id(), reason));
        end(job, reason);
    }

    private void end(Job job, String reason) {
        job.endS = clock.nowS();
        job.lastReason = reason;
        ended(job);
    }

    private void ended(Job job) {
        for (EngineListener l : listeners) {
            l.jobEnded(job.view());
        }
    }

    // ---------------------------------------------------------------- scheduling

    /**
     * From now on the engine starts nothing: no scheduling round runs, and a job whose
     * reconfiguration answers afterwards goes back to the queue instead of being launched, without
     * an attempt counted (none was launched). What runs goes on; the node service calls this first
     * when it stops, so that no attempt is launched onto an instance the shutdown then gives up.
     */
    public void stopLaunching() {
        checkOwner();
        stopping = true;
    }

    /** Runs one policy round if anything changed since the last one. */
    public void schedule() {
        checkOwner();
        if (!dirty || stopping) {
            return;
        }
        dirty = false;
        runtime.observe(clock.nowS());
        queue.reestimateInvalidated();
        round.run(policy);
        if (batchClosed && queue.waiting.isEmpty() && policy.movesRunsAtTheTail()) {
            double again = tail.consider(gpus.list, clock.nowS(), settings.startupS());
            if (again > clock.nowS() && again < Double.POSITIVE_INFINITY) wakeAt(again);
        }
    }

    @Override
    void preempt(Job job, String forJobId, String why) {
        watch.yieldTo(job, forJobId, why);
    }

    /** A round at {@code atS} even if nothing else happens by then (asked for by the policy). */
    @Override
    void wakeAt(double atS) {
        if (atS > clock.nowS() && atS < pendingWakeS) {
            pendingWakeS = atS;
            clock.at(atS, new EngineEvent.Wake(), sink);
        }
    }

    // ---------------------------------------------------------------- queries

    /** Why a waiting job does not run now. */
    public Optional<Unplaceable> explain(String jobId) {
        return WaitReasons.explain(jobs.get(jobId), gpus.list, round.refusalOf(jobId));
    }

    /**
     * Why each of these jobs that waits does not run now, as {@link #explain}'s message: worked out
     * once per distinct need in one call (the reason depends on the need and the GPUs, not on the
     * job), so listing a queue of 80,000 jobs that need the same does not explain it 80,000 times.
     */
    public Map<String, String> waitingReasons(Collection<String> jobIds) {
        return WaitReasons.of(jobIds, jobs::get, gpus.list, round::refusalOf);
    }

    /**
     * The most memory each GPU can give one job: its largest instance with MIG on, the whole GPU with
     * MIG off or where the policy may turn MIG off (the backend allows it and the policy decides
     * modes). A node refuses at its door a job that declares more than all of these.
     */
    public List<Long> largestSlotsMib() {
        return WaitReasons.largestSlotsMib(gpus.list, policy.decidesMigModes());
    }

    /** Ends every job still waiting as failed with its explanation (the end of a simulation). */
    public void failWaiting(String prefix) {
        for (QueuedJob q : List.copyOf(queue.waiting)) {
            String why = explain(q.id()).map(Unplaceable::message).orElse("");
            fail(takeWaiting(q), prefix + why);
        }
    }

    public Collection<JobView> jobs() {
        return jobs.values().stream().map(Job::view).toList();
    }

    /**
     * Drops an ended job from the engine's memory (its records stay in the journal): a driver that
     * streams a long trace keeps only live jobs. The engine then no longer knows the id, so the
     * driver must guarantee ids are not submitted again (the simulator's trace reader does).
     */
    public void forget(String jobId) {
        checkOwner();
        Job job = jobs.get(jobId);
        if (job == null) return;
        if (!job.state().ended()) {
            throw new IllegalStateException("job " + jobId + " is " + job.state() + ", not ended");
        }
        jobs.remove(jobId);
    }

    public int waitingCount() {
        return queue.waiting.size();
    }

    /** What the engine counted so far: plans, restarts, OOMs, early restarts, refused submits, mode changes. */
    public EngineState.Counters counters() {
        return new EngineState.Counters(gpus.reconfigurations, restarts, oomKills, watch.earlyRestarts, rejectedSubmits,
                gpus.migModeChanges, watch.preemptions);
    }

    /** What the engine holds now, as values (see {@link JournalReplay}). */
    public EngineState snapshot() {
        Map<String, JobStatus> out = new LinkedHashMap<>();
        for (Job j : jobs.values()) out.put(j.spec.id(), j.status);
        return new EngineState(out, gpus.layouts(), gpus.migModes(), gpus.statuses(), counters());
    }
}
