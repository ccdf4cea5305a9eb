#!/usr/bin/env bash
# Plans 100,000 trials (100 grid points × 1,000 samples, per-trial
# resources) with the real binary and prints wall time and peak memory,
# for the text plan and for the -json plan that lists every trial.
#
#   scripts/bench-plan.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
bin=$(mktemp -d)/tune
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/tune

measure() {
  local label="$1"; shift
  for _ in $(seq "$runs"); do
    # GNU time's %e is wall seconds, %M peak resident KiB.
    /usr/bin/time -f "%e %M" -o /tmp/tune-bench-time "$bin" "$@" >/dev/null 2>/tmp/tune-bench-err || {
      rc=$?
      # plan exits 2 when some trials can never run; that is a result.
      [ "$rc" -eq 2 ] || { cat /tmp/tune-bench-err >&2; exit "$rc"; }
    }
    read -r secs kib </tmp/tune-bench-time
    printf '%-28s %6.2f s  %6.0f MiB\n' "$label" "$secs" "$((kib / 1024))"
  done
}

echo "tune plan, 100,000 trials, on $(nproc) cores:"
measure "plan (text)" plan -local-cpus 16 -local-gpus 4 scripts/testdata/plan-100k.hcl
measure "plan -json (every trial)" plan -json -local-cpus 16 -local-gpus 4 scripts/testdata/plan-100k.hcl
measure "validate" validate scripts/testdata/plan-100k.hcl
