#!/usr/bin/env bash
# Builds migm's Debian package from this checkout: packaging/deb/build.sh [OUT_DIR]
# (default target/deb). Needs only what the README's set-up has: Java 25 (jlink makes the package's
# own runtime, so the node needs no Java), Maven, and dpkg-deb. The package holds:
#   /usr/bin/migm                        the launcher (the package's runtime, its AOT cache)
#   /usr/lib/migm/{migm.jar,lib/,runtime/}
#   /etc/migm/migm.yaml                  the daemon's config (a conffile: an admin's edits survive upgrades)
#   /lib/systemd/system/migm.service     the unit: migm daemon --config /etc/migm/migm.yaml
#   /usr/share/man/man1/migm.1.gz, /usr/share/bash-completion/completions/migm
#   /usr/share/doc/migm/                 README, docs/ (Slurm recipe, job files, metrics, API)
#   /usr/share/migm/slurm/one-node.sh    a one-node Slurm cluster over the node's daemon (docs/slurm.md)
# State lives in /var/lib/migm (the unit's StateDirectory and the config's home), kept when the package
# is removed (and purged: a journal is a site's record), the AOT cache in /var/cache/migm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(realpath -m "${1:-$root/target/deb}")"
export JAVA_HOME="${MIGM_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
commit="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
(cd "$root" && MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}" \
  mvn -B -ntp -q -Dstyle.color=never -DskipTests -Dmigm.commit="$commit" -pl core -am package) >&2
pomver="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$root/pom.xml" | head -1)"
# Debian orders 0.1.0~dev before 0.1.0: a snapshot is older than its release.
version="${pomver/-SNAPSHOT/~dev}+git${commit}"
[ "$commit" = unknown ] && version="${pomver/-SNAPSHOT/~dev}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/migm"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/migm/lib" "$pkg/etc/migm" "$pkg/lib/systemd/system" \
  "$pkg/usr/share/man/man1" "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/doc/migm/docs" \
  "$pkg/usr/share/migm/slurm"
install -m 0644 "$root/core/target/migm.jar" "$pkg/usr/lib/migm/"
install -m 0644 "$root"/core/target/lib/*.jar "$pkg/usr/lib/migm/lib/"
# The modules the jar and its libraries use (jdeps), and jdk.unsupported (SQLite JDBC and Jetty
# reach sun.misc through reflection, which jdeps does not see).
modules="$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --multi-release 25 --print-module-deps \
  --class-path "$root/core/target/lib/*" "$root/core/target/migm.jar"),jdk.unsupported,jdk.crypto.ec"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output "$pkg/usr/lib/migm/runtime"
install -m 0755 "$root/packaging/deb/migm-launcher" "$pkg/usr/bin/migm"
install -m 0644 "$root/packaging/migm.yaml" "$pkg/etc/migm/migm.yaml"
sed -e 's|^ExecStart=.*|ExecStart=/usr/bin/migm daemon --config /etc/migm/migm.yaml|' \
    -e 's|^Documentation=.*|Documentation=man:migm(1) file:///usr/share/doc/migm/README.md|' \
    -e '/^# systemd unit/,/^\[Unit\]/{/^\[Unit\]/!d}' "$root/packaging/migm.service" > "$pkg/lib/systemd/system/migm.service"
jar="$pkg/usr/lib/migm/migm.jar"
"$pkg/usr/lib/migm/runtime/bin/java" -jar "$jar" man | gzip -9n > "$pkg/usr/share/man/man1/migm.1.gz"
"$pkg/usr/lib/migm/runtime/bin/java" -jar "$jar" completion > "$pkg/usr/share/bash-completion/completions/migm"
install -m 0644 "$root/README.md" "$pkg/usr/share/doc/migm/"
install -m 0644 "$root"/docs/*.md "$pkg/usr/share/doc/migm/docs/"
install -m 0755 "$root/packaging/slurm/one-node.sh" "$pkg/usr/share/migm/slurm/"
install -m 0644 "$root/packaging/deb/copyright" "$pkg/usr/share/doc/migm/copyright"
for f in postinst prerm postrm; do install -m 0755 "$root/packaging/deb/$f" "$pkg/DEBIAN/$f"; done
echo /etc/migm/migm.yaml > "$pkg/DEBIAN/conffiles"
size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: migm
Version: $version
Architecture: amd64
Maintainer: migm developers <migm@localhost>
Installed-Size: $size
Depends: libc6, adduser, util-linux, procps
Recommends: slurm-client
Section: admin
Priority: optional
Homepage: file:///usr/share/doc/migm/README.md
Description: runs batches and queues of GPU jobs on NVIDIA Multi-Instance GPUs
 migm estimates each job's memory, cuts the GPU into the tightest MIG instances
 that fit (fusing and splitting them as the queue changes), restarts jobs that
 run out of memory (early, when it can predict it), resumes them from their
 checkpoints, and measures throughput and energy. A node service (migm daemon)
 with a CLI, Prometheus metrics and a Slurm Prolog/Epilog on top. Built from
 commit $commit with its own Java runtime.
CONTROL
mkdir -p "$out"
deb="$out/migm_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
