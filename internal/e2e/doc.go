// Package e2e holds end-to-end tests that run the real `samsa` binary as a
// child process and talk to it with other clients, the way users do:
//
//   - kcat_test.go: kcat (librdkafka) lists metadata, produces keyed lines
//     with every compression codec, consumes them back and queries offsets
//     for times.
//   - python_test.go: scripts in testdata/*.py use confluent-kafka-python
//     (also librdkafka) for the AdminClient calls, a Producer with keys,
//     headers, timestamps, codecs and idempotence, and an assign()ed
//     Consumer.
//   - groups_test.go: the lab's tasks 1–3 with confluent-kafka group
//     consumers (testdata/groups_*.py), takeover after a consumer is
//     killed, resume after a broker restart, static members, kcat -G, and a
//     broker SIGKILL while a group commits.
//   - sarama_test.go: IBM/sarama at Kafka versions 0.10.2, 2.1 and 3.6
//     (old message formats through record batches): ClusterAdmin, sync
//     producers with every acks and codec, idempotence, partition consumers,
//     offsets by time and DeleteRecords.
//   - kafkajs_test.go: testdata/kafkajs/compat.js (kafkajs pinned by its
//     package-lock.json, installed by test.sh with npm ci) for admin calls
//     and producing; Go reads the records back.
//   - crash_test.go: the durability proof. franz-go producers write with
//     acks=all while the test SIGKILLs and restarts the broker on the same
//     data directory; every acknowledged record must be found at its offset,
//     exactly once. A SIGTERM instead must exit 0 and leave the clean-shutdown
//     marker, so the next start skips recovery.
//
// The binary is built once per test process (samsatest.BuildBinary) and
// started with samsatest.StartProcess on 127.0.0.1:0 with a temporary data
// directory; nothing here imports broker internals, only the Kafka protocol
// (franz-go kgo, kadm and kmsg) and the broker's log lines.
//
// External tools come from Debian: `apt-get install kcat
// python3-confluent-kafka nodejs npm` (scripts run with /usr/bin/python3). Locally a
// missing tool skips its tests with the package name to install; in CI
// (CI set, see .ci/run) test.sh installs both with apt-get before running
// the tests, and a missing tool fails instead of skipping.
//
// Every child (samsa, kcat, python3) runs under a deadline, tests wait by
// polling (samsatest.Eventually), never by sleeping, and assert on what the
// clients saw, never on timing.
package e2e
