#!/usr/bin/env bash
# Runs fuzz targets one after another, each for SECONDS, on one core at low priority, and
# appends each run's final libFuzzer figures to fuzz/logs/summary.log.
#
#   fuzz/run.sh SECONDS TARGET...     (build first: cargo +nightly fuzz build)
#
# Per target: the growing corpus is fuzz/corpus/<target> (seeded from the committed
# fuzz/seeds/<target>, which is read but never written), findings go to
# fuzz/artifacts/<target>/, and libFuzzer's log to fuzz/logs/<target>/.
set -u

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
secs=$1
shift
bin_dir="$fuzz_dir/target/x86_64-unknown-linux-gnu/release"
summary="$fuzz_dir/logs/summary.log"
mkdir -p "$fuzz_dir/logs"

for target in "$@"; do
    max_len=65536
    if [ "$target" = device_response ]; then
        max_len=262144
    fi
    corpus="$fuzz_dir/corpus/$target"
    artifacts="$fuzz_dir/artifacts/$target"
    logs="$fuzz_dir/logs/$target"
    mkdir -p "$corpus" "$artifacts" "$logs"
    before=$(ls "$artifacts" | wc -l)
    start=$(date +%s)
    # With -jobs=1 libFuzzer runs the fuzzing in one child process that logs to
    # ./fuzz-0.log, hence the cd.
    (
        cd "$logs" &&
            rm -f fuzz-0.log &&
            nice -n 10 "$bin_dir/$target" \
                -workers=1 -jobs=1 \
                -max_total_time="$secs" \
                -rss_limit_mb=2048 \
                -max_len="$max_len" \
                -timeout=10 \
                -print_final_stats=1 \
                -artifact_prefix="$artifacts/" \
                "$corpus" "$fuzz_dir/seeds/$target" >"parent-$secs.out" 2>&1
    )
    rc=$?
    elapsed=$(($(date +%s) - start))
    log="$logs/run-$secs.log"
    mv -f "$logs/fuzz-0.log" "$log" 2>/dev/null || cp "$logs/parent-$secs.out" "$log"
    final=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
    peak=$(grep -Eo 'stat::peak_rss_mb: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
    found=$(($(ls "$artifacts" | wc -l) - before))
    crash=$(grep -Eo 'ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+|ERROR: AddressSanitizer: [a-z-]+' "$log" | head -n 1)
    printf '%s target=%s seconds=%s elapsed=%s rc=%s execs=%s peak_rss_mb=%s new_artifacts=%s corpus_files=%s crash=[%s] final=[%s]\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$target" "$secs" "$elapsed" "$rc" "${execs:-?}" \
        "${peak:-?}" "$found" "$(ls "$corpus" | wc -l)" "${crash:-none}" "$final" >>"$summary"
done
