package dev.parley.desktop;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The desktop's layers go one way: views may use view models, never the reverse, and logic knows no controls. */
class LayersTest {
    private static final JavaClasses DESKTOP = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.parley.desktop");

    @Test
    void viewModelsUseNoControlsAndNoViews() {
        noClasses().that().resideInAPackage("..desktop.viewmodel..")
                .should().dependOnClassesThat().resideInAnyPackage("javafx.scene..", "javafx.stage..",
                        "..desktop.view..", "javafx.application..")
                .check(DESKTOP);
    }

    @Test
    void settingsAndExportKnowNothingOfJavaFx() {
        noClasses().that().resideInAnyPackage("..desktop.settings..", "..desktop.export..")
                .should().dependOnClassesThat().resideInAPackage("javafx..")
                .check(DESKTOP);
    }
}
