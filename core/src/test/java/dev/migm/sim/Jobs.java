package dev.migm.sim;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** Fixture builder for jobs (Fenzo-style provider). */
public final class Jobs {
    private String id = "j";
    private double submitS;
    private String app = "app";
    private JobClass jobClass = JobClass.OTHER;
    private double durationS = 100;
    private double c = 1;
    private double sat = 1;
    private long baseMib = 1000;
    private long peakMib = 1000;
    private double activity = 1;
    private double checkpointS;
    private OptionalLong declared = OptionalLong.empty();
    private OptionalDouble expected = OptionalDouble.empty();
    private boolean reportsProgress;
    private double progressEveryS;

    public static Jobs aJob(String id) {
        Jobs j = new Jobs();
        j.id = id;
        return j;
    }

    public Jobs at(double s) { submitS = s; return this; }
    public Jobs app(String a) { app = a; return this; }
    public Jobs kind(JobClass k) { jobClass = k; return this; }
    public Jobs duration(double s) { durationS = s; return this; }
    public Jobs scaling(double cc, double ss) { c = cc; sat = ss; return this; }
    public Jobs memory(long base, long peak) { baseMib = base; peakMib = peak; return this; }
    public Jobs flat(long mib) { baseMib = mib; peakMib = mib; return this; }
    public Jobs activity(double a) { activity = a; return this; }
    public Jobs checkpoint(double s) { checkpointS = s; return this; }
    public Jobs declared(long mib) { declared = OptionalLong.of(mib); return this; }
    /** The submitter expects this run time alone on a whole GPU. */
    public Jobs expected(double s) { expected = OptionalDouble.of(s); return this; }
    /** The job writes its progress where migm reads it. */
    public Jobs reportsProgress() { reportsProgress = true; return this; }
    /** The job says its progress once every {@code s} seconds of its run. */
    public Jobs reportsProgressEvery(double s) { reportsProgress = true; progressEveryS = s; return this; }

    public TraceJob build() {
        return new TraceJob(new JobSpec(id, submitS, app, jobClass, declared, Map.of(), checkpointS > 0, expected),
                new WorkloadModel(durationS, c, sat, baseMib, peakMib, activity, checkpointS, reportsProgress,
                        progressEveryS));
    }
}
