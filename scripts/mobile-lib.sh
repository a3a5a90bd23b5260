#!/usr/bin/env bash
# Builds the mobile library as a phone ships it (wallet-core without `issuer`, `mobile`
# profile) for Linux aarch64 with Debian's cross compiler, and prints its stripped size and
# what its sections hold. BENCHMARKS.md ("On the phone") records the output.
#
#   scripts/mobile-lib.sh                  # aarch64, the shipped configuration
#   scripts/mobile-lib.sh --unwind         # the same with panics unwinding into errors (larger)
#   scripts/mobile-lib.sh --target x86_64  # x86_64 Linux (an emulator's architecture)
#   scripts/mobile-lib.sh --target x86_64 --issuer
#       # with the test issuing authority, so the binding tests can run on this build
#       # (scripts/test.sh does); never what ships
#
# Needs: gcc-aarch64-linux-gnu libc6-dev-arm64-cross, and `rustup target add
# aarch64-unknown-linux-gnu`. The linker is the LLVM lld that ships with the Rust toolchain
# (Android's NDK links with lld too), for identical-code folding and packed relocations.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=mobile
arch=aarch64
features=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --unwind) profile=mobile-unwind ;;
    --target) arch="$2"; shift ;;
    --issuer) features=(--features issuer) ;;
    *) echo "usage: $0 [--unwind] [--target aarch64|x86_64] [--issuer]" >&2; exit 2 ;;
  esac
  shift
done
case "$arch" in
  aarch64) cross=aarch64-linux-gnu- ;;
  x86_64) cross= ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
target="$arch-unknown-linux-gnu"
TARGET_ENV=$(echo "$target" | tr 'a-z-' 'A-Z_')
sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
lld_dir="$sysroot/lib/rustlib/$host/bin/gcc-ld"
[[ -x "$lld_dir/ld.lld" ]] || { echo "no ld.lld in the Rust toolchain ($lld_dir)" >&2; exit 1; }

flags=(-C "link-arg=-B$lld_dir" -C link-arg=-fuse-ld=lld
  -C link-arg=-Wl,--icf=safe -C link-arg=-Wl,-z,pack-relative-relocs)
if [[ "$profile" == mobile ]]; then
  # Panics abort (the profile says so), so Rust code needs no unwind tables.
  flags+=(-C force-unwind-tables=no -C force-frame-pointers=yes)
fi

export "CARGO_TARGET_${TARGET_ENV}_LINKER=${cross}gcc"
export "CC_${target//-/_}=${cross}gcc"
export "AR_${target//-/_}=${cross}ar"
export "CARGO_TARGET_${TARGET_ENV}_RUSTFLAGS=${flags[*]}"
echo "building wallet-core ($profile, $target)..." >&2
# A separate target directory: these flags must not invalidate the workspace's own builds.
dir=target/mobile-lib${features:+-issuer}
cargo build -p wallet-core "${features[@]}" --profile "$profile" --target "$target" --lib \
  --target-dir "$dir"
lib="$dir/$target/$profile/libwallet_core.so"
echo "$lib: $(stat -c %s "$lib") bytes"
"${cross}size" -A "$lib" | awk '$2 > 16384 { print }'
