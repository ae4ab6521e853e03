package dev.parley.client;

import static com.tngtech.archunit.library.GeneralCodingRules.ACCESS_STANDARD_STREAMS;
import static com.tngtech.archunit.library.GeneralCodingRules.NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.CompositeArchRule;
import dev.parley.client.cli.HistoryCommand;
import org.junit.jupiter.api.Test;

/** client-db logs through SLF4J only: the application that embeds it chooses where the log goes. */
class LoggingTest {
    private static final JavaClasses CLIENT = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.parley.client");

    @Test
    void logsThroughSlf4jOnly() {
        CompositeArchRule.of(NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING)
                // The import/export command line prints what a command line prints: progress and a summary.
                .and(noClasses().that().doNotBelongToAnyOf(HistoryCommand.class).should(ACCESS_STANDARD_STREAMS))
                .and(noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.log4j..",
                        "org.apache.logging.log4j..", "org.apache.commons.logging..")
                        .as("no classes should use log4j or commons-logging"))
                .check(CLIENT);
    }
}
