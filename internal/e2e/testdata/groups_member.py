"""One consumer-group member as its own process, so a test can kill it
with SIGKILL (no LeaveGroup) or stop it with SIGTERM (close, leaving the
group and committing).

Usage: groups_member.py BOOTSTRAP TOPIC GROUP NAME STRATEGY [INSTANCE_ID]
Prints one JSON object per line, flushed at once:
  {"event": "ready"}                         subscribed
  {"event": "assigned", "partitions": [...]} the partitions now owned
  {"event": "record", "partition": p, "offset": o, "key": k, "value": v}
  {"event": "closed"}                        after SIGTERM and close()
Offsets are committed synchronously after every record, so a stopped or
killed member's successor resumes right after the last record printed.
"""

import json
import signal
import sys

from confluent_kafka import Consumer

stopping = False


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    global stopping
    addr, topic, group, name, strategy = sys.argv[1:6]
    conf = {
        "bootstrap.servers": addr,
        "group.id": group,
        "client.id": name,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 3000,
        "heartbeat.interval.ms": 300,
        "partition.assignment.strategy": strategy,
    }
    if len(sys.argv) > 6:
        conf["group.instance.id"] = sys.argv[6]
    c = Consumer(conf)
    owned = set()

    def on_assign(consumer, partitions):
        owned.update(p.partition for p in partitions)
        emit({"event": "assigned", "partitions": sorted(owned)})

    def on_revoke(consumer, partitions):
        owned.difference_update(p.partition for p in partitions)
        emit({"event": "assigned", "partitions": sorted(owned)})

    def on_term(signum, frame):
        global stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    emit({"event": "ready"})
    while not stopping:
        m = c.poll(0.1)
        if m is None:
            continue
        if m.error() is not None:
            emit({"event": "error", "error": m.error().str()})
            continue
        c.commit(message=m, asynchronous=False)
        emit({
            "event": "record",
            "partition": m.partition(),
            "offset": m.offset(),
            "key": None if m.key() is None else m.key().decode(),
            "value": m.value().decode(),
        })
    c.close()
    emit({"event": "closed"})


if __name__ == "__main__":
    main()
