"""Helpers shared by the e2e scripts: a consumer that reads by assign()."""

import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition


def assigned_consumer(addr):
    """A Consumer for assign() only: group.id is required by the client, but
    the group is never joined and nothing is committed."""
    return Consumer({
        "bootstrap.servers": addr,
        "group.id": "samsa-e2e-assign-only",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",
    })


def read_all(addr, topic, partitions, deadline_s=20):
    """Reads every partition from offset 0 to its high watermark (as listed
    before reading) and returns the records as dicts. Raises when the
    deadline passes first or a partition reports an error."""
    c = assigned_consumer(addr)
    try:
        ends = {}
        for p in partitions:
            _, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=20, cached=False)
            if hi > 0:
                ends[p] = hi
        c.assign([TopicPartition(topic, p, 0) for p in partitions])
        out = []
        deadline = time.monotonic() + deadline_s
        while ends:
            if time.monotonic() > deadline:
                raise RuntimeError("read %d records; partitions %s not read to their end before the deadline" % (len(out), ends))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error() is not None:
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(m.error())
            ts_type, ts = m.timestamp()
            out.append({
                "partition": m.partition(),
                "offset": m.offset(),
                "key": None if m.key() is None else m.key().decode(),
                "value": None if m.value() is None else m.value().decode(),
                "headers": [[k, None if v is None else v.decode()] for k, v in (m.headers() or [])],
                "timestamp_type": ts_type,
                "timestamp": ts,
            })
            if m.offset() >= ends.get(m.partition(), 0) - 1:
                ends.pop(m.partition(), None)
        return out
    finally:
        c.close()


def error_json(err):
    """A KafkaError as {"code": NAME, "message": str}, None for no error."""
    if err is None:
        return None
    return {"code": err.name(), "message": err.str()}
