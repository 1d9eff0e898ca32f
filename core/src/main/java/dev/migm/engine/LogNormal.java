package dev.migm.engine;

/**
 * A run time known only in distribution: log-normal with median {@code medianS} and log spread
 * {@code sigma} (the standard deviation of {@code ln T}); {@code sigma = 0} is a certain run time. The
 * early-restart rule reads the chance that a job still running at {@code t} is still running at a
 * later time, and quantiles of its end given that it runs now.
 */
public record LogNormal(double medianS, double sigma) {
    public LogNormal {
        if (!(medianS > 0) || !(sigma >= 0)) throw new IllegalArgumentException("median > 0 and sigma >= 0");
    }

    /** {@code P(T > t)}. */
    public double survival(double t) {
        if (!(t > 0)) return 1;
        if (sigma == 0) return t < medianS ? 1 : 0;
        return 1 - phi(Math.log(t / medianS) / sigma);
    }

    /**
     * {@code P(T > later | T > now)}: the chance that a run going on at {@code now} goes on at
     * {@code later} (1 when {@code later <= now}). A run past the {@code 1 - }{@link #OUTLIVED} tail is
     * not the run this distribution describes, and its end is read with the scale-free prior of a run
     * of unknown length seen at age {@code now} (Gott's delta-t argument, as {@link
     * AttemptMonitor#remainingS} does): {@code now / later}. Taking such a run to go on for good (as
     * this did before) projected a resnet50 training run 2.4 times its run history's median into
     * twice its true peak and restarted it off an instance that held it (the mixed suite's
     * mixed-0184, BENCHMARKS.md section 28).
     */
    public double stillRunning(double now, double later) {
        if (later <= now) return 1;
        double s = survival(now);
        if (s < OUTLIVED) return now > 0 ? now / later : 1;
        return Math.min(1, survival(later) / s);
    }

    /** The survival below which a run has outlived what the distribution describes. */
    public static final double OUTLIVED = 0.05;

    /** The time by which a run going on at {@code now} has ended with probability {@code q}. */
    public double endQuantile(double now, double q) {
        if (sigma == 0) return Math.max(now, medianS);
        double s = survival(now);
        if (s < 1e-12) return now;
        double p = 1 - (1 - q) * s;
        return Math.max(now, medianS * Math.exp(sigma * phiInverse(p)));
    }

    /** The standard normal distribution function (Abramowitz and Stegun 26.2.17, error below 7.5e-8). */
    static double phi(double x) {
        if (x < 0) return 1 - phi(-x);
        double t = 1 / (1 + 0.2316419 * x);
        double poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        return 1 - Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI) * poly;
    }

    /** Its inverse (P. J. Acklam's rational approximation, relative error below 1.2e-9). */
    static double phiInverse(double p) {
        if (p <= 0) return Double.NEGATIVE_INFINITY;
        if (p >= 1) return Double.POSITIVE_INFINITY;
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double low = 0.02425;
        if (p < low) {
            double q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                    / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) return -phiInverse(1 - p);
        double q = p - 0.5;
        double r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}
