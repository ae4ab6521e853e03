package dev.parley.desktop;

import static com.tngtech.archunit.library.GeneralCodingRules.ACCESS_STANDARD_STREAMS;
import static com.tngtech.archunit.library.GeneralCodingRules.NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.CompositeArchRule;
import org.junit.jupiter.api.Test;

/**
 * The desktop's layers go one way: views may use view models, never the reverse, and logic knows no controls. The
 * desktop uses client-db through its public API only, and logs through SLF4J only.
 */
class LayersTest {
    private static final JavaClasses DESKTOP = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.parley.desktop");
    private static final ArchRule NO_LOG4J_OR_COMMONS_LOGGING = noClasses().should().dependOnClassesThat()
            .resideInAnyPackage("org.apache.log4j..", "org.apache.logging.log4j..", "org.apache.commons.logging..")
            .as("no classes should use log4j or commons-logging");

    @Test
    void viewModelsUseNoControlsAndNoViews() {
        noClasses().that().resideInAPackage("..desktop.viewmodel..")
                .should().dependOnClassesThat().resideInAnyPackage("javafx.scene..", "javafx.stage..",
                        "..desktop.view..", "javafx.application..")
                .check(DESKTOP);
    }

    @Test
    void settingsAndExportKnowNothingOfJavaFx() {
        noClasses().that().resideInAnyPackage("..desktop.settings..", "..desktop.export..", "..desktop.models..")
                .should().dependOnClassesThat().resideInAPackage("javafx..")
                .check(DESKTOP);
    }

    @Test
    void clientDbIsUsedThroughItsPublicApiOnly() {
        noClasses().should().dependOnClassesThat().resideInAPackage("dev.parley.client.internal..")
                .because("client-db's internal package is client-db's own (and the bench's)")
                .check(DESKTOP);
    }

    @Test
    void theServerIsUsedThroughItsPublicApiOnly() {
        noClasses().should().dependOnClassesThat().resideInAPackage("dev.parley.server.internal..")
                .because("the embedded server's models are built through dev.parley.server.ModelProviders")
                .check(DESKTOP);
    }

    @Test
    void logsThroughSlf4jOnly() {
        CompositeArchRule.of(NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING)
                // Launcher answers --version and --self-check as a command line does, on standard output and error.
                .and(noClasses().that().doNotBelongToAnyOf(Launcher.class).should(ACCESS_STANDARD_STREAMS))
                .and(NO_LOG4J_OR_COMMONS_LOGGING)
                .check(DESKTOP);
    }
}
