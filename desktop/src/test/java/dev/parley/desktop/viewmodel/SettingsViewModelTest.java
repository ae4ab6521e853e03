package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Settings dialog without a window, over a real settings file. */
class SettingsViewModelTest {
    @TempDir
    Path dir;

    private final QueuedUi ui = new QueuedUi();
    private final List<Settings> applied = new ArrayList<>();

    private SettingsViewModel open(Settings current) {
        return new SettingsViewModel(new SettingsStore(dir), ui, current, List.of("local-small", "local-large"), dir,
                ModelSetup.remote(), applied::add);
    }

    @Test
    void aFirstRunShowsTheEmbeddedServerTheServersModelTheLightThemeAndTheDataDirectory() {
        SettingsViewModel vm = open(new SettingsStore(dir).load());

        assertThat(vm.embeddedProperty().get()).isTrue();
        assertThat(vm.defaultModelProperty().get()).isEqualTo(SettingsViewModel.SERVER_DEFAULT);
        assertThat(vm.models()).containsExactly(SettingsViewModel.SERVER_DEFAULT, "local-small", "local-large");
        assertThat(vm.darkProperty().get()).isFalse();
        assertThat(vm.dataDirectory()).isEqualTo(dir.toAbsolutePath().toString());
    }

    @Test
    void savingWritesTheFileAndHandsTheNewSettingsOver() {
        SettingsViewModel vm = open(Settings.DEFAULTS);
        vm.embeddedProperty().set(false);
        vm.serverUrlProperty().set("  https://parley.example.com/ ");
        vm.defaultModelProperty().set("local-large");
        vm.darkProperty().set(true);

        assertThat(vm.serverChanged()).isTrue();
        vm.save();

        Settings expected = new Settings("https://parley.example.com", "local-large", true);
        assertThat(applied).containsExactly(expected);
        assertThat(vm.doneProperty().get()).isTrue();
        assertThat(new SettingsStore(dir).load()).isEqualTo(expected);
        assertThat(open(expected).serverUrlProperty().get()).isEqualTo("https://parley.example.com");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                          | Enter the server's address",
            "parley.example.com          | must start with http:// or https://",
            "ftp://parley.example.com    | must start with http:// or https://",
            "http://                     | That is not a web address",
            "https://exa mple.com        | That is not a web address",
            "https://host/?debug=1       | cannot have a ? or # part",
    })
    void aBadServerAddressIsExplainedInlineAndNothingIsSaved(String url, String problem) {
        SettingsViewModel vm = open(Settings.DEFAULTS);
        vm.embeddedProperty().set(false);
        vm.serverUrlProperty().set(url);

        vm.save();

        assertThat(vm.errorProperty().get()).contains(problem);
        assertThat(vm.doneProperty().get()).isFalse();
        assertThat(applied).isEmpty();
        assertThat(new SettingsStore(dir).file()).doesNotExist();
    }

    @Test
    void choosingTheEmbeddedServerAgainIgnoresTheAddressField() {
        SettingsViewModel vm = open(new Settings("https://parley.example.com", null, false));
        vm.serverUrlProperty().set("not even a url");
        vm.embeddedProperty().set(true);

        vm.save();

        assertThat(applied).containsExactly(Settings.DEFAULTS);
    }

    @Test
    void aSavedModelTheServerNoLongerListsStaysChosen() {
        SettingsViewModel vm = open(new Settings(null, "retired-model", false));

        assertThat(vm.defaultModelProperty().get()).isEqualTo("retired-model");
        assertThat(vm.models()).contains("retired-model");
    }

    @Test
    void anUnreadableSettingsFileGivesTheDefaultsAndIsLeftAloneUntilTheUserSaves() throws Exception {
        SettingsStore store = new SettingsStore(dir);
        Files.writeString(store.file(), "{\"serverUrl\": \"https://half-written");

        assertThat(store.load()).isEqualTo(Settings.DEFAULTS);
        assertThat(Files.readString(store.file())).isEqualTo("{\"serverUrl\": \"https://half-written");

        SettingsViewModel vm = open(store.load());
        vm.darkProperty().set(true);
        vm.save();
        assertThat(store.load()).isEqualTo(new Settings(null, null, true));
    }

    @Test
    void aFileWithAWrongTypeIsUnreadableNotHalfApplied() throws Exception {
        SettingsStore store = new SettingsStore(dir);
        Files.writeString(store.file(), "{\"serverUrl\": null, \"defaultModel\": null, \"dark\": \"yes\"}");

        assertThat(store.load()).isEqualTo(Settings.DEFAULTS);
    }
}
