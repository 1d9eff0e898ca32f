package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import org.junit.jupiter.api.Test;

/** {@code migm replay --since}: dates and seconds on the journal's clock (Unix time at time scale 1). */
final class ReplaySinceTest {
    @Test
    void datesAndSeconds() {
        assertThat(ServiceCommands.journalTime("1796216124.5")).isEqualTo(1796216124.5);
        // 2026-11-25T08:00Z is 1795564800 + 8 h (1795564800 = 2026-11-25T00:00Z: 20,782 days after 1970).
        assertThat(ServiceCommands.journalTime("2026-11-25T08:00Z")).isEqualTo(1795564800 + 8 * 3600);
        assertThat(ServiceCommands.journalTime("2026-11-25T09:00+01:00")).isEqualTo(1795564800 + 8 * 3600);
        long local = java.time.LocalDate.of(2026, 11, 25).atStartOfDay(java.time.ZoneId.systemDefault()).toEpochSecond();
        assertThat(ServiceCommands.journalTime("2026-11-25")).isEqualTo(local);
        assertThatThrownBy(() -> ServiceCommands.journalTime("last tuesday")).isInstanceOf(InvalidInputException.class)
                .hasMessage("--since: expected a date like 2026-11-25 or 2026-11-25T08:00, or seconds, got 'last tuesday'");
    }
}
