#!/usr/bin/env bash
# Starts a one-node Nomad dev agent (server and client) on this machine
# for tune's end-to-end tests, with raw_exec enabled, and stops it again.
# It needs a `nomad` binary on PATH (or NOMAD_BIN).
#
#   scripts/nomad-dev.sh start   # in the background; prints the NOMAD_ADDR to export
#   scripts/nomad-dev.sh stop    # stops the agent start started
#   scripts/nomad-dev.sh run     # in the foreground, until Ctrl-C
#
# Then: NOMAD_ADDR=http://127.0.0.1:4646 go test ./test/...
#
# The agent listens on 127.0.0.1 on Nomad's default ports (4646 HTTP, 4647
# RPC, 4648 Serf). Its data, config, log and pid file live in
# NOMAD_DEV_DIR (default /tmp/tune-nomad-dev), which stop removes. Cloud
# fingerprinters are turned off: they only wait for metadata services that
# a laptop or CI machine does not have.
set -euo pipefail

dir="${NOMAD_DEV_DIR:-/tmp/tune-nomad-dev}"
addr="http://127.0.0.1:4646"
nomad="${NOMAD_BIN:-$(command -v nomad || true)}"

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

need_nomad() {
  if [ -z "$nomad" ] || [ ! -x "$nomad" ]; then
    echo "nomad-dev: no nomad binary on PATH (or NOMAD_BIN); install one from https://developer.hashicorp.com/nomad/install" >&2
    exit 1
  fi
}

write_config() {
  mkdir -p "$dir/data"
  cat >"$dir/agent.hcl" <<HCL
data_dir = "$dir/data"

plugin "raw_exec" {
  config {
    enabled = true
  }
}

client {
  options = {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}
HCL
}

# ready waits (at most 60 s) until the agent's API answers and its node is
# ready to run work.
ready() {
  for _ in $(seq 120); do
    if "$nomad" node status -address="$addr" 2>/dev/null | grep -q ' ready'; then
      return 0
    fi
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
      echo "nomad-dev: the agent exited; its log is $dir/agent.log:" >&2
      tail -n 20 "$dir/agent.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "nomad-dev: the agent did not get a ready node within 60 s; its log is $dir/agent.log" >&2
  return 1
}

case "${1:-}" in
start)
  need_nomad
  if [ -f "$dir/agent.pid" ] && kill -0 "$(cat "$dir/agent.pid")" 2>/dev/null; then
    echo "nomad-dev: an agent already runs (pid $(cat "$dir/agent.pid")); stop it with $0 stop" >&2
    exit 1
  fi
  write_config
  "$nomad" agent -dev -bind 127.0.0.1 -config "$dir/agent.hcl" >"$dir/agent.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/agent.pid"
  ready "$pid"
  echo "Nomad dev agent running (pid $pid, log $dir/agent.log)."
  echo "export NOMAD_ADDR=$addr"
  ;;
stop)
  if [ ! -f "$dir/agent.pid" ]; then
    echo "nomad-dev: no agent started by $0 (no $dir/agent.pid)" >&2
    exit 1
  fi
  pid=$(cat "$dir/agent.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid"
    for _ in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid"
    fi
  fi
  rm -rf "$dir"
  echo "Nomad dev agent stopped."
  ;;
run)
  need_nomad
  write_config
  echo "export NOMAD_ADDR=$addr"
  exec "$nomad" agent -dev -bind 127.0.0.1 -config "$dir/agent.hcl"
  ;;
*)
  usage
  ;;
esac
