package dev.migm.exec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real message texts (mig-hardware.md section 4 and the issues it cites). */
final class OomClassifierTest {
    @ParameterizedTest
    @ValueSource(strings = {
        // PyTorch, current main (c10/cuda/CUDACachingAllocator.cpp)
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 9.50 GiB"
                + " of which 1.12 GiB is free. Of the allocated memory 7.90 GiB is allocated by PyTorch, and 120.00 MiB"
                + " is reserved by PyTorch but unallocated.",
        // PyTorch, older releases
        "RuntimeError: CUDA out of memory. Tried to allocate 34.00 MiB (GPU 0; 3.95 GiB total capacity; 3.29 GiB already"
                + " allocated; 11.38 MiB free; 3.37 GiB reserved in total by PyTorch)",
        // the MIG signature (pytorch/pytorch #112377 on H100 MIG 2g.20gb)
        "RuntimeError: NVML_SUCCESS == r INTERNAL ASSERT FAILED at \"../c10/cuda/CUDACachingAllocator.cpp\":1154,"
                + " please report a bug to PyTorch.",
        // CUDA runtime error name and string
        "CUDA Runtime Error: cudaErrorMemoryAllocation (2): out of memory",
        "RuntimeError: CUDA error: out of memory",
        "cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY",
        // TensorRT on a 3g.20gb (NVIDIA-AI-Blueprints/rag #51)
        "[TRT] [E] 1: [defaultAllocator.cpp::allocate::20] Error Code 1: Cuda Runtime (out of memory)",
        // JAX / XLA
        "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate 17179869184 bytes.",
        // TensorFlow
        "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with shape[8192,8192]"})
    void recognisesGpuOutOfMemoryMessages(String line) {
        String output = "Epoch 1/10\nloading model...\n" + line + "\n";
        assertThat(OomClassifier.classify(output)).isPresent().get().asString().contains(line.substring(0, 20));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "OSError: [Errno 12] Cannot allocate memory",
        "Killed",
        "RuntimeError: CUDA error: device-side assert triggered",
        "ValueError: out of range",
        "Training finished, memory usage stayed out of trouble"})
    void ignoresOtherFailures(String line) {
        assertThat(OomClassifier.classify(line)).isEmpty();
    }
}
