"""The lab's post-office tasks 1-3 with consumer groups, in the lab's style:
one thread per consumer, each with its own confluent-kafka Consumer.

Usage: groups_lab.py BOOTSTRAP TOPIC MODE CONSUMERS RECORDS STRATEGY
  MODE independent  every consumer has its own group (task 1)
       shared       all consumers share one group (task 2)
       keyed        shared, and records carry one of four keys (task 3)
  STRATEGY is librdkafka's partition.assignment.strategy (range,
  roundrobin, cooperative-sticky).

The topic must exist. The script waits until the group(s) have assigned
every partition, produces RECORDS letters, waits until they are consumed
(every consumer gets every letter in independent mode, the consumers
together get each once otherwise), then closes the consumers (leaving the
group) and prints {"consumers": [{"name", "assigned", "values", "keys"}]}.
"""

import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer

DEADLINE_S = 40


class Member(threading.Thread):
    """One consumer thread, like the lab's Consumer N."""

    def __init__(self, addr, topic, group, name, strategy):
        super().__init__(daemon=True)
        self.name_ = name
        self.topic = topic
        self.lock = threading.Lock()
        self.assigned = set()
        self.values = []
        self.keys = []
        self.errors = []
        self.stop = threading.Event()
        self.consumer = Consumer({
            "bootstrap.servers": addr,
            "group.id": group,
            "client.id": name,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            "partition.assignment.strategy": strategy,
        })
        self.consumer.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke, on_lost=self.on_revoke)

    def on_assign(self, consumer, partitions):
        with self.lock:
            self.assigned.update(p.partition for p in partitions)

    def on_revoke(self, consumer, partitions):
        with self.lock:
            self.assigned.difference_update(p.partition for p in partitions)

    def run(self):
        while not self.stop.is_set():
            m = self.consumer.poll(0.2)
            if m is None:
                continue
            if m.error() is not None:
                with self.lock:
                    self.errors.append(m.error().str())
                continue
            with self.lock:
                self.values.append(m.value().decode())
                self.keys.append(None if m.key() is None else m.key().decode())
        self.consumer.close()

    def snapshot(self):
        with self.lock:
            return set(self.assigned), list(self.values), list(self.keys), list(self.errors)


def wait_for(what, cond):
    deadline = time.monotonic() + DEADLINE_S
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.05)


def main():
    addr, topic, mode, n, count, strategy = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    members = []
    for i in range(n):
        group = "post-office-%d" % i if mode == "independent" else "post-office"
        members.append(Member(addr, topic, group, "consumer-%d" % i, strategy))
    for m in members:
        m.start()

    p = Producer({"bootstrap.servers": addr, "acks": "all"})
    parts = len(p.list_topics(topic, timeout=20).topics[topic].partitions)

    def assigned():
        owned = [m.snapshot()[0] for m in members]
        if mode == "independent":
            return all(len(o) == parts for o in owned)
        flat = [x for o in owned for x in o]
        return len(flat) == parts and len(set(flat)) == parts and sum(1 for o in owned if o) == min(n, parts)

    # All consumers start together; a late joiner would rebalance the group
    # within a few heartbeats, so the assignment must hold for a while.
    stable_since = [None]

    def settled():
        if not assigned():
            stable_since[0] = None
            return False
        if stable_since[0] is None:
            stable_since[0] = time.monotonic()
        return time.monotonic() - stable_since[0] >= 1.5

    wait_for("every partition assigned", settled)

    letters = []
    for i in range(count):
        value = json.dumps({"to": "Steve Jobs", "from": "student%d@example.com" % i, "message": "letter %d" % i})
        key = "sender-%d" % (i % 4) if mode == "keyed" else None
        p.produce(topic, key=key, value=value)
        letters.append(value)
    if p.flush(30):
        raise RuntimeError("records undelivered after flush")

    def consumed():
        got = [len(m.snapshot()[1]) for m in members]
        if mode == "independent":
            return all(g >= count for g in got)
        return sum(got) >= count

    wait_for("every letter consumed", consumed)
    out = []
    for m in members:
        owned, values, keys, errors = m.snapshot()
        out.append({"name": m.name_, "assigned": sorted(owned), "values": values, "keys": keys, "errors": errors})
    for m in members:
        m.stop.set()
    for m in members:
        m.join(20)
    json.dump({"letters": letters, "consumers": out}, sys.stdout)


if __name__ == "__main__":
    try:
        main()
    except KafkaException as e:
        raise SystemExit("kafka error: %s" % e)
