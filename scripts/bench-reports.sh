#!/usr/bin/env bash
# Runs one trial that prints 1,000,000 @tune reports as fast as it can and
# prints tune's wall time and peak memory: the event queue between the
# trial's output and the controller is bounded, so the trial waits on its
# pipe instead of tune's memory growing with the reports.
#
#   scripts/bench-reports.sh [reports] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
reports="${1:-1000000}"
runs="${2:-1}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/tune" ./cmd/tune

echo "tune apply, one trial printing $reports reports, on $(nproc) cores:"
for i in $(seq "$runs"); do
  # GNU time's %e is wall seconds, %M peak resident KiB.
  /usr/bin/time -f "%e %M" -o "$work/time" "$work/tune" apply -progress none -local-cpus 1 \
    -var "reports=$reports" -results "$work/results-$i" scripts/testdata/reports-1m.hcl >"$work/out" 2>&1 || {
    cat "$work/out" >&2
    exit 1
  }
  read -r secs kib <"$work/time"
  lines=$(wc -l <"$work/results-$i/reports/"*/result.json)
  printf 'run %d: %6.2f s  %6.0f MiB peak RSS  %d rows in result.json\n' "$i" "$secs" "$((kib / 1024))" "$lines"
done
