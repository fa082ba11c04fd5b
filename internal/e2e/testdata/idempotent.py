"""An idempotent producer writes COUNT unique values; an assign()ed consumer
reads them back.

Usage: idempotent.py BOOTSTRAP TOPIC COUNT. The topic must exist. Prints
{"delivered": [...], "consumed": [...]} as JSON.
"""

import json
import sys

from confluent_kafka import Producer

from kafkautil import error_json, read_all


def main():
    addr, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    p = Producer({
        "bootstrap.servers": addr,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 50,
    })
    delivered = []

    def report(err, msg):
        delivered.append({
            "error": error_json(err),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "value": msg.value().decode(),
        })

    for i in range(count):
        p.produce(topic, value="idem-%05d" % i, on_delivery=report)
        p.poll(0)
    if p.flush(30):
        raise RuntimeError("records undelivered after flush")

    parts = sorted(p.list_topics(topic, timeout=20).topics[topic].partitions)
    consumed = read_all(addr, topic, parts)
    json.dump({"delivered": delivered, "consumed": consumed}, sys.stdout)


if __name__ == "__main__":
    main()
