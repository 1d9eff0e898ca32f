package dev.migm.sim;

import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.workload.TraceJob;
import dev.migm.workload.WorkloadModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Converts the pod list of Alibaba's public {@code cluster-trace-gpu-v2023}
 * (github.com/alibaba/clusterdata, {@code cluster-trace-gpu-v2023/csv/openb_pod_list_*.csv}; columns
 * name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, qos, pod_phase, creation_time,
 * deletion_time, scheduled_time, times in seconds) into {@code migm-trace v1} jobs.
 *
 * <p>The pod list says what each pod asked for and when it ran, not how it used the GPU. Every
 * assumption the conversion makes is an {@link Options} field with a stated default:
 * <ul>
 *   <li>a pod is one job on one GPU; a pod asking for several GPUs is skipped (gang scheduling is the
 *   cluster scheduler's work), or split into that many whole-GPU jobs with {@code multiGpu=SPLIT};
 *   CPU-only pods and pods never scheduled (no {@code scheduled_time}) are skipped;</li>
 *   <li>its work ({@code duration_s}) is its run time in the trace, deletion minus scheduling (failed
 *   pods held their GPU too), at least 1 s and at most {@code maxDurationS}; pods still running when
 *   the trace ends (the file's last deletion time, when several pods share it) are censored and
 *   skipped unless {@code keepCensored};</li>
 *   <li>GPU memory: a pod asking for the share {@code s = gpu_milli/1000} of a GPU declares {@code s}
 *   of the memory of the target GPU's largest instance (what the GPU offers one job with MIG on), and
 *   its true peak is a share of that drawn per pod (from a hash of its name, so deterministic) in
 *   [{@code peakLow}, {@code peakHigh}]; memory is held from the start;</li>
 *   <li>scaling (models.md section 1): {@code c} as given and {@code sat = s}, the share it asked for
 *   (a pod sized for 46% of a GPU stops speeding up there; a whole-GPU pod scales to all SMs);</li>
 *   <li>{@code app} groups pods with identical requests (QoS, GPUs, share, CPU, host memory), the
 *   only repeat signal the trace has; class {@code other}; no checkpoints, no progress reports;</li>
 *   <li>arrivals: pods created before {@code sinceS} are skipped (a window of the trace); the rest
 *   arrive at their creation time less the first kept one, divided by {@code timeCompression}, or all
 *   at 0 with {@code batch}.</li>
 * </ul>
 */
public final class AlibabaTrace {
    public static final List<String> COLUMNS = List.of("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli",
            "gpu_spec", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time");

    public enum MultiGpu { SKIP, SPLIT }

    /**
     * @param gpu             the GPU the jobs are sized for
     * @param maxDurationS    longest run kept; longer ones are cut to it
     * @param keepCensored    keep pods still running at the trace's end (with their run time so far)
     * @param multiGpu        what to do with pods asking for several GPUs
     * @param peakLow         lowest true peak, as a share of the declared memory
     * @param peakHigh        highest true peak, as a share of the declared memory
     * @param c               the scaling share of every job (models.md section 1)
     * @param activity        the power activity factor of every job (models.md section 3)
     * @param sinceS          pods created before this trace time are left out
     * @param timeCompression arrival gaps are divided by this (1: as in the trace)
     * @param batch           every job arrives at 0
     */
    public record Options(GpuModel gpu, double maxDurationS, boolean keepCensored, MultiGpu multiGpu, double peakLow,
                          double peakHigh, double c, double activity, long sinceS, double timeCompression,
                          boolean batch) {
        /**
         * The defaults. Peak 0.7-1.0 of the request: a sharing pod is held to its share (Alibaba's
         * GPU sharing limits memory by it), and requests round up. c = 0.9: GROMACS's measured 0.89 and
         * matmul's 1.0 bracket it (models.md section 1); it makes a whole-GPU job 9% slower on an
         * A100's 7g (98 of 108 SMs), the ~10% the issue measured. Activity 0.7: between the
         * training (0.8-0.9) and inference (0.5-0.7) figures of models.md section 3. 24 h cap:
         * longer runs are services, not batch work.
         */
        public static Options defaults(GpuModel gpu) {
            return new Options(gpu, 86_400, false, MultiGpu.SKIP, 0.7, 1.0, 0.9, 0.7, 0, 1.0, false);
        }

        /** The same options for pods created from {@code sinceS} on. */
        public Options withSince(long since) {
            return new Options(gpu, maxDurationS, keepCensored, multiGpu, peakLow, peakHigh, c, activity, since,
                    timeCompression, batch);
        }

        public Options {
            if (!(maxDurationS >= 1 && maxDurationS <= WorkloadModel.MAX_DURATION_S)) {
                throw new InvalidInputException("--max-duration-s must be in [1, " + (long) WorkloadModel.MAX_DURATION_S
                        + "], got " + maxDurationS);
            }
            if (!(peakLow > 0 && peakLow <= peakHigh && peakHigh <= 1)) {
                throw new InvalidInputException("--peak-share must be LOW..HIGH with 0 < LOW <= HIGH <= 1, got "
                        + peakLow + ".." + peakHigh);
            }
            if (!(c >= 0 && c <= 1)) throw new InvalidInputException("--c must be in [0,1], got " + c);
            if (!(activity >= 0 && activity <= 1)) {
                throw new InvalidInputException("--activity must be in [0,1], got " + activity);
            }
            if (sinceS < 0) throw new InvalidInputException("--since must be at least 0, got " + sinceS);
            if (!(timeCompression >= 1 && timeCompression <= 1e6)) {
                throw new InvalidInputException("--time-compression must be in [1, 1e6], got " + timeCompression);
            }
        }
    }

    /** The jobs, and how many pods each rule left out (in the order the rules are applied). */
    public record Conversion(List<TraceJob> jobs, int pods, Map<String, Integer> skipped, int cutToMaxDuration) {
    }

    private AlibabaTrace() {
    }

    public static Conversion convert(String text, String source, Options options) {
        String[] lines = text.split("\\R", -1);
        int first = 0;
        while (first < lines.length && lines[first].isBlank()) first++;
        if (first == lines.length) {
            throw new InvalidInputException(source + ": empty, expected the pod list's header " + String.join(",", COLUMNS));
        }
        List<String> header = List.of(lines[first].strip().split(",", -1));
        if (!header.equals(COLUMNS)) {
            throw new InvalidInputException(source + ":" + (first + 1) + ": expected the header "
                    + String.join(",", COLUMNS) + " (cluster-trace-gpu-v2023 pod list), got "
                    + TextFiles.quote(lines[first].strip()));
        }
        List<Pod> pods = new ArrayList<>();
        for (int n = first + 1; n < lines.length; n++) {
            if (lines[n].isBlank()) continue;
            pods.add(Pod.parse(lines[n].strip(), source, n + 1));
        }
        // The trace's end stamps every pod still running then with one deletion time: the file's
        // last, shared by several pods. A lone last deletion (an excerpt) is a pod that ended.
        long lastDeletion = pods.stream().mapToLong(Pod::deletion).max().orElse(0);
        long traceEnd = pods.stream().filter(p -> p.deletion() == lastDeletion).count() > 1 ? lastDeletion : -1;
        Map<String, Integer> skipped = new LinkedHashMap<>();
        for (String reason : List.of("created before --since", "cpu only", "never scheduled", "several GPUs", "running at the trace's end")) {
            skipped.put(reason, 0);
        }
        List<Pod> kept = new ArrayList<>();
        for (Pod p : pods) {
            String reason = p.creation() < options.sinceS() ? "created before --since"
                    : p.numGpu() == 0 ? "cpu only"
                    : p.scheduled().isEmpty() ? "never scheduled"
                    : p.numGpu() > 1 && options.multiGpu() == MultiGpu.SKIP ? "several GPUs"
                    : p.deletion() == traceEnd && !options.keepCensored() ? "running at the trace's end"
                    : null;
            if (reason != null) {
                skipped.merge(reason, 1, Integer::sum);
            } else {
                kept.add(p);
            }
        }
        long origin = kept.stream().mapToLong(Pod::creation).min().orElse(0);
        long largestMib = options.gpu().largestProfile().memoryMib();
        List<TraceJob> jobs = new ArrayList<>();
        int cut = 0;
        for (Pod p : kept) {
            double run = Math.max(1, p.deletion() - p.scheduled().getAsLong());
            if (run > options.maxDurationS()) {
                run = options.maxDurationS();
                cut++;
            }
            double share = p.numGpu() > 1 ? 1.0 : p.gpuMilli() / 1000.0;
            long declared = (long) Math.ceil(share * largestMib);
            double peakShare = options.peakLow() + (options.peakHigh() - options.peakLow()) * unitHash(p.name());
            long peak = Math.max(1, Math.round(declared * peakShare));
            double submit = options.batch() ? 0 : (p.creation() - origin) / options.timeCompression();
            submit = Math.round(submit * 10) / 10.0;
            String app = "alibaba:" + p.qos() + ":" + (p.numGpu() > 1 ? "1000" : Integer.toString(p.gpuMilli())) + ":"
                    + p.cpuMilli() + ":" + p.memoryMib();
            WorkloadModel model = new WorkloadModel(run, options.c(), share, peak, peak, options.activity(), 0, false);
            int copies = p.numGpu() > 1 ? p.numGpu() : 1;
            for (int k = 0; k < copies; k++) {
                String id = copies == 1 ? p.name() : p.name() + "-" + k;
                jobs.add(new TraceJob(new JobSpec(id, submit, app, JobClass.OTHER, OptionalLong.of(declared), false),
                        model));
            }
        }
        return new Conversion(List.copyOf(jobs), pods.size(), skipped, cut);
    }

    /** A number in [0,1) from a name: FNV-1a, 64 bits, top 53 bits as a fraction (stable across JVMs). */
    static double unitHash(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return (h >>> 11) / (double) (1L << 53);
    }

    private record Pod(String name, long cpuMilli, long memoryMib, int numGpu, int gpuMilli, String qos, long creation,
                       long deletion, OptionalLong scheduled) {
        static Pod parse(String line, String source, int lineNo) {
            String[] cells = line.split(",", -1);
            if (cells.length != COLUMNS.size()) {
                throw new InvalidInputException(source + ":" + lineNo + ": expected " + COLUMNS.size() + " columns, got "
                        + cells.length);
            }
            String name = cells[0].strip();
            if (name.isEmpty()) throw new InvalidInputException(where(source, lineNo, "name") + "expected a pod name, got nothing");
            long cpu = whole(cells, 1, source, lineNo, 0, 10_000_000);
            long mem = whole(cells, 2, source, lineNo, 0, 1L << 32);
            int numGpu = (int) whole(cells, 3, source, lineNo, 0, 64);
            int milli = (int) whole(cells, 4, source, lineNo, 0, 1000);
            if (numGpu > 0 && milli == 0) {
                throw new InvalidInputException(where(source, lineNo, "gpu_milli") + "expected 1-1000 for a pod with num_gpu "
                        + numGpu + ", got 0");
            }
            String qos = cells[6].strip();
            if (qos.isEmpty() || !qos.chars().allMatch(Character::isLetterOrDigit)) {
                throw new InvalidInputException(where(source, lineNo, "qos") + "expected a QoS class such as LS or BE, got "
                        + TextFiles.quote(qos));
            }
            long creation = whole(cells, 8, source, lineNo, 0, 1L << 40);
            long deletion = whole(cells, 9, source, lineNo, 0, 1L << 40);
            OptionalLong scheduled = cells[10].isBlank() ? OptionalLong.empty()
                    : OptionalLong.of(whole(cells, 10, source, lineNo, 0, 1L << 40));
            if (deletion < creation) {
                throw new InvalidInputException(where(source, lineNo, "deletion_time") + "expected at least creation_time "
                        + creation + ", got " + deletion);
            }
            if (scheduled.isPresent() && (scheduled.getAsLong() < creation || scheduled.getAsLong() > deletion)) {
                throw new InvalidInputException(where(source, lineNo, "scheduled_time")
                        + "expected between creation_time and deletion_time, got " + scheduled.getAsLong());
            }
            return new Pod(name, cpu, mem, numGpu, milli, qos, creation, deletion, scheduled);
        }

        private static long whole(String[] cells, int column, String source, int lineNo, long min, long max) {
            String t = cells[column].strip();
            try {
                long v = Long.parseLong(t);
                if (v < min || v > max) throw new NumberFormatException();
                return v;
            } catch (NumberFormatException e) {
                throw new InvalidInputException(where(source, lineNo, COLUMNS.get(column)) + "expected a whole number in ["
                        + min + ", " + max + "], got " + TextFiles.quote(t));
            }
        }

        private static String where(String source, int lineNo, String column) {
            return source + ":" + lineNo + ": column " + column + ": ";
        }
    }
}
