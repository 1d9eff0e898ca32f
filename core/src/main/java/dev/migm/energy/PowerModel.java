package dev.migm.energy;

/**
 * Board power of a MIG GPU (models.md section 3):
 * {@code P = P_idle + (P_max - P_idle) * sum_j a_j * min(SM(p_j), sat_j * SM_full) / SM_full}, capped
 * at {@code P_max}. NVML reports power and energy for the whole board only
 * ({@code nvmlDeviceGetPowerUsage}, {@code nvmlDeviceGetTotalEnergyConsumption}); jobs starting up add
 * no dynamic power.
 */
public final class PowerModel {
    private PowerModel() {
    }

    /** The dynamic share one running job adds: {@code a * min(SM(p), sat * SM_full) / SM_full}. */
    public static double dynamicShare(double activity, double sat, int sms, int smFull) {
        return activity * Math.min(sms, sat * smFull) / smFull;
    }

    /** Board power for a sum of dynamic shares. */
    public static double boardWatts(double idleW, double maxW, double dynamicShareSum) {
        return Math.min(maxW, idleW + (maxW - idleW) * dynamicShareSum);
    }
}
