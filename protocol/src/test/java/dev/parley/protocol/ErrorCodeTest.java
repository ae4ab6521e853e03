package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** The error codes and the error body of SPEC §5. */
class ErrorCodeTest {
    private final ObjectMapper mapper = Json.newMapper();

    @ParameterizedTest(name = "{0} is sent as {1} with status {2}")
    @CsvSource({
            "BAD_REQUEST,       bad_request,       400",
            "UNAUTHORIZED,      unauthorized,      401",
            "FORBIDDEN,         forbidden,         403",
            "NOT_FOUND,         not_found,         404",
            "CONFLICT,          conflict,          409",
            "PAYLOAD_TOO_LARGE, payload_too_large, 413",
            "RATE_LIMITED,      rate_limited,      429",
            "IN_PROGRESS,       in_progress,       409",
            "UPSTREAM_ERROR,    upstream_error,    502",
            "UPSTREAM_TIMEOUT,  upstream_timeout,  504",
            "INTERNAL,          internal,          500"})
    void eachCodeHasItsSpecWireNameAndStatus(ErrorCode code, String wire, int status) throws Exception {
        assertThat(code.wire()).isEqualTo(wire);
        assertThat(code.status()).isEqualTo(status);
        assertThat(mapper.writeValueAsString(code)).isEqualTo("\"" + wire + "\"");
        assertThat(ErrorCode.fromWire(wire)).isSameAs(code);
        assertThat(mapper.readValue("\"" + wire + "\"", ErrorCode.class)).isSameAs(code);
    }

    @Test
    void theCodesAreExactlyThoseOfTheSpec() {
        Set<String> wires = Arrays.stream(ErrorCode.values()).map(ErrorCode::wire)
                .collect(Collectors.toCollection(LinkedHashSet::new));

        assertThat(wires).containsExactlyInAnyOrder("bad_request", "unauthorized", "forbidden", "not_found",
                "conflict", "payload_too_large", "unsupported_media_type", "rate_limited", "quota_exceeded",
                "in_progress", "interrupted", "upstream_error", "upstream_timeout", "unavailable", "internal");
    }

    @ParameterizedTest
    @EnumSource(value = ErrorCode.class, names = {"RATE_LIMITED", "IN_PROGRESS", "INTERRUPTED", "UPSTREAM_ERROR", "UPSTREAM_TIMEOUT",
            "UNAVAILABLE"})
    void transientFailuresAreRetryable(ErrorCode code) {
        assertThat(code.retryable()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = ErrorCode.class,
            names = {"BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "PAYLOAD_TOO_LARGE",
                "UNSUPPORTED_MEDIA_TYPE", "QUOTA_EXCEEDED"})
    void requestsTheServerRefusedOnTheirMeritsAreNotRetryable(ErrorCode code) {
        assertThat(code.retryable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"teapot", "BAD_REQUEST", "Bad_Request", "bad-request", " bad_request", "400"})
    void unknownWireCodeParsesToInternal(String wire) throws Exception {
        assertThat(ErrorCode.fromWire(wire)).isSameAs(ErrorCode.INTERNAL);
        assertThat(mapper.readValue(mapper.writeValueAsString(wire), ErrorCode.class)).isSameAs(ErrorCode.INTERNAL);
    }

    @ParameterizedTest
    @NullAndEmptySource
    void missingWireCodeParsesToInternal(String wire) {
        assertThat(ErrorCode.fromWire(wire)).isSameAs(ErrorCode.INTERNAL);
    }

    @Test
    void unknownCodeInsideAnErrorBodyParsesToInternal() throws Exception {
        ErrorBody body = mapper.readValue(
                "{\"error\":{\"code\":\"quota_exhausted\",\"message\":\"later\",\"retryable\":true,"
                        + "\"retryAfterSeconds\":60}}",
                ErrorBody.class);

        assertThat(body.error().code()).isSameAs(ErrorCode.INTERNAL);
        assertThat(body.error().message()).isEqualTo("later");
        assertThat(body.error().retryable()).isTrue();
        assertThat(body.error().retryAfterSeconds()).isEqualTo(60L);
        assertThat(body.persisted()).isNull();
    }

    @Test
    void errorBodyHasExactlyTheSpecShape() throws Exception {
        JsonNode json = mapper.readTree(mapper.writeValueAsString(ErrorBody.of(ErrorCode.BAD_REQUEST, "content is empty")));

        assertThat(fieldNames(json)).contains("error").isSubsetOf("error", "persisted");
        assertThat(json.path("persisted").isMissingNode() || json.path("persisted").isNull()).isTrue();
        JsonNode error = json.get("error");
        assertThat(fieldNames(error)).containsExactly("code", "message", "retryable", "retryAfterSeconds");
        assertThat(error.get("code").isTextual()).isTrue();
        assertThat(error.get("code").asText()).isEqualTo("bad_request");
        assertThat(error.get("message").asText()).isEqualTo("content is empty");
        assertThat(error.get("retryable").isBoolean()).isTrue();
        assertThat(error.get("retryable").booleanValue()).isFalse();
        assertThat(error.get("retryAfterSeconds").isNull()).isTrue();
    }

    @Test
    void errorBodyOfTakesRetryableFromTheCode() {
        assertThat(ErrorBody.of(ErrorCode.IN_PROGRESS, "busy").error().retryable()).isTrue();
        assertThat(ErrorBody.of(ErrorCode.CONFLICT, "taken").error().retryable()).isFalse();
        assertThat(ErrorBody.of(ErrorCode.IN_PROGRESS, "busy").error().retryAfterSeconds()).isNull();
    }

    @Test
    void chatFailureBodyCarriesTopLevelPersistedAndRetryAfterAndRoundTrips() throws Exception {
        ErrorBody body = new ErrorBody(
                new ErrorBody.ErrorDetail(ErrorCode.RATE_LIMITED, "slow down", true, 30L), Boolean.TRUE);

        String text = mapper.writeValueAsString(body);
        JsonNode json = mapper.readTree(text);

        assertThat(fieldNames(json)).containsExactlyInAnyOrder("error", "persisted");
        assertThat(json.get("persisted").booleanValue()).isTrue();
        assertThat(json.get("error").get("code").asText()).isEqualTo("rate_limited");
        assertThat(json.get("error").get("retryable").booleanValue()).isTrue();
        assertThat(json.get("error").get("retryAfterSeconds").isIntegralNumber()).isTrue();
        assertThat(json.get("error").get("retryAfterSeconds").asLong()).isEqualTo(30L);
        assertThat(mapper.readValue(text, ErrorBody.class)).isEqualTo(body);
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void everyCodeRoundTripsInsideAnErrorBody(ErrorCode code) throws Exception {
        ErrorBody body = ErrorBody.of(code, "why: " + code.wire());

        assertThat(mapper.readValue(mapper.writeValueAsString(body), ErrorBody.class)).isEqualTo(body);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
