package dev.migm.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.migm.io.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ProfileNameTest {
    @ParameterizedTest
    @ValueSource(strings = {"3g.20gb", "1g.5gb+me", "7g.141gb", "1g.10gb+me.all", "1g.24gb-me"})
    void parse_roundTrips(String text) {
        assertThat(ProfileName.parse(text).toString()).isEqualTo(text);
    }

    @Test
    void parse_acceptsNvidiaSmiNameColumn() {
        assertThat(ProfileName.parse("MIG 3g.20gb")).isEqualTo(new ProfileName(3, 20, ""));
    }

    @Test
    void parse_rejectsComputeInstanceProfilesAndGarbageWithTheText() {
        assertThatThrownBy(() -> ProfileName.parse("1c.3g.20gb")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("compute-instance");
        assertThatThrownBy(() -> ProfileName.parse("3g20gb")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("'3g20gb'");
    }
}
