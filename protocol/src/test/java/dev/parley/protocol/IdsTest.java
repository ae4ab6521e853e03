package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Row ids are canonical lower-case UUIDv7 strings (SPEC §3). */
class IdsTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f",   // variant nibble 9
            "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b",   // variant nibble 8
            "018f2b6e-1234-7abc-adef-0123456789ab",   // variant nibble a
            "019b1c2d-0000-7000-bfff-ffffffffffff"})  // variant nibble b
    void acceptsCanonicalLowerCaseUuidV7(String id) {
        assertThat(Ids.isValid(id)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "01936F3E-8B2A-7C4D-9E5F-0A1B2C3D4E5F",
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5F",
            "01936f3e-8b2a-7C4d-9e5f-0a1b2c3d4e5f"})
    void rejectsUpperCase(String id) {
        assertThat(Ids.isValid(id)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "01936f3e-8b2a-4c4d-9e5f-0a1b2c3d4e5f",   // v4
            "01936f3e-8b2a-1c4d-9e5f-0a1b2c3d4e5f",   // v1
            "01936f3e-8b2a-6c4d-9e5f-0a1b2c3d4e5f",   // v6
            "01936f3e-8b2a-8c4d-9e5f-0a1b2c3d4e5f",   // v8
            "00000000-0000-0000-0000-000000000000",   // nil
            "ffffffff-ffff-ffff-ffff-ffffffffffff"})  // max
    void rejectsOtherVersions(String id) {
        assertThat(Ids.isValid(id)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "01936f3e-8b2a-7c4d-0e5f-0a1b2c3d4e5f",   // NCS
            "01936f3e-8b2a-7c4d-7e5f-0a1b2c3d4e5f",   // NCS
            "01936f3e-8b2a-7c4d-ce5f-0a1b2c3d4e5f",   // Microsoft
            "01936f3e-8b2a-7c4d-fe5f-0a1b2c3d4e5f"})  // reserved
    void rejectsWrongVariant(String id) {
        assertThat(Ids.isValid(id)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "01936f3e8b2a7c4d9e5f0a1b2c3d4e5f",
            "01936f3e-8b2a7c4d-9e5f-0a1b2c3d4e5f",
            "01936f3e_8b2a_7c4d_9e5f_0a1b2c3d4e5f",
            "01936f3e-8b2a-7c4d-9e5f0a1b-2c3d4e5f"})
    void rejectsMissingOrMisplacedHyphens(String id) {
        assertThat(Ids.isValid(id)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f0",
            "001936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f",
            " 01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f",
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f ",
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f\n",
            "{01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f}",
            "urn:uuid:01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f",
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f'; DROP TABLE users; --",
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5g",
            "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5"})
    void rejectsExtraMissingOrForeignCharacters(String id) {
        assertThat(Ids.isValid(id)).isFalse();
    }

    @ParameterizedTest
    @NullAndEmptySource
    void rejectsNullAndEmpty(String id) {
        assertThat(Ids.isValid(id)).isFalse();
    }

    @Test
    void rejectsNonAsciiDigitsThatLookLikeHex() {
        // U+0661 ARABIC-INDIC DIGIT ONE in place of the last '1'
        assertThat(Ids.isValid("01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5\u0661")).isFalse();
    }
}
