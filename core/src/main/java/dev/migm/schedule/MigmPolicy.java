package dev.migm.schedule;

import dev.migm.engine.GpuView;
import dev.migm.engine.NeedSpread;
import dev.migm.engine.QueuedJob;
import dev.migm.engine.Refusal;
import dev.migm.engine.SchedulingContext;
import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Profile;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import dev.migm.partition.Planner;
import dev.migm.partition.UsableCompute;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code migm}: ours, the default. It goes past the paper's two schemes in five ways.
 *
 * <ol>
 *   <li><b>Queue order with backfilling.</b> Jobs are taken in arrival order; among jobs that arrive
 *       together (a batch) the ones that need a whole GPU go first, then the longest (LPT, which
 *       bounds the makespan's tail). When the first job of the queue cannot be placed it gets a
 *       <em>reservation</em>: on each GPU the placement whose busy instances free its slices soonest,
 *       on the GPU whose drain idles the fewest slice-seconds until then.
 *       Later jobs in a window of the queue are backfilled into free slices as long as they stay off
 *       the reserved slices or are expected to end before the reservation (EASY backfilling), so
 *       the head job is not delayed and the chip does not idle while a large job waits for a drain.
 *       A head that needs a whole GPU gets its reservation only after a bounded delay
 *       ({@code migm:K}, K run times, default {@value #DEFAULT_WHOLE_GPU_DELAY}): until then small jobs
 *       keep backfilling, so that whole-GPU jobs discovered late in a batch drain the GPU together
 *       rather than one drain each.</li>
 *   <li><b>Right-sizing by dominant share.</b> A job's instance is chosen among the profiles that
 *       hold its memory by the slice-time it takes from the scarcer resource,
 *       {@code T(p) * max(g_p / G, m_p / M)} (compute and memory slices of the profile over the
 *       GPU's), so that scalable jobs get a larger instance when it costs no more chip, and memory-
 *       heavy small jobs do not waste compute slices. Ties go to the plan with fewer operations,
 *       then the one leaving the largest contiguous free region (the planner's ranking).</li>
 *   <li><b>Reconfiguration weighed by its cost.</b> Creating and destroying instances costs tenths
 *       of a second (models.md section 4), far less than any job, so migm reconfigures whenever it
 *       helps; what does cost is draining busy instances, which only the reservation waits for.
 *       When the queue holds a single job whose scaling is known (measured for its application, or
 *       the oracle's), it takes the placement that finishes it first; with only a class prior the
 *       guess of which placement is fastest is not worth a larger instance.</li>
 *   <li><b>MIG mode per GPU.</b> Where the backend may change modes, a GPU runs with MIG off while
 *       it serves jobs that need a whole GPU: a {@code 7g} instance has fewer SMs than the GPU with
 *       MIG off (98 of 108 on an A100), so such a job ends sooner there. An idle GPU is switched off
 *       for a waiting whole-GPU job when the change's expected time is less than what the job would
 *       lose on the largest instance ({@code T(7g) - T(whole)} by its run-time expectation); a free
 *       MIG-off GPU takes waiting whole-GPU jobs first, then, when no more jobs wait than such GPUs
 *       are free, any job (light load: a whole GPU beats waiting); when more wait, it is switched
 *       back on so that they share it. Every change is journaled with its reason.</li>
 *   <li><b>Drains broken at checkpoints.</b> A blocked head whose slices are held only by runs that
 *       checkpoint need not wait for them: {@link DrainBreaker} stops them when the drain costs more
 *       idle slices than their restarts, moves each to slices free elsewhere (or, for a head that
 *       needs a GPU's largest instance, lets it resume after), and pledges the slices.</li>
 * </ol>
 *
 * <p>It says why it leaves a job waiting, as data ({@link Refusal}): the head of the queue (no
 * instance that could exist now holds it, and where its drain stands), a job that would run past a
 * reservation (its expected run time against the time left), one whose right-sized instances cannot be
 * had now, one a GPU is turning MIG off for. A job no instance on offer holds is passed over at the
 * cost of one comparison and nothing said: the capacity side of its reason (its need against the
 * largest instance that could exist) is all there is to say.
 *
 * <p>Cost of a round: plans are cached per GPU and state version, and each GPU keeps a bit mask of
 * the profiles it can offer now, so a job that fits nowhere is skipped in constant time and a round
 * on a full node returns at once.
 */
public final class MigmPolicy implements SchedulingPolicy {
    /** How many waiting jobs a round looks at (bounds a round's cost on long queues). */
    static final int WINDOW = 128;
    /** A profile is a candidate when its cost is within this factor of the job's cheapest. */
    public static final double DEFAULT_RIGHT_SIZE_SLACK = 1.25;
    /**
     * Default bound on how long backfilling may delay a blocked head job that needs a whole GPU,
     * in multiples of its expected run time, counted from when it entered the queue. Until then
     * later jobs backfill freely (a whole-GPU job must drain the GPU, which costs most when it
     * happens often); after it the head gets its reservation and is not delayed further. Heads
     * that need part of a GPU get their reservation at once.
     */
    public static final double DEFAULT_WHOLE_GPU_DELAY = 30;

    private final long wholeGpuMib;
    private final double wholeGpuDelay;
    /** Said in the blocked head's reason every round it waits: written once. */
    private final String wholeGpuDelayText;
    private final double rightSizeSlack;
    private final Map<GpuModel, Profile[]> profilesByModel = new IdentityHashMap<>();
    private GpuModel lastProfilesModel;
    private Profile[] lastProfiles;
    private final Map<GpuModel, Long> secondLargestMib = new IdentityHashMap<>();
    private final Map<GpuModel, Profile> largestByModel = new IdentityHashMap<>();
    /** The least second-largest profile memory over the node's models (-1 until computed). */
    private long minSecondLargestMib = -1;
    /** Whole-GPU jobs a MIG-off switch is under way for: job id to GPU index. */
    private final Map<String, Integer> promised = new java.util.HashMap<>();
    /**
     * Recent placements, decayed by {@link #DEMAND_DECAY} each: all of them, and those of jobs that
     * need the largest instance and run faster on a whole GPU (a MIG-off GPU serves them better).
     * Their ratio is the share of GPUs kept with MIG off ahead of demand.
     */
    private double placedRecently;
    private double wholeGainRecently;
    /**
     * Each placement weighs 1, the one before 0.99 of that: the share follows roughly the last 100
     * placements (1 / (1 - 0.99)), a few rounds of a node's GPUs, so that it follows a change of the
     * workload within its own time scale and one odd job moves it by 1%.
     */
    static final double DEMAND_DECAY = 0.99;
    private GpuCache[] caches = new GpuCache[0];
    /**
     * What the policy keeps per GPU from round to round, brought up to date only for the GPUs that
     * changed ({@link #sync}): which can offer some profile (their plans current), which are free
     * with MIG off, which are idle with MIG on and could be switched off, and how many may change
     * mode and have MIG off. Within a round the policy's own placements and mode changes only take
     * GPUs out of these (a placement never makes a profile possible that was not, {@link
     * #refreshPlaced}), so the GPUs a round would find by passing over every one are these, less the
     * ones it took since; the next {@link #sync} sees the ones it changed.
     */
    private final java.util.BitSet offering = new java.util.BitSet();
    private final java.util.BitSet freeWhole = new java.util.BitSet();
    private final java.util.BitSet idleMigOn = new java.util.BitSet();
    private final java.util.BitSet changeableCounted = new java.util.BitSet();
    private final java.util.BitSet offCounted = new java.util.BitSet();
    /** MIG on, schedulable and not changing mode: the GPUs a reservation may be made on. */
    private final java.util.BitSet migUsable = new java.util.BitSet();
    /** Set when every GPU must be looked at again at the next {@link #sync} (the plan cache forgot its kinds). */
    private boolean syncAll;
    /**
     * Per GPU, the memory of the largest profile it can offer now (0: none; {@link #offering} holds
     * the GPUs above 0), and how many GPUs offer each such memory: the largest any GPU offers is the
     * last key, kept as placements change it instead of found by a pass over the offering GPUs.
     */
    private long[] offeredMib = new long[0];
    private final java.util.TreeMap<Long, Integer> offeredCounts = new java.util.TreeMap<>();
    /** Per model, its GPU whose mode may change and changes quickest (both fixed at start). */
    private final Map<GpuModel, GpuView> quickestModeChangeOf = new java.util.LinkedHashMap<>();
    private final DrainBreaker breaker = new DrainBreaker();

    /**
     * @param wholeGpuMib   memory above which a job needs a GPU's largest instance
     * @param wholeGpuDelay the delay bound of a blocked whole-GPU head, in multiples of its run time
     */
    public MigmPolicy(long wholeGpuMib, double wholeGpuDelay) {
        this(wholeGpuMib, wholeGpuDelay, DEFAULT_RIGHT_SIZE_SLACK);
    }

    /** With a right-size slack other than the default (sweeps). */
    public MigmPolicy(long wholeGpuMib, double wholeGpuDelay, double rightSizeSlack) {
        this.rightSizeSlack = rightSizeSlack;
        if (!(wholeGpuDelay >= 0)) throw new IllegalArgumentException("delay bound must be >= 0");
        this.wholeGpuMib = wholeGpuMib;
        this.wholeGpuDelay = wholeGpuDelay;
        this.wholeGpuDelayText = String.valueOf(wholeGpuDelay);
    }

    @Override
    public String name() {
        return wholeGpuDelay == DEFAULT_WHOLE_GPU_DELAY ? "migm" : "migm:" + wholeGpuDelay;
    }

    @Override
    public boolean decidesMigModes() {
        return true;
    }

    @Override
    public boolean movesRunsAtTheTail() {
        return true;
    }

    @Override
    public Comparator<QueuedJob> queueOrder() {
        return Comparator.comparingDouble((QueuedJob q) -> q.spec().submitS())
                .thenComparingInt(q -> q.needMib() > wholeGpuMib ? 0 : 1)
                .thenComparingDouble(q -> -q.remainingWholeGpuS());
    }

    private record Reservation(int gpu, Instance target, int computeSlices, double timeS) {
        long mask() {
            return target.mask();
        }
    }

    /** Plans of one GPU for its current state version, and which profiles are possible now. */
    private static final class GpuCache {
        long version = -1;
        Plan[] plans;
        /** Per possible plan: the largest free run of slices it leaves (a tie-break), computed once. */
        int[] freeRuns;
        /** Per possible plan: the slices it takes or destroys ({@link #footprint}), computed once. */
        long[] footprints;
        int possible;
        /** The possible plans after which every compute slice of the GPU is busy ({@link #takesLastCompute}). */
        int lastCompute;
        /** The possible plans that strand free compute slices ({@link UsableCompute}), and how many each. */
        int strandsComputeMask;
        int[] strandedCompute;
        /** The busy instances, in layout order, and their slice masks, for {@link #busyVersion} ({@link #reserve}). */
        long busyVersion = -1;
        Instance[] busy;
        long[] busyMasks;
        /**
         * When each busy instance is expected to free ({@link GpuView#expectedReleaseS}): set with the
         * run's launch, which changes the GPU's version, so it holds while the version does.
         */
        double[] busyEnds;
        /**
         * Its plans' kind: GPUs of one model in one state (layout, busy instances, reconfiguring or
         * not) have the same plans, costs and tie-breaks, so in a round's search for a job only the
         * first of them in GPU order can be chosen ({@link #migRound}).
         */
        int kind;
    }

    /**
     * The kinds of GPU state seen ({@link GpuCache#kind}) and, by kind, their plans, which depend on
     * the state alone: a state met again (a node's states repeat) is not planned again. Forgotten
     * all at once past {@link #MOST_KINDS}, so that a daemon's policy holds a bounded number.
     */
    private final Map<List<Object>, Integer> kinds = new java.util.HashMap<>();
    private final List<Planned> plansOfKind = new ArrayList<>();

    /** A state's plan per profile, which of them are possible now, and the free run each leaves (read-only). */
    private record Planned(Plan[] plans, int[] freeRuns, long[] footprints, int possible, int lastCompute,
                           int strandsComputeMask, int[] strandedCompute) {
    }
    /**
     * About three times the most kinds met in a run of the largest traces (1,410 in 200,000 jobs on
     * 64 GPUs, 1,074 in 100,000 on 4,096; 110 in the mixed suite): each holds a state and its plans,
     * a few kilobytes, so a daemon's cache stays in the tens of megabytes.
     */
    static final int MOST_KINDS = 4096;
    /** The first offering GPU of each kind (by {@link GpuCache#kind}), kept with {@link #offering}. */
    private final FirstOfKind firstOfKind = new FirstOfKind();

    /** The GPU's busy instances in layout order, kept with its cache until its state changes. */
    private static GpuCache busyOf(GpuView gpu, GpuCache cache) {
        if (cache.busyVersion != gpu.version()) {
            var state = gpu.state();
            List<Instance> busy = new ArrayList<>();
            for (Instance i : state.layout().instances()) if (state.isBusy(i)) busy.add(i);
            cache.busy = busy.toArray(Instance[]::new);
            cache.busyMasks = new long[cache.busy.length];
            cache.busyEnds = new double[cache.busy.length];
            for (int k = 0; k < cache.busy.length; k++) {
                cache.busyMasks[k] = cache.busy[k].mask();
                cache.busyEnds[k] = gpu.expectedReleaseS(cache.busy[k]);
            }
            cache.busyVersion = gpu.version();
        }
        return cache;
    }

    @Override
    public void schedule(SchedulingContext ctx) {
        List<? extends GpuView> gpus = ctx.gpus();
        if (caches.length != gpus.size()) {
            caches = new GpuCache[gpus.size()];
            for (int i = 0; i < caches.length; i++) caches[i] = new GpuCache();
            offeredMib = new long[gpus.size()];
        }
        if (minSecondLargestMib < 0) {
            minSecondLargestMib = Long.MAX_VALUE;
            for (GpuView g : gpus) {
                minSecondLargestMib = Math.min(minSecondLargestMib, secondLargest(g.model()));
                GpuView quickest = quickestModeChangeOf.get(g.model());
                if (g.migModeChangeable() && (quickest == null || g.migModeChangeS() < quickest.migModeChangeS())) {
                    quickestModeChangeOf.put(g.model(), g);
                }
            }
        }
        if (kinds.size() > MOST_KINDS) {
            kinds.clear();
            plansOfKind.clear();
            for (GpuCache c : caches) c.version = -1;
            firstOfKind.clear();
            syncAll = true;
        }
        List<QueuedJob> window = ctx.waiting(WINDOW);
        breaker.keepWaiting(window);
        if (breaker.placePledged(ctx, gpus, window)) {
            window = ctx.waiting(WINDOW);
        }
        if (wholeGpus(ctx, gpus, window)) {
            window = ctx.waiting(WINDOW);
        }
        sync(ctx, gpus);
        if (!offering.isEmpty()) {
            migRound(ctx, gpus, window);
        }
        idleWholeGpus(ctx, gpus);
    }

    private Profile largest(GpuModel model) {
        return largestByModel.computeIfAbsent(model, GpuModel::largestProfile);
    }

    private long secondLargest(GpuModel model) {
        // Asked per queued job and GPU in several passes of every round: most nodes have one model,
        // so the last answer is kept (as for profiles).
        if (model != lastSecondLargestModel) {
            lastSecondLargestMib = secondLargestMib.computeIfAbsent(model, GpuModel::secondLargestMemoryMib);
            lastSecondLargestModel = model;
        }
        return lastSecondLargestMib;
    }

    private GpuModel lastSecondLargestModel;
    private long lastSecondLargestMib;

    /**
     * Whether only the model's largest instance holds the job (its need is above every smaller
     * profile's memory): the jobs a MIG-off GPU of that model serves at no loss of sharing.
     */
    private boolean needsLargest(QueuedJob job, GpuModel model) {
        return job.needMib() > secondLargest(model);
    }

    /** Counts a placement in the recent demand for MIG-off GPUs. */
    private void countDemand(SchedulingContext ctx, QueuedJob job, GpuView gpu) {
        placedRecently = placedRecently * DEMAND_DECAY + 1;
        wholeGainRecently *= DEMAND_DECAY;
        // Only a measured scaling says a whole GPU is faster: a class prior's guess would turn GPUs
        // off ahead of demand for jobs that gain nothing (measured on the alibaba suite with the
        // default chain: p95 wait 12438 s without the guess, 13938 s with it).
        if (needsLargest(job, gpu.model()) && Double.isFinite(gpu.migModeChangeS()) && job.runtime().scalingKnown()
                && wholeGpuGainS(ctx, job, gpu) > 0) {
            wholeGainRecently += 1;
        }
    }

    /**
     * How much sooner the job is expected to end on the whole GPU with MIG off than on the model's
     * largest instance (infinite when that instance cannot hold it).
     */
    private double wholeGpuGainS(SchedulingContext ctx, QueuedJob job, GpuView gpu) {
        Profile largest = largest(gpu.model());
        double onLargest = largest.memoryMib() >= job.needMib()
                ? ctx.expectedRuntimeS(job, gpu, largest.sms()) : Double.POSITIVE_INFINITY;
        return onLargest - ctx.expectedRuntimeS(job, gpu, gpu.model().sms());
    }

    private void placeWhole(SchedulingContext ctx, QueuedJob job, GpuView gpu) {
        countDemand(ctx, job, gpu);
        ctx.placeWholeGpu(job, gpu);
        breaker.placed(job);
    }

    private static boolean freeWholeGpu(GpuView gpu) {
        return !gpu.migEnabled() && gpu.schedulable() && !gpu.changingMigMode() && !gpu.wholeGpuBusy();
    }

    /** Lists reused round after round (a large node's lists are thousands long: not built anew each round). */
    private final ArrayList<GpuView> freeWholeBuffer = new ArrayList<>();
    private final ArrayList<GpuView> idleOnBuffer = new ArrayList<>();

    /** The GPUs of {@code bits}, in GPU order, in {@code into} (emptied first). */
    private static List<GpuView> gpusOf(java.util.BitSet bits, List<? extends GpuView> gpus, ArrayList<GpuView> into) {
        into.clear();
        for (int g = bits.nextSetBit(0); g >= 0; g = bits.nextSetBit(g + 1)) into.add(gpus.get(g));
        return into;
    }

    /** An idle GPU with MIG on whose mode may change now. */
    private static boolean mayTurnOff(GpuView gpu) {
        return gpu.migEnabled() && gpu.migModeChangeable() && gpu.schedulable() && !gpu.changingMigMode() && gpu.idle();
    }

    /**
     * Whole-GPU jobs first onto free MIG-off GPUs; for each one left, an idle MIG GPU switched off
     * when the switch costs less than the job loses on the largest instance.
     */
    private boolean wholeGpus(SchedulingContext ctx, List<? extends GpuView> gpus, List<QueuedJob> window) {
        boolean placed = false;
        if (!promised.isEmpty()) {
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (QueuedJob q : window) ids.add(q.id());
            // A switch that failed leaves its GPU on; a promised job that left the window is on its own.
            promised.entrySet().removeIf(e -> !ids.contains(e.getKey())
                    || (gpus.get(e.getValue()).migEnabled() && !gpus.get(e.getValue()).changingMigMode()));
        }
        List<GpuView> free = null;
        List<GpuView> idleOn = null;
        for (QueuedJob job : window) {
            // Most jobs fit a smaller instance of every model: one comparison each.
            if (job.needMib() <= minSecondLargestMib) continue;
            if (free == null) {
                sync(ctx, gpus);
                free = gpusOf(freeWhole, gpus, freeWholeBuffer);
            }
            Integer mine = promised.get(job.id());
            GpuView target = null;
            for (GpuView g : free) {
                if (needsLargest(job, g.model()) && g.model().memoryMib() >= job.needMib()
                        && (target == null || (mine != null && g.index() == mine))) {
                    target = g;
                }
            }
            if (target != null) {
                placeWhole(ctx, job, target);
                placed = true;
                free.remove(target);
                promised.remove(job.id());
                continue;
            }
            if (mine != null || !someModelGainsFromTurningOff(ctx, job)) continue;
            if (idleOn == null) {
                sync(ctx, gpus);
                idleOn = gpusOf(idleMigOn, gpus, idleOnBuffer);
            }
            GpuModel gainModel = null;
            double gain = 0;
            for (GpuView g : idleOn) {
                // An earlier job of this round may have taken it.
                if (!mayTurnOff(g) || g.model().memoryMib() < job.needMib() || !needsLargest(job, g.model())) {
                    continue;
                }
                if (g.model() != gainModel) {
                    gainModel = g.model();
                    gain = wholeGpuGainS(ctx, job, g);
                }
                if (gain > g.migModeChangeS()) {
                    double whole = ctx.expectedRuntimeS(job, g, g.model().sms());
                    ctx.changeMigMode(g, false, "MIG off for " + job.id() + ": expected "
                            + Math.round(whole) + " s on the whole GPU against " + Math.round(whole + gain) + " s on "
                            + largest(g.model()).name() + ", for a " + Math.round(g.migModeChangeS()) + " s mode change");
                    promised.put(job.id(), g.index());
                    break;
                }
            }
        }
        return placed;
    }

    /**
     * Whether on some model of the node the job would gain more on a whole GPU than that model's
     * quickest mode change costs: without it no idle GPU is switched off for the job, and the round
     * need not list them (on thousands of GPUs a measurable share of each round with such a job waiting).
     */
    private boolean someModelGainsFromTurningOff(SchedulingContext ctx, QueuedJob job) {
        Boolean known = gainsFromTurningOff.get(job);
        if (known != null) return known;
        boolean gains = gainsFromTurningOffNow(ctx, job);
        if (gainsFromTurningOff.size() >= 4 * WINDOW) gainsFromTurningOff.clear();
        gainsFromTurningOff.put(job, gains);
        return gains;
    }

    /**
     * {@link #someModelGainsFromTurningOff}'s answers by queued job (identity): the answer depends on
     * the job's run-time expectation and progress, which a queued job holds and which are new in a
     * new one (a job estimated again is queued anew), and on models and mode changes fixed at start;
     * a whole-GPU job waits through many rounds. Cleared past a few windows of jobs.
     */
    private final Map<QueuedJob, Boolean> gainsFromTurningOff = new IdentityHashMap<>();

    private boolean gainsFromTurningOffNow(SchedulingContext ctx, QueuedJob job) {
        for (GpuView quickest : quickestModeChangeOf.values()) {
            GpuModel m = quickest.model();
            if (m.memoryMib() >= job.needMib() && needsLargest(job, m)
                    && wholeGpuGainS(ctx, job, quickest) > quickest.migModeChangeS()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Free MIG-off GPUs no whole-GPU job took: with no more jobs waiting than there are such GPUs,
     * each job gets one now; with more, they go back to MIG so that the jobs share them.
     */
    private void idleWholeGpus(SchedulingContext ctx, List<? extends GpuView> gpus) {
        // Free as of the round's last sync; its placements since may have taken some (the last job
        // on a faster whole GPU).
        List<GpuView> free = gpusOf(freeWhole, gpus, freeWholeBuffer);
        free.removeIf(g -> !freeWholeGpu(g));
        if (ctx.waitingCount() <= promised.size()) {
            keepModesAheadOfDemand(ctx, gpus, free);
            return;
        }
        if (free.isEmpty()) return;
        List<QueuedJob> left = new ArrayList<>();
        for (QueuedJob q : ctx.waiting(WINDOW)) if (!promised.containsKey(q.id())) left.add(q);
        if (left.size() <= free.size()) {
            for (QueuedJob job : left) {
                for (GpuView g : free) {
                    if (g.model().memoryMib() >= job.needMib()) {
                        placeWhole(ctx, job, g);
                        free.remove(g);
                        break;
                    }
                }
            }
            return;
        }
        for (GpuView g : free) {
            if (g.migModeChangeable()) {
                ctx.changeMigMode(g, true, "MIG on: " + left.size() + (left.size() == WINDOW ? "+" : "")
                        + " jobs wait, more than the " + free.size() + " free whole GPU(s), and can share it");
            }
        }
    }

    /**
     * With nothing waiting: idle GPUs take the mode recent demand asks for, so that the next
     * whole-GPU job finds a MIG-off GPU without waiting for a change (the share of changeable GPUs
     * with MIG off follows the share of recent jobs a MIG-off GPU serves better; one GPU of
     * hysteresis before one goes back on).
     */
    private void keepModesAheadOfDemand(SchedulingContext ctx, List<? extends GpuView> gpus, List<GpuView> freeOff) {
        if (placedRecently == 0) return;
        double share = wholeGainRecently / placedRecently;
        if (Math.round(share * gpus.size()) == 0 && freeOff.isEmpty()) return;
        // As of the round's last sync: only wholeGpus, before it, changes modes in a round.
        int changeable = changeableCounted.cardinality();
        int off = offCounted.cardinality();
        long target = Math.round(share * changeable);
        // The idle MIG-on GPUs as of the round's sync, in GPU order; a round only takes GPUs out.
        for (int gi = idleMigOn.nextSetBit(0); gi >= 0; gi = idleMigOn.nextSetBit(gi + 1)) {
            if (off >= target) break;
            GpuView g = gpus.get(gi);
            if (mayTurnOff(g)) {
                ctx.changeMigMode(g, false, String.format(java.util.Locale.ROOT, "MIG off ahead of demand: %.0f%% of"
                        + " recent jobs need the largest instance and run faster on a whole GPU; %d of %d GPUs off",
                        100 * share, off + 1, changeable));
                off++;
            }
        }
        for (GpuView g : freeOff) {
            if (off <= target + 1) break;
            if (g.migModeChangeable()) {
                ctx.changeMigMode(g, true, String.format(java.util.Locale.ROOT, "MIG on: %.0f%% of recent jobs need a"
                        + " whole GPU; %d of %d GPUs off", 100 * share, off - 1, changeable));
                off--;
            }
        }
    }

    private void migRound(SchedulingContext ctx, List<? extends GpuView> gpus, List<QueuedJob> window) {
        Reservation reservation = null;
        boolean reserved = false;
        QueuedJob blockedHead = null;
        Refusal headRefusal = null;
        double headReserveAtS = Double.NaN;
        boolean fullAfterPlacing = false;
        String reservedFor = null;
        long largestOffered = largestOfferedMib();
        // The last compute slices at their compute cost only in a batch all in: there the node's
        // throughput decides the makespan. Online a job's own completion counts, and on a 1g a long
        // job runs twice as long as on its 2g (mixed-online mean JCT +3%, one held-back online
        // trace +11%; BENCHMARKS.md section 34).
        boolean fillLastCompute = ctx.batchAllIn();
        double queuedWork = Double.NaN;
        GpuModel queuedWorkModel = null;
        for (QueuedJob job : window) {
            if (!promised.isEmpty() && promised.containsKey(job.id())) {
                ctx.refuse(job, new Refusal(Refusal.Resource.WHOLE_GPU, 1, 0,
                        "gpu" + promised.get(job.id()) + " is turning MIG off for it"));
                continue;
            }
            boolean lastJob = ctx.waitingCount() == 1 && job.runtime().scalingKnown();
            if (job.needMib() > largestOffered && !lastJob) {
                // No instance any GPU can offer now holds it, so the loop below would find nothing
                // (nor could the reservation test below): it is passed over at the cost of one
                // comparison. The last job may still take a GPU with MIG off (fasterWholeGpu).
                // Its reason is the capacity side's (need against the largest instance); only the
                // head's is said, with where its drain stands (below): a round stays cheap on a long queue.
                if (blockedHead == null) {
                    blockedHead = job;
                    headRefusal = new Refusal(Refusal.Resource.MEMORY_MIB, job.needMib(), largestOffered,
                            NO_INSTANCE_HOLDS_IT);
                }
                continue;
            }
            if (blockedHead != null && !reserved && job.needMib() <= largestOffered) {
                reserved = true;
                headReserveAtS = reserveAtS(ctx, gpus, blockedHead);
                if (ctx.nowS() >= headReserveAtS) {
                    reservation = breakDrain(ctx, gpus, blockedHead, reserve(ctx, gpus, blockedHead));
                    // Its time rests on expected ends; when it comes and the slices are still busy
                    // (a job ran longer than expected), the reservation is made again: a deadline.
                    if (reservation != null) {
                        ctx.wakeAt(reservation.timeS());
                        ctx.hold(gpus.get(reservation.gpu()), reservation.computeSlices(), blockedHead);
                        reservedFor = blockedHead.id() + " on gpu" + reservation.gpu();
                    }
                } else {
                    ctx.wakeAt(headReserveAtS);
                }
            }
            GpuView chosenGpu = null;
            Plan.Possible chosen = null;
            double bestKey = Double.POSITIVE_INFINITY;
            int bestOps = Integer.MAX_VALUE;
            int bestRun = -1;
            GpuModel maskModel = null;
            Sized sized = null;
            double keptOffReservationS = Double.POSITIVE_INFINITY;
            // The last compute slices that could hold the job, declined by the bound: its run there, the rest's.
            double declinedLastComputeS = Double.POSITIVE_INFINITY;
            double declinedRestS = 0;
            int declinedGpu = -1;
            // A GPU like one met before in this search can only tie with it, and ties go to the
            // first: passed over, unless a pledge or the reservation makes it unlike the others.
            boolean alike = !breaker.pledging();
            // Then only the first offering GPU of each kind is visited ({@link FirstOfKind}), and the
            // reservation's GPU, which is unlike its kind: met as itself, it leaves its kind to the
            // next of that kind (the first, or the one after it when it is the first).
            java.util.BitSet walk = alike ? firstOfKind.firsts() : offering;
            int extra = -1;
            if (alike && reservation != null && offering.get(reservation.gpu())) {
                int r = reservation.gpu();
                extra = walk.get(r) ? firstOfKind.nextOfKind(firstOfKind.kindOf(r), r) : r;
            }
            for (int next = walk.nextSetBit(0); ; ) {
                int gi;
                if (extra >= 0 && (next < 0 || extra < next)) {
                    gi = extra;
                    extra = -1;
                } else if (next >= 0) {
                    gi = next;
                    next = walk.nextSetBit(next + 1);
                } else {
                    break;
                }
                GpuView gpu = gpus.get(gi);
                GpuCache cache = caches[gi];
                Profile[] profiles = profiles(gpu.model());
                if (gpu.model() != maskModel) {
                    maskModel = gpu.model();
                    sized = sized(job, maskModel, profiles, lastJob, fillLastCompute);
                }
                int lastCompute = fillLastCompute ? cache.lastCompute : 0;
                int usable = (sized.mask() & cache.possible & ~lastCompute)
                        | (sized.lastComputeMask() & cache.possible & lastCompute);
                for (int k = 0; usable != 0; k++, usable >>>= 1, lastCompute >>>= 1) {
                    if ((usable & 1) == 0) continue;
                    Profile p = profiles[k];
                    Plan.Possible plan = (Plan.Possible) cache.plans[k];
                    if (breaker.blocks(gpu.index(), plan, job)) continue;
                    // The run time only where it decides (by far most GPUs hold no reservation).
                    boolean onReservation = reservation != null && reservation.gpu() == gpu.index()
                            && (cache.footprints[k] & reservation.mask()) != 0;
                    double runtime = onReservation || lastJob ? ctx.expectedRuntimeS(job, gpu, p.sms()) : Double.NaN;
                    if (onReservation && ctx.nowS() + runtime > reservation.timeS()) {
                        keptOffReservationS = Math.min(keptOffReservationS, runtime);
                        continue;
                    }
                    boolean lastComputeOnly = (lastCompute & 1) != 0 && (sized.mask() & (1 << k)) == 0;
                    if (lastComputeOnly && !lastJob) {
                        // Taken only when the job ends there before the node could work off the
                        // rest: the runs going and the window's other jobs at their cheapest. Then
                        // it does not lengthen the batch, and what it takes had no other use. A
                        // short queue keeps it waiting for its right-sized instance (on a 1g it
                        // may run twice as long as on its 2g, and end the batch).
                        if (gpu.model() != queuedWorkModel) {
                            queuedWorkModel = gpu.model();
                            queuedWork = queuedWork(window, queuedWorkModel, profiles) + runningWork(ctx, gpus);
                        }
                        double rest = (queuedWork - sized.minCost()) / gpus.size();
                        double there = ctx.expectedRuntimeS(job, gpu, p.sms());
                        if (there > rest) {
                            if (there < declinedLastComputeS) {
                                declinedLastComputeS = there;
                                declinedRestS = rest;
                                declinedGpu = gpu.index();
                            }
                            continue;
                        }
                    }
                    double key = lastJob ? runtime : (lastCompute & 1) != 0 ? sized.lastComputeCosts()[k] : sized.costs()[k];
                    if (!lastJob && (cache.strandsComputeMask & (1 << k)) != 0) {
                        // It strands free compute slices: they are its cost too (NaN: not right-sized so).
                        key = strandedComputeCost(job, gpu.model(), sized, profiles, k, cache.strandedCompute[k]);
                        if (Double.isNaN(key)) continue;
                    }
                    int ops = plan.operationCount();
                    int run = cache.freeRuns[k];
                    boolean better = chosen == null || key < bestKey - 1e-9 * Math.abs(bestKey)
                            || (Math.abs(key - bestKey) <= 1e-9 * Math.abs(bestKey)
                            && (ops < bestOps || (ops == bestOps && run > bestRun)));
                    if (better) {
                        chosen = plan;
                        chosenGpu = gpu;
                        bestKey = key;
                        bestOps = ops;
                        bestRun = run;
                    }
                }
            }
            GpuView whole = lastJob ? fasterWholeGpu(ctx, gpus, job, chosen == null ? Double.POSITIVE_INFINITY : bestKey)
                    : null;
            if (whole != null) {
                // A GPU with MIG off is never among the offering ones: nothing there changed.
                placeWhole(ctx, job, whole);
            } else if (chosen != null) {
                countDemand(ctx, job, chosenGpu);
                ctx.place(job, chosenGpu, chosen);
                breaker.placed(job);
                refreshPlaced(chosenGpu);
                if (offering.isEmpty()) {
                    // Nothing more can be placed this round; the head's reservation stands as made.
                    fullAfterPlacing = true;
                    break;
                }
                largestOffered = largestOfferedMib();
            } else {
                Refusal r = keptOffReservationS < Double.POSITIVE_INFINITY
                        ? new Refusal(Refusal.Resource.RESERVED_SLICES_S, keptOffReservationS,
                        reservation.timeS() - ctx.nowS(), reservedFor)
                        : declinedGpu >= 0 ? new Refusal(Refusal.Resource.RIGHT_SIZED_INSTANCE, 1, 0, String.format(
                                java.util.Locale.ROOT, "its right-sized instances cannot be had now; the last free"
                                        + " compute slices of gpu%d could hold it, but it would run %.0f s there, past"
                                        + " the %.0f s the node needs for the rest of the batch", declinedGpu,
                                declinedLastComputeS, declinedRestS))
                        : new Refusal(Refusal.Resource.RIGHT_SIZED_INSTANCE, 1, 0, NO_RIGHT_SIZED_INSTANCE);
                if (blockedHead == null) {
                    blockedHead = job;
                    headRefusal = r;
                } else {
                    ctx.refuse(job, r);
                }
            }
        }
        if (blockedHead != null && !reserved && !fullAfterPlacing) {
            headReserveAtS = reserveAtS(ctx, gpus, blockedHead);
            if (ctx.nowS() >= headReserveAtS) {
                // Nothing behind the head could use its slices, so it needs no deadline; the GPU still
                // drains for it, which the hold says (accounting only: no wake, no other effect).
                reservation = breakDrain(ctx, gpus, blockedHead, reserve(ctx, gpus, blockedHead));
                if (reservation != null) ctx.hold(gpus.get(reservation.gpu()), reservation.computeSlices(), blockedHead);
            }
        }
        if (blockedHead != null) {
            ctx.refuse(blockedHead, new Refusal(headRefusal.resource(), headRefusal.asked(), headRefusal.free(),
                    headLine(ctx.nowS(), headRefusal.detail(), reservation, headReserveAtS)));
        }
    }

    /** The last line said of a blocked head and what it was made of (see {@link #headLine}). */
    private String headLine = "";
    private String headLineDetail;
    private int headLineGpu = -2;
    private long headLineSeconds;

    /**
     * The blocked head's line: its refusal's and where its drain stands. Said every round and the
     * same for many of them (whole seconds; a node of thousands of GPUs has several rounds a second),
     * so the line made last is said again while its parts are the same.
     */
    private String headLine(double now, String detail, Reservation reservation, double headReserveAtS) {
        int gpu = reservation != null ? reservation.gpu() : now < headReserveAtS ? -1 : -3;
        long seconds = reservation != null ? Math.round(Math.max(0, reservation.timeS() - now))
                : now < headReserveAtS ? Math.round(headReserveAtS - now) : 0;
        if (detail != headLineDetail || gpu != headLineGpu || seconds != headLineSeconds) {
            String first = reservation != null
                    ? "; first in line: gpu" + gpu + " drains for it, its slices expected free in " + seconds + " s"
                    : gpu == -1
                    ? "; first in line: it gets a reservation in " + seconds
                    + " s (a whole-GPU job's delay bound, " + wholeGpuDelayText + " run times)"
                    : "";
            headLine = detail + first;
            headLineDetail = detail;
            headLineGpu = gpu;
            headLineSeconds = seconds;
        }
        return headLine;
    }

    private static final String NO_INSTANCE_HOLDS_IT = "no instance that could exist now holds it";
    private static final String NO_RIGHT_SIZED_INSTANCE = "its right-sized instances cannot be had now (larger ones"
            + " can, at more than the right-size slack times its cheapest cost)";

    /** A free MIG-off GPU on which the job is expected to end sooner than {@code thanS}, or null. */
    private GpuView fasterWholeGpu(SchedulingContext ctx, List<? extends GpuView> gpus, QueuedJob job,
                                   double thanS) {
        GpuView best = null;
        double bestS = thanS * (1 - 1e-9);
        // The free MIG-off GPUs as of the round's sync, in GPU order; a round only takes GPUs out.
        for (int gi = freeWhole.nextSetBit(0); gi >= 0; gi = freeWhole.nextSetBit(gi + 1)) {
            GpuView g = gpus.get(gi);
            if (!freeWholeGpu(g) || g.model().memoryMib() < job.needMib()) continue;
            double t = ctx.expectedRuntimeS(job, g, g.model().sms());
            if (t < bestS) {
                best = g;
                bestS = t;
            }
        }
        return best;
    }

    /** The head's expected run time on its cheapest profile of the first GPU that can hold it. */
    private double headRuntime(SchedulingContext ctx, List<? extends GpuView> gpus, QueuedJob job) {
        for (GpuView gpu : gpus) {
            Profile best = cheapest(job, gpu.model());
            if (best != null) return ctx.expectedRuntimeS(job, gpu, best.sms());
        }
        return 0;
    }

    /** The profile of the model that holds the job at the least {@link #cost}, or null if none holds it. */
    private Profile cheapest(QueuedJob job, GpuModel model) {
        Profile best = null;
        double bestCost = Double.POSITIVE_INFINITY;
        for (Profile p : profiles(model)) {
            if (p.memoryMib() < job.needMib()) continue;
            double c = cost(job, model, p);
            if (c < bestCost) {
                best = p;
                bestCost = c;
            }
        }
        return best;
    }

    /** Slice-time of the scarcer resource: {@code T(p) * max(g/G, m/M)}, with the job's expected {@code T}. */
    static double sliceCost(QueuedJob job, GpuModel model, Profile p) {
        return job.runtime().onSlotS(p.sms(), model.sms()) * scarcerShare(p, 0, model);
    }

    /**
     * The share of its GPU an instance of {@code p} holds by its scarcer resource, {@code max((g +
     * strandedCompute)/G, m/M)}, counting free compute slices its placement leaves out of reach.
     */
    private static double scarcerShare(Profile p, int strandedCompute, GpuModel model) {
        return Math.max((double) (p.computeSlices() + strandedCompute) / model.computeSlices(),
                (double) p.memorySlices() / model.memorySlices());
    }

    /**
     * Slice-time of a placement that leaves its GPU no free compute slice ({@link #takesLastCompute}):
     * the compute share alone, {@code T(p) * g/G}, the memory slices it takes having no other use while
     * it runs.
     */
    static double lastComputeSliceCost(QueuedJob job, GpuModel model, Profile p) {
        return job.runtime().onSlotS(p.sms(), model.sms()) * p.computeSlices() / model.computeSlices();
    }

    /**
     * What placing the job on {@code p} is expected to cost in slice-time, counting the chance that it
     * outgrows {@code p} ({@link NeedSpread#exceeds}, what its application's runs showed): then the
     * share of its run used before it crossed the limit is lost ({@link NeedSpread#shareRunBefore}:
     * nearly nothing for a job that holds its peak from the start, most of the run for one that
     * grows) and it runs again on the cheapest larger profile, which it may outgrow in turn. With
     * {@code q_i} the chance the need is above the memory {@code m_i} of the i-th profile of that
     * chain ({@code q_0 = 1}), {@code C_i} its {@link #sliceCost} and {@code u_i} the share used:
     * {@code E = sum_i (q_i - q_{i+1}) C_i + q_{i+1} u_i C_i}, the model's last profile ending the
     * chain. Without a spread it is {@code C_0}: the point estimate alone, as before. (Early restart
     * and checkpoints lose less than {@code u_i}; not counted, so the rule leans to the larger
     * profile only where an OOM would be costly.)
     */
    double cost(QueuedJob job, GpuModel model, Profile p) {
        return cost(job, model, p, sliceCost(job, model, p));
    }

    /** {@link #cost} with {@code firstSliceCost} as the cost of the first attempt on {@code p}. */
    private double cost(QueuedJob job, GpuModel model, Profile p, double firstSliceCost) {
        double c = firstSliceCost;
        NeedSpread spread = job.needSpread();
        if (!spread.known()) return c;
        double total = 0;
        double reach = 1;
        Profile at = p;
        while (true) {
            double fail = Math.min(reach, spread.exceeds(at.memoryMib()));
            Profile next = cheapestAbove(job, model, at.memoryMib());
            if (next == null) {
                return total + reach * c;
            }
            total += (reach - fail) * c + fail * spread.shareRunBefore(at.memoryMib()) * c;
            if (fail <= 0) return total;
            reach = fail;
            at = next;
            c = sliceCost(job, model, at);
        }
    }

    /** The profile of the model with more memory than {@code mib} at the least {@link #sliceCost}, or null. */
    private Profile cheapestAbove(QueuedJob job, GpuModel model, long mib) {
        Profile best = null;
        double bestCost = Double.POSITIVE_INFINITY;
        for (Profile q : profiles(model)) {
            if (q.memoryMib() <= mib) continue;
            double c = sliceCost(job, model, q);
            if (c < bestCost) {
                best = q;
                bestCost = c;
            }
        }
        return best;
    }

    /**
     * A queued job's right-sized profiles of a model (bit k for plain profile k) and each profile's
     * {@link #cost} (NaN: does not hold the job); the same for placements that leave their GPU no
     * free compute slice ({@link #lastComputeSliceCost}; costs null where not asked for, the mask then
     * empty unless any size goes); the least cost and slice-time; and the costs with stranded compute
     * slices ({@link #strandedComputeCost}), filled as asked. Otherwise read-only once made.
     */
    private record Sized(int mask, double[] costs, int lastComputeMask, double[] lastComputeCosts, double minCost,
                         double minSliceCost, double[] strandedComputeCosts) {
    }

    /**
     * The cost of profile {@code k} for the job when its placement strands {@code stranded} free
     * compute slices, {@code T(p) * max((g + stranded)/G, m/M)} with the risk chain on top, or NaN
     * when that is outside the right-size slack; worked once per queued job, profile and count (kept
     * in its {@link Sized}: a GPU's plans strand the same slices for every job of a round).
     */
    private double strandedComputeCost(QueuedJob job, GpuModel model, Sized sized, Profile[] profiles, int k, int stranded) {
        int index = k * (model.computeSlices() + 1) + stranded;
        double known = sized.strandedComputeCosts()[index];
        if (!Double.isInfinite(known)) return known;
        Profile p = profiles[k];
        double slice = job.runtime().onSlotS(p.sms(), model.sms()) * scarcerShare(p, stranded, model);
        double cost = cost(job, model, p, slice);
        double answer = slice > rightSizeSlack * sized.minSliceCost() || cost > rightSizeSlack * sized.minCost()
                ? Double.NaN : cost;
        sized.strandedComputeCosts()[index] = answer;
        return answer;
    }

    /**
     * {@link #candidates}' answers by model and queued job (identity), for jobs other than the last:
     * a pure function of the two (a queued job is immutable, and one estimated again is queued anew),
     * asked for every job of the window each round. Forgotten past a few windows of jobs.
     */
    private final Map<GpuModel, Map<QueuedJob, Sized>> sizedByModel = new IdentityHashMap<>();

    private Sized sized(QueuedJob job, GpuModel model, Profile[] profiles, boolean anySize, boolean lastCompute) {
        if (anySize) return candidates(job, model, profiles, true, false);
        Map<QueuedJob, Sized> of = sizedByModel.computeIfAbsent(model, m -> new IdentityHashMap<>());
        Sized known = of.get(job);
        if (known != null && (!lastCompute || known.lastComputeCosts() != null)) return known;
        if (of.size() >= 4 * WINDOW) of.clear();
        Sized made = candidates(job, model, profiles, false, lastCompute);
        of.put(job, made);
        return made;
    }

    /**
     * The expected slice-time of the window's jobs at their cheapest on {@code model}, in seconds of
     * a whole GPU: a lower bound on the node's time to work them off, per GPU.
     */
    private double queuedWork(List<QueuedJob> window, GpuModel model, Profile[] profiles) {
        double sum = 0;
        for (QueuedJob q : window) {
            double min = sized(q, model, profiles, false, false).minCost();
            if (Double.isFinite(min)) sum += min;
        }
        return sum;
    }

    /**
     * The expected slice-time left of the runs going, in seconds of a whole GPU: each busy instance's
     * share of its GPU (its scarcer resource) until its run is expected to end given its age.
     */
    private double runningWork(SchedulingContext ctx, List<? extends GpuView> gpus) {
        double now = ctx.nowS();
        double sum = 0;
        for (GpuView g : gpus) {
            if (!g.migEnabled()) {
                if (g.wholeGpuBusy()) sum += Math.max(0, g.wholeGpuReleaseS() - now);
                continue;
            }
            GpuCache busy = busyOf(g, caches[g.index()]);
            for (Instance i : busy.busy) {
                sum += Math.max(0, g.releaseGivenAgeS(i) - now) * scarcerShare(i.profile(), 0, g.model());
            }
        }
        return sum;
    }

    /** The profiles that hold the job and are right-sized (any size for the last job), with their costs. */
    private Sized candidates(QueuedJob job, GpuModel model, Profile[] profiles, boolean anySize, boolean lastCompute) {
        double min = Double.POSITIVE_INFINITY;
        double minSlice = Double.POSITIVE_INFINITY;
        double[] costs = new double[profiles.length];
        double[] sliceCosts = new double[profiles.length];
        double[] lastComputeCosts = lastCompute ? new double[profiles.length] : null;
        double[] lastComputeSliceCosts = lastCompute ? new double[profiles.length] : null;
        for (int k = 0; k < profiles.length; k++) {
            if (profiles[k].memoryMib() < job.needMib()) {
                costs[k] = Double.NaN;
                if (lastCompute) lastComputeCosts[k] = Double.NaN;
                continue;
            }
            costs[k] = cost(job, model, profiles[k]);
            sliceCosts[k] = sliceCost(job, model, profiles[k]);
            if (lastCompute) {
                lastComputeSliceCosts[k] = lastComputeSliceCost(job, model, profiles[k]);
                lastComputeCosts[k] = cost(job, model, profiles[k], lastComputeSliceCosts[k]);
            }
            min = Math.min(min, costs[k]);
            minSlice = Math.min(minSlice, sliceCosts[k]);
        }
        // Right-sized by both: the expected cost, so that a profile the job is likely to outgrow
        // is passed over, and the slice-time alone, so that the risk all profiles of one memory share
        // (the larger profiles after an OOM) does not make a profile of twice the slice-time look close.
        // A placement that leaves its GPU no free compute slice is weighed by its compute share
        // alone and held against the same cheapest costs: it is right-sized when what it takes that
        // has another use is within the slack (the last compute slice next to three busy 2g.10gb
        // held a job as a 1g.10gb at the cost of its one compute slice; passed over for its two
        // memory slices, it stood idle through a third of the ml batch with jobs waiting).
        int mask = 0;
        int lastComputeMask = 0;
        for (int k = 0; k < profiles.length; k++) {
            if (Double.isNaN(costs[k])) continue;
            if (anySize || (costs[k] <= rightSizeSlack * min && sliceCosts[k] <= rightSizeSlack * minSlice)) {
                mask |= 1 << k;
            }
            if (anySize || (lastCompute && lastComputeCosts[k] <= rightSizeSlack * min
                    && lastComputeSliceCosts[k] <= rightSizeSlack * minSlice)) {
                lastComputeMask |= 1 << k;
            }
        }
        double[] strandedComputeCosts = new double[profiles.length * (model.computeSlices() + 1)];
        java.util.Arrays.fill(strandedComputeCosts, Double.NEGATIVE_INFINITY);
        return new Sized(mask, costs, lastComputeMask, lastComputeCosts, min, minSlice, strandedComputeCosts);
    }

    static boolean touches(Plan.Possible plan, long mask) {
        return (footprint(plan) & mask) != 0;
    }

    /** The memory slices a plan takes (its target) or frees by destroying, as a mask. */
    static long footprint(Plan.Possible plan) {
        long m = plan.target().map(Instance::mask).orElse(0L);
        for (PlanOp op : plan.ops()) {
            if (op instanceof PlanOp.Destroy d) m |= d.instance().mask();
        }
        return m;
    }

    /**
     * When a blocked head gets its reservation: at once for a job that needs part of a GPU, after
     * the delay bound's share of its expected run time in the queue for one that needs a whole GPU.
     */
    private double reserveAtS(SchedulingContext ctx, List<? extends GpuView> gpus, QueuedJob head) {
        return head.needMib() > wholeGpuMib ? head.queuedS() + wholeGpuDelay * headRuntime(ctx, gpus, head) : ctx.nowS();
    }

    /**
     * The reservation, or the one {@link DrainBreaker} makes by stopping runs at their checkpoint
     * when that costs less than the drain (their slices then free at once).
     */
    private Reservation breakDrain(SchedulingContext ctx, List<? extends GpuView> gpus, QueuedJob head,
                                   Reservation r) {
        if (r == null || r.timeS() <= ctx.nowS()) return r;
        DrainBreaker.Choice c = breaker.consider(ctx, gpus, head, m -> {
            Profile[] profiles = profiles(m);
            int mask = sized(head, m, profiles, false, false).mask();
            List<Profile> out = new ArrayList<>();
            for (int k = 0; mask != 0; k++, mask >>>= 1) if ((mask & 1) != 0) out.add(profiles[k]);
            return out;
        }, m -> needsLargest(head, m));
        return c == null ? r : new Reservation(c.gpu(), c.target(), c.target().profile().computeSlices(), ctx.nowS());
    }

    /**
     * The placement of the job's cheapest profile to hold: on each GPU the one whose slices busy
     * instances free soonest; among GPUs, the one whose drain idles the fewest slice-seconds until
     * then ({@link DrainBreaker#drainS}), the soonest on a tie: the GPU with the
     * least work left over the slices drains, and the others' free slices stay for jobs behind the
     * head. Measured against the soonest GPU (BENCHMARKS.md section 26): 20,000 jobs on 64 GPUs mean
     * JCT 959 -> 928 s, p95 wait 1,645 -> 1,240 s; 100,000 on 64: 968 -> 954 s, 1,684 -> 1,493 s.
     */
    private Reservation reserve(SchedulingContext ctx, List<? extends GpuView> gpus, QueuedJob job) {
        int bestGpu = -1;
        int bestStart = -1;
        Profile bestProfile = null;
        double bestFree = Double.NaN;
        double bestIdle = Double.POSITIVE_INFINITY;
        // In a batch that is all in, the slices free when the runs are expected to end given their age
        // (a run past its estimate is not about to end), and jobs that end before then backfill them:
        // the makespan is what counts. Online, the reservation is a deadline set by the runs'
        // estimates at their launch, which once passed holds the slices for the head: backfilling on
        // the later estimate delays it (100,000 jobs on 64 GPUs: mean JCT +16%; BENCHMARKS.md section 26).
        boolean allIn = ctx.batchAllIn();
        double now = ctx.nowS();
        GpuModel cheapestFor = null;
        Profile cheapest = null;
        int[] starts = null;
        // The GPUs with MIG on, schedulable and not changing mode as of the round's sync (a round
        // changes none of that after it): a pass over thousands of GPUs' flags was a third of this.
        for (int gi = migUsable.nextSetBit(0); gi >= 0; gi = migUsable.nextSetBit(gi + 1)) {
            GpuView gpu = gpus.get(gi);
            if (gpu.model() != cheapestFor) {
                cheapestFor = gpu.model();
                cheapest = cheapest(job, cheapestFor);
                if (cheapest != null) starts = startsOf(cheapest);
            }
            if (cheapest == null) continue;
            long pledged = breaker.pledgedToOthers(gpu.index(), job.id());
            GpuCache busy = busyOf(gpu, caches[gpu.index()]);
            int hereStart = -1;
            double hereFree = 0;
            double hereIdle = 0;
            long slices = (1L << cheapest.memorySlices()) - 1;
            for (int start : starts) {
                long target = slices << start;
                if ((target & pledged) != 0) continue;
                double free = now;
                int busySlices = 0;
                double busyArea = 0;
                for (int k = 0; k < busy.busyMasks.length; k++) {
                    if ((busy.busyMasks[k] & target) == 0) continue;
                    Instance i = busy.busy[k];
                    double e = Math.max(now, allIn ? gpu.releaseGivenAgeS(i) : busy.busyEnds[k]);
                    free = Math.max(free, e);
                    busySlices += i.profile().computeSlices();
                    busyArea += i.profile().computeSlices() * (e - now);
                }
                if (hereStart < 0 || free < hereFree) {
                    hereStart = start;
                    hereFree = free;
                    hereIdle = DrainBreaker.drainS(now, free, cheapest.computeSlices(), busySlices, busyArea);
                }
            }
            if (hereStart >= 0 && (bestGpu < 0 || hereIdle < bestIdle || (hereIdle == bestIdle && hereFree < bestFree))) {
                bestGpu = gpu.index();
                bestStart = hereStart;
                bestProfile = cheapest;
                bestFree = hereFree;
                bestIdle = hereIdle;
            }
        }
        return bestGpu < 0 ? null : new Reservation(bestGpu, instanceAt(bestProfile, bestStart),
                bestProfile.computeSlices(), bestFree);
    }

    /**
     * Looks again at the GPUs changed since the last call ({@link SchedulingContext#takeChangedGpus};
     * all of them when {@link #syncAll}): their plan caches, and whether each offers some profile, is
     * free with MIG off, is idle with MIG on, may change mode and has MIG off. On a node of thousands
     * of GPUs a pass over every one each round was most of the policy's time.
     */
    private void sync(SchedulingContext ctx, List<? extends GpuView> gpus) {
        java.util.BitSet changed = ctx.takeChangedGpus();
        if (syncAll) {
            changed.set(0, gpus.size());
            syncAll = false;
        }
        for (int i = changed.nextSetBit(0); i >= 0 && i < gpus.size(); i = changed.nextSetBit(i + 1)) {
            GpuView gpu = gpus.get(i);
            boolean changeable = gpu.migModeChangeable() && gpu.schedulable();
            changeableCounted.set(i, changeable);
            offCounted.set(i, changeable && !gpu.migEnabled());
            freeWhole.set(i, freeWholeGpu(gpu));
            idleMigOn.set(i, mayTurnOff(gpu));
            boolean usable = migUsable(gpu);
            migUsable.set(i, usable);
            offer(gpu, usable);
        }
    }

    /** MIG on, schedulable and not changing mode: a GPU whose plans can be carried out now. */
    private static boolean migUsable(GpuView gpu) {
        return gpu.migEnabled() && gpu.schedulable() && !gpu.changingMigMode();
    }

    /** Brings the GPU's plan cache up to date (when usable) and sets what it offers: nothing when not usable. */
    private void offer(GpuView gpu, boolean usable) {
        if (!usable) {
            setOffered(gpu.index(), 0);
            return;
        }
        GpuCache cache = caches[gpu.index()];
        if (cache.version != gpu.version()) refresh(gpu, cache);
        setOffered(gpu.index(), largestPossibleMib(gpu, cache));
    }

    /** The memory of the largest instance some GPU can offer now (a plan exists); 0 when none can. */
    private long largestOfferedMib() {
        return offeredCounts.isEmpty() ? 0 : offeredCounts.lastKey();
    }

    /** The memory of the largest profile the GPU's plans make possible now; 0 when none. */
    private long largestPossibleMib(GpuView gpu, GpuCache cache) {
        Profile[] profiles = profiles(gpu.model());
        long largest = 0;
        int possible = cache.possible;
        for (int k = 0; possible != 0; k++, possible >>>= 1) {
            if ((possible & 1) != 0) largest = Math.max(largest, profiles[k].memoryMib());
        }
        return largest;
    }

    /** Sets what the GPU offers ({@link #offeredMib}, {@link #offering}, {@link #offeredCounts}). */
    private void setOffered(int gpu, long mib) {
        long old = offeredMib[gpu];
        if (old != mib) {
            if (old > 0) offeredCounts.compute(old, (k, n) -> n == 1 ? null : n - 1);
            if (mib > 0) offeredCounts.merge(mib, 1, Integer::sum);
            offeredMib[gpu] = mib;
            offering.set(gpu, mib > 0);
        }
        firstOfKind.list(gpu, mib > 0 ? caches[gpu].kind : -1);
    }

    /**
     * After a placement within a round: only the GPU placed on changed (a placement touches no other
     * GPU, and modes and drains change only between rounds), so only its cache is refreshed and what
     * it offers set again (nothing, or less than before: a placement never makes a profile possible
     * that was not); the offering GPUs stay what a pass over every GPU would find.
     */
    private void refreshPlaced(GpuView placed) {
        offer(placed, migUsable(placed));
    }

    private void refresh(GpuView gpu, GpuCache cache) {
        cache.version = gpu.version();
        var state = gpu.state();
        List<Object> kind = List.of(gpu.model(), state, gpu.reconfiguring());
        Integer known = kinds.get(kind);
        Planned planned;
        if (known != null) {
            cache.kind = known;
            planned = plansOfKind.get(known);
        } else {
            cache.kind = kinds.size();
            kinds.put(kind, cache.kind);
            planned = plan(gpu);
            plansOfKind.add(planned);
        }
        cache.plans = planned.plans();
        cache.freeRuns = planned.freeRuns();
        cache.footprints = planned.footprints();
        cache.possible = planned.possible();
        cache.lastCompute = planned.lastCompute();
        cache.strandsComputeMask = planned.strandsComputeMask();
        cache.strandedCompute = planned.strandedCompute();
    }

    /** The plans of the GPU's state for each profile, and which are possible now (read-only once made). */
    private Planned plan(GpuView gpu) {
        Profile[] profiles = profiles(gpu.model());
        Plan[] plans = new Plan[profiles.length];
        int[] freeRuns = new int[profiles.length];
        long[] footprints = new long[profiles.length];
        int possible = 0;
        var state = gpu.state();
        long full = (1L << gpu.model().memorySlices()) - 1;
        boolean hasIdle = state.busy().size() < state.layout().instances().size();
        boolean hasFree = (state.layout().usedMask() & full) != full;
        if (!hasIdle && !hasFree) {
            return new Planned(plans, freeRuns, footprints, 0, 0, 0, null);
        }
        int busyCompute = 0;
        long busyMemory = 0;
        for (Instance i : state.busy()) {
            busyCompute += i.profile().computeSlices();
            busyMemory |= i.mask();
        }
        int lastCompute = 0;
        int strandsComputeMask = 0;
        int[] strandedCompute = new int[profiles.length];
        UsableCompute usable = UsableCompute.of(gpu.model());
        long freeMemory = full & ~busyMemory;
        int freeCompute = gpu.model().computeSlices() - busyCompute;
        int strandedBefore = usable.stranded(freeMemory, freeCompute);
        for (int k = 0; k < profiles.length; k++) {
            if (!Planner.mayBePossible(state, profiles[k])) {
                continue;
            }
            Plan plan = Planner.planFor(state, profiles[k]);
            plans[k] = plan;
            if (plan instanceof Plan.Possible p && (p.ops().isEmpty() || !gpu.reconfiguring())) {
                possible |= 1 << k;
                freeRuns[k] = p.result().largestFreeRun();
                footprints[k] = footprint(p);
                if (takesLastCompute(busyCompute, profiles[k], gpu.model())) lastCompute |= 1 << k;
                if (p.target().isPresent()) {
                    int more = usable.stranded(freeMemory & ~p.target().get().mask(),
                            freeCompute - profiles[k].computeSlices()) - strandedBefore;
                    if (more > 0) {
                        strandsComputeMask |= 1 << k;
                        strandedCompute[k] = more;
                    }
                }
            }
        }
        return new Planned(plans, freeRuns, footprints, possible, lastCompute, strandsComputeMask, strandedCompute);
    }

    /**
     * Whether a new instance of {@code p} on a GPU whose busy instances hold {@code busyCompute}
     * compute slices leaves none free: then no other instance can be made there until a run ends,
     * and the free memory slices it takes beyond its compute share have no other use meanwhile
     * (on an A100-40GB with three 2g.10gb busy, the last compute slice can only be a 1g, and a
     * 1g.5gb there strands the memory slice a 1g.10gb would use).
     */
    static boolean takesLastCompute(int busyCompute, Profile p, GpuModel model) {
        return busyCompute + p.computeSlices() >= model.computeSlices();
    }

    /** The instances of each profile at each of its starts, made once (an instance checks its start when made). */
    private final Map<Profile, Instance[]> instancesByProfile = new IdentityHashMap<>();

    /** The instance of {@code profile} at {@code start}, one of its starts. */
    private Instance instanceAt(Profile profile, int start) {
        Instance[] at = instancesByProfile.computeIfAbsent(profile, p -> {
            Instance[] made = new Instance[p.starts().getLast() + 1];
            for (int st : p.starts()) made[st] = new Instance(p, st);
            return made;
        });
        return at[start];
    }

    private final Map<Profile, int[]> startsByProfile = new IdentityHashMap<>();

    /** The profile's starts, in {@link Profile#starts()}'s order, as ints (a reservation passes over them per GPU). */
    private int[] startsOf(Profile profile) {
        return startsByProfile.computeIfAbsent(profile, p -> p.starts().stream().mapToInt(Integer::intValue).toArray());
    }

    private Profile[] profiles(GpuModel model) {
        // Called per GPU and job of every round: most nodes have one model, so the last answer is kept.
        if (model != lastProfilesModel) {
            lastProfiles = profilesByModel.computeIfAbsent(model, m -> m.plainProfiles().toArray(Profile[]::new));
            lastProfilesModel = model;
        }
        return lastProfiles;
    }
}
