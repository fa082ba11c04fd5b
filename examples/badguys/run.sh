#!/usr/bin/env bash
# Starts the bad-guys lab on one machine: a Samsa broker, the api on
# 127.0.0.1:5000 and K processors (default 1), all sharing
# ./badguys-data/bad-guy.db.
# Ctrl-C stops everything.
#
#   examples/badguys/run.sh [K]
#   PROCESSORS=3 WORK_TIME=5s examples/badguys/run.sh
#
# Run it from the repository root. Set BROKERS=host:port to use a broker that
# is already running (Samsa or Apache Kafka) instead of starting one;
# BROKER_LISTEN and API_LISTEN change the addresses it binds. Each program's
# pid is printed, so `kill -9 <pid>` crashes one processor mid-request.
set -euo pipefail

K="${1:-${PROCESSORS:-1}}"
WORK_TIME="${WORK_TIME:-3s}"
DATA="${DATA:-./badguys-data}"
DB="${DB:-$DATA/bad-guy.db}"
mkdir -p "$DATA" "$DATA/bin"

echo "building samsa, api and processor into $DATA/bin ..."
go build -o "$DATA/bin/samsa" ./cmd/samsa
go build -o "$DATA/bin/api" ./examples/badguys/api
go build -o "$DATA/bin/processor" ./examples/badguys/processor

pids=()
cleanup() {
	trap - INT TERM EXIT
	echo "stopping ${pids[*]:-nothing}"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait
}
trap cleanup INT TERM EXIT

# start TAG CMD...: runs CMD in the background with its log lines prefixed by
# [TAG]; $! is CMD's own pid, so kill -9 on it is a real crash.
start() {
	local tag=$1
	shift
	"$@" > >(sed -u "s/^/[$tag] /") 2>&1 &
	pids+=($!)
	echo "[$tag] pid $!"
}

if [[ -z "${BROKERS:-}" ]]; then
	BROKERS="${BROKER_LISTEN:-127.0.0.1:9092}"
	start broker "$DATA/bin/samsa" serve --data-dir "$DATA/broker" --listen "$BROKERS" --log-level "${BROKER_LOG_LEVEL:-warn}"
	for _ in $(seq 100); do # wait until the broker accepts connections
		if (exec 3<>"/dev/tcp/${BROKERS%:*}/${BROKERS##*:}") 2>/dev/null; then break; fi
		sleep 0.1
	done
fi

API_LISTEN="${API_LISTEN:-127.0.0.1:5000}"
start api "$DATA/bin/api" --brokers "$BROKERS" --db "$DB" --listen "$API_LISTEN"
for i in $(seq "$K"); do
	start "processor-$i" "$DATA/bin/processor" --brokers "$BROKERS" --db "$DB" --work-time "$WORK_TIME" --name "processor-$i"
done

cat <<MSG
bad-guys lab running: api on http://$API_LISTEN, $K processor(s), database $DB
try:
  curl -s -XPOST $API_LISTEN/bad-guys -H 'Content-Type: application/json' \\
    -d '{"story": "In a galaxy far, far away", "characters": ["Darth Vader", "Luke Skywalker", "Yoda"]}'
  curl -s "$API_LISTEN/bad-guys?request_id=<id>"
after kill -9 of a processor, start another one (in a second terminal) with:
  "$DATA/bin/processor" --brokers "$BROKERS" --db "$DB" --work-time "$WORK_TIME"
Ctrl-C stops everything.
MSG
wait
