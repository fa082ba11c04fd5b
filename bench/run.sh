#!/usr/bin/env bash
# bench/run.sh: Samsa against kfake on this machine, with `samsa bench` as the
# load generator for both. Results and the method are in BENCHMARKS.md.
#
#   bench/run.sh [SCENARIO...]        scenarios a b c d e f (default: all)
#   bench/run.sh profile              CPU profiles of samsa under a and d
#
# Each scenario runs ROUNDS alternating rounds (samsa, kfake, samsa, kfake,
# ...), each on a fresh data directory under one temp directory (same disk
# for everyone), and reports the median with the min-max spread. Broker CPU
# is utime+stime from /proc/PID/stat before and after the measured run;
# memory is VmHWM (peak RSS) or VmRSS from /proc/PID/status.
#
# Environment (defaults in brackets):
#   ROUNDS [5]             rounds per scenario
#   DUR [8s]               length of each produce run (a, b, c)
#   E2E_DUR [8s]           length of each e2e run (e)
#   PRODUCERS [4]          producer clients in a, b, c
#   CONSUME_RECORDS [1000000]  1 KiB records written, then read, in d
#   BENCH_TMP [/tmp]       where the temp directory goes (pick the disk to test)
#   KEEP [unset]           keep the temp directory (logs, JSON of every run)
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-8s}
E2E_DUR=${E2E_DUR:-8s}
PRODUCERS=${PRODUCERS:-4}
CONSUME_RECORDS=${CONSUME_RECORDS:-1000000}
TCK=$(getconf CLK_TCK)

for tool in jq go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install $tool)" >&2; exit 1; }
done
if ! command -v fio >/dev/null; then
	if [[ $(id -u) == 0 ]]; then
		apt-get install -y fio >/dev/null
	else
		echo "run.sh: fio not found: apt-get install fio (fio rows will be empty)" >&2
	fi
fi

WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/samsa-bench.XXXXXX")
BIN=$WORK/bin
RES=$WORK/results.tsv # scenario variant round metric value
LOG=$WORK/bench.log   # stderr of every bench run (progress lines)
BPID=""
BADDR=""
BDEBUG=""

cleanup() {
	if [[ -n $BPID ]] && kill -0 "$BPID" 2>/dev/null; then
		kill -INT "$BPID" 2>/dev/null || true
		wait "$BPID" 2>/dev/null || true
	fi
	if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

build() {
	say "building samsa and kfakepeer"
	mkdir -p "$BIN"
	go build -o "$BIN/samsa" ./cmd/samsa
	go build -o "$BIN/kfakepeer" ./cmd/kfakepeer
}

now_ns() { date +%s%N; }

# cpu_ticks PID: utime+stime in clock ticks (fields 14 and 15 of
# /proc/PID/stat; the command name may hold spaces, so cut after ")").
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# busy_ticks: CPU ticks the whole machine spent busy (user, nice, system,
# irq, softirq, steal) since boot, from /proc/stat.
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

# child_cpu FILE: user+system seconds of this shell's waited-for children
# (the bench client and its helpers) from the output of `times` in FILE.
# Call `times >FILE` in this shell, not in a pipe or $(...), or it reports a
# fresh subshell's zeros.
child_cpu() {
	awk 'NR == 2 {print secs($1) + secs($2)} function secs(t, a) {split(t, a, /[ms]/); return a[1] * 60 + a[2]}' "$1"
}

# status_kb PID FIELD: a kB figure of /proc/PID/status (VmRSS, VmHWM).
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# ready_addr LOG: the Kafka address once the broker says it is ready.
ready_addr() {
	sed -n -e 's/.*msg="samsa broker ready".* addr=\([^ ]*\).*/\1/p' -e 's/^ready \([^ ]*\)$/\1/p' "$1" 2>/dev/null | head -n 1 | grep .
}

# start_broker VARIANT DIR [EXTRA...]: starts a broker, waits until it is
# ready and sets BPID, BADDR, BDEBUG (pprof address, if asked for) and
# STARTUP_MS (exec to ready, measured from here).
start_broker() {
	local variant=$1 dir=$2
	shift 2
	local log=$dir.log
	mkdir -p "$dir"
	local t0
	t0=$(now_ns)
	case $variant in
	samsa-durable) "$BIN/samsa" serve --console-listen "" --listen 127.0.0.1:0 --data-dir "$dir" --flush durable "$@" >"$log" 2>&1 & ;;
	samsa-os) "$BIN/samsa" serve --console-listen "" --listen 127.0.0.1:0 --data-dir "$dir" --flush os "$@" >"$log" 2>&1 & ;;
	kfake-sync) "$BIN/kfakepeer" --listen 127.0.0.1:0 --data-dir "$dir" --sync "$@" >"$log" 2>&1 & ;;
	kfake-disk) "$BIN/kfakepeer" --listen 127.0.0.1:0 --data-dir "$dir" "$@" >"$log" 2>&1 & ;;
	kfake-mem) "$BIN/kfakepeer" --listen 127.0.0.1:0 "$@" >"$log" 2>&1 & ;;
	*) echo "unknown variant $variant" >&2; exit 1 ;;
	esac
	BPID=$!
	local deadline=$((SECONDS + 30))
	until BADDR=$(ready_addr "$log"); do
		if ! kill -0 "$BPID" 2>/dev/null; then
			echo "run.sh: $variant exited before ready:" >&2
			cat "$log" >&2
			exit 1
		fi
		if ((SECONDS > deadline)); then
			echo "run.sh: $variant not ready after 30s" >&2
			exit 1
		fi
		sleep 0.001
	done
	STARTUP_MS=$((($(now_ns) - t0) / 1000000))
	BDEBUG=$(sed -n 's/.*msg="serving pprof".* addr=\([^ ]*\).*/\1/p' "$log" | head -n 1)
}

stop_broker() {
	kill -INT "$BPID"
	wait "$BPID" || true
	BPID=""
}

# bench ARGS...: one `samsa bench` run against the current broker; JSON on
# stdout, progress appended to $LOG.
bench() {
	echo "--- samsa bench $* --brokers $BADDR" >>"$LOG"
	"$BIN/samsa" bench "$@" --brokers "$BADDR" --output json 2>>"$LOG"
}

# put SCENARIO VARIANT ROUND METRIC VALUE
put() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"; }

# measure SCENARIO VARIANT ROUND BENCH-ARGS...: runs the bench under the
# current broker and records throughput, broker CPU and peak RSS.
measure() {
	local sc=$1 v=$2 r=$3
	shift 3
	local c0 c1 k0 k1 m0 m1 json
	times >"$WORK/times0"
	m0=$(busy_ticks)
	c0=$(cpu_ticks "$BPID")
	bench "$@" >"$WORK/$sc-$v-$r.json"
	c1=$(cpu_ticks "$BPID")
	m1=$(busy_ticks)
	times >"$WORK/times1"
	k0=$(child_cpu "$WORK/times0")
	k1=$(child_cpu "$WORK/times1")
	json=$(cat "$WORK/$sc-$v-$r.json")
	local rps mibs bytes cpu client other
	rps=$(jq -r .records_per_sec <<<"$json")
	mibs=$(jq -r .mib_per_sec <<<"$json")
	bytes=$(jq -r .value_bytes <<<"$json")
	cpu=$(awk -v a="$c0" -v b="$c1" -v t="$TCK" 'BEGIN {printf "%.2f", (b - a) / t}')
	client=$(awk -v a="$k0" -v b="$k1" 'BEGIN {printf "%.2f", b - a}')
	# Everything else the machine did meanwhile: other engineers' work, the
	# kernel's writeback threads, noise.
	other=$(awk -v a="$m0" -v b="$m1" -v t="$TCK" -v c="$cpu" -v k="$client" 'BEGIN {printf "%.2f", (b - a) / t - c - k}')
	put "$sc" "$v" "$r" rps "$rps"
	put "$sc" "$v" "$r" mibs "$mibs"
	put "$sc" "$v" "$r" cpu_s "$cpu"
	put "$sc" "$v" "$r" client_cpu_s "$client"
	put "$sc" "$v" "$r" other_cpu_s "$other"
	put "$sc" "$v" "$r" cpu_per_gib "$(awk -v c="$cpu" -v b="$bytes" 'BEGIN {if (b > 0) printf "%.3f", c / (b / 1073741824)}')"
	put "$sc" "$v" "$r" rss_mib "$(awk -v k="$(status_kb "$BPID" VmHWM)" 'BEGIN {printf "%.1f", k / 1024}')"
	if [[ $(jq -r '.latency_ms != null' <<<"$json") == true ]]; then
		local q
		for q in p50 p90 p99 p99_9 max; do
			put "$sc" "$v" "$r" "e2e_$q" "$(jq -r ".latency_ms.$q" <<<"$json")"
		done
		put "$sc" "$v" "$r" ack_p99 "$(jq -r .ack_latency_ms.p99 <<<"$json")"
		put "$sc" "$v" "$r" send_lag_max "$(jq -r '.max_send_lag_ms // 0' <<<"$json")"
	fi
	say "  $sc $v round $r: $(printf '%.0f' "$rps") rec/s, $(printf '%.1f' "$mibs") MiB/s, cpu s: broker $cpu client $client other $other"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# rounds SCENARIO FUNCTION VARIANT...: ROUNDS alternating rounds.
rounds() {
	local sc=$1 fn=$2
	shift 2
	say "scenario $sc: ${*} x $ROUNDS (load $(load))"
	put "$sc" - 0 load_start "$(load | cut -d' ' -f1)"
	put "$sc" - 0 fio_mibs "$(fio_bw)"
	local r v
	for ((r = 1; r <= ROUNDS; r++)); do
		for v in "$@"; do
			"$fn" "$sc" "$v" "$r"
		done
	done
	put "$sc" - 0 load_end "$(load | cut -d' ' -f1)"
}

# one_produce SC VARIANT ROUND: a fresh broker, one produce run of $SIZE-byte
# records with acks=all into 6 partitions.
one_produce() {
	local dir=$WORK/data/$1-$2-$3
	start_broker "$2" "$dir"
	measure "$1" "$2" "$3" produce --topic bench --partitions 6 --record-size "$SIZE" \
		--acks all --producers "$PRODUCERS" --duration "$DUR"
	stop_broker
	rm -rf "$dir"
}

# one_consume SC VARIANT ROUND: fill 6 partitions with CONSUME_RECORDS 1 KiB
# records (page cache), then measure reading them all from offset 0.
one_consume() {
	local dir=$WORK/data/$1-$2-$3
	start_broker "$2" "$dir"
	bench produce --topic bench --partitions 6 --record-size 1024 --acks 1 \
		--producers 2 --records "$CONSUME_RECORDS" >/dev/null
	measure "$1" "$2" "$3" consume --topic bench
	stop_broker
	rm -rf "$dir"
}

# one_e2e SC VARIANT ROUND: open-loop latency at 10k records/s, 1 KiB,
# acks=all, linger 0.
one_e2e() {
	local dir=$WORK/data/$1-$2-$3
	start_broker "$2" "$dir"
	measure "$1" "$2" "$3" e2e --topic lat --partitions 6 --record-size 1024 \
		--acks all --linger 0 --rate 10000 --duration "$E2E_DUR"
	stop_broker
	rm -rf "$dir"
}

# one_idle SC VARIANT ROUND: start-up on an empty directory, RSS when idle
# with a 100-partition topic (1000 records in it), start-up again on that
# directory.
one_idle() {
	local dir=$WORK/data/$1-$2-$3
	start_broker "$2" "$dir"
	put "$1" "$2" "$3" startup_empty_ms "$STARTUP_MS"
	put "$1" "$2" "$3" startup_self_ms "$(self_startup_ms "$dir.log")"
	bench produce --topic idle --partitions 100 --record-size 100 --records 1000 --acks all >/dev/null
	sleep 3 # let the broker go idle (this is a benchmark script, not a test)
	local rss
	rss=$(status_kb "$BPID" VmRSS)
	put "$1" "$2" "$3" idle_rss_mib "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')"
	stop_broker
	if [[ $2 != kfake-mem ]]; then
		start_broker "$2" "$dir"
		put "$1" "$2" "$3" startup_100p_ms "$STARTUP_MS"
		stop_broker
	fi
	say "  $1 $2 round $3: idle RSS $((rss / 1024)) MiB, start-up ${STARTUP_MS} ms"
	rm -rf "$dir"
}

# self_startup_ms LOG: the start-up time samsa reports itself (from entering
# serve to ready, without exec and runtime start); empty for kfake.
self_startup_ms() {
	sed -n 's/.*msg="samsa broker ready".* startup=\([0-9.]*\)\(m\{0,1\}s\).*/\1 \2/p' "$1" | head -n 1 |
		awk '{print ($2 == "s") ? $1 * 1000 : $1}'
}

# fio_bw: fdatasync write bandwidth at 1 MiB writes on the data disk, MiB/s.
fio_bw() {
	command -v fio >/dev/null || return 0
	local d=$WORK/fio
	mkdir -p "$d"
	fio --name=sync --rw=write --bs=1m --size=256m --fdatasync=1 --directory="$d" \
		--output-format=json 2>/dev/null | jq -r '.jobs[0].write.bw_bytes / 1048576 | floor'
	rm -rf "$d"
}

# med SC VARIANT METRIC: "median (min-max)" of a metric over the rounds.
med() {
	local vals
	vals=$(awk -F'\t' -v s="$1" -v v="$2" -v m="$3" '$1 == s && $2 == v && $4 == m && $5 != "" {print $5}' "$RES" | sort -g)
	[[ -n $vals ]] || { echo "-"; return; }
	awk '{a[NR] = $1} END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%s (%s-%s)", fmt(m), fmt(a[1]), fmt(a[NR])
	}
	function fmt(x) { return (x >= 1000) ? sprintf("%.0f", x) : (x >= 10) ? sprintf("%.1f", x) : sprintf("%.3g", x) }' <<<"$vals"
}

# medv SC VARIANT METRIC: the bare median.
medv() {
	awk -F'\t' -v s="$1" -v v="$2" -v m="$3" '$1 == s && $2 == v && $4 == m && $5 != "" {print $5}' "$RES" | sort -g |
		awk '{a[NR] = $1} END {if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "" && b != "" && b > 0) printf "%.2fx", a / b; else print "-"}'; }

# table SC METRIC... : a markdown table, one row per variant present.
table() {
	local sc=$1
	shift
	local m v
	printf '| variant |'
	for m in "$@"; do printf ' %s |' "$m"; done
	printf '\n|---|'
	for m in "$@"; do printf -- '---|'; done
	printf '\n'
	for v in $(awk -F'\t' -v s="$sc" '$1 == s && $2 != "-" {print $2}' "$RES" | awk '!seen[$0]++'); do
		printf '| %s |' "$v"
		for m in "$@"; do printf ' %s |' "$(med "$sc" "$v" "$m")"; done
		printf '\n'
	done
	printf '\nload average at start/end: %s / %s; fio fdatasync before it: %s MiB/s\n\n' "$(medv "$sc" - load_start)" "$(medv "$sc" - load_end)" "$(medv "$sc" - fio_mibs)"
}

summary() {
	local fio_mibs=$1
	echo "## Results ($(date -u +%F), ROUNDS=$ROUNDS, DUR=$DUR, E2E_DUR=$E2E_DUR, PRODUCERS=$PRODUCERS)"
	echo
	echo "Median (min-max) over rounds. Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)."
	echo "fio fdatasync 1 MiB sequential write, median of all fio runs (start, before each scenario, end): ${fio_mibs:-not measured} MiB/s ($(med fio - fio_mibs) at start/end)"
	echo
	if grep -q '^a	' "$RES"; then
		echo "### (a) durable produce: acks=all, 1 KiB, 6 partitions"
		table a rps mibs cpu_s cpu_per_gib rss_mib client_cpu_s other_cpu_s
		echo "samsa/kfake-sync: $(ratio "$(medv a samsa-durable rps)" "$(medv a kfake-sync rps)"); samsa MiB/s / fio MiB/s measured before this scenario ($(medv a - fio_mibs)): $(ratio "$(medv a samsa-durable mibs)" "$(medv a - fio_mibs)"); / fio median of all runs: $(ratio "$(medv a samsa-durable mibs)" "$fio_mibs")"
		echo
	fi
	if grep -q '^b	' "$RES"; then
		echo "### (b) page-cache produce: acks=all, 1 KiB, 6 partitions"
		table b rps mibs cpu_s cpu_per_gib rss_mib client_cpu_s other_cpu_s
		echo "samsa/kfake-disk: $(ratio "$(medv b samsa-os rps)" "$(medv b kfake-disk rps)"); samsa/kfake-mem: $(ratio "$(medv b samsa-os rps)" "$(medv b kfake-mem rps)")"
		echo
	fi
	if grep -q '^c	' "$RES"; then
		echo "### (c) durable produce of 100-byte records"
		table c rps mibs cpu_s cpu_per_gib rss_mib client_cpu_s other_cpu_s
		echo "samsa/kfake-sync: $(ratio "$(medv c samsa-durable rps)" "$(medv c kfake-sync rps)")"
		echo
	fi
	if grep -q '^d	' "$RES"; then
		echo "### (d) consume 1 KiB records from offset 0 of 6 partitions (page cache)"
		table d rps mibs cpu_s cpu_per_gib rss_mib client_cpu_s other_cpu_s
		echo "samsa/kfake-disk: $(ratio "$(medv d samsa-os rps)" "$(medv d kfake-disk rps)")"
		echo
	fi
	if grep -q '^e	' "$RES"; then
		echo "### (e) e2e latency, ms: 10k records/s, 1 KiB, acks=all, linger 0"
		table e e2e_p50 e2e_p90 e2e_p99 e2e_p99_9 e2e_max ack_p99 send_lag_max cpu_s other_cpu_s
		echo "p99 samsa-durable/kfake-sync: $(ratio "$(medv e samsa-durable e2e_p99)" "$(medv e kfake-sync e2e_p99)"); samsa-os/kfake-disk: $(ratio "$(medv e samsa-os e2e_p99)" "$(medv e kfake-disk e2e_p99)")"
		echo
	fi
	if grep -q '^f	' "$RES"; then
		echo "### (f) idle RSS with 100 partitions, start-up"
		table f idle_rss_mib startup_empty_ms startup_self_ms startup_100p_ms
	fi
}

profile() {
	command -v curl >/dev/null || { echo "run.sh: profile needs curl" >&2; exit 1; }
	local secs=${DUR%s}
	secs=$((secs > 3 ? secs - 2 : 1))
	local dir=$WORK/data/profile-a
	say "profile: durable produce (samsa --flush durable), ${secs}s CPU profile"
	start_broker samsa-durable "$dir" --debug-listen 127.0.0.1:0
	curl -sf -o "$WORK/prof-a.pb.gz" "http://$BDEBUG/debug/pprof/profile?seconds=$secs" &
	local cpid=$!
	bench produce --topic bench --partitions 6 --record-size 1024 --acks all --producers "$PRODUCERS" --duration "$DUR" | jq -c '{records_per_sec, mib_per_sec}'
	wait "$cpid"
	stop_broker
	rm -rf "$dir"
	dir=$WORK/data/profile-d
	say "profile: consume (samsa --flush os), CPU profile of the read"
	start_broker samsa-os "$dir" --debug-listen 127.0.0.1:0
	bench produce --topic bench --partitions 6 --record-size 1024 --acks 1 --producers 2 --records "$((CONSUME_RECORDS * 3))" >/dev/null
	curl -sf -o "$WORK/prof-d.pb.gz" "http://$BDEBUG/debug/pprof/profile?seconds=$secs" &
	cpid=$!
	bench consume --topic bench --duration "${secs}s" | jq -c '{records_per_sec, mib_per_sec}'
	wait "$cpid"
	stop_broker
	rm -rf "$dir"
	local p
	for p in a d; do
		echo "### samsa CPU profile, scenario $p (top 25 by cumulative, then flat)"
		go tool pprof -top -cum -nodecount=25 "$BIN/samsa" "$WORK/prof-$p.pb.gz" 2>/dev/null
		go tool pprof -top -nodecount=25 "$BIN/samsa" "$WORK/prof-$p.pb.gz" 2>/dev/null
	done
	echo "profiles: $WORK/prof-a.pb.gz, $WORK/prof-d.pb.gz (KEEP=1 keeps them)"
}

main() {
	build
	if [[ ${1:-} == profile ]]; then
		profile
		return
	fi
	local scenarios=("$@")
	[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(a b c d e f)
	: >"$RES"
	say "fio fdatasync baseline"
	local fio1 fio2
	fio1=$(fio_bw)
	local sc
	for sc in "${scenarios[@]}"; do
		case $sc in
		a) SIZE=1024 rounds a one_produce samsa-durable kfake-sync ;;
		b) SIZE=1024 rounds b one_produce samsa-os kfake-disk kfake-mem ;;
		c) SIZE=100 rounds c one_produce samsa-durable kfake-sync ;;
		d) rounds d one_consume samsa-os kfake-disk ;;
		e) rounds e one_e2e samsa-durable kfake-sync samsa-os kfake-disk ;;
		f) rounds f one_idle samsa-durable kfake-disk ;;
		*) echo "run.sh: unknown scenario $sc (a b c d e f, or profile)" >&2; exit 2 ;;
		esac
	done
	fio2=$(fio_bw)
	put fio - 0 fio_mibs "$fio1"
	put fio - 0 fio_mibs "$fio2"
	say "fio: $fio1 / $fio2 MiB/s (start / end)"
	local fio_mibs
	fio_mibs=$(awk -F'\t' '$4 == "fio_mibs" && $5 != "" {print $5}' "$RES" | sort -g | awk '{a[NR] = $1} END {if (NR) printf "%.1f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
	summary "$fio_mibs" | tee "$WORK/summary.md"
	cp "$RES" bench/last-results.tsv
	cp "$WORK/summary.md" bench/last-summary.md
}

main "$@"
