package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.io.TextFiles;
import dev.migm.sim.TraceReader;

/** Coverage-guided: traces ({@code migm-trace v1}, CSV), from bytes as a file would hold them. */
final class TraceFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void traces(byte[] bytes) {
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        Contract.acceptsOrRefusesClearly("trace", text, () -> TraceReader.parse(TextFiles.decode(bytes, "fuzz.csv"), "fuzz.csv"),
                Contract.startsWith("fuzz.csv"));
    }
}
