package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DataDirectoryTest {
    private static final Path HOME = Path.of("/home/ada");

    @Test
    void linuxFollowsXdgDataHome() {
        assertThat(DataDirectory.resolve("Linux", Map.of(), HOME)).isEqualTo(Path.of("/home/ada/.local/share/parley"));
        assertThat(DataDirectory.resolve("Linux", Map.of("XDG_DATA_HOME", "/data"), HOME))
                .isEqualTo(Path.of("/data/parley"));
    }

    @Test
    void windowsUsesAppData() {
        assertThat(DataDirectory.resolve("Windows 11", Map.of("APPDATA", "C:/Users/ada/AppData/Roaming"), HOME))
                .isEqualTo(Path.of("C:/Users/ada/AppData/Roaming/Parley"));
    }

    @Test
    void macUsesApplicationSupport() {
        assertThat(DataDirectory.resolve("Mac OS X", Map.of(), HOME))
                .isEqualTo(Path.of("/home/ada/Library/Application Support/Parley"));
    }

    @Test
    void overrideWinsEverywhere() {
        assertThat(DataDirectory.resolve("Linux", Map.of("PARLEY_DATA_DIR", "/tmp/p", "XDG_DATA_HOME", "/data"), HOME))
                .isEqualTo(Path.of("/tmp/p"));
    }
}
