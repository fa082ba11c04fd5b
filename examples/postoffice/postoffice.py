#!/usr/bin/env python3
"""The Kafka lab's post-office program (tasks 1-3) for confluent-kafka.

The same program as main.go beside it: one producer thread sends a random
letter per second to post.office, N consumer threads print what they get:

    Consumer 0: {"to": "Steve Jobs", "from": "KFYbPZO@gmail.com", ...} (key: None)

--mode independent (task 1): every consumer in its own group, each gets all.
--mode group       (task 2): one shared group, each letter printed once.
--mode keyed       (task 3): one shared group, letters keyed by recipient.

A group that never read the topic starts with the letters produced after
the program started; a group that did goes on where it left off. Ctrl-C
stops every thread; the consumers commit and leave their groups.

    python3 examples/postoffice/postoffice.py --mode group --consumers 7
"""

import argparse
import json
import os
import random
import signal
import string
import sys
import threading

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

FAMOUS = [
    "Alan Turing", "Ada Lovelace", "Steve Jobs", "Grace Hopper", "Linus Torvalds",
    "Margaret Hamilton", "Dennis Ritchie", "Barbara Liskov", "Ken Thompson", "Edsger Dijkstra",
]
MESSAGES = [
    "You are my role model",
    "We will have affordable prices, right?",
    "Thank you for the compiler",
    "Can I borrow your notes on lambda calculus?",
    "Is the log really the database?",
    "Please sign my copy of your paper",
    "I found a bug; it was a moth",
    "When is the next release?",
]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "stud.acs.upb.ro"]

stop = threading.Event()
print_lock = threading.Lock()


def random_letter():
    user = "".join(random.choices(string.ascii_letters, k=7))
    return {
        "to": random.choice(FAMOUS),
        "from": user + "@" + random.choice(DOMAINS),
        "message": random.choice(MESSAGES),
    }


def ensure_topic(brokers, topic, partitions):
    admin = AdminClient({"bootstrap.servers": brokers})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions)])
    try:
        futures[topic].result()
    except KafkaException as e:
        if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
            raise


def start_at_end(brokers, topic, group):
    """Commit the topic's end offsets for partitions the group never
    committed, so a new group starts with the letters produced from now on.
    It runs before the producer starts, so no letter slips in between."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False})
    try:
        meta = c.list_topics(topic, timeout=10)
        parts = [TopicPartition(topic, p) for p in meta.topics[topic].partitions]
        fresh = []
        for p in c.committed(parts, timeout=10):
            if p.offset < 0:
                _, high = c.get_watermark_offsets(p, timeout=10)
                fresh.append(TopicPartition(topic, p.partition, high))
        if fresh:
            c.commit(offsets=fresh, asynchronous=False)
    finally:
        c.close()


def produce(args):
    producer = Producer({"bootstrap.servers": args.brokers, "acks": "all"})
    sent = 0
    while not stop.is_set() and (args.count == 0 or sent < args.count):
        letter = random_letter()
        key = letter["to"] if args.mode == "keyed" else None
        producer.produce(args.topic, value=json.dumps(letter), key=key)
        # Wait for the ack, a little at a time: with the broker down a
        # letter waits for it, and Ctrl-C must still stop the program.
        while producer.flush(0.2) > 0 and not stop.is_set():
            pass
        sent += 1
        stop.wait(1 / args.rate)
    producer.flush(1)


def consume(i, group, args):
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": group,
        "client.id": f"consumer-{i}-pid{os.getpid()}",  # how the console names this member
        "enable.auto.commit": True,
        "auto.offset.reset": "earliest",  # start_at_end committed where new groups begin
        # A consumer killed with kill -9 gives its partitions to the others
        # after this long (librdkafka's default is 45 s); it also bounds
        # how long Ctrl-C waits when the broker is gone.
        "session.timeout.ms": 10000,
    })

    consumer.subscribe([args.topic])
    try:
        while not stop.is_set():
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                print(f"Consumer {i}: error: {msg.error()}", file=sys.stderr)
                continue
            key = msg.key().decode() if msg.key() is not None else None
            with print_lock:
                print(f"Consumer {i}: {msg.value().decode()} (key: {key})", flush=True)
    finally:
        consumer.close()  # commits and leaves the group


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["independent", "group", "keyed"], default="independent")
    parser.add_argument("--consumers", type=int, default=3)
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="post.office")
    parser.add_argument("--group", default="post-office")
    parser.add_argument("--rate", type=float, default=1.0, help="letters per second")
    parser.add_argument("--partitions", type=int, default=5, help="if the topic must be created")
    parser.add_argument("--count", type=int, default=0, help="stop producing after this many (0: never)")
    args = parser.parse_args()
    if args.consumers < 1 or args.rate <= 0 or args.partitions < 1 or args.count < 0:
        parser.error("--consumers and --partitions must be at least 1, --rate above 0, --count not negative")

    ensure_topic(args.brokers, args.topic, args.partitions)
    run_id = random.randrange(1000000)
    groups = [f"{args.group}-{run_id:06d}-{i}" if args.mode == "independent" else args.group
              for i in range(args.consumers)]
    for group in dict.fromkeys(groups):
        start_at_end(args.brokers, args.topic, group)

    def on_sigint(signum, frame):
        print("SIGINT received. Stopping threads...", flush=True)
        stop.set()

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigint)

    threads = []
    for i, group in enumerate(groups):
        threads.append(threading.Thread(target=consume, args=(i, group, args)))
    threads.append(threading.Thread(target=produce, args=(args,)))
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.2)


if __name__ == "__main__":
    main()
