#!/usr/bin/env bash
# Runs every Samsa test. On a Debian machine as root it first installs what the
# tests need (kcat, python3-confluent-kafka); elsewhere it says what to install.
# Usage: ./test.sh            full run: vet, staticcheck, tests with -race, short fuzzing
#        ./test.sh -quick     tests only, no race detector, no fuzzing
set -euo pipefail
cd "$(dirname "$0")"

quick=0
[ "${1:-}" = "-quick" ] && quick=1

need_pkgs=()
command -v kcat >/dev/null 2>&1 || need_pkgs+=(kcat)
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || need_pkgs+=(python3-confluent-kafka)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need_pkgs[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "test.sh: cross-client tests need: sudo apt-get install ${need_pkgs[*]}" >&2
    echo "test.sh: without them those tests skip locally (and fail when CI=true)" >&2
  fi
fi
# kafkajs for internal/e2e/kafkajs_test.go, pinned by its package-lock.json;
# (re)installed when node_modules is missing or older than the lock file.
js=internal/e2e/testdata/kafkajs
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test.sh: installing nodejs npm with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$js" --no-audit --no-fund --loglevel=error >/dev/null ||
      echo "test.sh: npm ci in $js failed: the kafkajs test skips (fails when CI=true)" >&2
  fi
else
  echo "test.sh: the kafkajs test needs node and npm: sudo apt-get install nodejs npm" >&2
fi
command -v go >/dev/null 2>&1 || { echo "test.sh: Go 1.26 or newer is required: https://go.dev/dl/" >&2; exit 1; }

# The console's browser test saves a screenshot of each page here.
export SAMSA_ARTIFACTS="${SAMSA_ARTIFACTS:-$PWD/artifacts/console}"

echo "== go vet" >&2
go vet ./...
if [ $quick = 0 ]; then
  echo "== staticcheck" >&2
  go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
  echo "== go test -race" >&2
  go test -race -count=1 -timeout 20m ./...
  echo "== fuzz (short)" >&2
  for target in $(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' internal | sed 's/func //' | sort -u); do
    pkg=$(grep -rlE "^func ${target}\(" --include='*_test.go' internal | head -1 | xargs dirname)
    # A crash the fuzzer finds is saved under testdata/fuzz and fails the run.
    # The engine itself can also stop on a loaded machine ("hung or terminated
    # unexpectedly") without finding anything: that alone gets one retry.
    log=$(mktemp)
    if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime=10s "./${pkg}" >"$log" 2>&1; then
      if [ -n "$(git status --porcelain -- "${pkg}/testdata/fuzz")" ] ||
         ! go test -run='^$' -fuzz="^${target}\$" -fuzztime=10s "./${pkg}" >"$log" 2>&1; then
        cat "$log" >&2
        echo "fuzz ${target}: FAILED (a crashing input is saved under ${pkg}/testdata/fuzz)" >&2
        exit 1
      fi
    fi
    rm -f "$log"
    echo "fuzz ${target}: ok" >&2
  done
else
  go test -count=1 -timeout 20m ./...
fi
