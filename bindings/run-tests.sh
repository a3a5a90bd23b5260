#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from the built libwallet_core and runs each
# language's binding tests in its real toolchain. Each language ends with a line
# "<language>: N passed, N failed"; the script fails if any test fails or a language ran none.
# Kotlin and Swift then build and run the host-app samples in examples/ ("kotlin-sample:",
# "swift-sample:"); Python then runs the cross-language interop checks in tests/interop
# ("interop:").
#
# Usage: bindings/run-tests.sh [kotlin] [swift] [python]   (default: all three)
# Needs the toolchains from scripts/setup-toolchains.sh (scripts/test.sh runs it first).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE="${JIGAP_CACHE:-$HOME/.cache/jigap}"
KOTLIN_DIR="$CACHE/kotlin-compiler-${JIGAP_KOTLIN_VERSION:-2.4.20}"
CHROOT="$CACHE/swift-trixie"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# JIGAP_LIB: run the tests on another build of the library (scripts/test.sh passes the mobile
# profile's, built with the test issuing authority by scripts/mobile-lib.sh --issuer).
LIB="${JIGAP_LIB:-$TARGET/debug/libwallet_core.so}"
GEN="$TARGET/bindings"

log() { printf 'bindings: %s\n' "$*" >&2; }

languages=("$@")
[ ${#languages[@]} -eq 0 ] && languages=(kotlin swift python)

log "building libwallet_core, uniffi-bindgen and jigap"
# The test issuing authority (feature `issuer`) lets each binding test issue the mdocs it presents;
# `jigap serve issuer` is the OpenID4VCI issuer the online-issuance tests receive from.
(cd "$ROOT" && cargo build --quiet -p wallet-core --features issuer -p uniffi-bindgen -p wallet-cli)

# Test issuers (`jigap serve issuer`), started on demand and stopped on every exit path.
ISSUER_PIDS=()
ISSUER_DIR="$TARGET/binding-issuer"
stop_issuers() {
  local pid
  for pid in "${ISSUER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ISSUER_PIDS=()
}
umount_chroot_proc() {
  if mountpoint -q "$CHROOT/proc" 2>/dev/null; then
    umount "$CHROOT/proc" || umount -l "$CHROOT/proc"
  fi
}
cleanup() {
  stop_issuers
  umount_chroot_proc
}
trap cleanup EXIT INT TERM

# start_issuer [--plain-http]: starts a test issuer on a free port of 127.0.0.1 and sets
# ISSUER_URL and ISSUER_TOKEN from its startup line.
start_issuer() {
  # An authority made before a role existed lacks its certificate: made again then.
  if [ ! -f "$ISSUER_DIR/relying-party-root.der" ]; then
    rm -rf "$ISSUER_DIR"
    "$TARGET/debug/jigap" issuer init --dir "$ISSUER_DIR" >/dev/null
  fi
  local out="$ISSUER_DIR/serve-$$-${#ISSUER_PIDS[@]}.json"
  "$TARGET/debug/jigap" --json serve issuer --issuer "$ISSUER_DIR" --exit-after 1800 "$@" >"$out" 2>"$out.err" &
  ISSUER_PIDS+=("$!")
  local tries=0
  until [ -s "$out" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then log "the test issuer did not start:"; cat "$out.err" >&2; return 1; fi
    sleep 0.2
  done
  ISSUER_URL=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["base_url"])' <"$out")
  ISSUER_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["admin_token"])' <"$out")
}

# start_verifier [--plain-http]: starts a test relying party (`jigap serve verifier`) on the
# test issuer's authority, on a free port of 127.0.0.1, and sets VERIFIER_URL and
# VERIFIER_TOKEN from its startup line. Call start_issuer first.
start_verifier() {
  local out="$ISSUER_DIR/verifier-$$-${#ISSUER_PIDS[@]}.json"
  "$TARGET/debug/jigap" --json serve verifier --issuer "$ISSUER_DIR" --exit-after 1800 "$@" >"$out" 2>"$out.err" &
  ISSUER_PIDS+=("$!")
  local tries=0
  until [ -s "$out" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then log "the test verifier did not start:"; cat "$out.err" >&2; return 1; fi
    sleep 0.2
  done
  VERIFIER_URL=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["base_url"])' <"$out")
  VERIFIER_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["admin_token"])' <"$out")
}

generate() {
  rm -rf "$GEN/$1"
  # From the debug build, which keeps the symbol table with uniffi's metadata (a stripped
  # JIGAP_LIB has none); the same sources give the same API checksums.
  "$TARGET/debug/uniffi-bindgen" generate --library "$TARGET/debug/libwallet_core.so" --language "$1" \
    --out-dir "$GEN/$1" --no-format --config "$ROOT/uniffi.toml" >/dev/null
}

# Reads "<lang>: P passed, F failed" from a log; fails on failures or on zero tests.
check_counts() {
  local lang=$1 logfile=$2 line passed failed
  line=$(grep -E "^$lang: [0-9]+ passed, [0-9]+ failed" "$logfile" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "$lang: 0 passed, 1 failed (no result line; see output above)"
    return 1
  fi
  passed=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")
  failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

run_kotlin() {
  generate kotlin
  local coroutines="$KOTLIN_DIR/lib/kotlinx-coroutines-core-jvm.jar"
  local cp="/usr/share/java/jna.jar:$coroutines"
  local out="$TARGET/kotlin-tests"
  mkdir -p "$out"
  log "kotlin: compiling the generated bindings and tests with kotlinc"
  "$KOTLIN_DIR/bin/kotlinc" -nowarn "$GEN"/kotlin/kr/jigap/wallet/*.kt \
    "$ROOT"/bindings/kotlin/tests/*.kt -cp "$cp" -d "$out/tests.jar"
  log "kotlin: running on the JVM (with a test issuer over HTTPS)"
  start_issuer || return 1
  start_verifier || return 1
  JIGAP_ISSUER_URL="$ISSUER_URL" JIGAP_ISSUER_ADMIN_TOKEN="$ISSUER_TOKEN" JIGAP_ISSUER_DIR="$ISSUER_DIR" \
  JIGAP_VERIFIER_URL="$VERIFIER_URL" JIGAP_VERIFIER_ADMIN_TOKEN="$VERIFIER_TOKEN" \
  java -Djna.library.path="$(dirname "$LIB")" \
    -cp "$out/tests.jar:$cp:$KOTLIN_DIR/lib/kotlin-stdlib.jar" WalletBindingTestKt \
    | tee "$out/result.log"
  check_counts kotlin "$out/result.log" || return 1
  log "kotlin: the host-app sample (examples/kotlin)"
  "$KOTLIN_DIR/bin/kotlinc" -nowarn "$ROOT"/examples/kotlin/*.kt -cp "$out/tests.jar:$cp" -d "$out/host-app.jar"
  java -Djna.library.path="$(dirname "$LIB")" \
    -cp "$out/host-app.jar:$out/tests.jar:$cp:$KOTLIN_DIR/lib/kotlin-stdlib.jar" HostAppKt \
    && echo "kotlin-sample: 1 passed, 0 failed" || { echo "kotlin-sample: 0 passed, 1 failed"; return 1; }
}

run_python() {
  generate python
  cp "$LIB" "$GEN/python/"
  log "python: running with $(python3 --version)"
  PYTHONPATH="$GEN/python" python3 "$ROOT"/bindings/python/tests/test_wallet_binding.py 2>&1 \
    | tee "$GEN/python/result.log"
  check_counts python "$GEN/python/result.log" || return 1
  log "interop: independent ISO 18013-5 and RFC 9901 checks of the core's outputs (tests/interop)"
  local check status=0
  for check in "$ROOT"/tests/interop/*_check.py; do
    PYTHONPATH="$GEN/python" python3 "$check" 2>&1 | tee "$GEN/python/interop-$(basename "$check" .py).log"
    check_counts interop "$GEN/python/interop-$(basename "$check" .py).log" || status=1
  done
  return $status
}

run_swift() {
  generate swift
  # The package is staged inside the chroot; its .build cache stays there between runs.
  local stage_rel=opt/jigap-swift stage="$CHROOT/opt/jigap-swift"
  mkdir -p "$stage/pkg" "$stage/lib"
  rm -rf "$stage/pkg/Sources" "$stage/pkg/Tests" "$stage/pkg/Examples"
  cp -r "$ROOT"/bindings/swift/Package.swift "$ROOT"/bindings/swift/Sources "$ROOT"/bindings/swift/Tests "$stage/pkg/"
  mkdir -p "$stage/pkg/Examples"
  cp -r "$ROOT"/examples/swift/HostApp "$stage/pkg/Examples/"
  # Git keeps no empty folders: make the generated sources' homes before copying into them.
  mkdir -p "$stage/pkg/Sources/JigapWallet" "$stage/pkg/Sources/wallet_coreFFI"
  cp "$GEN/swift/JigapWallet.swift" "$stage/pkg/Sources/JigapWallet/"
  cp "$GEN/swift/wallet_coreFFI.h" "$stage/pkg/Sources/wallet_coreFFI/"
  cp "$LIB" "$stage/lib/"
  # The online tests receive from a test issuer and present to a test relying party over
  # plain HTTP on 127.0.0.1 (the chroot shares the host's network); they need the authority's
  # IACA and relying-party roots inside the chroot.
  start_issuer --plain-http || return 1
  start_verifier --plain-http || return 1
  mkdir -p "$stage/issuer"
  cp "$ISSUER_DIR/mdoc-issuer-root.der" "$ISSUER_DIR/relying-party-root.der" "$stage/issuer/"
  # Only /proc is mounted in the chroot (swiftc finds its runtime through it), for both runs
  # below, and it is unmounted on every exit path (the EXIT trap).
  mkdir -p "$CHROOT/proc"
  mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
  in_package() {
    chroot "$CHROOT" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 \
      LD_LIBRARY_PATH="/$stage_rel/lib" JIGAP_ISSUER_URL="$ISSUER_URL" \
      JIGAP_ISSUER_ADMIN_TOKEN="$ISSUER_TOKEN" JIGAP_ISSUER_DIR="/$stage_rel/issuer" \
      JIGAP_VERIFIER_URL="$VERIFIER_URL" JIGAP_VERIFIER_ADMIN_TOKEN="$VERIFIER_TOKEN" \
      /bin/sh -c "cd /$stage_rel/pkg && $1 2>&1"
  }
  log "swift: swift test (SwiftPM + XCTest) in the trixie chroot"
  local status=0 sample=1
  in_package "swift test --disable-swift-testing -Xlinker -L/$stage_rel/lib" \
    | tee "$stage/result.log" || status=$?
  if [ "$status" -eq 0 ]; then
    log "swift: the host-app sample (examples/swift)"
    sample=0
    in_package "swift run -Xlinker -L/$stage_rel/lib HostApp" || sample=$?
  fi
  umount_chroot_proc
  local line executed failures
  line=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$stage/result.log" | tail -1 || true)
  if [ -n "$line" ]; then
    executed=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$line")
    failures=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$line")
  else
    executed=1 failures=1  # the package did not build or the runner crashed
  fi
  echo "swift: $((executed - failures)) passed, $failures failed" | tee -a "$stage/result.log"
  if [ "$sample" -eq 0 ]; then echo "swift-sample: 1 passed, 0 failed"; else echo "swift-sample: 0 passed, 1 failed"; fi
  [ "$status" -eq 0 ] && [ "$sample" -eq 0 ] && check_counts swift "$stage/result.log"
}

overall=0
summary=()
for lang in "${languages[@]}"; do
  case "$lang" in
    kotlin|swift|python)
      if "run_$lang"; then summary+=("$lang: ok"); else summary+=("$lang: FAILED"); overall=1; fi ;;
    *) log "unknown language $lang"; exit 2 ;;
  esac
done
printf 'bindings: %s\n' "${summary[@]}" >&2
exit $overall
