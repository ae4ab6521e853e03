package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The wire time format of SPEC §3: ISO-8601 UTC with exactly three fraction digits. */
class TimestampsTest {
    private final ObjectMapper mapper = Json.newMapper();

    @Test
    void formatsUtcWithExactlyThreeFractionDigits() {
        assertThat(Timestamps.format(Instant.parse("2026-11-26T10:15:30.123Z")))
                .isEqualTo("2026-11-26T10:15:30.123Z");
    }

    @Test
    void formatsWholeSecondsWithThreeZeroFractionDigits() {
        assertThat(Timestamps.format(Instant.parse("2026-11-26T10:15:30Z"))).isEqualTo("2026-11-26T10:15:30.000Z");
        assertThat(Timestamps.format(Instant.EPOCH)).isEqualTo("1970-01-01T00:00:00.000Z");
    }

    @Test
    void formatTruncatesNanosInsteadOfRounding() {
        assertThat(Timestamps.format(Instant.parse("2026-11-26T10:15:30.123999999Z")))
                .isEqualTo("2026-11-26T10:15:30.123Z");
        assertThat(Timestamps.format(Instant.parse("2026-11-26T10:15:30.000999Z")))
                .isEqualTo("2026-11-26T10:15:30.000Z");
    }

    @Test
    void formatsInstantsBeforeTheEpochWithoutANegativeFraction() {
        assertThat(Timestamps.format(Instant.ofEpochMilli(-1))).isEqualTo("1969-12-31T23:59:59.999Z");
    }

    @Test
    void parsesTheCanonicalForm() {
        assertThat(Timestamps.parse("2026-11-26T10:15:30.123Z")).isEqualTo(Instant.parse("2026-11-26T10:15:30.123Z"));
    }

    @Test
    void parsingConvertsAPositiveOffsetToUtc() {
        Instant parsed = Timestamps.parse("2026-11-26T12:15:30.123+02:00");

        assertThat(parsed).isEqualTo(Instant.parse("2026-11-26T10:15:30.123Z"));
        assertThat(Timestamps.format(parsed)).isEqualTo("2026-11-26T10:15:30.123Z");
    }

    @Test
    void parsingConvertsANegativeOffsetAcrossMidnightToUtc() {
        assertThat(Timestamps.format(Timestamps.parse("2026-11-26T22:00:00.5-05:30")))
                .isEqualTo("2026-11-27T03:30:00.500Z");
    }

    @Test
    void parsingAcceptsMissingFractionAndTruncatesExtraDigitsToMillis() {
        assertThat(Timestamps.parse("2026-11-26T10:15:30Z")).isEqualTo(Instant.parse("2026-11-26T10:15:30Z"));
        assertThat(Timestamps.parse("2026-11-26T10:15:30.123456789Z"))
                .isEqualTo(Instant.parse("2026-11-26T10:15:30.123Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "yesterday",
            "",
            "2026-11-26",
            "2026-11-26T10:15:30.123",        // no offset: the zone would be a guess
            "2026-11-26 10:15:30.123Z",
            "2026-13-26T10:15:30.123Z",
            "2026-11-26T25:15:30.123Z",
            "1764152130123",
            "2026-11-26T10:15:30.123Z trailing"})
    void parsingRejectsTextThatIsNotAnIsoInstantWithOffset(String text) {
        assertThatThrownBy(() -> Timestamps.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text + "'");
    }

    @Test
    void mapperWritesInstantFieldsInTheWireFormat() throws Exception {
        RenameRequest rename = new RenameRequest("Trip", Instant.parse("2026-11-26T10:15:30.123456Z"));

        assertThat(mapper.writeValueAsString(rename))
                .isEqualTo("{\"title\":\"Trip\",\"titleUpdatedAt\":\"2026-11-26T10:15:30.123Z\"}");
    }

    @Test
    void mapperWritesZeroMillisAsThreeZeroDigits() throws Exception {
        RenameRequest rename = new RenameRequest("Trip", Instant.parse("2026-11-26T10:15:30Z"));

        assertThat(mapper.readTree(mapper.writeValueAsString(rename)).get("titleUpdatedAt").asText())
                .isEqualTo("2026-11-26T10:15:30.000Z");
    }

    @Test
    void mapperReadsOffsetTimestampsAsUtcInstants() throws Exception {
        RenameRequest rename = mapper.readValue(
                "{\"title\":\"Trip\",\"titleUpdatedAt\":\"2026-11-26T12:15:30.123+02:00\"}", RenameRequest.class);

        assertThat(rename.titleUpdatedAt()).isEqualTo(Instant.parse("2026-11-26T10:15:30.123Z"));
    }

    @Test
    void mapperReadsNullInstantAsNull() throws Exception {
        RenameRequest rename = mapper.readValue("{\"title\":\"Trip\",\"titleUpdatedAt\":null}", RenameRequest.class);

        assertThat(rename.titleUpdatedAt()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1764152130123", "1764152130.123", "true", "[2026,11,26]", "{\"epochSecond\":1}"})
    void mapperRejectsANonStringInstant(String value) {
        String json = "{\"title\":\"Trip\",\"titleUpdatedAt\":" + value + "}";

        assertThatThrownBy(() -> mapper.readValue(json, RenameRequest.class))
                .isInstanceOf(MismatchedInputException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday", "2026-11-26T10:15:30.123", "", "1764152130123"})
    void mapperRejectsAStringInstantThatIsNotIso(String value) {
        String json = "{\"title\":\"Trip\",\"titleUpdatedAt\":\"" + value + "\"}";

        assertThatThrownBy(() -> mapper.readValue(json, RenameRequest.class))
                .isInstanceOf(InvalidFormatException.class)
                .isInstanceOf(JsonProcessingException.class);
    }
}
