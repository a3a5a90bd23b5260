#!/usr/bin/env bash
# Installs what the binding tests need, idempotently, with every cache outside the repository.
#
#   Kotlin: kotlinc from the npm package `kotlin-compiler` (ships kotlinx-coroutines), JNA from Debian.
#   Swift:  `swiftlang` from Debian 13 (trixie) in a debootstrap chroot, because it needs a newer libc
#           than the Debian 12 host. Only /proc is ever mounted inside it (by the test runner).
#   Python: the machine's python3.
#
# A second run downloads nothing: each step checks for its result first.
# Usage: scripts/setup-toolchains.sh [kotlin] [swift] [python]   (default: all)
set -euo pipefail

CACHE="${JIGAP_CACHE:-$HOME/.cache/jigap}"
KOTLIN_VERSION="${JIGAP_KOTLIN_VERSION:-2.4.20}"
KOTLIN_DIR="$CACHE/kotlin-compiler-$KOTLIN_VERSION"
CHROOT="$CACHE/swift-trixie"
mkdir -p "$CACHE"

log() { printf 'setup: %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian mirror this machine's apt sources use.
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '/^deb / && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

setup_kotlin() {
  apt_install libjna-java default-jdk-headless
  if [ ! -x "$KOTLIN_DIR/bin/kotlinc" ]; then
    log "fetching kotlin-compiler@$KOTLIN_VERSION from npm"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null)
    mkdir -p "$tmp/x"
    tar -xzf "$tmp"/kotlin-compiler-*.tgz -C "$tmp/x"
    rm -rf "$KOTLIN_DIR"
    mv "$tmp/x/package" "$KOTLIN_DIR"
    rm -rf "$tmp"
    chmod +x "$KOTLIN_DIR"/bin/* || true
  fi
  [ -f /usr/share/java/jna.jar ] || { log "jna.jar missing"; exit 1; }
  ls "$KOTLIN_DIR"/lib/kotlinx-coroutines-core-jvm*.jar >/dev/null
  log "kotlin ready: $KOTLIN_DIR"
}

chroot_has_mounts() {
  grep -q " $(readlink -f "$CHROOT")/" /proc/mounts 2>/dev/null
}

SWIFT_CHROOT_PACKAGES=(swiftlang libc6-dev libssl-dev)

# True when every package the Swift tests need is installed inside the chroot.
chroot_complete() {
  [ -f "$CHROOT/.jigap-debootstrapped" ] || return 1
  local p
  for p in "${SWIFT_CHROOT_PACKAGES[@]}"; do
    chroot "$CHROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

setup_swift() {
  if chroot_complete; then
    log "swift ready: $CHROOT"
    return 0
  fi
  apt_install debootstrap
  if [ -d "$CHROOT" ]; then
    if chroot_has_mounts; then
      log "refusing to touch $CHROOT: something is still mounted inside it"; exit 1
    fi
    if [ ! -f "$CHROOT/.jigap-debootstrapped" ]; then
      log "removing an incomplete chroot at $CHROOT"
      rm -rf --one-file-system "$CHROOT"
    fi
  fi
  if [ ! -f "$CHROOT/.jigap-debootstrapped" ]; then
    local mirror; mirror=$(debian_mirror)
    log "debootstrap trixie into $CHROOT from $mirror (about 530 MB with swiftlang, once)"
    mkdir -p "$CHROOT"
    debootstrap --variant=minbase trixie "$CHROOT" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
    touch "$CHROOT/.jigap-debootstrapped"
  fi
  cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
  log "installing ${SWIFT_CHROOT_PACKAGES[*]} inside the chroot"
  mount_proc
  trap umount_proc EXIT
  chroot "$CHROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  chroot "$CHROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${SWIFT_CHROOT_PACKAGES[@]}" >"$CACHE/swift-apt.log" 2>&1 \
    || { tail -20 "$CACHE/swift-apt.log" >&2; exit 1; }
  chroot "$CHROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get clean
  umount_proc
  trap - EXIT
  log "swift ready: $CHROOT"
}

mount_proc() {
  mkdir -p "$CHROOT/proc"
  if ! mountpoint -q "$CHROOT/proc"; then mount -t proc proc "$CHROOT/proc"; fi
}
umount_proc() {
  if mountpoint -q "$CHROOT/proc" 2>/dev/null; then umount "$CHROOT/proc" || umount -l "$CHROOT/proc"; fi
}

setup_python() {
  command -v python3 >/dev/null || apt_install python3
  # The Python binding test's host SecureArea uses the `cryptography` package.
  if ! python3 -c "import cryptography" 2>/dev/null; then
    log "pip install cryptography"
    python3 -m pip install --quiet cryptography
  fi
  log "python ready: $(python3 --version)"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(kotlin swift python)
for t in "${targets[@]}"; do
  case "$t" in
    kotlin) setup_kotlin ;;
    swift) setup_swift ;;
    python) setup_python ;;
    *) log "unknown target $t"; exit 2 ;;
  esac
done
