package dev.migm.exec;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Tells from a failed process's output whether it ran out of GPU memory (mig-hardware.md section 4).
 * Recognised, with their sources:
 * <ul>
 *   <li>PyTorch: {@code torch.OutOfMemoryError} / {@code torch.cuda.OutOfMemoryError},
 *       "CUDA out of memory. Tried to allocate ..." ({@code c10/cuda/CUDACachingAllocator.cpp});</li>
 *   <li>the MIG-specific PyTorch signature {@code NVML_SUCCESS == r INTERNAL ASSERT FAILED} of the
 *       caching allocator on MIG slices (pytorch/pytorch #112377, #197312; fal-ai/fal PR #478 treats it
 *       as an OOM);</li>
 *   <li>the CUDA runtime and driver: {@code cudaErrorMemoryAllocation} (2, "out of memory"),
 *       {@code CUDA_ERROR_OUT_OF_MEMORY}, "CUDA error: out of memory";</li>
 *   <li>TensorRT: "Error Code 1: Cuda Runtime (out of memory)" (NVIDIA-AI-Blueprints/rag #51);</li>
 *   <li>JAX / XLA: {@code RESOURCE_EXHAUSTED: Out of memory}; TensorFlow: "OOM when allocating tensor".</li>
 * </ul>
 * The exit status alone proves nothing (a CUDA program may exit with any code), and host memory
 * exhaustion ("Cannot allocate memory", the kernel's OOM killer) is not a GPU OOM.
 */
public final class OomClassifier {
    private record Rule(String name, Pattern pattern) {
    }

    private static final List<Rule> RULES = List.of(
            new Rule("PyTorch OutOfMemoryError", Pattern.compile("torch(\\.cuda)?\\.OutOfMemoryError")),
            new Rule("PyTorch CUDA out of memory", Pattern.compile("CUDA out of memory")),
            new Rule("PyTorch allocator NVML assert on MIG",
                    Pattern.compile("NVML_SUCCESS == r INTERNAL ASSERT FAILED")),
            new Rule("cudaErrorMemoryAllocation", Pattern.compile("cudaErrorMemoryAllocation")),
            new Rule("CUDA_ERROR_OUT_OF_MEMORY", Pattern.compile("CUDA_ERROR_OUT_OF_MEMORY")),
            new Rule("CUDA error: out of memory", Pattern.compile("CUDA error:? out of memory", Pattern.CASE_INSENSITIVE)),
            new Rule("TensorRT CUDA runtime out of memory", Pattern.compile("Cuda Runtime \\(out of memory\\)")),
            new Rule("JAX/XLA RESOURCE_EXHAUSTED", Pattern.compile("RESOURCE_EXHAUSTED:?\\s*Out of memory",
                    Pattern.CASE_INSENSITIVE)),
            new Rule("TensorFlow OOM", Pattern.compile("OOM when allocating tensor")));

    private OomClassifier() {
    }

    /** The rule that recognises the output as a GPU out-of-memory failure, with the matching line. */
    public static Optional<String> classify(String output) {
        if (output == null || output.isEmpty()) return Optional.empty();
        for (String line : output.split("\\R")) {
            for (Rule r : RULES) {
                if (r.pattern().matcher(line).find()) {
                    String l = line.strip();
                    return Optional.of(r.name() + ": " + (l.length() > 200 ? l.substring(0, 200) + "..." : l));
                }
            }
        }
        return Optional.empty();
    }
}
