package dev.parley.server;

import static com.tngtech.archunit.library.GeneralCodingRules.ACCESS_STANDARD_STREAMS;
import static com.tngtech.archunit.library.GeneralCodingRules.NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.CompositeArchRule;
import dev.parley.server.cli.Main;
import org.junit.jupiter.api.Test;

/** The server logs through SLF4J only, so that one configuration decides where every line of its log goes. */
class LoggingTest {
    private static final JavaClasses SERVER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.parley.server");

    @Test
    void logsThroughSlf4jOnly() {
        CompositeArchRule.of(NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING)
                // The command line's Main prints what a command line prints: "Parley server listening on …" on
                // standard output, which scripts wait for, and why it could not start on standard error.
                .and(noClasses().that().doNotBelongToAnyOf(Main.class).should(ACCESS_STANDARD_STREAMS))
                .and(noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.log4j..",
                        "org.apache.logging.log4j..", "org.apache.commons.logging..")
                        .as("no classes should use log4j or commons-logging"))
                .check(SERVER);
    }
}
