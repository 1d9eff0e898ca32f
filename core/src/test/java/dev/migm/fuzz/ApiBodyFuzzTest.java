package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.service.ApiServer;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided: the body of {@code POST /v1/jobs} ({@code {source, cwd, text}}, JSON), read as the
 * API reads it, then the job file it carries parsed under the name it gives. A refusal of the body
 * names its field; a refusal of the file, the file's name and line.
 */
final class ApiBodyFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void submitBodies(byte[] bytes) {
        String body = new String(bytes, StandardCharsets.UTF_8);
        ApiServer.SubmitRequest[] read = new ApiServer.SubmitRequest[1];
        boolean accepted = Contract.acceptsOrRefusesClearly("body", body, () -> read[0] = ApiServer.SubmitRequest.parse(body),
                m -> m.startsWith("request body") || m.startsWith("cwd:") || m.startsWith("source:"));
        if (accepted) {
            String source = read[0].source();
            Contract.acceptsOrRefusesClearly("submitted file", body, () -> dev.migm.spec.BatchFile.parse(read[0].text(), source),
                    Contract.startsWith(source));
        }
    }
}
