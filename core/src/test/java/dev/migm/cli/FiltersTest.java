package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import dev.migm.service.JobFilter;
import dev.migm.store.NodeJournal;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** What queue and history filters read: --since's forms and the daemon's filter of the rows. */
final class FiltersTest {
    // 2026-12-07T12:00:00Z = 1,796,644,800 s since the epoch (20,794 days of 86,400 s, plus 12 h).
    private static final Instant NOON = Instant.parse("2026-12-07T12:00:00Z");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void since_takesAnAgeADateOrATime() {
        assertThat(NOON.getEpochSecond()).isEqualTo(1_796_644_800L);
        assertThat(ServiceCommands.sinceEpochS("90s", NOON, BERLIN)).isEqualTo(1_796_644_710.0);
        assertThat(ServiceCommands.sinceEpochS("2h", NOON, BERLIN)).isEqualTo(1_796_637_600.0);
        assertThat(ServiceCommands.sinceEpochS("7d", NOON, BERLIN)).isEqualTo(1_796_644_800.0 - 7 * 86_400);
        // A local date is its midnight in the zone: Berlin is UTC+1 in December, so 23:00Z the day before.
        assertThat(ServiceCommands.sinceEpochS("2026-12-07", NOON, BERLIN)).isEqualTo(1_796_644_800.0 - 13 * 3600);
        assertThat(ServiceCommands.sinceEpochS("2026-12-07T09:30", NOON, BERLIN)).isEqualTo(1_796_644_800.0 - 3.5 * 3600);
        assertThat(ServiceCommands.sinceEpochS("2026-12-07 09:30:00", NOON, BERLIN)).isEqualTo(1_796_644_800.0 - 3.5 * 3600);
        assertThat(ServiceCommands.sinceEpochS("2026-12-07T11:00:00Z", NOON, BERLIN)).isEqualTo(1_796_641_200.0);
        assertThatThrownBy(() -> ServiceCommands.sinceEpochS("yesterday", NOON, BERLIN))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("--since: expected an age");
        CliTest.Result bad = CliTest.run("queue", "--since", "soon", "--socket", "/nonexistent.sock");
        assertThat(bad.status()).isEqualTo(Main.BAD_INPUT);
        assertThat(bad.err()).startsWith("migm: --since: expected").hasLineCount(1);
    }

    private static NodeJournal.JobRow row(String id, String user, String state, double submittedS, Double endedS) {
        return new NodeJournal.JobRow(id, "j" + id, user, state, submittedS, endedS, 1, 1024, "declared", 0, null, "", 1, 0);
    }

    @Test
    void theFilter_keepsTheUsersJobsInTheStatesSinceTheTime() {
        JobFilter f = JobFilter.of("alice", "running,done", "1000");
        assertThat(f.wantsEnded()).as("done is an ended state").isTrue();
        assertThat(f.matches(row("1", "alice", "running", 1200, null))).isTrue();
        assertThat(f.matches(row("2", "bob", "running", 1200, null))).as("another user").isFalse();
        assertThat(f.matches(row("3", "alice", "queued", 1200, null))).as("another state").isFalse();
        // Submitted before, ended after: it still changed since.
        assertThat(f.matches(row("4", "alice", "done", 500, 1500.0))).isTrue();
        assertThat(f.matches(row("5", "alice", "done", 500, 900.0))).as("ended before").isFalse();
        assertThat(JobFilter.of(null, "queued", null).wantsEnded()).isFalse();
        assertThat(JobFilter.of(null, null, null)).isEqualTo(JobFilter.NONE);
        assertThatThrownBy(() -> JobFilter.of(null, "runing", null)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("state: expected one or more of submitted, queued").hasMessageContaining("'runing'");
    }
}
