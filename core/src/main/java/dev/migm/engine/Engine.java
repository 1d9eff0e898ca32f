package dev.migm.engine;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import dev.migm.partition.Planner;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The scheduling engine shared by every world (simulation, emulated GPU, real GPU): the job state
 * machine, the GPUs' occupancy, and the loop that lets a {@link SchedulingPolicy} place jobs. Only
 * the {@link Clock}, the {@link GpuBackend} and the {@link Executor} differ between worlds.
 *
 * <p>Job states: {@code QUEUED -> PLACING (reconfiguration in flight) -> STARTING (process and CUDA
 * context coming up) -> RUNNING -> DONE | FAILED}; an attempt that ends in OOM, an early restart or
 * a crash sends the job back to {@code QUEUED} with a new need, or to {@code FAILED} after
 * {@link Settings#maxAttempts()} attempts or when nothing larger exists. No job is dropped silently:
 * every job ends {@code DONE} or {@code FAILED} with a reason, or is still queued with an
 * {@link #explain explanation}.
 *
 * <p>Threading: an actor. One thread delivers events ({@link #handle}) and runs rounds
 * ({@link #schedule}); backends, executors and alarms only post events to the sink they are given,
 * and nothing re-enters the engine from inside a call it made (a seam's answer, even an immediate
 * one, arrives as a later event). The simulator's single thread is that thread; live, an
 * {@link EngineLoop} owns the engine and {@link #confineTo confines} it to its thread.
 */
public final class Engine {
    /**
     * Engine settings.
     *
     * @param startupS     start-up cost of an attempt assumed by policies (models.md section 4: 1 s)
     * @param maxAttempts  attempts before a job fails for good
     * @param earlyRestart the early-restart trigger
     * @param reconfigureTimeoutS how long a reconfiguration may go unanswered before it counts as
     *                     failed: NVML creates and destroys an instance in 0.1-0.25 s (models.md section 4,
     *                     p95), so even a full repartition of 14 operations answers within 4 s; 60 s
     *                     means the GPU or the driver is not answering
     * @param launchTimeoutS how long a launched attempt may go without its process being reported up:
     *                     spawning a process takes milliseconds and an executor reports it at once; 120 s
     *                     means the executor lost it
     */
    public record Settings(double startupS, int maxAttempts, EarlyRestart earlyRestart, double reconfigureTimeoutS,
                           double launchTimeoutS, double migModeChangeTimeoutS) {
        /**
         * Mode changes time out after 600 s: a change that needs a GPU reset is planned "in minutes"
         * on Ampere (mig-hardware.md section 3.7), ten times the 60 s of an instance operation.
         */
        private static final double DEFAULT_MODE_TIMEOUT_S = 600;
        public static final Settings DEFAULT = new Settings(1.0, 6, EarlyRestart.DEFAULT, 60, 120,
                DEFAULT_MODE_TIMEOUT_S);

        public Settings(double startupS, int maxAttempts, EarlyRestart earlyRestart, double reconfigureTimeoutS,
                        double launchTimeoutS) {
            this(startupS, maxAttempts, earlyRestart, reconfigureTimeoutS, launchTimeoutS, DEFAULT_MODE_TIMEOUT_S);
        }

        public Settings withEarlyRestart(EarlyRestart e) {
            return new Settings(startupS, maxAttempts, e, reconfigureTimeoutS, launchTimeoutS, migModeChangeTimeoutS);
        }
    }

    /**
     * When to stop an attempt whose projected peak will not fit its instance.
     *
     * @param enabled     whether early restart is on
     * @param minSamples  samples needed before the projection is trusted
     * @param window      how many samples the projection uses at least: an attempt keeps one to two
     *                    windows, spread over its whole run (older ones thinned as it grows)
     * @param minSpan     progress the samples must span (a slope over a sliver of progress is noise)
     * @param z           how many standard errors the projection must clear the instance by
     * @param noiseFloor  the least relative noise assumed in samples (allocator granularity and
     *                    reporting noise), so that a few quiet samples do not look certain
     */
    public record EarlyRestart(boolean enabled, int minSamples, int window, double minSpan, double z,
                               double noiseFloor) {
        public static final EarlyRestart DEFAULT = new EarlyRestart(true, 10, 60, 0.02, 4.0, 0.01);
        public static final EarlyRestart OFF = new EarlyRestart(false, 10, 60, 0.02, 4.0, 0.01);

        /**
         * Whether the trigger keeps an attempt's sample number {@code sequence} (from 0): all of the
         * first two windows, then every second one up to four windows, every fourth up to eight,
         * and so on, so that the samples kept stay between one and two windows spread over the
         * whole attempt once older ones are thinned (Engine's decimate). A pure function of the
         * number, so that a sampler can send only these.
         */
        public static boolean keeps(long sequence, int window) {
            long twoWindows = 2L * window;
            if (sequence < twoWindows) return sequence >= 0;
            return (sequence & (stride(sequence, twoWindows) - 1)) == 0;
        }

        /**
         * The stride kept at sample number {@code sequence} (at least {@code twoWindows}): 2^(k+1) on
         * [2W 2^k, 2W 2^(k+1)), that is for floor(sequence / 2W) in [2^k, 2^(k+1)).
         */
        private static long stride(long sequence, long twoWindows) {
            return Long.highestOneBit(sequence / twoWindows) << 1;
        }

        /**
         * The first sample number after {@code sequence} that {@link #keeps} keeps, in constant time
         * (a sampler that sends only these skips the others without counting through them). Each
         * stretch of equal stride starts at {@code 2 W 2^k}, a multiple of its stride {@code 2^(k+1)}
         * and so of the stride before it: the next multiple of the current stride is kept.
         */
        public static long nextKept(long sequence, int window) {
            long next = Math.max(0, sequence + 1);
            long twoWindows = 2L * window;
            if (next < twoWindows) return next;
            long stride = stride(next, twoWindows);
            return (next + stride - 1) & -stride;
        }

        /**
         * The sample numbers {@link #keeps} keeps, in order, each in a few additions: within a
         * stretch of equal stride the next is one stride on; a stretch ends at the next one's start,
         * where the stride doubles (a sampler that walks every kept sample of an attempt).
         */
        public static final class KeptSequence {
            private long next;
            private long stride = 1;
            private long stretchEnd;

            public KeptSequence(int window) {
                this.stretchEnd = 2L * window;
            }

            /** The next kept sample number (from 0). */
            public long take() {
                long taken = next;
                next += stride;
                if (next >= stretchEnd) {
                    next = stretchEnd;
                    stride <<= 1;
                    stretchEnd <<= 1;
                }
                return taken;
            }
        }

        /**
         * The trigger, pure: given an attempt's recent samples (progress as a share of the attempt,
         * memory as reported), the instance's memory and the earliest plausible end of the run (as
         * that share), the projected peak to restart with if the job must be stopped now. It fires
         * only when (1) even the conservative bound of the window's line at that end clears the
         * instance, and (2) the growth is sustained: extended with the smaller of the median
         * pairwise slopes (Theil-Sen) of the window's two halves, the line still clears it. Without
         * (2), a burst of temporary buffers or a pause in growth tilts a least-squares line fitted
         * across it, and jobs that fit are stopped. The trigger assumes growth goes on at its rate
         * to the end (the paper's projection): a job whose growth stops well before its end can be
         * stopped although it would have fitted. The peak it returns is the line's value at the
         * expected end (at least the bound).
         */
        public Optional<Long> verdict(java.util.Collection<MemoryProjection.Sample> samples, long slotMib,
                                      double shortestEnd) {
            return verdict(samples, MemoryProjection.Sums.of(samples), slotMib, shortestEnd);
        }

        /** The same, with the samples' running sums kept alongside them (constant time unless it may fire). */
        public Optional<Long> verdict(java.util.Collection<MemoryProjection.Sample> samples, MemoryProjection.Sums sums,
                                      long slotMib, double shortestEnd) {
            if (sums.count() < minSamples) {
                return Optional.empty();
            }
            double last = sums.maxProgress();
            if (last - sums.minProgress() < minSpan) {
                return Optional.empty();
            }
            // The bound lies below the line (z >= 0): a line that fits the instance settles it
            // without the error terms, as it does for nearly every sample.
            double line = MemoryProjection.lineAt(sums, shortestEnd);
            if (Double.isNaN(line) || (z >= 0 && line <= slotMib)) {
                return Optional.empty();
            }
            Optional<MemoryProjection.Result> bound = MemoryProjection.project(sums, shortestEnd, z, noiseFloor);
            if (bound.isEmpty() || bound.get().lowerMib() <= slotMib) {
                return Optional.empty();
            }
            java.util.List<MemoryProjection.Sample> all = java.util.List.copyOf(samples);
            int half = all.size() / 2;
            double sustained = Math.min(MemoryProjection.medianSlope(all.subList(0, half)),
                    MemoryProjection.medianSlope(all.subList(half, all.size())));
            double lineAtLast = MemoryProjection.project(sums, last, z, noiseFloor).orElseThrow().projectedMib();
            if (lineAtLast + Math.max(0, sustained) * (shortestEnd - last) <= slotMib) {
                return Optional.empty();
            }
            double central = MemoryProjection.project(sums, 1.0, z, noiseFloor).orElseThrow().projectedMib();
            return Optional.of(Math.round(Math.max(central, bound.get().projectedMib())));
        }
    }

    /** Job states. */
    public enum State { QUEUED, PLACING, STARTING, RUNNING, DONE, FAILED, CANCELLED }

    private final Timers clock;
    private final Journal journal;
    private final GpuBackend backend;
    private final Executor executor;
    private final SchedulingPolicy policy;
    private final MemoryPolicy memory;
    private final RuntimeEstimator runtime;
    private final Settings settings;
    private final List<Gpu> gpus = new ArrayList<>();
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final TreeSet<QueuedJob> waiting;
    private final Map<Long, Pending> pending = new HashMap<>();
    /** Waiting jobs by application: re-estimated when the application's history changes. */
    private final Map<String, java.util.Set<Job>> waitingByApp = new HashMap<>();
    /** Where seams and alarms post events: straight to {@link #handle} in the simulator, the actor's inbox live. */
    private EventSink sink;
    /** The one thread allowed to touch the engine, once confined (live); null in the simulator. */
    private Thread owner;
    private final Context context = new Context();
    /** What the policy holds per GPU (a reservation's slices), as of the last round and in this one. */
    private final Map<Integer, Hold> held = new HashMap<>();
    private final Map<Integer, Hold> heldThisRound = new HashMap<>();
    private final List<EngineListener> listeners = new ArrayList<>();
    /**
     * The largest memory any slot of the node offers in the modes it starts with: needs are capped
     * at it and early restart does not fire there. A policy that turns MIG off later offers a whole
     * GPU's memory too, but a need above the largest instance is still capped: a job whose true peak
     * lies between the two may fail on the instance where a MIG-off GPU would have held it.
     */
    private final long largestSlotMib;
    private long nextSeq;
    private long nextTicket = 1;
    private long reconfigurations;
    private long restarts;
    private long oomKills;
    private long earlyRestarts;
    private long rejectedSubmits;
    private long migModeChanges;
    private boolean dirty = true;
    /** Set by {@link #stopLaunching}: nothing new starts. */
    private boolean stopping;

    /** Wake-up asked for by the policy and not yet delivered (infinity when none). */
    private double pendingWakeS = Double.POSITIVE_INFINITY;

    public Engine(Timers clock, Journal journal, GpuBackend backend, Executor executor, SchedulingPolicy policy,
                  MemoryPolicy memory, RuntimeEstimator runtime, Settings settings) {
        this.clock = clock;
        this.journal = journal;
        this.backend = backend;
        this.executor = executor;
        this.policy = policy;
        this.memory = memory;
        this.runtime = runtime;
        this.settings = settings;
        this.waiting = new TreeSet<>(policy.queueOrder().thenComparingLong(QueuedJob::seq));
        this.sink = this::handle;
        List<GpuModel> models = backend.gpus();
        for (int i = 0; i < models.size(); i++) {
            boolean keep = policy.decidesMigModes() && backend.canChangeMigMode(i);
            boolean mig = keep ? backend.migEnabledNow(i) : policy.migEnabled();
            if (!keep) backend.setMigEnabled(i, mig);
            gpus.add(new Gpu(i, models.get(i), mig, backend.layout(i), backend.canChangeMigMode(i),
                    backend.canChangeMigMode(i) ? backend.migModeChangeS(i) : Double.POSITIVE_INFINITY));
        }
        long largest = 0;
        for (Gpu g : gpus) {
            largest = Math.max(largest, g.migEnabled ? g.model.largestProfile().memoryMib() : g.model.memoryMib());
        }
        this.largestSlotMib = largest;
        journal.append(new EngineRecord.Started(clock.nowS(), gpus.stream().map(g -> g.layout).toList(),
                gpus.stream().map(g -> g.migEnabled).toList()));
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

    /** Observes job transitions (journal, metrics, reports). */
    public interface EngineListener {
        default void attemptLaunched(JobView job, Attempt attempt) {
        }

        default void attemptEnded(JobView job, Attempt attempt, Outcome outcome, double nowS) {
        }

        default void jobEnded(JobView job) {
        }

        /** A submit was refused (a duplicate id); nothing of the engine changed. */
        default void submitRejected(JobSpec spec, String reason) {
        }
    }

    public void addListener(EngineListener listener) {
        listeners.add(listener);
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
            case EngineEvent.ReconfigurationFinished r -> reconfigured(r);
            case EngineEvent.MigModeChanged m -> migModeChanged(m);
            case EngineEvent.AttemptRunning r -> {
                Job job = jobs.get(r.jobId());
                if (job != null && job.current != null && job.current.number() == r.attempt()
                        && job.state == State.STARTING) {
                    journal.append(new EngineRecord.AttemptRunning(clock.nowS(), r.jobId(), r.attempt()));
                    job.state = State.RUNNING;
                    job.runningSinceS = clock.nowS();
                    Attempt attempt = job.current;
                    executor.judgeAhead(attempt, (sequence, takenAtS, usedMib, progress) -> {
                        if (job.current != attempt || job.firedAheadMib > 0) return false;
                        job.firedAheadMib = judge(job, takenAtS, usedMib, progress);
                        return job.firedAheadMib > 0;
                    });
                }
            }
            case EngineEvent.AttemptExited x -> exited(x);
            case EngineEvent.MemorySample m -> sampled(m);
            case EngineEvent.SampleFired f -> sampleFired(f);
            case EngineEvent.CancelJob c -> cancel(c);
            case EngineEvent.DrainGpu d -> {
                if (d.gpu() < 0 || d.gpu() >= gpus.size()) {
                    journal.append(new EngineRecord.CommandRefused(clock.nowS(), "drain gpu" + d.gpu(),
                            "no such GPU (the node has " + gpus.size() + ")"));
                    return;
                }
                journal.append(new EngineRecord.GpuDrain(clock.nowS(), d.gpu(), d.drain()));
                Gpu gpu = gpus.get(d.gpu());
                gpu.draining = d.drain();
                gpu.version++;
            }
            case EngineEvent.GpuLost l -> lost(l);
            case EngineEvent.GpuRecovered r -> {
                Gpu gpu = gpus.get(r.gpu());
                if (!gpu.lost) {
                    return;
                }
                Layout actual = backend.layout(r.gpu());
                journal.append(new EngineRecord.GpuHealth(clock.nowS(), r.gpu(), false, "answers again", actual));
                gpu.lost = false;
                gpu.layout = actual;
                gpu.occupants.keySet().retainAll(actual.instances());
                gpu.version++;
            }
            case EngineEvent.Wake w -> {
                if (clock.nowS() >= pendingWakeS) {
                    pendingWakeS = Double.POSITIVE_INFINITY;
                }
            }
            case EngineEvent.ReconfigurationTimedOut t -> {
                if (gpus.get(t.gpu()).modeTicket == t.ticket()) {
                    migModeChanged(new EngineEvent.MigModeChanged(t.gpu(), t.ticket(), Optional.of(
                            "no answer from the GPU in " + settings.migModeChangeTimeoutS() + " s")));
                } else if (pending.containsKey(t.ticket())) {
                    reconfigured(new EngineEvent.ReconfigurationFinished(t.gpu(), t.ticket(), Optional.of(
                            TIMED_OUT + settings.reconfigureTimeoutS() + " s")));
                }
            }
            case EngineEvent.TimeLimitReached t -> {
                Job job = jobs.get(t.jobId());
                if (job != null && job.current != null && job.current.number() == t.attempt() && !job.timedOut) {
                    job.timedOut = true;
                    job.stopRequested = true;
                    String why = timeLimitText(job) + " reached";
                    journal.append(new EngineRecord.StopRequested(clock.nowS(), t.jobId(), t.attempt(), why, false));
                    executor.stop(job.current, why);
                }
            }
            case EngineEvent.LaunchTimedOut t -> {
                Job job = jobs.get(t.jobId());
                if (job != null && job.current != null && job.current.number() == t.attempt()
                        && job.state == State.STARTING) {
                    String why = "the process was not reported up in " + settings.launchTimeoutS() + " s";
                    journal.append(new EngineRecord.StopRequested(clock.nowS(), t.jobId(), t.attempt(), why, false));
                    executor.stop(job.current, why);
                    exited(new EngineEvent.AttemptExited(t.jobId(), t.attempt(), new Outcome.Crashed(why)));
                }
            }
        }
    }

    private void sampled(EngineEvent.MemorySample m) {
        Job job = jobs.get(m.jobId());
        if (job == null || job.current == null || job.current.number() != m.attempt() || job.stopRequested) {
            return;
        }
        if (!EarlyRestart.keeps(m.sequence(), settings.earlyRestart().window())) {
            // Not one the trigger keeps: only the attempt's first and highest memory count.
            keepPeak(job, m.usedMib());
            return;
        }
        long projected = judge(job, clock.nowS(), m.usedMib(), m.reportedProgress());
        if (projected > 0) restartEarly(job, projected);
    }

    /**
     * Takes one memory sample of the current attempt that the trigger keeps
     * ({@link EarlyRestart#keeps}), taken at {@code takenAtS}, into its peak and the trigger's window; the projected peak to
     * restart with when the trigger fires on it, 0 otherwise. Reads only the attempt's samples up to
     * this one and what was fixed when it started, so judging a sample ahead of its time
     * ({@link SampleJudge}) gives the verdict it would get when taken.
     */
    private long judge(Job job, double takenAtS, long usedMib, java.util.OptionalDouble reportedProgress) {
        long slotMib = job.current.slot().memoryMib();
        long used = keepPeak(job, usedMib);
        EarlyRestart er = settings.earlyRestart();
        if (!er.enabled() || Double.isNaN(job.runningSinceS)) {
            return 0;
        }
        double x = attemptFraction(job, reportedProgress, takenAtS);
        if (Double.isNaN(x)) {
            return 0;
        }
        double shortestEnd = reportedProgress.isPresent() ? 1.0 : job.shortestEndFraction;
        MemoryProjection.Sample sample = new MemoryProjection.Sample(x, used);
        job.samples.addLast(sample);
        job.sampleSums.add(sample);
        if (job.samples.size() >= 2 * er.window()) {
            decimate(job.samples);
            job.sampleSums = MemoryProjection.Sums.of(job.samples);
        }
        if (slotMib >= largestSlotMib) {
            return 0;
        }
        return er.verdict(job.samples, job.sampleSums, slotMib, shortestEnd)
                .map(projected -> Math.min(largestSlotMib, projected)).orElse(0L);
    }

    /** Counts a sample into the attempt's first and highest memory; the sample as the instance holds it. */
    private static long keepPeak(Job job, long usedMib) {
        long used = Math.min(usedMib, job.current.slot().memoryMib());
        job.observedPeakMib = Math.max(job.observedPeakMib, used);
        if (job.startMib == 0) {
            job.startMib = used;
        }
        return used;
    }

    /** Stops the current attempt, whose projected peak does not fit its instance, to restart it with that peak. */
    private void restartEarly(Job job, long projectedMib) {
        long slotMib = job.current.slot().memoryMib();
        job.stopRequested = true;
        job.projectedMib = projectedMib;
        earlyRestarts++;
        String why = "early restart: projected peak " + projectedMib + " MiB > " + slotMib + " MiB of "
                + job.current.slot();
        journal.append(new EngineRecord.StopRequested(clock.nowS(), job.spec.id(), job.current.number(), why, true));
        executor.stop(job.current, why);
    }

    /**
     * Offered to an executor that knows an attempt's samples before they are taken (the simulator's
     * workload model), so that it need not send each as an event ({@link Executor#judgeAhead}).
     */
    @FunctionalInterface
    public interface SampleJudge {
        /**
         * Judges the attempt's sample number {@code sequence}, to be taken at {@code takenAtS}; only
         * the samples {@link EarlyRestart#keeps} keeps are offered, in order, and only until one returns true: the early-restart trigger fires on it,
         * and the executor then sends {@link EngineEvent.SampleFired} at {@code takenAtS}, when the
         * engine acts on it as on a sample taken then.
         */
        boolean offer(long sequence, double takenAtS, long usedMib, java.util.OptionalDouble reportedProgress);
    }

    private void sampleFired(EngineEvent.SampleFired f) {
        Job job = jobs.get(f.jobId());
        if (job == null || job.current == null || job.current.number() != f.attempt() || job.stopRequested
                || job.firedAheadMib == 0) {
            return;
        }
        restartEarly(job, job.firedAheadMib);
    }

    /**
     * Halves an attempt's samples, keeping the newest and every second one before it: with new
     * samples kept at a stride that doubles as the attempt ages ({@link EarlyRestart#keeps}), an
     * attempt keeps between one and two windows of samples spread evenly over its whole run, however
     * long it runs (a window of the last samples alone spans too little of a long run's progress for
     * the trigger's minimum span: 60 one-second samples are 2% of only 50 minutes).
     */
    static void decimate(java.util.ArrayDeque<MemoryProjection.Sample> samples) {
        java.util.ArrayList<MemoryProjection.Sample> all = new java.util.ArrayList<>(samples);
        samples.clear();
        for (int i = (all.size() - 1) % 2; i < all.size(); i += 2) samples.addLast(all.get(i));
    }

    /**
     * How far the current attempt is through its work, as a share of the attempt (0 at its start, 1
     * at its expected end): the job's own report when it gives one, otherwise its running time over
     * the expected running time, but only when that expectation rests on something (declared,
     * learned); NaN when nothing a live system knows says how far it is.
     */
    private double attemptFraction(Job job, java.util.OptionalDouble reported, double atS) {
        double start = job.current.startProgress();
        if (reported.isPresent()) {
            return (reported.getAsDouble() - start) / (1 - start);
        }
        if (!job.queued.runtime().grounded()) {
            return Double.NaN;
        }
        return (atS - job.runningSinceS) / job.expectedWorkS;
    }

    private void cancel(EngineEvent.CancelJob c) {
        Job job = jobs.get(c.jobId());
        if (job == null) {
            journal.append(new EngineRecord.CommandRefused(clock.nowS(), "cancel " + c.jobId(), "no such job"));
            return;
        }
        switch (job.state) {
            case DONE, FAILED, CANCELLED -> journal.append(new EngineRecord.CommandRefused(clock.nowS(),
                    "cancel " + c.jobId(), "the job already ended " + job.state.name().toLowerCase(java.util.Locale.ROOT)));
            case QUEUED -> {
                takeWaiting(job.queued);
                cancelled(job, "cancelled by " + c.by());
            }
            case PLACING, STARTING, RUNNING -> {
                if (job.cancelledBy != null) {
                    return;
                }
                job.cancelledBy = c.by();
                journal.append(new EngineRecord.CancelRequested(clock.nowS(), c.jobId(), c.by()));
                if (job.current != null) {
                    executor.stop(job.current, "cancelled by " + c.by());
                }
            }
        }
    }

    private void cancelled(Job job, String reason) {
        journal.append(new EngineRecord.Cancelled(clock.nowS(), job.spec.id(), reason));
        end(job, State.CANCELLED, reason);
    }

    /**
     * A GPU stopped answering: plans in flight there fail, its attempts end as crashes (their jobs
     * are requeued from where their last attempt started; a checkpoint the job wrote is what a
     * resumed attempt reads), and nothing new goes there until it answers again.
     */
    private void lost(EngineEvent.GpuLost l) {
        Gpu gpu = gpus.get(l.gpu());
        if (gpu.lost) {
            return;
        }
        journal.append(new EngineRecord.GpuHealth(clock.nowS(), l.gpu(), true, l.reason(), gpu.layout));
        gpu.lost = true;
        gpu.version++;
        if (gpu.modeTicket != 0) {
            migModeChanged(new EngineEvent.MigModeChanged(gpu.index, gpu.modeTicket, Optional.of("GPU lost: " + l.reason())));
        }
        for (var e : List.copyOf(pending.entrySet())) {
            if (e.getValue().gpu == gpu.index) {
                reconfigured(new EngineEvent.ReconfigurationFinished(gpu.index, e.getKey(),
                        Optional.of("GPU lost: " + l.reason())));
            }
        }
        List<Job> victims = new ArrayList<>(gpu.occupants.values());
        if (gpu.wholeGpuJob != null) {
            victims.add(gpu.wholeGpuJob);
        }
        for (Job job : victims) {
            if (job.current != null) {
                Attempt a = job.current;
                executor.stop(a, "GPU lost");
                exited(new EngineEvent.AttemptExited(job.spec.id(), a.number(),
                        new Outcome.Crashed("GPU lost: " + l.reason())));
            }
        }
    }

    private void submitted(JobSpec spec) {
        if (jobs.containsKey(spec.id())) {
            rejectedSubmits++;
            journal.append(new EngineRecord.SubmitRejected(clock.nowS(), spec, "duplicate job id '" + spec.id() + "'"));
            for (EngineListener l : listeners) {
                l.submitRejected(spec, "duplicate job id '" + spec.id() + "'");
            }
            return;
        }
        Job job = new Job(spec, nextSeq++);
        journal.append(new EngineRecord.Submitted(clock.nowS(), spec));
        jobs.put(spec.id(), job);
        Optional<String> unestimable = estimateFirst(job);
        if (unestimable.isPresent()) {
            fail(job, unestimable.get());
            return;
        }
        enqueue(job, 1, 0.0);
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
     */
    public void recover(JobSpec spec, List<Attempt> attempts, boolean running, long needMib, String needSource,
                        double progress, String lastReason) {
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
        Optional<String> unestimable = Optional.empty();
        if (needMib > 0) {
            job.need = new MemoryPolicy.Need(needMib, needSource);
        } else {
            unestimable = estimateFirst(job);
        }
        if (!attempts.isEmpty()) {
            job.firstLaunchS = attempts.getFirst().launchS();
        }
        journal.append(new EngineRecord.Recovered(clock.nowS(), spec, attempts, running, job.need.mib(),
                job.need.source(), progress, lastReason));
        jobs.put(spec.id(), job);
        if (unestimable.isPresent() && !running) {
            fail(job, unestimable.get());
            return;
        }
        if (!running) {
            enqueue(job, attempts.size() + 1, progress);
            return;
        }
        Attempt attempt = attempts.getLast();
        Gpu gpu = gpus.get(attempt.slot().gpu());
        RuntimeExpectation expected = runtime.expect(spec);
        job.queued = new QueuedJob(spec, job.need.mib(), false, job.seq, attempt.number(), attempt.startProgress(),
                job.need.source(), clock.nowS(), expected);
        job.current = attempt;
        job.state = State.RUNNING;
        // Samples of the time before the restart are gone: the projection starts again now.
        job.runningSinceS = clock.nowS();
        expectAttempt(job, gpu, attempt.slot());
        job.expectedEndS = Math.max(clock.nowS(), attempt.launchS() + expectedRuntime(job.queued, gpu, attempt.slot().sms()));
        // An instance that is gone (its exit is reported next) holds nobody.
        attempt.slot().instance().filter(gpu.layout.instances()::contains).ifPresentOrElse(i -> gpu.occupants.put(i, job),
                () -> {
                    if (attempt.slot().instance().isEmpty()) gpu.wholeGpuJob = job;
                });
        gpu.version++;
        spec.limits().timeLimitS().ifPresent(limit -> clock.at(Math.max(clock.nowS(), attempt.launchS() + limit),
                new EngineEvent.TimeLimitReached(spec.id(), attempt.number()), sink));
    }

    private void enqueue(Job job, int attempt, double progress) {
        if (job.need.mib() > largestSlotMib) {
            if (job.failedOnLargest || job.need.certain()) {
                fail(job, "needs " + job.need.mib() + " MiB (" + job.need.source() + "); the largest instance any GPU"
                        + " can hold is " + largestSlotMib + " MiB");
                return;
            }
            // An estimate (with its margin, or a declaration) above the largest instance is no proof:
            // try the largest; an OOM there ends the job.
            job.need = new MemoryPolicy.Need(largestSlotMib, job.need.source() + ", capped at the largest instance");
        }
        job.state = State.QUEUED;
        RuntimeExpectation expected = runtime.expect(job.spec);
        journal.append(new EngineRecord.Queued(clock.nowS(), job.spec.id(), attempt, job.need.mib(), job.need.source(),
                job.need.certain(), progress, expected, job.lastReason));
        job.queued = new QueuedJob(job.spec, job.need.mib(), job.need.certain(), job.seq, attempt, progress,
                job.need.source(), clock.nowS(), expected);
        waiting.add(job.queued);
        waitingByApp.computeIfAbsent(job.spec.app(), a -> new java.util.LinkedHashSet<>()).add(job);
    }

    /**
     * What the engine learned (an OOM, an early restart, a completion) changes the estimates of the
     * waiting jobs of an application or of a whole class: they are estimated again. Keys are
     * application names or {@code class:} and a class name, from either estimator.
     */
    private void reestimateInvalidated() {
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(memory.takeInvalidated());
        keys.addAll(runtime.takeInvalidated());
        for (String key : keys) {
            if (key.startsWith("class:")) {
                JobClass c = JobClass.parse(key.substring("class:".length()));
                for (java.util.Set<Job> fresh : List.copyOf(waitingByApp.values())) {
                    reestimate(fresh, c);
                }
            } else {
                java.util.Set<Job> fresh = waitingByApp.get(key);
                if (fresh != null) {
                    reestimate(fresh, null);
                }
            }
        }
    }

    /**
     * Estimates the waiting jobs in {@code waitingOfApp} again (only those of {@code onlyClass} if
     * given): the run time of every waiting job, the memory of first attempts (a retry's need comes
     * from its own failure).
     */
    private void reestimate(java.util.Set<Job> waitingOfApp, JobClass onlyClass) {
        for (Job job : List.copyOf(waitingOfApp)) {
            if (onlyClass != null && job.spec.jobClass() != onlyClass) {
                continue;
            }
            QueuedJob q = job.queued;
            MemoryPolicy.Need need = job.need;
            if (q.attempt() == 1) {
                try {
                    need = memory.initial(job.spec);
                } catch (RuntimeException e) {
                    // estimated once already: it keeps that estimate
                }
            }
            RuntimeExpectation expected = runtime.expect(job.spec);
            if (need.mib() == job.need.mib() && expected.equals(q.runtime())) {
                continue;
            }
            waiting.remove(q);
            waitingOfApp.remove(job);
            job.need = need;
            enqueue(job, q.attempt(), q.progress());
        }
    }

    /**
     * A reconfiguration answered (or timed out). On success the layout is read back and compared
     * with the plan's: a GPU that someone else changed is a conflict, handled as a failure. On
     * failure the engine adopts the layout the backend reports, keeps only the occupants whose
     * instances still exist, and requeues the job the plan was for.
     */
    private void reconfigured(EngineEvent.ReconfigurationFinished r) {
        Gpu gpu = gpus.get(r.gpu());
        Pending p = pending.remove(r.ticket());
        if (p == null) {
            answeredLate(r);
            return; // answered after its time-out: already handled as a failure
        }
        if (r.failure().isPresent() && r.failure().get().startsWith(TIMED_OUT)) {
            // The GPU may still carry the plan out: its answer is awaited to know what it created.
            timedOut.put(r.ticket(), p);
        }
        gpu.reconfiguring = false;
        gpu.creating.clear();
        gpu.version++;
        Optional<String> failure = r.failure();
        Layout actual = gpu.lost ? gpu.layout : backend.layout(r.gpu());
        if (failure.isEmpty() && !actual.equals(gpu.layout)) {
            failure = Optional.of("the GPU's layout is " + actual + ", the plan made " + gpu.layout
                    + " (changed by someone else?)");
        }
        if (failure.isPresent()) {
            journal.append(new EngineRecord.ReconfigurationFailed(clock.nowS(), r.gpu(), r.ticket(), failure.get(),
                    actual));
            if (p.target != null) {
                gpu.occupants.remove(p.target);
            }
            gpu.layout = actual;
            gpu.occupants.keySet().retainAll(gpu.layout.instances());
            if (p.job != null) {
                Job job = p.job;
                if (job.cancelledBy != null) {
                    cancelled(job, "cancelled by " + job.cancelledBy);
                    return;
                }
                job.lastReason = "reconfiguration failed: " + failure.get();
                enqueue(job, job.queued.attempt(), job.queued.progress());
            }
            return;
        }
        journal.append(new EngineRecord.ReconfigurationApplied(clock.nowS(), r.gpu(), r.ticket(), actual));
        if (p.job != null && p.job.cancelledBy != null) {
            gpu.occupants.remove(p.target);
            cancelled(p.job, "cancelled by " + p.job.cancelledBy);
        } else if (p.job != null && stopping) {
            gpu.occupants.remove(p.target);
            p.job.lastReason = "migm stopped before it started";
            enqueue(p.job, p.job.queued.attempt(), p.job.queued.progress());
        } else if (p.job != null) {
            launch(p.job, gpu, Slot.of(gpu.index, p.target));
        }
    }

    /** How a plan's time-out begins its failure's reason. */
    private static final String TIMED_OUT = "no answer from the GPU in ";

    /** Plans that timed out, by ticket, until their late answer comes (if ever). */
    private final Map<Long, Pending> timedOut = new HashMap<>();

    /**
     * A plan that timed out answered after all. The GPU may have carried it out meanwhile: what it
     * created is migm's (the journal keeps it as such, so that a restart destroys it when idle rather
     * than taking it for another tool's), and the engine adopts what the GPU has now, unless another
     * plan is in flight there (whose read-back will see it).
     */
    private void answeredLate(EngineEvent.ReconfigurationFinished r) {
        Pending late = timedOut.remove(r.ticket());
        if (late == null) return;
        Gpu gpu = gpus.get(r.gpu());
        Layout actual = gpu.lost ? gpu.layout : backend.layout(r.gpu());
        boolean adopt = !gpu.reconfiguring && !gpu.lost && gpu.modeTicket == 0 && !actual.equals(gpu.layout);
        journal.append(new EngineRecord.ReconfigurationAnsweredLate(clock.nowS(), r.gpu(), r.ticket(), late.base(),
                late.result(), r.failure(), actual, adopt));
        if (adopt) {
            gpu.layout = actual;
            gpu.occupants.keySet().retainAll(actual.instances());
            gpu.version++;
            dirty = true;
        }
    }

    /**
     * A mode change ended. On success the GPU has the requested mode and no instances; on a failure
     * the engine reads back what the GPU has (the mode it kept: the one it had before, and its
     * layout), journals why, and the GPU takes work again either way.
     */
    private void migModeChanged(EngineEvent.MigModeChanged m) {
        Gpu gpu = gpus.get(m.gpu());
        if (gpu.modeTicket != m.ticket() || m.ticket() == 0) {
            return; // answered after its time-out: already handled as a failure
        }
        gpu.modeTicket = 0;
        gpu.version++;
        if (m.failure().isPresent()) {
            gpu.migEnabled = gpu.migBeforeChange;
        }
        gpu.layout = gpu.lost ? Layout.empty(gpu.model) : backend.layout(m.gpu());
        journal.append(new EngineRecord.MigModeChangeEnded(clock.nowS(), m.gpu(), m.ticket(), gpu.migEnabled,
                m.failure(), gpu.layout));
    }

    private void exited(EngineEvent.AttemptExited x) {
        Job job = jobs.get(x.jobId());
        if (job == null || job.current == null || job.current.number() != x.attempt()) {
            return;
        }
        Attempt attempt = job.current;
        double now = clock.nowS();
        journal.append(new EngineRecord.AttemptExited(now, x.jobId(), x.attempt(), x.outcome()));
        Gpu gpu = gpus.get(attempt.slot().gpu());
        attempt.slot().instance().ifPresentOrElse(gpu.occupants::remove, () -> gpu.wholeGpuJob = null);
        gpu.version++;
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
            fail(job, timeLimitText(job) + " reached on attempt "
                    + attempt.number() + " (" + attempt.slot() + ")");
            return;
        }
        switch (x.outcome()) {
            case Outcome.Completed c -> {
                job.state = State.DONE;
                job.endS = now;
                long slotMib = attempt.slot().memoryMib();
                long peak = Math.min(slotMib, Math.max(c.peakSampledMib(), job.observedPeakMib));
                long start = Math.min(slotMib, job.startMib > 0 ? job.startMib : c.firstSampledMib());
                if (peak > 0) {
                    journal.append(new EngineRecord.Learned(now, job.spec.id(), attempt.number(), job.spec.app(),
                            job.spec.jobClass(), "completed", peak, slotMib));
                    memory.learn(job.spec, attempt.number(), peak, start, slotMib);
                }
                if (!Double.isNaN(job.runningSinceS) && now > job.runningSinceS) {
                    runtime.learn(job.spec, attempt.slot().sms(), gpu.model.sms(), now - job.runningSinceS,
                            1 - attempt.startProgress());
                }
                journal.append(new EngineRecord.Done(now, job.spec.id()));
                ended(job);
            }
            case Outcome.OutOfMemory oom -> {
                job.ooms++;
                oomKills++;
                job.failedOnLargest |= attempt.slot().memoryMib() >= largestSlotMib;
                job.lastReason = "out of memory on " + attempt.slot() + " (" + attempt.slot().memoryMib() + " MiB): "
                        + oom.evidence();
                long used = Math.min(attempt.slot().memoryMib(), Math.max(oom.usedMib(), job.observedPeakMib));
                journal.append(new EngineRecord.Learned(now, job.spec.id(), attempt.number(), job.spec.app(),
                        job.spec.jobClass(), "oom", used, attempt.slot().memoryMib()));
                retry(job, attempt, memory.afterOom(job.spec, attempt.number(), job.need, attempt.slot().memoryMib(),
                        used), oom.checkpointedProgress());
            }
            case Outcome.Stopped s -> {
                job.lastReason = "stopped: " + s.why();
                if (job.projectedMib > 0) {
                    journal.append(new EngineRecord.Learned(now, job.spec.id(), attempt.number(), job.spec.app(),
                            job.spec.jobClass(), "projected", job.projectedMib, attempt.slot().memoryMib()));
                }
                MemoryPolicy.Need need = job.projectedMib > 0
                        ? memory.afterProjection(job.spec, attempt.number(), job.need, job.projectedMib) : job.need;
                retry(job, attempt, need, s.checkpointedProgress());
            }
            case Outcome.CannotStart c -> fail(job, "cannot start: " + c.reason());
            case Outcome.Crashed c -> {
                job.lastReason = "crashed: " + c.reason();
                retry(job, attempt, job.need, attempt.startProgress());
            }
        }
        reestimateInvalidated();
    }

    private static String timeLimitText(Job job) {
        return String.format(java.util.Locale.ROOT, "time limit of %.0f s", job.spec.limits().timeLimitS().orElseThrow());
    }

    private void retry(Job job, Attempt attempt, MemoryPolicy.Need need, double progress) {
        if (attempt.number() >= job.spec.limits().maxAttempts().orElse(settings.maxAttempts())) {
            fail(job, job.lastReason + "; gave up after " + attempt.number() + " attempts");
            return;
        }
        restarts++;
        job.need = need;
        enqueue(job, attempt.number() + 1, progress);
    }

    private void fail(Job job, String reason) {
        journal.append(new EngineRecord.Failed(clock.nowS(), job.spec.id(), reason));
        end(job, State.FAILED, reason);
    }

    private void end(Job job, State state, String reason) {
        job.state = state;
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
        heldThisRound.clear();
        if (!waiting.isEmpty()) {
            policy.schedule(context);
        }
        journalHolds();
    }

    /** Journals where this round's holds differ from the last round's. */
    private void journalHolds() {
        if (heldThisRound.equals(held)) return;
        for (var e : held.entrySet()) {
            if (!heldThisRound.containsKey(e.getKey())) {
                journal.append(new EngineRecord.SlicesHeld(clock.nowS(), e.getKey(), 0, ""));
            }
        }
        for (var e : heldThisRound.entrySet()) {
            if (!e.getValue().equals(held.get(e.getKey()))) {
                journal.append(new EngineRecord.SlicesHeld(clock.nowS(), e.getKey(), e.getValue().computeSlices(),
                        e.getValue().jobId()));
            }
        }
        held.clear();
        held.putAll(heldThisRound);
    }

    private record Hold(int computeSlices, String jobId) {
    }

    private void launch(Job job, Gpu gpu, Slot slot) {
        int number = job.attempts.size() + 1;
        Attempt attempt = new Attempt(job.spec.id(), number, slot, clock.nowS(), job.queued.progress());
        job.attempts.add(attempt);
        job.current = attempt;
        job.state = State.STARTING;
        job.observedPeakMib = 0;
        job.startMib = 0;
        job.samples.clear();
        job.sampleSums = new MemoryProjection.Sums();
        job.stopRequested = false;
        job.projectedMib = 0;
        job.firedAheadMib = 0;
        job.runningSinceS = Double.NaN;
        expectAttempt(job, gpu, slot);
        if (Double.isNaN(job.firstLaunchS)) {
            job.firstLaunchS = clock.nowS();
        }
        slot.instance().ifPresentOrElse(i -> gpu.occupants.put(i, job), () -> gpu.wholeGpuJob = job);
        job.expectedEndS = clock.nowS() + expectedRuntime(job.queued, gpu, slot.sms());
        gpu.version++;
        journal.append(new EngineRecord.AttemptLaunched(clock.nowS(), job.spec.id(), number, slot,
                attempt.startProgress()));
        for (EngineListener l : listeners) {
            l.attemptLaunched(job.view(), attempt);
        }
        clock.at(clock.nowS() + settings.launchTimeoutS(), new EngineEvent.LaunchTimedOut(job.spec.id(), number), sink);
        job.spec.limits().timeLimitS().ifPresent(limit ->
                clock.at(clock.nowS() + limit, new EngineEvent.TimeLimitReached(job.spec.id(), number), sink));
        try {
            executor.launch(attempt, job.spec, sink);
        } catch (RuntimeException e) {
            // The executor could not start it: the attempt comes back as a crash, on the engine's
            // thread and after this round, like any answer.
            clock.at(clock.nowS(), new EngineEvent.AttemptExited(job.spec.id(), number,
                    new Outcome.Crashed("launch failed: " + e.getMessage())), sink);
        }
    }

    /**
     * What the engine expects of the attempt {@code job.queued} starts on {@code slot}: its working
     * time there, from where it starts, and the earliest share of it at which it may end.
     */
    private static void expectAttempt(Job job, Gpu gpu, Slot slot) {
        RuntimeExpectation expected = job.queued.runtime();
        job.expectedWorkS = expected.onSlotS(slot.sms(), gpu.model.sms()) * (1 - job.queued.progress());
        // Without the job's own report the run may end early: as soon as shortShare of its expected
        // time, and with an unmeasured scaling as if the slot did not slow it at all. The trigger
        // projects to that end, so a generous expectation cannot fake steep growth.
        double slowdown = expected.onSlotS(slot.sms(), gpu.model.sms()) / expected.wholeGpuS();
        job.shortestEndFraction = expected.shortShare() / (expected.scalingKnown() ? 1 : slowdown);
    }

    private double expectedRuntime(QueuedJob q, Gpu gpu, int sms) {
        return settings.startupS() + q.runtime().onSlotS(sms, gpu.model.sms()) * (1 - q.progress());
    }

    private final class Context implements SchedulingContext {
        @Override
        public double nowS() {
            return clock.nowS();
        }

        @Override
        public double startupS() {
            return settings.startupS();
        }

        @Override
        public List<? extends GpuView> gpus() {
            return gpus;
        }

        @Override
        public List<QueuedJob> waiting(int limit) {
            List<QueuedJob> out = new ArrayList<>(Math.min(limit, waiting.size()));
            for (QueuedJob q : waiting) {
                if (out.size() >= limit) break;
                out.add(q);
            }
            return out;
        }

        @Override
        public int waitingCount() {
            return waiting.size();
        }

        @Override
        public double expectedRuntimeS(QueuedJob job, GpuView gpu, int sms) {
            return expectedRuntime(job, (Gpu) gpu, sms);
        }

        @Override
        public void place(QueuedJob queued, GpuView view, Plan.Possible plan) {
            // Every check comes before the job leaves the queue: a refused placement changes nothing.
            Gpu gpu = (Gpu) view;
            if (!waiting.contains(queued)) {
                throw new IllegalStateException(queued.id() + " is not waiting");
            }
            checkSchedulable(gpu);
            Instance target = plan.target().orElseThrow(() -> new IllegalArgumentException("plan without target"));
            if (!gpu.migEnabled) {
                throw new IllegalStateException("gpu" + gpu.index + " has MIG disabled");
            }
            // A first attempt may go below its estimate (policies may try a smaller instance: an
            // estimate is no proof); a retry after an OOM may not.
            if (target.profile().memoryMib() < queued.needMib() && queued.attempt() > 1) {
                throw new IllegalStateException(queued.id() + " needs " + queued.needMib() + " MiB, " + target + " holds "
                        + target.profile().memoryMib());
            }
            if (plan.ops().isEmpty()) {
                if (!gpu.layout.contains(target) || gpu.occupants.containsKey(target) || gpu.creating.contains(target)) {
                    throw new IllegalStateException("gpu" + gpu.index + ": " + target + " is not an idle instance");
                }
                Job job = takeWaiting(queued);
                journal.append(new EngineRecord.Placed(clock.nowS(), job.spec.id(), queued.attempt(), gpu.index,
                        Optional.of(target), Optional.empty()));
                launch(job, gpu, Slot.of(gpu.index, target));
                return;
            }
            Layout result = checkPlan(gpu, plan);
            apply(gpu, plan, result, takeWaiting(queued), target);
        }

        @Override
        public void placeWholeGpu(QueuedJob queued, GpuView view) {
            Gpu gpu = (Gpu) view;
            checkSchedulable(gpu);
            if (gpu.migEnabled || gpu.wholeGpuJob != null) {
                throw new IllegalStateException("gpu" + gpu.index + " is not a free whole GPU");
            }
            Job job = takeWaiting(queued);
            journal.append(new EngineRecord.Placed(clock.nowS(), job.spec.id(), queued.attempt(), gpu.index,
                    Optional.empty(), Optional.empty()));
            launch(job, gpu, Slot.wholeGpu(gpu.index, gpu.model));
        }

        @Override
        public void changeMigMode(GpuView view, boolean enabled, String why) {
            Gpu gpu = (Gpu) view;
            checkSchedulable(gpu);
            if (!gpu.modeChangeable) {
                throw new IllegalStateException("gpu" + gpu.index + ": MIG mode changes are not allowed here");
            }
            if (gpu.migEnabled == enabled || gpu.modeTicket != 0) {
                throw new IllegalStateException("gpu" + gpu.index + " already has MIG " + (enabled ? "on" : "off")
                        + " or is changing it");
            }
            if (!gpu.occupants.isEmpty() || gpu.wholeGpuJob != null || gpu.reconfiguring) {
                throw new IllegalStateException("gpu" + gpu.index + " is not idle; MIG mode changes need an idle GPU");
            }
            long ticket = nextTicket++;
            journal.append(new EngineRecord.MigModeChangeRequested(clock.nowS(), gpu.index, ticket, enabled, why));
            migModeChanges++;
            gpu.migBeforeChange = gpu.migEnabled;
            gpu.migEnabled = enabled;
            gpu.modeTicket = ticket;
            gpu.layout = Layout.empty(gpu.model);
            gpu.version++;
            clock.at(clock.nowS() + settings.migModeChangeTimeoutS(),
                    new EngineEvent.ReconfigurationTimedOut(gpu.index, ticket), sink);
            try {
                backend.changeMigMode(gpu.index, enabled, ticket, sink);
            } catch (RuntimeException e) {
                clock.at(clock.nowS(), new EngineEvent.MigModeChanged(gpu.index, ticket,
                        Optional.of("the backend refused: " + e.getMessage())), sink);
            }
        }

        @Override
        public void reconfigure(GpuView view, Plan.Possible plan) {
            if (!plan.ops().isEmpty()) {
                Gpu gpu = (Gpu) view;
                checkSchedulable(gpu);
                apply(gpu, plan, checkPlan(gpu, plan), null, null);
            }
        }

        @Override
        public void reject(QueuedJob queued, String reason) {
            fail(takeWaiting(queued), reason);
        }

        @Override
        public void wakeAt(double atS) {
            if (atS > clock.nowS() && atS < pendingWakeS) {
                pendingWakeS = atS;
                clock.at(atS, new EngineEvent.Wake(), sink);
            }
        }

        @Override
        public void hold(GpuView gpu, int computeSlices, QueuedJob job) {
            if (computeSlices > 0) heldThisRound.put(gpu.index(), new Hold(computeSlices, job.id()));
        }
    }

    private static void checkSchedulable(Gpu gpu) {
        if (!gpu.schedulable()) {
            throw new IllegalStateException("gpu" + gpu.index + " is " + (gpu.lost ? "lost" : "draining"));
        }
        if (gpu.modeTicket != 0) {
            throw new IllegalStateException("gpu" + gpu.index + " is changing its MIG mode");
        }
    }

    private Job takeWaiting(QueuedJob queued) {
        if (!waiting.remove(queued)) {
            throw new IllegalStateException(queued.id() + " is not waiting");
        }
        Job job = jobs.get(queued.id());
        java.util.Set<Job> waitingOfApp = waitingByApp.get(job.spec.app());
        if (waitingOfApp != null) {
            waitingOfApp.remove(job);
        }
        return job;
    }

    /** The layout a plan leads to, after checking it against the GPU's real occupancy; changes nothing. */
    private Layout checkPlan(Gpu gpu, Plan.Possible plan) {
        if (gpu.reconfiguring) {
            throw new IllegalStateException("gpu" + gpu.index + " is already reconfiguring");
        }
        if (!plan.base().equals(gpu.layout)) {
            throw new IllegalStateException("plan made for " + plan.base() + ", gpu" + gpu.index + " has " + gpu.layout);
        }
        Layout layout = gpu.layout;
        for (PlanOp op : plan.ops()) {
            switch (op) {
                case PlanOp.Destroy d -> {
                    if (gpu.occupants.containsKey(d.instance())) {
                        throw new IllegalStateException("plan destroys busy " + d.instance() + " on gpu" + gpu.index);
                    }
                    layout = layout.without(d.instance());
                }
                case PlanOp.Create c -> layout = layout.with(c.instance());
            }
        }
        return layout;
    }

    /** Hands a checked plan to the backend; the job (if any) waits for it in PLACING. */
    private void apply(Gpu gpu, Plan.Possible plan, Layout layout, Job job, Instance target) {
        for (PlanOp op : plan.ops()) {
            if (op instanceof PlanOp.Create c) {
                gpu.creating.add(c.instance());
            }
        }
        Layout base = gpu.layout;
        gpu.layout = layout;
        gpu.reconfiguring = true;
        gpu.version++;
        reconfigurations++;
        long ticket = nextTicket++;
        journal.append(new EngineRecord.ReconfigurationPlanned(clock.nowS(), gpu.index, ticket, base, layout,
                plan.operationCount(), job == null ? Optional.empty() : Optional.of(job.spec.id())));
        if (job != null) {
            journal.append(new EngineRecord.Placed(clock.nowS(), job.spec.id(), job.queued.attempt(), gpu.index,
                    Optional.of(target), Optional.of(ticket)));
        }
        pending.put(ticket, new Pending(gpu.index, job, target, base, layout));
        if (job != null) {
            job.state = State.PLACING;
            job.placedSlot = "gpu" + gpu.index + ":" + target;
            gpu.creating.remove(target);
            gpu.occupants.put(target, job);
            // expected to start after the reconfiguration (a fraction of a second per operation)
            job.expectedEndS = clock.nowS() + plan.operationCount() * 0.15
                    + expectedRuntime(job.queued, gpu, target.profile().sms());
        }
        clock.at(clock.nowS() + settings.reconfigureTimeoutS(),
                new EngineEvent.ReconfigurationTimedOut(gpu.index, ticket), sink);
        try {
            backend.apply(gpu.index, plan, ticket, sink);
        } catch (RuntimeException e) {
            clock.at(clock.nowS(), new EngineEvent.ReconfigurationFinished(gpu.index, ticket,
                    Optional.of("the backend refused the plan: " + e.getMessage())), sink);
        }
    }

    // ---------------------------------------------------------------- queries

    /** Why a waiting job does not run now. */
    public Optional<Unplaceable> explain(String jobId) {
        Job job = jobs.get(jobId);
        if (job == null || job.state != State.QUEUED) {
            return Optional.empty();
        }
        Reason r = reason(job.need.mib(), job.need.source());
        return Optional.of(new Unplaceable(jobId, job.need.mib(), r.largestNowMib(), r.blockers(), r.message()));
    }

    /**
     * Why each of these jobs that waits does not run now, as {@link #explain}'s message: worked out
     * once per distinct need in one call (the reason depends on the need and the GPUs, not on the
     * job), so listing a queue of 80,000 jobs that need the same does not explain it 80,000 times.
     */
    public Map<String, String> waitingReasons(Collection<String> jobIds) {
        Map<String, String> out = new HashMap<>();
        Map<String, String> byNeed = new HashMap<>();
        for (String id : jobIds) {
            Job job = jobs.get(id);
            if (job == null || job.state != State.QUEUED) continue;
            String key = job.need.mib() + "|" + job.need.source();
            out.put(id, byNeed.computeIfAbsent(key, k -> reason(job.need.mib(), job.need.source()).message()));
        }
        return out;
    }

    private record Reason(long largestNowMib, List<String> blockers, String message) {
    }

    private Reason reason(long need, String needSource) {
        long largestNow = 0;
        List<String> blockers = new ArrayList<>();
        for (Gpu gpu : gpus) {
            if (!gpu.schedulable()) {
                blockers.add("gpu" + gpu.index + " (" + gpu.status() + ")");
                continue;
            }
            if (!gpu.migEnabled) {
                if (gpu.wholeGpuJob == null) {
                    largestNow = Math.max(largestNow, gpu.model.memoryMib());
                } else {
                    blockers.add("gpu" + gpu.index + ":whole (" + gpu.wholeGpuJob.spec.id() + ")");
                }
                continue;
            }
            GpuState state = gpu.state();
            for (Profile p : gpu.model.plainProfiles()) {
                Plan plan = Planner.planFor(state, p);
                if (plan instanceof Plan.Possible) {
                    largestNow = Math.max(largestNow, p.memoryMib());
                } else if (p.memoryMib() >= need && plan instanceof Plan.Impossible no) {
                    for (Instance b : no.blockers()) {
                        Job holder = gpu.occupants.get(b);
                        String s = "gpu" + gpu.index + ":" + b + (holder == null ? "" : " (" + holder.spec.id() + ")");
                        if (!blockers.contains(s)) blockers.add(s);
                    }
                }
            }
        }
        String message = "needs " + need + " MiB (" + needSource + "); the largest instance that could exist now"
                + " holds " + largestNow + " MiB"
                + (blockers.isEmpty() ? "" : "; blocked by busy " + String.join(", ", blockers))
                + (largestNow >= need ? "; it fits, but the policy holds it back (queue order or a reservation)" : "");
        return new Reason(largestNow, blockers, message);
    }

    /**
     * The most memory each GPU can give one job: its largest instance with MIG on, the whole GPU with
     * MIG off or where the policy may turn MIG off (the backend allows it and the policy decides
     * modes). A node refuses at its door a job that declares more than all of these.
     */
    public List<Long> largestSlotsMib() {
        List<Long> out = new ArrayList<>();
        for (Gpu g : gpus) {
            boolean wholePossible = !g.migEnabled || g.modeChangeable && policy.decidesMigModes();
            out.add(wholePossible ? g.model.memoryMib() : g.model.largestProfile().memoryMib());
        }
        return out;
    }

    /** Ends every job still waiting as failed with its explanation (the end of a simulation). */
    public void failWaiting(String prefix) {
        for (QueuedJob q : List.copyOf(waiting)) {
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
        if (job.state != State.DONE && job.state != State.FAILED && job.state != State.CANCELLED) {
            throw new IllegalStateException("job " + jobId + " is " + job.state + ", not ended");
        }
        jobs.remove(jobId);
    }

    public int waitingCount() {
        return waiting.size();
    }

    public long reconfigurations() {
        return reconfigurations;
    }

    public long restarts() {
        return restarts;
    }

    public long oomKills() {
        return oomKills;
    }

    public long migModeChanges() {
        return migModeChanges;
    }

    public long earlyRestarts() {
        return earlyRestarts;
    }

    /** Submits refused (duplicate ids). */
    public long rejectedSubmits() {
        return rejectedSubmits;
    }

    /** What the engine holds now, as values (see {@link JournalReplay}). */
    public EngineState snapshot() {
        Map<String, EngineState.JobState> out = new LinkedHashMap<>();
        for (Job j : jobs.values()) {
            Optional<String> slot = switch (j.state) {
                case PLACING -> Optional.of(j.placedSlot);
                case STARTING, RUNNING -> Optional.of(j.current.slot().toString());
                default -> Optional.empty();
            };
            out.put(j.spec.id(), new EngineState.JobState(j.state, j.attempts.size(), j.need.mib(), j.need.source(),
                    j.queued == null ? 0 : j.queued.progress(), slot, j.lastReason));
        }
        return new EngineState(out, gpus.stream().map(g -> g.layout).toList(), gpus.stream().map(g -> g.migEnabled).toList(),
                gpus.stream().map(Gpu::status).toList(), new EngineState.Counters(
                reconfigurations, restarts, oomKills, earlyRestarts, rejectedSubmits, migModeChanges));
    }

    /** A snapshot of a job for reports. */
    public record JobView(JobSpec spec, State state, List<Attempt> attempts, double firstLaunchS, double endS,
                          double heldSliceSeconds, int ooms, String lastReason, long needMib, String needSource) {
        public JobView {
            attempts = List.copyOf(attempts);
        }

        /** The attempt that holds an instance now (the job is starting or running), if any. */
        public Optional<Attempt> holding() {
            return (state == State.STARTING || state == State.RUNNING) && !attempts.isEmpty()
                    ? Optional.of(attempts.getLast()) : Optional.empty();
        }
    }

    private static final class Job {
        final JobSpec spec;
        final long seq;
        final List<Attempt> attempts = new ArrayList<>();
        State state = State.QUEUED;
        QueuedJob queued;
        Attempt current;
        MemoryPolicy.Need need;
        double firstLaunchS = Double.NaN;
        double endS = Double.NaN;
        double expectedEndS;
        double heldSliceSeconds;
        long observedPeakMib;
        long startMib;
        final java.util.ArrayDeque<MemoryProjection.Sample> samples = new java.util.ArrayDeque<>();
        /** The running sums of {@link #samples}. */
        MemoryProjection.Sums sampleSums = new MemoryProjection.Sums();
        boolean stopRequested;
        /** The current attempt reached the job's time limit and was stopped: its exit fails the job. */
        boolean timedOut;
        long projectedMib;
        /** The projected peak of a sample judged ahead that fires the trigger when it is due (0: none). */
        long firedAheadMib;
        /** When the current attempt's process came up (NaN while it starts). */
        double runningSinceS = Double.NaN;
        /** The current attempt's expected running time, start-up excluded. */
        double expectedWorkS;
        /** Who asked to cancel it while it was placed or running (null: nobody). */
        String cancelledBy;
        /** Where a reconfiguration in flight will put it (PLACING). */
        String placedSlot = "";
        /** The earliest plausible end of the current attempt, as a share of {@link #expectedWorkS}. */
        double shortestEndFraction = 1;
        /** Ran out of memory on the largest instance: no estimate can help any more. */
        boolean failedOnLargest;
        int ooms;
        String lastReason = "";

        Job(JobSpec spec, long seq) {
            this.spec = spec;
            this.seq = seq;
        }

        JobView view() {
            return new JobView(spec, state, attempts, firstLaunchS, endS, heldSliceSeconds, ooms, lastReason,
                    need == null ? 0 : need.mib(), need == null ? "" : need.source());
        }
    }

    /**
     * A plan handed to the backend: its GPU, the job it is for (if any) and where that job goes, and
     * the layout it was made for and leads to.
     */
    private record Pending(int gpu, Job job, Instance target, Layout base, Layout result) {
    }

    private static final class Gpu implements GpuView {
        final int index;
        final GpuModel model;
        boolean migEnabled;
        /** Whether the policy may change the mode here (the backend's word, fixed at start). */
        final boolean modeChangeable;
        final double modeChangeS;
        /** The ticket of the mode change in flight; 0 when none. */
        long modeTicket;
        boolean migBeforeChange;
        final Map<Instance, Job> occupants = new HashMap<>();
        /** Instances the in-flight plan creates: not usable until it finishes. */
        final java.util.Set<Instance> creating = new java.util.HashSet<>();
        Layout layout;
        boolean reconfiguring;
        boolean draining;
        boolean lost;
        Job wholeGpuJob;
        long version;
        private long stateVersion = -1;
        private GpuState state;

        Gpu(int index, GpuModel model, boolean migEnabled, Layout layout, boolean modeChangeable, double modeChangeS) {
            this.modeChangeS = modeChangeS;
            this.index = index;
            this.model = model;
            this.migEnabled = migEnabled;
            this.modeChangeable = modeChangeable;
            this.layout = layout;
        }

        @Override
        public int index() {
            return index;
        }

        @Override
        public GpuModel model() {
            return model;
        }

        @Override
        public boolean migEnabled() {
            return migEnabled;
        }

        @Override
        public GpuState state() {
            if (stateVersion != version || state == null) {
                java.util.Set<Instance> busy = new java.util.HashSet<>(occupants.keySet());
                busy.addAll(creating);
                state = new GpuState(layout, busy);
                stateVersion = version;
            }
            return state;
        }

        @Override
        public boolean reconfiguring() {
            return reconfiguring;
        }

        @Override
        public boolean schedulable() {
            return !draining && !lost;
        }

        String status() {
            return lost ? "lost" : draining ? "draining" : modeTicket != 0 ? "mode-change" : "ok";
        }

        @Override
        public boolean migModeChangeable() {
            return modeChangeable;
        }

        @Override
        public boolean idle() {
            return occupants.isEmpty() && creating.isEmpty() && wholeGpuJob == null && !reconfiguring;
        }

        @Override
        public double migModeChangeS() {
            return modeChangeS;
        }

        @Override
        public boolean changingMigMode() {
            return modeTicket != 0;
        }

        @Override
        public long version() {
            return version;
        }

        @Override
        public double expectedReleaseS(Instance instance) {
            Job j = occupants.get(instance);
            return j == null ? Double.NEGATIVE_INFINITY : j.expectedEndS;
        }

        @Override
        public java.util.Optional<String> occupant(Instance instance) {
            Job j = occupants.get(instance);
            return j == null ? java.util.Optional.empty() : java.util.Optional.of(j.spec.id());
        }

        @Override
        public boolean wholeGpuBusy() {
            return wholeGpuJob != null;
        }

        @Override
        public double wholeGpuReleaseS() {
            return wholeGpuJob == null ? Double.NEGATIVE_INFINITY : wholeGpuJob.expectedEndS;
        }
    }
}
