package dev.migm.nvml;

/** An NVML call that did not succeed: its code and NVML's own message ({@code nvmlErrorString}). */
public final class NvmlException extends RuntimeException {
    private final NvmlReturn code;

    public NvmlException(String call, NvmlReturn code, String message) {
        super(call + ": NVML_ERROR_" + code.name() + " (" + message + ")");
        this.code = code;
    }

    public NvmlReturn code() {
        return code;
    }
}
