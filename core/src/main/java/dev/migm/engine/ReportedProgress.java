package dev.migm.engine;

/**
 * A job's progress as the job said it: its share of its work, in [0,1], and how long before the
 * sample that carries it the job said it, in the engine's seconds (0: when the sample was taken).
 * A job prints its progress when it prints it (a tqdm bar ten times a second, a trainer's log line
 * every few hundred steps), not when migm samples its memory; the age lets the engine pair a
 * memory sample with the progress the job had at the sample's time (see {@link AttemptMonitor}).
 *
 * @param share the share of the job's work done when it said so (of the whole job, not the attempt)
 * @param ageS  seconds from then to the sample, at least 0
 */
public record ReportedProgress(double share, double ageS) {
    public ReportedProgress {
        if (!(share >= 0 && share <= 1)) throw new IllegalArgumentException("share must be in [0,1]");
        if (!(ageS >= 0)) throw new IllegalArgumentException("ageS must be at least 0");
    }

    /** Progress said as the sample was taken. */
    public static ReportedProgress now(double share) {
        return new ReportedProgress(share, 0);
    }
}
