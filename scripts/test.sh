#!/usr/bin/env bash
# Runs every test Jigap has: the Rust workspace (unit, integration, CLI), then the Kotlin, Swift
# and Python binding tests in their real toolchains, then the Python ones again on the mobile
# build of the library. Installs what is missing first (once;
# caches live in ${JIGAP_CACHE:-~/.cache/jigap}, outside the repository).
#
# Ends with "total: N passed, N failed"; exits non-zero if anything failed or nothing ran.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LOGS="${CARGO_TARGET_DIR:-$ROOT/target}/test-logs"
mkdir -p "$LOGS"

phase_start=$(date +%s)
phase() {
  local now; now=$(date +%s)
  printf 'test: %s (%ss since start)\n' "$*" "$((now - phase_start))" >&2
}

phase "installing toolchains if missing"
bash scripts/setup-toolchains.sh

phase "cargo test --workspace"
rust_status=0
cargo test --workspace 2>&1 | tee "$LOGS/rust.log" || rust_status=$?

# The workspace build turns on the test authority (feature `issuer`) for every crate. The mobile
# library ships without it: build and test that configuration on its own too.
phase "cargo test -p wallet-core (the shipping configuration, without issuer)"
cargo test -p wallet-core 2>&1 | tee -a "$LOGS/rust.log" || rust_status=$?

# The declared minimum Rust version (rust-version in Cargo.toml) must build the library.
MSRV=$(sed -nE 's/^rust-version = "([0-9.]+)"/\1/p' Cargo.toml | head -1)
phase "cargo +$MSRV check -p wallet-core (the declared MSRV)"
if ! rustup run "$MSRV" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$MSRV" --profile minimal >/dev/null 2>&1 || true
fi
msrv_status=0
cargo "+$MSRV" check -p wallet-core --lib 2>&1 | tail -3 | tee "$LOGS/msrv.log" || msrv_status=$?
if [ "$msrv_status" -eq 0 ]; then
  echo "msrv: 1 passed, 0 failed (wallet-core builds with Rust $MSRV)"
else
  echo "msrv: 0 passed, 1 failed (wallet-core does not build with Rust $MSRV)"
  rust_status=1
fi
read -r rust_passed rust_failed < <(
  grep -E '^test result: ' "$LOGS/rust.log" \
    | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' \
    | awk '{p+=$1; f+=$2} END {print p+0, f+0}'
)
rust_failed=$((rust_failed + (msrv_status != 0 ? 1 : 0)))
rust_passed=$((rust_passed + (msrv_status == 0 ? 1 : 0)))
if [ "$rust_status" -ne 0 ] && [ "$rust_failed" -eq 0 ]; then rust_failed=1; fi
echo "rust: $rust_passed passed, $rust_failed failed"

phase "binding tests"
bind_status=0
bash bindings/run-tests.sh 2>&1 | tee "$LOGS/bindings.log" || bind_status=$?
read -r bind_passed bind_failed < <(
  grep -E '^(kotlin|swift|python|kotlin-sample|swift-sample|interop): [0-9]+ passed, [0-9]+ failed' "$LOGS/bindings.log" \
    | sed -E 's/^[a-z-]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' \
    | awk '{p+=$1; f+=$2} END {print p+0, f+0}'
)
if [ "$bind_status" -ne 0 ] && [ "$bind_failed" -eq 0 ]; then bind_failed=1; fi
for lang in kotlin swift python kotlin-sample swift-sample interop; do
  grep -qE "^$lang: [1-9][0-9]* passed" "$LOGS/bindings.log" || { echo "$lang: ran no test"; bind_failed=$((bind_failed + 1)); }
done

# The bindings again, on the library built the way a phone gets it (the `mobile` profile:
# size-optimised, panics abort, no unwind tables, linked by lld), with the test authority the
# Python tests issue from. Python runs the whole suite fastest.
phase "python bindings on the mobile build (scripts/mobile-lib.sh --target x86_64 --issuer)"
mobile_lib=$(bash scripts/mobile-lib.sh --target x86_64 --issuer 2>"$LOGS/mobile-lib.log" \
  | sed -nE 's/^(.*libwallet_core\.so): [0-9]+ bytes$/\1/p') || true
if [ -n "$mobile_lib" ] && [ -f "$mobile_lib" ]; then
  JIGAP_LIB="$ROOT/$mobile_lib" bash bindings/run-tests.sh python 2>&1 \
    | sed -E 's/^(python|interop): /mobile-\1: /' | tee "$LOGS/mobile-bindings.log" || true
else
  tail -20 "$LOGS/mobile-lib.log"
  echo "mobile-python: 0 passed, 1 failed (the mobile build failed)" | tee "$LOGS/mobile-bindings.log"
fi
read -r mobile_passed mobile_failed < <(
  grep -E '^mobile-(python|interop): [0-9]+ passed, [0-9]+ failed' "$LOGS/mobile-bindings.log" \
    | sed -E 's/^[a-z-]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' \
    | awk '{p+=$1; f+=$2} END {print p+0, f+0}'
)
grep -qE '^mobile-python: [1-9][0-9]* passed' "$LOGS/mobile-bindings.log" \
  || { echo "mobile-python: ran no test"; mobile_failed=$((mobile_failed + 1)); }
bind_passed=$((bind_passed + mobile_passed))
bind_failed=$((bind_failed + mobile_failed))

phase "done"
echo "rust: $rust_passed passed, $rust_failed failed"
grep -hE '^(kotlin|swift|python|kotlin-sample|swift-sample|interop): [0-9]+ passed' "$LOGS/bindings.log" || true
grep -hE '^mobile-(python|interop): [0-9]+ passed' "$LOGS/mobile-bindings.log" || true
total_passed=$((rust_passed + bind_passed))
total_failed=$((rust_failed + bind_failed))
echo "total: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "$rust_passed" -gt 0 ] && [ "$bind_passed" -gt 0 ]
