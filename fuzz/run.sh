#!/bin/bash
# Builds every fuzz target with the stable compiler and runs each for a while, one after the
# other, on one core:
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     # default 60 s, every target
#
# cargo-fuzz wants a nightly compiler only for its sanitizers; libFuzzer's coverage
# instrumentation is reachable from stable with the same codegen flags it passes, so this
# builds the targets that way (no AddressSanitizer: safe Rust needs it little, and a panic or
# an overflow, with the overflow checks and debug assertions of fuzz/Cargo.toml's release
# profile, is what the targets look for).
# Corpora grow in fuzz/corpus/TARGET (seeded from the test fixtures on the first run), and
# an input that crashes a target is saved in fuzz/artifacts/TARGET/. Exits 1 if a target
# crashed.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
# With an explicit --target the flags reach the targets only, not build scripts.
cargo build --release --target "$triple" --bins
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi

# First inputs: the fixtures of the tests, where a target reads what they hold.
seed() {
    local target=$1 dir=corpus/$1
    [ -d "$dir" ] && return
    mkdir -p "$dir"
    case $target in
        reports_aggregate_xml) cp ../crates/inkan-reports/tests/fixtures/*.xml "$dir"/ ;;
        reports_arf) cp ../crates/inkan-reports/tests/fixtures/*.eml "$dir"/ ;;
        zone_parse) cp ../examples/*.zone "$dir"/ ;;
    esac
}

crashed=()
for target in "${targets[@]}"; do
    seed "$target"
    mkdir -p "artifacts/$target"
    log=$(mktemp)
    if "target/$triple/release/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -artifact_prefix="artifacts/$target/" "corpus/$target" >"$log" 2>&1; then
        echo "$target: $(grep -E '^#[0-9]+' "$log" | tail -1)"
    else
        crashed+=("$target")
        echo "$target: CRASHED, input saved in fuzz/artifacts/$target/"
        grep -E -A12 'panicked|ERROR: libFuzzer' "$log" | head -40
    fi
    rm -f "$log"
done
if [ ${#crashed[@]} -gt 0 ]; then
    echo "crashed: ${crashed[*]}"
    exit 1
fi
