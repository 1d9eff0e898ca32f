package dev.migm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.migm.io.InvalidInputException;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class MemoryExpressionTest {
    @Test
    void evaluatesTheIssuesExampleWithUnits() {
        // Three n x n double matrices (the allocations of a dense solver) plus 512 MiB of workspace:
        // n = 10000: 3 * 10^8 * 8 = 2.4e9 bytes, + 512 * 2^20 = 536870912 -> 2936870912 bytes.
        double bytes = MemoryExpression.bytes("3 * n * n * 8 + 512MiB", Map.of("n", 10000.0));
        assertThat(bytes).isCloseTo(2_936_870_912.0, within(1e-3));
    }

    @Test
    void supportsPrecedencePowersFunctionsAndDecimalUnits() {
        assertThat(MemoryExpression.bytes("2 + 3 * 4", Map.of())).isEqualTo(14);
        assertThat(MemoryExpression.bytes("(2 + 3) * 4", Map.of())).isEqualTo(20);
        assertThat(MemoryExpression.bytes("2 ^ 3 ^ 2", Map.of())).isEqualTo(512);
        assertThat(MemoryExpression.bytes("max(1GB, 1GiB) - 1GiB", Map.of())).isEqualTo(0);
        assertThat(MemoryExpression.bytes("ceil(n / 3) * 1KiB", Map.of("n", 10.0))).isEqualTo(4096);
        assertThat(MemoryExpression.bytes("-2 * -3", Map.of())).isEqualTo(6);
    }

    @Test
    void rejectsUnknownNamesUnitsAndSyntaxNamingThePosition() {
        assertThatThrownBy(() -> MemoryExpression.bytes("3 * m", Map.of("n", 1.0))).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("unknown parameter 'm'");
        assertThatThrownBy(() -> MemoryExpression.bytes("3parsecs", Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("unknown unit 'parsecs'").hasMessageContaining("position 2");
        assertThatThrownBy(() -> MemoryExpression.bytes("3 parsecs", Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("position 3: unexpected 'p'");
        assertThatThrownBy(() -> MemoryExpression.bytes("(1 + 2", Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("expected ')'");
        assertThatThrownBy(() -> MemoryExpression.bytes("System.exit(0)", Map.of())).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> MemoryExpression.bytes("1 / 0", Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("division by zero");
    }
}
