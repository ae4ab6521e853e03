#!/usr/bin/env bash
# Packages the built desktop app for Linux: a self-contained app image OUT/Parley (bin/Parley, its own Java runtime)
# and a Debian package OUT/parley_VERSION_amd64.deb made from it, with an icon and a desktop entry.
#   desktop/src/main/packaging/package.sh [--output DIR]     (default DIR: dist/ at the top of the checkout)
# It never calls Maven: it packages what desktop/target holds (desktop-VERSION.jar, lib/ and the filtered
# version.properties), which `./parley package` builds first and which Maven has built when PackageTest runs it.
# Needs a JDK 17 with jmods (jlink, jdeps, jpackage; JAVA_HOME, else the one `java` on the PATH belongs to), and
# for the .deb fakeroot and dpkg-deb. docs/PACKAGING.md tells what comes out and how to install it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
desktop="$(cd "$here/../../.." && pwd)"
out="$(cd "$desktop/.." && pwd)/dist"
while (($#)); do
    case "$1" in
        --output) out="$2"; shift 2 ;;
        *) echo "package.sh: unknown option '$1' (only --output DIR)" >&2; exit 2 ;;
    esac
done

fail() {
    echo "package.sh: $*" >&2
    exit 1
}

java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
for tool in jdeps jlink jpackage jar; do
    [[ -x "$java_home/bin/$tool" ]] || fail "$java_home/bin/$tool is missing: a JDK 17 is needed"
done
[[ -d "$java_home/jmods" ]] || fail "$java_home/jmods is missing: jlink needs the JDK's jmods (on Debian 12 in openjdk-17-jdk-headless)"
for tool in fakeroot dpkg-deb; do
    command -v "$tool" >/dev/null || fail "$tool is missing: jpackage needs it for the .deb (apt-get install $tool)"
done

# The version is the root pom's, as the app reports it. jpackage takes numbers only: 0.1.0-SNAPSHOT packages as 0.1.0.
properties="$desktop/target/classes/dev/parley/desktop/version.properties"
[[ -f "$properties" ]] || fail "$properties is missing: build the desktop module first (./parley package does)"
version="$(sed -n 's/^version=//p' "$properties")"
package_version="${version%%-*}"
[[ "$package_version" =~ ^[0-9]+(\.[0-9]+){0,3}$ ]] || fail "version '$version' does not start with a numeric version"
app_jar="$desktop/target/desktop-$version.jar"
[[ -f "$app_jar" && -d "$desktop/target/lib" ]] \
    || fail "$app_jar or desktop/target/lib is missing: build the desktop module first"

mkdir -p "$out"
work="$(mktemp -d "$out/.package-work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The class path: the app's jar and its libraries, but not JavaFX, which goes into the runtime as modules.
mkdir "$work/input" "$work/javafx"
cp "$app_jar" "$work/input/"
for jar in "$desktop/target/lib"/*.jar; do
    case "$(basename "$jar")" in
        javafx-*-linux.jar) cp "$jar" "$work/javafx/" ;; # the modular jars, with the native libraries inside
        javafx-*.jar) ;;                                # empty jars that only pull in the -linux ones
        *) cp "$jar" "$work/input/" ;;
    esac
done
ls "$work/javafx"/javafx-graphics-*-linux.jar >/dev/null 2>&1 \
    || fail "no javafx-graphics-*-linux.jar in desktop/target/lib"

# The JDK modules the jars use, as jdeps finds them (the libraries' own modules filtered out), and those they load
# only at run time, which jdeps cannot see: TLS to model providers (jdk.crypto.ec), zip file systems (jdk.zipfs),
# sun.misc.Unsafe (jdk.unsupported: JNA, okio), JNDI (Jetty, HikariCP), JMX (HikariCP, Micrometer), the charsets
# (jdk.charsets) and the locale data for dates in the user's language (jdk.localedata, a few languages).
echo "package.sh: finding the JDK modules the app needs (jdeps)…" >&2
jdeps_modules="$("$java_home/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 \
    --module-path "$work/input:$work/javafx" "$work/input"/*.jar 2>/dev/null | tail -n 1)"
[[ "$jdeps_modules" == *java.base* ]] || fail "jdeps found no modules (it printed '$jdeps_modules')"
modules="$(tr ',' '\n' <<<"$jdeps_modules" | grep -E '^(java|jdk)\.' | paste -sd, -)"
modules="$modules,javafx.controls,jdk.crypto.ec,jdk.zipfs,jdk.unsupported,java.naming,java.management,jdk.charsets"
modules="$modules,jdk.localedata"
echo "package.sh: modules $modules" >&2

# A jlinked runtime with JavaFX's modules from the -linux jars. Their native libraries would stay inside the image
# as resources, which JavaFX copies to ~/.openjfx/cache at every first start; they are left out of the image and
# put into the runtime's lib/ instead, where JavaFX looks first ("from relative path"), as in a JavaFX jmods build.
echo "package.sh: linking the Java runtime (jlink)…" >&2
"$java_home/bin/jlink" --module-path "$java_home/jmods:$work/javafx" --add-modules "$modules" \
    --exclude-resources='glob:/javafx.*/*.so' --include-locales=en,de,fr,es,it,pt,nl,sv,pl,ja,zh,ko,ru \
    --strip-debug --no-header-files --no-man-pages --strip-native-commands --compress=2 --output "$work/runtime"
mkdir "$work/natives"
for jar in "$work/javafx"/*.jar; do
    (cd "$work/natives" && "$java_home/bin/jar" xf "$jar" $("$java_home/bin/jar" tf "$jar" | grep '\.so$' || true))
done
ls "$work/natives"/libglass.so >/dev/null 2>&1 || fail "no libglass.so in the javafx-graphics -linux jar"
cp "$work/natives"/*.so "$work/runtime/lib/"

common=(--name Parley --app-version "$package_version" --vendor Parley
    --icon "$desktop/src/main/resources/dev/parley/desktop/parley.png"
    --description "Offline-first chat with language models, on your desktop")

echo "package.sh: making the app image (jpackage)…" >&2
rm -rf "$out/Parley"
"$java_home/bin/jpackage" --type app-image "${common[@]}" --dest "$out" \
    --input "$work/input" --main-jar "$(basename "$app_jar")" --main-class dev.parley.desktop.Launcher \
    --runtime-image "$work/runtime"

# The .deb holds the app image under /opt/parley; its postinst adds the desktop entry with xdg-desktop-menu. Its
# dependencies are a fixed list (linux/control, which replaces jpackage's template), the same whichever machine
# builds it: jpackage would list the packages owning the libraries that the runtime's ELF files link to, as far as
# they are installed on the building machine, and cannot see what is loaded with dlopen, which is how JavaFX loads
# GTK 3 (libglass.so opens libglassgtk3.so). The list: the C/C++ runtime and zlib; for JavaFX GTK 3, OpenGL and the
# X extensions (libglassgtk3.so, libprism_es2.so), FreeType and fontconfig; for the JDK's java.desktop (which the
# libraries need; its native parts load only if AWT is used) X11, the image codecs, LCMS and ALSA; xdg-utils for
# the desktop entry. Measured with ldd on Debian 12; docs/PACKAGING.md says how to check it again.
echo "package.sh: making the Debian package (jpackage, fakeroot, dpkg-deb)…" >&2
rm -f "$out/parley_${package_version}_amd64.deb"
"$java_home/bin/jpackage" --type deb "${common[@]}" --dest "$work/deb" --app-image "$out/Parley" \
    --resource-dir "$here/linux" --linux-package-name parley --linux-app-release 1 \
    --linux-deb-maintainer "parley@localhost" --linux-app-category net --linux-menu-group "Network;Chat;" \
    --linux-shortcut
mv "$work/deb/parley_${package_version}-1_amd64.deb" "$out/parley_${package_version}_amd64.deb"

echo "package.sh: $out/Parley/bin/Parley ($(du -sh "$out/Parley" | cut -f1)) and" \
    "$out/parley_${package_version}_amd64.deb ($(du -h "$out/parley_${package_version}_amd64.deb" | cut -f1))" >&2
