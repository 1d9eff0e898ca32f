package dev.migm.energy;

import dev.migm.gpu.GpuModel;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-job energy from the board meter, the only meter NVML has (models.md section 3), model
 * {@value #NAME}: each interval's measured board energy of a GPU is split among the attempts that
 * held an instance on it, by what the power model says each adds: idle power by the share of the
 * chip its instance holds ({@code P_idle * slices / G}) and dynamic power by its activity on its SMs
 * ({@code (P_max - P_idle) * d}, {@code d = a * SM(p) / SM_full}), the weights scaled so that the
 * attempts' shares sum to what the meter measured in the interval (the idle power of free slices
 * goes with them). A GPU on which nothing held an instance keeps its energy: it is the idle node's.
 *
 * <p>{@code d} is what the world can measure of the instance: the processes' reported activity on
 * the emulated GPU, per-instance SM activity as DCGM's profiling metrics give it
 * ({@code DCGM_FI_PROF_SM_ACTIVE}) in the simulator's model, and where nothing measures it (NVML
 * alone reports no utilisation of MIG devices) the instance's SMs at full activity. One class serves
 * every world; only the intervals' lengths differ (events in the simulator, the energy tick live).
 */
public final class ChipShareAttribution {
    /** The model's name, shown next to every per-job energy figure. */
    public static final String NAME = "chip-share";

    /** One attempt that held an instance during an interval: its key, compute slices and dynamic share {@code d}. */
    public record Holder(Object key, int computeSlices, double dynamicShare) {
    }

    private final Map<Object, Double> joules = new HashMap<>();
    private double attributedJ;
    private double idleJ;

    /** Splits {@code measuredJ} of one GPU's interval among {@code holders} (none: the idle node's). */
    public void interval(GpuModel gpu, double measuredJ, Collection<Holder> holders) {
        if (!(measuredJ > 0)) return;
        if (holders.isEmpty()) {
            idleJ += measuredJ;
            return;
        }
        double total = 0;
        for (Holder h : holders) total += weight(gpu, h);
        for (Holder h : holders) {
            double share = total > 0 ? measuredJ * weight(gpu, h) / total : measuredJ / holders.size();
            joules.merge(h.key(), share, Double::sum);
        }
        attributedJ += measuredJ;
    }

    /** What the power model says the holder adds: its chip share of idle power and its dynamic power. */
    static double weight(GpuModel gpu, Holder h) {
        return gpu.idleWatts() * h.computeSlices() / gpu.computeSlices()
                + (gpu.maxWatts() - gpu.idleWatts()) * Math.max(0, h.dynamicShare());
    }

    /** Joules attributed to {@code key} so far. */
    public double joules(Object key) {
        return joules.getOrDefault(key, 0.0);
    }

    /** Takes out and returns what {@code key} was attributed (a job that ended and was reported). */
    public double take(Object key) {
        Double j = joules.remove(key);
        return j == null ? 0 : j;
    }

    /** Everything attributed to attempts so far. */
    public double attributedJ() {
        return attributedJ;
    }

    /** Energy of intervals in which no attempt held an instance on the GPU. */
    public double idleJ() {
        return idleJ;
    }
}
