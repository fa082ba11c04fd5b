"""AdminClient walk-through: create, list, grow/shrink, configs, delete.

Usage: admin.py BOOTSTRAP. Prints one JSON object with what each call
returned; the Go test asserts on it.
"""

import json
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

from kafkautil import error_json

TIMEOUT = 20


def outcome(fut):
    """None on success, else the error as JSON."""
    try:
        fut.result(timeout=TIMEOUT)
        return None
    except KafkaException as e:
        return error_json(e.args[0])


def topics(admin):
    md = admin.list_topics(timeout=TIMEOUT)
    return {
        name: {
            "error": error_json(t.error),
            "partitions": {
                str(p.id): {"leader": p.leader, "replicas": list(p.replicas), "isrs": list(p.isrs)}
                for p in t.partitions.values()
            },
        }
        for name, t in md.topics.items()
    }, {str(b.id): "%s:%d" % (b.host, b.port) for b in md.brokers.values()}, md.controller_id


def configs(admin, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    return {
        name: {"value": e.value, "is_default": e.is_default, "source": e.source, "read_only": e.is_read_only}
        for name, e in entries.items()
    }


def main():
    addr = sys.argv[1]
    admin = AdminClient({"bootstrap.servers": addr})
    out = {}

    futs = admin.create_topics([
        NewTopic("py-three", 3, 1),
        NewTopic("py-default", -1),
        NewTopic("py-compact", 1, 1, config={"cleanup.policy": "compact"}),
    ], request_timeout=TIMEOUT)
    out["create"] = {name: outcome(f) for name, f in futs.items()}
    futs = admin.create_topics([NewTopic("py-three", 3, 1)], request_timeout=TIMEOUT)
    out["create_again"] = outcome(futs["py-three"])

    out["topics"], out["brokers"], out["controller"] = topics(admin)

    futs = admin.create_partitions([NewPartitions("py-three", 5)], request_timeout=TIMEOUT)
    out["increase"] = outcome(futs["py-three"])
    futs = admin.create_partitions([NewPartitions("py-three", 2)], request_timeout=TIMEOUT)
    out["decrease"] = outcome(futs["py-three"])
    out["topics_after_increase"], _, _ = topics(admin)

    out["configs_before"] = configs(admin, "py-three")
    out["configs_compact"] = configs(admin, "py-compact")
    res = ConfigResource(ConfigResource.Type.TOPIC, "py-three",
                         set_config={"retention.ms": "3600000", "max.message.bytes": "65536"})
    out["alter"] = outcome(admin.alter_configs([res], request_timeout=TIMEOUT)[res])
    out["configs_after"] = configs(admin, "py-three")
    bad = ConfigResource(ConfigResource.Type.TOPIC, "py-three", set_config={"retention.ms": "not-a-number"})
    out["alter_invalid"] = outcome(admin.alter_configs([bad], request_timeout=TIMEOUT)[bad])

    futs = admin.delete_topics(["py-default"], request_timeout=TIMEOUT)
    out["delete"] = outcome(futs["py-default"])
    futs = admin.delete_topics(["py-never-created"], request_timeout=TIMEOUT)
    out["delete_unknown"] = outcome(futs["py-never-created"])
    out["topics_after_delete"], _, _ = topics(admin)

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
