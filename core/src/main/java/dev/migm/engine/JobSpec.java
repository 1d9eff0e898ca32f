package dev.migm.engine;

import java.util.Map;
import java.util.OptionalLong;

/**
 * A job as submitted, with its workload model (models.md sections 1-5). In the simulator the model
 * is the truth the job follows; in the live runtime it is what the submitter declared or history
 * learned, and the real process decides.
 *
 * @param id           unique job id
 * @param submitS      arrival time, seconds
 * @param app          application name (runs of one app have similar needs)
 * @param jobClass     workload class
 * @param durationS    run time alone on the whole GPU with MIG disabled
 * @param c            share of the work that scales with SMs (Amdahl), in [0,1]
 * @param sat          share of the whole GPU's SMs beyond which the job stops speeding up, in (0,1]
 * @param memBaseMib   memory held from the start (CUDA context included)
 * @param memPeakMib   memory at the end (grows linearly with progress from base)
 * @param activity     power activity factor in [0,1]
 * @param checkpointS  checkpoint interval in full-GPU seconds of work; 0 = not checkpointable
 * @param declaredMib  the memory need the submitter declared, if any (may be wrong)
 * @param params       the job's parameters for analytic estimators (e.g. {@code n}, {@code params_b},
 *                     {@code mem_expr}); empty for trace jobs
 */
public record JobSpec(String id, double submitS, String app, JobClass jobClass, double durationS, double c, double sat,
                      long memBaseMib, long memPeakMib, double activity, double checkpointS, OptionalLong declaredMib,
                      Map<String, String> params) {
    /** A job without parameters (trace jobs). */
    public JobSpec(String id, double submitS, String app, JobClass jobClass, double durationS, double c, double sat,
                   long memBaseMib, long memPeakMib, double activity, double checkpointS, OptionalLong declaredMib) {
        this(id, submitS, app, jobClass, durationS, c, sat, memBaseMib, memPeakMib, activity, checkpointS, declaredMib,
                Map.of());
    }

    public JobSpec {
        params = Map.copyOf(params);
        if (id == null || id.isBlank()) throw new IllegalArgumentException("id must not be blank");
        if (!(submitS >= 0)) throw new IllegalArgumentException("submit_s must be >= 0");
        if (!(durationS > 0)) throw new IllegalArgumentException("duration_s must be > 0");
        if (!(c >= 0 && c <= 1)) throw new IllegalArgumentException("c must be in [0,1]");
        if (!(sat > 0 && sat <= 1)) throw new IllegalArgumentException("sat must be in (0,1]");
        if (memBaseMib < 0 || memPeakMib < memBaseMib) {
            throw new IllegalArgumentException("need 0 <= mem_base_mib <= mem_peak_mib");
        }
        if (!(activity >= 0 && activity <= 1)) throw new IllegalArgumentException("activity must be in [0,1]");
        if (!(checkpointS >= 0)) throw new IllegalArgumentException("checkpoint_s must be >= 0");
    }
}
