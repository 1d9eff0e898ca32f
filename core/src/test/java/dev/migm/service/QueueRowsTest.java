package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.store.NodeJournal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The queue's rows are written by hand (no map per job, issue 14's load); they must stay the same
 * JSON as a job's row in {@code show}, key for key and value for value, plus {@code waiting_because}.
 */
final class QueueRowsTest {
    @Test
    void aQueueRow_isTheShowRow_plusWhyItWaits() {
        NodeJournal.JobRow waiting = new NodeJournal.JobRow("7", "train", "alice", "queued", 12.5, null, 0, 20480,
                "declared", 0.0, null, "", 3, 0);
        NodeJournal.JobRow ended = new NodeJournal.JobRow("8", "eval", "bob", "done", 1.0, 99.25, 2, 4864,
                "history", 1.0, "gpu0:1g.5gb@6", "completed", 4, 1);
        JsonNode rows = ApiServer.JSON.valueToTree(new ApiServer.QueueRows(List.of(waiting, ended),
                Map.of("7", "gpu0 is drained")));

        JsonNode expectedWaiting = ApiServer.JSON.valueToTree(ApiServer.jobRow(waiting));
        ((tools.jackson.databind.node.ObjectNode) expectedWaiting).put("waiting_because", "gpu0 is drained");
        assertThat(rows.get(0)).isEqualTo(expectedWaiting);
        assertThat(rows.get(1)).isEqualTo(ApiServer.JSON.valueToTree(ApiServer.jobRow(ended)));
        assertThat(ApiServer.JSON.writeValueAsString(rows.get(0))).startsWith("{\"id\":\"7\",\"name\":\"train\"");
    }
}
