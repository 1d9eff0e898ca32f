package dev.migm.engine;

/**
 * What the engine expects of a job's run time, in the shape of models.md section 1: the whole
 * work takes {@code wholeGpuS} alone on a whole GPU and slows down on a slot of {@code SM} SMs by
 * {@code (1 - c) + c * max(1, sat * SM_full / SM)}. Live, {@code c} and {@code sat} are a prior or
 * learned from the application's finished runs, and {@code wholeGpuS} is the submitter's word or
 * history; only the oracle knows them for certain.
 *
 * @param wholeGpuS the whole work alone on a whole GPU, seconds
 * @param c         share of the work that scales with SMs, in [0,1]
 * @param sat       share of the GPU's SMs beyond which the job stops speeding up, in (0,1]
 * @param grounded  whether {@code wholeGpuS} rests on something about this job (its declaration, its
 *                  application's history, the oracle) rather than a default: only then may the time
 *                  elapsed stand for the job's progress
 * @param scalingKnown whether {@code c} and {@code sat} were measured for this job's application (or
 *                  are the oracle's) rather than a class prior
 * @param logSpread how uncertain {@code wholeGpuS} is: the standard deviation of the log of the run
 *                  time around it (0 when certain; the spread of an application's runs when learned;
 *                  wide for a guess). The early-restart rule reads the run time as this log-normal
 *                  distribution ({@link EarlyRestart#verdictByTime})
 * @param source    where the numbers come from, for people
 */
public record RuntimeExpectation(double wholeGpuS, double c, double sat, boolean grounded, boolean scalingKnown,
                                 double logSpread, String source) {
    /** The oracle's or another certain expectation. */
    public static RuntimeExpectation certain(double wholeGpuS, double c, double sat, String source) {
        return new RuntimeExpectation(wholeGpuS, c, sat, true, true, 0, source);
    }

    public RuntimeExpectation {
        if (!(logSpread >= 0 && logSpread < 10)) {
            throw new IllegalArgumentException("log spread must be in [0,10), got " + logSpread);
        }
        if (!(wholeGpuS > 0) || !Double.isFinite(wholeGpuS)) {
            throw new IllegalArgumentException("expected run time must be positive, got " + wholeGpuS);
        }
        if (!(c >= 0 && c <= 1) || !(sat > 0 && sat <= 1)) {
            throw new IllegalArgumentException("scaling out of range: c=" + c + " sat=" + sat);
        }
    }

    /** Expected seconds of the whole work on a slot of {@code sms} SMs of a GPU with {@code smFull}. */
    public double onSlotS(int sms, int smFull) {
        return wholeGpuS * slowdown(c, sat, sms, smFull);
    }

    /** The factor {@code (1 - c) + c * max(1, sat * SM_full / SM)} of models.md section 1. */
    public static double slowdown(double c, double sat, int sms, int smFull) {
        return (1 - c) + c * Math.max(1.0, sat * smFull / sms);
    }
}
