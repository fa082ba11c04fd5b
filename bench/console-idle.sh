#!/bin/bash
# usage: bench/console-idle.sh CONSOLE_LISTEN  -> prints CPU seconds of samsa serve over 60 s idle with 20 topics x 5 partitions and 5 groups
# Builds nothing: run `go build -o samsa ./cmd/samsa` first (or set SAMSA to the binary).
set -e
d=$(mktemp -d)
${SAMSA:-./samsa} serve --listen 127.0.0.1:19500 --data-dir $d --console-listen "$1" >/tmp/idle-serve.log 2>&1 &
pid=$!
sleep 1
for i in $(seq 1 20); do ${SAMSA:-./samsa} topic create t$i --partitions 5 -b 127.0.0.1:19500 >/dev/null 2>&1; done
for g in $(seq 1 5); do echo x | ${SAMSA:-./samsa} produce t$g -b 127.0.0.1:19500 >/dev/null 2>&1; ${SAMSA:-./samsa} consume t$g --group g$g --from-beginning --max-messages 1 -b 127.0.0.1:19500 >/dev/null 2>&1; done
t0=$(awk '{print $14+$15}' /proc/$pid/stat)
sleep 60
t1=$(awk '{print $14+$15}' /proc/$pid/stat)
rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
kill -INT $pid; wait $pid || true
echo "console=[$1] cpu_ticks_60s=$((t1-t0)) (ticks of 1/$(getconf CLK_TCK) s) rss_kib=$rss"
