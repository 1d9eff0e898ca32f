package dev.migm.energy;

import dev.migm.engine.EngineRecord;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-job energy as a live node can attribute it (models.md section 3: NVML meters the board only,
 * never an instance). Model {@value #NAME}: a job's share of the measured board energy is the
 * compute-slice-seconds its attempts held over the compute-slice-seconds the node offered during
 * the run; idle and dynamic power alike follow the chip share held, because a live system does not
 * know a job's activity (NVML reports no utilisation on MIG devices, mig-hardware.md section 3). The
 * share no job held is {@code unattributed}: the idle chip.
 */
public final class SliceTimeAttribution {
    /** The model's name, printed next to every per-job figure. */
    public static final String NAME = "slice-time";

    private SliceTimeAttribution() {
    }

    /** Per-job joules and the unattributed rest. */
    public record Result(Map<String, Double> jobJoules, double unattributedJ) {
    }

    /**
     * @param records      the run's journal (attempt launches and exits)
     * @param startS       the run's start on the records' clock
     * @param endS         the run's end (an attempt still open counts until then)
     * @param boardJoules  measured energy of all GPUs over the run
     * @param nodeSlices   compute slices of all GPUs of the node
     */
    public static Result attribute(List<EngineRecord> records, double startS, double endS, double boardJoules,
                                   int nodeSlices) {
        Map<String, double[]> open = new HashMap<>();
        Map<String, Double> sliceSeconds = new LinkedHashMap<>();
        for (EngineRecord r : records) {
            switch (r) {
                case EngineRecord.Submitted s -> sliceSeconds.putIfAbsent(s.spec().id(), 0.0);
                case EngineRecord.Recovered rec -> {
                    // a restarted node service: the adopted attempt is counted from the restart on
                    sliceSeconds.putIfAbsent(rec.spec().id(), 0.0);
                    if (rec.running()) {
                        open.put(rec.spec().id(), new double[] {rec.atS(), rec.attempts().getLast().slot().computeSlices()});
                    }
                }
                case EngineRecord.AttemptLaunched l -> open.put(l.jobId(), new double[] {l.atS(), l.slot().computeSlices()});
                case EngineRecord.AttemptExited x -> {
                    double[] o = open.remove(x.jobId());
                    if (o != null) sliceSeconds.merge(x.jobId(), (x.atS() - o[0]) * o[1], Double::sum);
                }
                default -> {
                }
            }
        }
        open.forEach((job, o) -> sliceSeconds.merge(job, Math.max(0, endS - o[0]) * o[1], Double::sum));
        double offered = Math.max(0, endS - startS) * nodeSlices;
        Map<String, Double> joules = new LinkedHashMap<>();
        double attributed = 0;
        for (var e : sliceSeconds.entrySet()) {
            double j = offered > 0 ? boardJoules * Math.min(1, e.getValue() / offered) : 0;
            joules.put(e.getKey(), j);
            attributed += j;
        }
        return new Result(joules, Math.max(0, boardJoules - attributed));
    }
}
