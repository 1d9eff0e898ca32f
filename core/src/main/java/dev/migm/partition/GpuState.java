package dev.migm.partition;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.util.Set;

/**
 * A GPU's layout with each instance busy (a process runs on it, so NVML refuses to destroy it) or
 * idle. The planner's input. Text form: the layout with a {@code *} after each busy instance,
 * {@code "1g.5gb@0,2g.10gb@2*,3g.20gb@4"}.
 */
public record GpuState(Layout layout, Set<Instance> busy) {
    public GpuState {
        busy = Set.copyOf(busy);
        for (Instance b : busy) {
            if (!layout.contains(b)) {
                throw new IllegalArgumentException("busy instance " + b + " is not in layout " + layout);
            }
        }
    }

    public static GpuState idle(Layout layout) {
        return new GpuState(layout, Set.of());
    }

    public static GpuState parse(GpuModel gpu, String text) {
        Layout.MarkedLayout marked = Layout.parseMarked(gpu, text);
        return new GpuState(marked.layout(), marked.marked());
    }

    public GpuModel gpu() {
        return layout.gpu();
    }

    public boolean isBusy(Instance instance) {
        return busy.contains(instance);
    }


    @Override
    public String toString() {
        if (layout.instances().isEmpty()) {
            return "-";
        }
        return String.join(",", layout.instances().stream().map(i -> i + (busy.contains(i) ? "*" : "")).toList());
    }
}
