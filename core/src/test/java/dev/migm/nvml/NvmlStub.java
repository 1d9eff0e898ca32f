package dev.migm.nvml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The stub {@code libnvidia-ml.so.1} of {@code src/test/native/nvml_stub.c} (two A100-SXM4-40GB,
 * GPU 0 with MIG on), built with gcc into a test's directory, and its test hooks. Each build is a
 * separate library with its own state; the tests that share one reset it.
 */
@SuppressWarnings("restricted")
public final class NvmlStub {
    private final Path library;
    private final MethodHandle setProcessMemory;
    private final MethodHandle reset;
    private final MethodHandle layout;
    private final MethodHandle setArchitecture;
    private final MethodHandle setWholeProcessMemory;

    private NvmlStub(Path library) {
        this.library = library;
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        Linker linker = Linker.nativeLinker();
        setProcessMemory = linker.downcallHandle(lookup.find("stub_set_process_memory").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        reset = linker.downcallHandle(lookup.find("stub_reset").orElseThrow(), FunctionDescriptor.ofVoid());
        layout = linker.downcallHandle(lookup.find("stub_layout").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        setArchitecture = linker.downcallHandle(lookup.find("stub_set_architecture").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        setWholeProcessMemory = linker.downcallHandle(lookup.find("stub_set_whole_process_memory").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    }

    /** Compiles the stub into {@code dir}; skips the calling test where gcc is missing. */
    public static NvmlStub build(Path dir) throws Exception {
        Path gcc = Path.of("/usr/bin/gcc");
        assumeTrue(Files.isExecutable(gcc), "gcc is needed to build the NVML stub");
        Path stub = dir.resolve("libnvidia-ml.so.1");
        Process p = new ProcessBuilder(gcc.toString(), "-shared", "-fPIC", "-O2", "-o", stub.toString(),
                "src/test/native/nvml_stub.c").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return new NvmlStub(stub);
    }

    public Path library() {
        return library;
    }

    /** A process holding {@code mib} on the MIG device of the GPU instance that starts at memory slice {@code start}. */
    public void setProcessMemory(int start, long mib) throws Throwable {
        setProcessMemory.invoke(start, mib);
    }

    /** The GPUs' architecture as nvmlDeviceGetArchitecture reports it (7 Ampere, the default; 9 Hopper). */
    public void setArchitecture(int arch) throws Throwable {
        setArchitecture.invoke(arch);
    }

    /** A process holding {@code mib} on GPU {@code gpu} with MIG off. */
    public void setWholeProcessMemory(int gpu, long mib) throws Throwable {
        setWholeProcessMemory.invoke(gpu, mib);
    }

    /** Destroys every instance in the stub and restores its modes (GPU 0 MIG on, GPU 1 off) and Ampere. */
    public void reset() throws Throwable {
        reset.invoke();
    }

    /** {@code sizeof} or {@code offsetof} as the C compiler laid the struct out (cases of {@code stub_layout}). */
    public long cLayout(int what) throws Throwable {
        return (long) layout.invoke(what);
    }
}
