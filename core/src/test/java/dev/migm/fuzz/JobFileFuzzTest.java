package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.io.TextFiles;
import dev.migm.spec.BatchFile;

/** Coverage-guided: job and batch files ({@code version: v1}, YAML), from bytes as a file would hold them. */
final class JobFileFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void jobFiles(byte[] bytes) {
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        Contract.acceptsOrRefusesClearly("job file", text, () -> BatchFile.parse(TextFiles.decode(bytes, "jobs.yaml"), "jobs.yaml"),
                Contract.startsWith("jobs.yaml"));
    }
}
