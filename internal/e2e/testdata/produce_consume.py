"""Produces keyed records with headers and timestamps with one compression
codec, then reads them back with an assign()ed consumer.

Usage: produce_consume.py BOOTSTRAP TOPIC CODEC COUNT. The topic must exist.
Prints {"delivered": [...], "consumed": [...]} as JSON.
"""

import json
import sys

from confluent_kafka import Producer

from kafkautil import error_json, read_all

BASE_TS = 1700000000000


def main():
    addr, topic, codec, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    p = Producer({
        "bootstrap.servers": addr,
        "acks": "all",
        "compression.type": codec,
        "linger.ms": 50,
    })
    delivered = []

    def report(err, msg):
        delivered.append({
            "error": error_json(err),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": msg.key().decode(),
            "value": msg.value().decode(),
        })

    for i in range(count):
        p.produce(
            topic,
            key="key-%d" % (i % 7),
            value="%s value %04d %s" % (codec, i, "compressible " * 8),
            headers=[("index", str(i)), ("codec", codec)],
            timestamp=BASE_TS + i,
            on_delivery=report,
        )
        p.poll(0)
    left = p.flush(30)
    if left:
        raise RuntimeError("%d records still undelivered after flush" % left)

    parts = sorted(p.list_topics(topic, timeout=20).topics[topic].partitions)
    consumed = read_all(addr, topic, parts)
    json.dump({"base_ts": BASE_TS, "delivered": delivered, "consumed": consumed}, sys.stdout)


if __name__ == "__main__":
    main()
