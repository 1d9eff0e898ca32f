package dev.migm.partition;

import dev.migm.gpu.Instance;

/** One step of a reconfiguration: destroy an idle GPU instance, or create one at a placement. */
public sealed interface PlanOp {
    Instance instance();

    /** {@code nvmlGpuInstanceDestroy} of an idle instance (NVML refuses busy ones with IN_USE). */
    record Destroy(Instance instance) implements PlanOp {
        @Override
        public String toString() {
            return "destroy " + instance;
        }
    }

    /** {@code nvmlDeviceCreateGpuInstanceWithPlacement} (plus its default compute instance). */
    record Create(Instance instance) implements PlanOp {
        @Override
        public String toString() {
            return "create " + instance;
        }
    }
}
