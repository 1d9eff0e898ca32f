package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.estimate.MemoryExpression;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Coverage-guided: memory expressions ({@code expr:} of a job: {@code 3*n*n*8 + 512MiB}). */
final class MemoryExpressionFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void memoryExpressions(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        Contract.acceptsOrRefusesClearly("expression", text, () -> MemoryExpression.bytes(text, Map.of("n", 20000.0,
                "params_b", 7.0)), m -> m.contains("expression") || m.contains("'"));
    }
}
