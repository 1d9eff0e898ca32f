package dev.migm.engine;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import java.util.Optional;

/**
 * Where an attempt runs: a MIG instance of a GPU, or the whole GPU with MIG disabled.
 *
 * @param gpu           GPU index on the node
 * @param instance      the MIG instance, empty when MIG is disabled
 * @param sms           streaming multiprocessors available
 * @param memoryMib     memory available
 * @param computeSlices compute slices held (the GPU's all when MIG is disabled)
 */
public record Slot(int gpu, Optional<Instance> instance, int sms, long memoryMib, int computeSlices) {
    public static Slot of(int gpu, Instance instance) {
        return new Slot(gpu, Optional.of(instance), instance.profile().sms(), instance.profile().memoryMib(),
                instance.profile().computeSlices());
    }

    public static Slot wholeGpu(int gpu, GpuModel model) {
        return new Slot(gpu, Optional.empty(), model.sms(), model.memoryMib(), model.computeSlices());
    }

    /**
     * A slot as a journal records it: the GPU and its instance's text ({@code 1g.5gb@6}), null for the
     * whole GPU with MIG disabled. An instance the model cannot have fails with the reason.
     */
    public static Slot recorded(int gpu, GpuModel model, String instance) {
        if (instance == null) return wholeGpu(gpu, model);
        return of(gpu, dev.migm.gpu.Layout.parse(model, instance).instances().getFirst());
    }

    @Override
    public String toString() {
        return "gpu" + gpu + ":" + instance.map(Instance::toString).orElse("whole");
    }
}
