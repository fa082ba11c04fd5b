"""Watermarks (ListOffsets earliest/latest) and offsets_for_times.

Usage: offsets.py BOOTSTRAP TOPIC. The topic must exist with partitions 0
and 1. Writes ten records a second apart to partition 0 and none to 1, then
prints the answers as JSON.
"""

import json
import sys

from confluent_kafka import Producer, TopicPartition

from kafkautil import assigned_consumer

BASE_TS = 1700000000000


def main():
    addr, topic = sys.argv[1], sys.argv[2]
    p = Producer({"bootstrap.servers": addr, "acks": "all"})
    for i in range(10):
        p.produce(topic, value="t%d" % i, partition=0, timestamp=BASE_TS + i * 1000)
    if p.flush(30):
        raise RuntimeError("records undelivered after flush")

    c = assigned_consumer(addr)
    try:
        out = {"watermarks": {}, "times": []}
        for part in (0, 1):
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=20, cached=False)
            out["watermarks"][str(part)] = [lo, hi]
        for part, delta in ((0, -3600000), (0, 0), (0, 3500), (0, 9000), (0, 10000), (1, 0)):
            res = c.offsets_for_times([TopicPartition(topic, part, BASE_TS + delta)], timeout=20)
            out["times"].append({
                "partition": part,
                "delta_ms": delta,
                "offset": res[0].offset,
                "error": None if res[0].error is None else res[0].error.name(),
            })
    finally:
        c.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
