package dev.migm.engine;

/**
 * The engine's settings, the same in every world.
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
public record EngineSettings(double startupS, int maxAttempts, EarlyRestart earlyRestart, double reconfigureTimeoutS,
                             double launchTimeoutS, double migModeChangeTimeoutS) {
    /**
     * Mode changes time out after 600 s: a change that needs a GPU reset is planned "in minutes"
     * on Ampere (mig-hardware.md section 3.7), ten times the 60 s of an instance operation.
     */
    private static final double DEFAULT_MODE_TIMEOUT_S = 600;
    public static final EngineSettings DEFAULT = new EngineSettings(1.0, 6, EarlyRestart.DEFAULT, 60, 120,
            DEFAULT_MODE_TIMEOUT_S);

    public EngineSettings(double startupS, int maxAttempts, EarlyRestart earlyRestart, double reconfigureTimeoutS,
                          double launchTimeoutS) {
        this(startupS, maxAttempts, earlyRestart, reconfigureTimeoutS, launchTimeoutS, DEFAULT_MODE_TIMEOUT_S);
    }

    public EngineSettings withEarlyRestart(EarlyRestart e) {
        return new EngineSettings(startupS, maxAttempts, e, reconfigureTimeoutS, launchTimeoutS, migModeChangeTimeoutS);
    }
}
