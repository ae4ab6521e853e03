package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./parley package}'s script over the jars this build made: the app image's launcher answers
 * {@code --version} and passes {@code --self-check}, and so does the one in the .deb, which carries the desktop
 * entry, the icon and the dependencies JavaFX loads with dlopen. Packaging takes a minute or two, so it runs once,
 * into {@code target/package-test}.
 *
 * <p>Tagged {@code packaging}: desktop/pom.xml runs it in the integration-test phase, after {@code package} has
 * made {@code target/desktop-VERSION.jar} and {@code target/lib}, not with the other tests. It fails, never skips,
 * when jpackage, fakeroot or dpkg-deb is missing (.ci/run installs them).
 */
@Tag("packaging")
class PackageTest {
    private static final Path DESKTOP = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path OUT = DESKTOP.resolve("target/package-test");
    private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));

    private static String version;
    private static String packageVersion;
    private static Path deb;

    @BeforeAll
    static void packageTheApp() throws Exception {
        assertThat(JAVA_HOME.resolve("bin/jpackage")).as("jpackage of the JDK running the tests").isExecutable();
        assertThat(onPath("fakeroot")).as("fakeroot on the PATH (apt-get install fakeroot)").isTrue();
        assertThat(onPath("dpkg-deb")).as("dpkg-deb on the PATH (apt-get install dpkg)").isTrue();
        version = Launcher.version();
        packageVersion = version.replaceFirst("-.*", "");
        Run run = run(Duration.ofMinutes(15), Map.of(), Path.of("target/package-test.log"),
                DESKTOP.resolve("src/main/packaging/package.sh").toString(), "--output", OUT.toString());
        assertThat(run.exit()).as("package.sh failed:%n%s", run.output()).isZero();
        deb = OUT.resolve("parley_" + packageVersion + "_amd64.deb");
    }

    @Test
    void appImageLauncherPrintsTheVersion() throws Exception {
        Run run = run(Duration.ofMinutes(1), Map.of(), null, launcher(OUT).toString(), "--version");

        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output().strip()).isEqualTo("Parley " + version);
    }

    @Test
    void appImageLauncherPassesTheSelfCheck(@TempDir Path dataDir) throws Exception {
        assertSelfCheckPasses(launcher(OUT), dataDir);
    }

    @Test
    void debDeclaresWhatJavaFxLoadsWithDlopen() throws Exception {
        Run info = run(Duration.ofMinutes(1), Map.of(), null, "dpkg-deb", "--info", deb.toString());

        assertThat(info.exit()).as(info.output()).isZero();
        assertThat(info.output()).contains("Package: parley", "Version: " + packageVersion + "-1",
                "Architecture: amd64");
        String depends = info.output().lines().filter(l -> l.strip().startsWith("Depends:")).findFirst()
                .orElseThrow(() -> new AssertionError("no Depends in\n" + info.output()));
        assertThat(List.of(depends.replaceFirst(".*Depends:", "").split(",")).stream().map(String::strip))
                .contains("libgtk-3-0", "libgl1", "libxtst6", "libxxf86vm1", "libfreetype6", "libfontconfig1",
                        "xdg-utils");
    }

    @Test
    void debHoldsTheLauncherIconAndADesktopEntryItRegisters(@TempDir Path root) throws Exception {
        Run contents = run(Duration.ofMinutes(1), Map.of(), null, "dpkg-deb", "--contents", deb.toString());

        assertThat(contents.exit()).as(contents.output()).isZero();
        assertThat(contents.output()).contains("./opt/parley/bin/Parley", "./opt/parley/lib/Parley.png",
                "./opt/parley/lib/parley-Parley.desktop", "./opt/parley/lib/runtime/lib/libglassgtk3.so");
        extract(root);
        assertThat(Files.readAllLines(root.resolve("opt/parley/lib/parley-Parley.desktop")))
                .contains("Type=Application", "Name=Parley", "Exec=/opt/parley/bin/Parley",
                        "Icon=/opt/parley/lib/Parley.png", "Categories=Network;Chat;");
        assertThat(Files.readAllBytes(root.resolve("opt/parley/lib/Parley.png")))
                .isEqualTo(Files.readAllBytes(DESKTOP.resolve("src/main/resources/dev/parley/desktop/parley.png")));
        Path control = root.resolve("DEBIAN");
        Run unpack = run(Duration.ofMinutes(1), Map.of(), null, "dpkg-deb", "-e", deb.toString(), control.toString());
        assertThat(unpack.exit()).as(unpack.output()).isZero();
        assertThat(Files.readString(control.resolve("postinst")))
                .contains("xdg-desktop-menu install /opt/parley/lib/parley-Parley.desktop");
    }

    @Test
    void launcherFromTheDebPassesTheSelfCheck(@TempDir Path root, @TempDir Path dataDir) throws Exception {
        extract(root);

        assertSelfCheckPasses(root.resolve("opt/parley/bin/Parley"), dataDir);
    }

    private static void assertSelfCheckPasses(Path launcher, Path dataDir) throws Exception {
        Run run = run(Duration.ofMinutes(3), Map.of("PARLEY_DATA_DIR", dataDir.toString()), null,
                launcher.toString(), "--self-check");

        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output()).contains("Parley " + version + " self-check passed",
                "data directory " + dataDir, "embedded server", "healthy", "built-in model replied");
        assertThat(dataDir.resolve("parley-client.db")).isNotEmptyFile();
        assertThat(dataDir.resolve("embedded-server.db")).isNotEmptyFile();
    }

    /** {@code dpkg-deb -x}: the package's files under {@code root}, not installed anywhere. */
    private static void extract(Path root) throws Exception {
        Run run = run(Duration.ofMinutes(2), Map.of(), null, "dpkg-deb", "-x", deb.toString(), root.toString());
        assertThat(run.exit()).as(run.output()).isZero();
    }

    private static Path launcher(Path out) {
        return out.resolve("Parley/bin/Parley");
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private record Run(int exit, String output) {
    }

    /**
     * Runs {@code command} with JAVA_HOME set to the JDK running the tests and without PARLEY_SERVER_URL, waits
     * for it (at most {@code timeout}), and gives its exit code and its output (stdout and stderr, kept in
     * {@code log} when given, else in a temporary file).
     */
    private static Run run(Duration timeout, Map<String, String> env, Path log, String... command)
            throws IOException, InterruptedException {
        Path output = log != null ? DESKTOP.resolve(log) : Files.createTempFile("parley-package-test", ".log");
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command)))
                .redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().remove("PARLEY_SERVER_URL");
        builder.environment().put("JAVA_HOME", JAVA_HOME.toString());
        builder.environment().putAll(env);
        Process process = builder.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout + ":\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
            if (log == null) {
                Files.deleteIfExists(output);
            }
        }
    }
}
