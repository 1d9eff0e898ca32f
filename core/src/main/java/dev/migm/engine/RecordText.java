package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A record in words, for people: the line {@code events.log}, {@code migm show} and the journal's
 * {@code text} column carry. What a record holds, typed, is the journal's JSON ({@code RecordCodec});
 * this is its reading. A plan says whether it fuses instances into a larger one, splits one into
 * smaller ones, or otherwise changes the layout.
 */
public final class RecordText {
    private RecordText() {
    }

    public static String describe(EngineRecord r) {
        return switch (r) {
            case EngineRecord.Started s -> {
                List<String> gpus = new ArrayList<>();
                for (int g = 0; g < s.layouts().size(); g++) {
                    gpus.add("gpu" + g + " " + s.layouts().get(g) + (s.migEnabled().get(g) ? "" : " (MIG off)"));
                }
                yield "engine started: " + String.join(", ", gpus);
            }
            case EngineRecord.Submitted s -> "submitted " + s.spec().id() + " (" + s.spec().app() + ", "
                    + s.spec().jobClass().name().toLowerCase(Locale.ROOT)
                    + s.spec().declaredMib().stream().mapToObj(m -> ", declared " + m + " MiB").findFirst().orElse("") + ")";
            case EngineRecord.Recovered x -> "took over " + x.spec().id() + (x.running()
                    ? ": attempt " + x.attempts().getLast().number() + " running on " + x.attempts().getLast().slot()
                    : ": waits for attempt " + (x.attempts().size() + 1)) + " with " + x.needMib() + " MiB";
            case EngineRecord.SubmitRejected s -> "refused a submit of " + s.spec().id() + ": " + s.reason();
            case EngineRecord.Queued q -> q.jobId() + " waits for attempt " + q.attempt() + " with " + q.needMib()
                    + " MiB (" + q.needSource() + ")" + (q.progress() > 0 ? ", from its checkpoint at "
                    + percent(q.progress()) + " of its work" : "") + (q.lastReason().isEmpty() ? "" : "; " + q.lastReason());
            case EngineRecord.Placed p -> p.jobId() + " placed on gpu" + p.gpu() + ":"
                    + p.instance().map(Instance::toString).orElse("whole")
                    + p.ticket().map(t -> " once plan " + t + " is done").orElse("");
            case EngineRecord.ReconfigurationPlanned p -> "gpu" + p.gpu() + ": " + change(p.base(), p.result())
                    + " (plan " + p.ticket() + ", " + p.operations() + " operations" + p.forJob().map(j -> ", for " + j)
                    .orElse("") + ")";
            case EngineRecord.ReconfigurationApplied a -> "gpu" + a.gpu() + ": plan " + a.ticket() + " done, the GPU has "
                    + a.layout();
            case EngineRecord.ReconfigurationFailed f -> "gpu" + f.gpu() + ": plan " + f.ticket() + " failed: " + f.reason()
                    + "; the GPU has " + f.layout();
            case EngineRecord.ReconfigurationAnsweredLate l -> "gpu" + l.gpu() + ": plan " + l.ticket()
                    + " answered after it was given up" + l.failure().map(f -> " (" + f + ")").orElse("") + "; the GPU has "
                    + l.layout() + (l.adopted() ? ", adopted" : "");
            case EngineRecord.MigModeChangeRequested m -> "gpu" + m.gpu() + ": turning MIG " + (m.enabled() ? "on" : "off")
                    + ": " + m.why();
            case EngineRecord.MigModeChangeEnded m -> "gpu" + m.gpu() + ": MIG " + (m.enabled() ? "on" : "off")
                    + m.failure().map(f -> " (the change failed: " + f + ")").orElse("");
            case EngineRecord.SlicesHeld h -> "gpu" + h.gpu() + ": " + (h.computeSlices() == 0 ? "no slices held"
                    : h.computeSlices() + " compute slices held for " + h.jobId());
            case EngineRecord.AttemptLaunched l -> l.jobId() + " attempt " + l.attempt() + " launched on " + l.slot()
                    + (l.checkpointStep().isPresent() ? ", resumed from its checkpoint at step " + l.checkpointStep().getAsLong()
                    + (l.startProgress() > 0 ? " (about " + percent(l.startProgress()) + " of its work)" : "")
                    : l.startProgress() > 0 ? ", resumed from its checkpoint at " + percent(l.startProgress()) + " of its work"
                    : "");
            case EngineRecord.AttemptRunning a -> a.jobId() + " attempt " + a.attempt() + " running";
            case EngineRecord.StopRequested s -> "stopping " + s.jobId() + " attempt " + s.attempt() + ": " + s.why();
            case EngineRecord.AttemptExited x -> x.jobId() + " attempt " + x.attempt() + " " + outcome(x.outcome());
            case EngineRecord.Learned l -> "learned of " + l.app() + " from " + l.jobId() + " attempt " + l.attempt()
                    + ": " + l.what() + ", " + l.mib() + " MiB on an instance of " + l.slotMib() + " MiB";
            case EngineRecord.CommandRefused c -> "refused: " + c.command() + ": " + c.reason();
            case EngineRecord.CancelRequested c -> c.jobId() + ": cancel asked by " + c.by();
            case EngineRecord.Cancelled c -> c.jobId() + " cancelled: " + c.reason();
            case EngineRecord.GpuDrain d -> "gpu" + d.gpu() + (d.drain() ? " drained: no new work" : " back in service");
            case EngineRecord.GpuHealth h -> "gpu" + h.gpu() + (h.lost() ? " lost: " + h.reason() : " answers again, with "
                    + h.layout());
            case EngineRecord.Done d -> d.jobId() + " done";
            case EngineRecord.Failed f -> f.jobId() + " failed: " + f.reason();
        };
    }

    private static String outcome(Outcome o) {
        return switch (o) {
            case Outcome.Completed c -> "completed" + (c.peakSampledMib() > 0 ? " (peak " + c.peakSampledMib() + " MiB)" : "");
            case Outcome.OutOfMemory m -> "ran out of memory (" + m.evidence() + ")";
            case Outcome.Stopped s -> "stopped (" + s.why() + ")";
            case Outcome.Crashed c -> "crashed (" + c.reason() + ")";
            case Outcome.CannotStart c -> "could not start (" + c.reason() + ")";
        };
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    /**
     * What a plan does to a GPU's layout, in words: instances fused into a larger one, one split
     * into smaller ones, or the instances destroyed and created.
     */
    public static String change(Layout base, Layout result) {
        List<Instance> destroyed = new ArrayList<>(base.instances());
        destroyed.removeAll(result.instances());
        List<Instance> created = new ArrayList<>(result.instances());
        created.removeAll(base.instances());
        if (destroyed.size() >= 2 && created.size() == 1 && covers(created.getFirst(), destroyed)) {
            return "fused " + join(destroyed) + " into " + created.getFirst();
        }
        if (destroyed.size() == 1 && created.size() >= 2 && within(created, destroyed.getFirst())) {
            return "split " + destroyed.getFirst() + " into " + join(created);
        }
        List<String> parts = new ArrayList<>();
        if (!destroyed.isEmpty()) parts.add("destroy " + join(destroyed));
        if (!created.isEmpty()) parts.add("create " + join(created));
        return String.join(", ", parts);
    }

    /** Whether the instance's memory slices hold all of the others'. */
    private static boolean covers(Instance big, List<Instance> small) {
        return small.stream().allMatch(i -> i.start() >= big.start()
                && i.start() + i.profile().memorySlices() <= big.start() + big.profile().memorySlices());
    }

    private static boolean within(List<Instance> small, Instance big) {
        return covers(big, small);
    }

    private static String join(List<Instance> instances) {
        return String.join(",", instances.stream().sorted().map(Instance::toString).toList());
    }
}
