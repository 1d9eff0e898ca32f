package dev.migm.backend;

import dev.migm.energy.ChipShareAttribution;
import dev.migm.engine.Slot;
import dev.migm.gpu.GpuModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a live node's board energy counters at each tick and splits each GPU's energy since the
 * last tick among the attempts holding instances on it ({@link ChipShareAttribution}, the model the
 * simulator uses too): each holder weighed by its chip share and the dynamic share the backend
 * measures of its slot, or its SMs at full activity where nothing measures it. Used by
 * {@code migm run} and the node service, one tick per modelled second; the callers keep the totals.
 */
public final class BoardMeter {
    private final LiveBackend backend;
    private final List<GpuModel> models;
    private final double[] lastJ;
    private final ChipShareAttribution attribution = new ChipShareAttribution();

    public BoardMeter(LiveBackend backend) {
        this.backend = backend;
        this.models = backend.gpus();
        this.lastJ = new double[models.size()];
        backend.energyJoules();
        for (int g = 0; g < lastJ.length; g++) lastJ[g] = backend.counterJoules(g);
    }

    /**
     * One tick's reading: each GPU's energy since the last tick, the part of it on GPUs where no
     * attempt held an instance (the idle node's), the counters read and what each holder got.
     */
    public record Tick(double[] gpuJoules, double[] idleJoules, double[] counterJoules, Map<Object, Double> byHolder) {
    }

    /**
     * Reads the counters now and attributes each GPU's energy since the last tick to
     * {@code holders} (key: the caller's attempt key; value: the slot it holds).
     */
    public synchronized Tick tick(Map<Object, Slot> holders) {
        backend.energyJoules();
        Map<Integer, List<ChipShareAttribution.Holder>> byGpu = new HashMap<>();
        for (var e : holders.entrySet()) {
            Slot slot = e.getValue();
            GpuModel m = models.get(slot.gpu());
            double d = backend.dynamicShare(slot).orElse((double) slot.sms() / m.sms());
            byGpu.computeIfAbsent(slot.gpu(), g -> new ArrayList<>())
                    .add(new ChipShareAttribution.Holder(e.getKey(), slot.computeSlices(), d));
        }
        double[] delta = new double[models.size()];
        double[] counters = new double[models.size()];
        double[] idle = new double[models.size()];
        Map<Object, Double> got = new HashMap<>();
        for (int g = 0; g < models.size(); g++) {
            counters[g] = backend.counterJoules(g);
            if (Double.isNaN(counters[g])) continue;
            delta[g] = Double.isNaN(lastJ[g]) ? 0 : Math.max(0, counters[g] - lastJ[g]);
            lastJ[g] = counters[g];
            List<ChipShareAttribution.Holder> on = byGpu.getOrDefault(g, List.of());
            if (on.isEmpty()) idle[g] = delta[g];
            attribution.interval(models.get(g), delta[g], on);
        }
        // What each holder got this tick; the meter keeps no per-holder totals (a daemon runs for months).
        for (Object key : holders.keySet()) got.put(key, attribution.take(key));
        return new Tick(delta, idle, counters, got);
    }

    /** Energy of GPU intervals in which no attempt held an instance there. */
    public synchronized double idleJ() {
        return attribution.idleJ();
    }
}
