package dev.migm.sim;

import dev.migm.engine.EarlyRestart;
import dev.migm.estimate.EstimatorChain;
import dev.migm.estimate.HistoryEstimator;
import dev.migm.io.InvalidInputException;
import dev.migm.schedule.MigmPolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The constants a site might question, settable for a simulation ({@code simulate --tune
 * NAME=VALUE,...}) so that each can be swept on traces it was not chosen on (BENCHMARKS.md). The
 * defaults are the code's; every name is listed in {@link #NAMES} with its range.
 *
 * @param rightSizeSlack  migm: a profile is a candidate within this factor of the job's cheapest
 * @param historyQuantile the history estimator's quantile of past needs
 * @param margin          the estimator chain's safety margin
 * @param noiseFloor      early restart: the least relative noise assumed in samples
 * @param z               early restart: standard errors the projection must clear the instance by
 * @param minSpan         early restart: share of the run the samples must span
 * @param confidence      early restart without progress: the least chance the job still runs at its
 *                        projected OOM
 * @param migModeChangeS  the time a MIG mode change takes (GPU reset included); infinite: modes
 *                        never change
 */
public record Knobs(double rightSizeSlack, double historyQuantile, double margin, double noiseFloor, double z,
                    double minSpan, double migModeChangeS, double confidence) {
    public static final Knobs DEFAULT = new Knobs(MigmPolicy.DEFAULT_RIGHT_SIZE_SLACK, HistoryEstimator.QUANTILE,
            EstimatorChain.DEFAULT_MARGIN, EarlyRestart.DEFAULT.noiseFloor(), EarlyRestart.DEFAULT.z(),
            EarlyRestart.DEFAULT.minSpan(), dev.migm.backend.SimulatedGpuBackend.Latency.DEFAULT.migModeChangeS(),
            EarlyRestart.DEFAULT.confidence());

    /** The names {@code --tune} takes, with their allowed ranges. */
    public static final Map<String, double[]> NAMES = names();

    private static Map<String, double[]> names() {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("right_size_slack", new double[] {1, 10});
        m.put("history_quantile", new double[] {0.01, 1});
        m.put("margin", new double[] {0, 1});
        m.put("noise_floor", new double[] {0, 0.5});
        m.put("z", new double[] {0, 20});
        m.put("min_span", new double[] {0, 1});
        m.put("mig_mode_change_s", new double[] {0, Double.POSITIVE_INFINITY});
        m.put("confidence", new double[] {0, 1});
        return m;
    }

    /** The defaults with {@code NAME=VALUE} settings applied; errors name the setting and the range. */
    public static Knobs parse(List<String> settings) {
        Map<String, Double> v = new LinkedHashMap<>();
        for (String s : settings) {
            String[] kv = s.split("=", 2);
            String name = kv[0].strip();
            double[] range = NAMES.get(name);
            if (range == null) {
                throw new InvalidInputException("--tune: unknown name " + dev.migm.io.TextFiles.quote(name) + " (known: "
                        + String.join(", ", NAMES.keySet()) + ")");
            }
            double x;
            try {
                x = kv.length == 2 ? Double.parseDouble(kv[1].strip()) : Double.NaN;
            } catch (NumberFormatException e) {
                x = Double.NaN;
            }
            if (!(x >= range[0] && x <= range[1])) {
                throw new InvalidInputException("--tune " + name + ": expected a number in [" + range[0] + ", "
                        + range[1] + "], got " + dev.migm.io.TextFiles.quote(kv.length == 2 ? kv[1] : ""));
            }
            v.put(name, x);
        }
        Knobs d = DEFAULT;
        return new Knobs(v.getOrDefault("right_size_slack", d.rightSizeSlack),
                v.getOrDefault("history_quantile", d.historyQuantile), v.getOrDefault("margin", d.margin),
                v.getOrDefault("noise_floor", d.noiseFloor), v.getOrDefault("z", d.z),
                v.getOrDefault("min_span", d.minSpan), v.getOrDefault("mig_mode_change_s", d.migModeChangeS),
                v.getOrDefault("confidence", d.confidence));
    }

    /** The early-restart trigger with these settings, on or off. */
    public EarlyRestart earlyRestart(boolean on) {
        EarlyRestart d = EarlyRestart.DEFAULT;
        return new EarlyRestart(on, d.minSamples(), d.window(), minSpan, z, noiseFloor, confidence);
    }
}
