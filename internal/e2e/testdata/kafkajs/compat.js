'use strict'
// kafkajs against a Samsa broker: admin calls, a producer with keys, headers,
// timestamps, acks -1 and 1 and GZIP, and the offset queries. Usage:
//
//   node compat.js <bootstrap host:port>
//
// It prints one JSON object on stdout with what each call answered; errors
// are caught and printed as {name, type, code, message}, so the Go test
// (../../kafkajs_test.go) decides what is right. kafkajs has no consumer
// without a group, so the Go test reads the produced records back with
// franz-go, comparing them with the "sent" lists printed here.

const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs')

const [broker] = process.argv.slice(2)
if (!broker) {
  console.error('usage: node compat.js <bootstrap host:port>')
  process.exit(2)
}

// BASE_TS is the timestamp of the first produced message (ms).
const BASE_TS = 1700000000000

const kafka = new Kafka({
  clientId: 'samsa-e2e-kafkajs',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 5000,
  requestTimeout: 10000,
  retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 500 },
})

// errorInfo turns a kafkajs error into plain JSON; an error that gave up
// retrying (KafkaJSNumberOfRetriesExceeded) is reported by its cause, the
// last protocol error.
function errorInfo(e) {
  while (e.cause && e.name === 'KafkaJSNumberOfRetriesExceeded') {
    e = e.cause
  }
  return { name: e.name, type: e.type || null, code: e.code ?? null, message: e.message }
}

// attempt runs fn and returns {ok: result} or {error: errorInfo}.
async function attempt(fn) {
  try {
    return { ok: (await fn()) ?? null }
  } catch (e) {
    return { error: errorInfo(e) }
  }
}

// metadata returns the topics' partitions sorted by id, by topic name.
async function metadata(admin, topics) {
  const md = await admin.fetchTopicMetadata({ topics })
  const out = {}
  for (const t of md.topics) {
    out[t.name] = t.partitions
      .map(p => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, errorCode: p.partitionErrorCode }))
      .sort((a, b) => a.partition - b.partition)
  }
  return out
}

// configs describes a topic's configs by name.
async function configs(admin, topic) {
  const res = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
  })
  const r = res.resources[0]
  const out = { errorCode: r.errorCode, entries: {} }
  for (const c of r.configEntries) {
    out.entries[c.configName] = { value: c.configValue, isDefault: c.isDefault, source: c.configSource, readOnly: c.readOnly }
  }
  return out
}

// messages builds n keyed messages for topic: six keys, a null value every
// 20th message, two headers and a timestamp each.
function messages(topic, n) {
  const out = []
  for (let i = 0; i < n; i++) {
    out.push({
      key: `key-${i % 6}`,
      value: i % 20 === 7 ? null : `${topic} value ${i}`,
      headers: { n: String(i), client: 'kafkajs' },
      timestamp: String(BASE_TS + i),
    })
  }
  return out
}

async function main() {
  const out = {}
  const admin = kafka.admin()
  await admin.connect()
  try {
    out.create = await attempt(() =>
      admin.createTopics({
        topics: [
          { topic: 'js-three', numPartitions: 3, replicationFactor: 1 },
          { topic: 'js-default' }, // partitions and replication factor -1: the broker's defaults
          { topic: 'js-acks-all', numPartitions: 3, replicationFactor: 1 },
          { topic: 'js-acks-leader', numPartitions: 3, replicationFactor: 1 },
          { topic: 'js-gzip', numPartitions: 3, replicationFactor: 1 },
          { topic: 'js-times', numPartitions: 2, replicationFactor: 1 },
        ],
      })
    )
    out.createAgain = await attempt(() =>
      admin.createTopics({ topics: [{ topic: 'js-three', numPartitions: 3, replicationFactor: 1 }] })
    )
    out.topics = await metadata(admin, ['js-three', 'js-default'])

    out.increase = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: 'js-three', count: 5 }] }))
    out.decrease = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: 'js-three', count: 2 }] }))
    out.topicsAfterIncrease = await metadata(admin, ['js-three'])

    out.configsBefore = await configs(admin, 'js-three')
    out.alter = await attempt(() =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-three', configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      })
    )
    out.configsAfter = await configs(admin, 'js-three')

    // Produce: three sends of 20 messages per topic.
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    out.produce = {}
    for (const [topic, acks, compression] of [
      ['js-acks-all', -1, CompressionTypes.None],
      ['js-acks-leader', 1, CompressionTypes.None],
      ['js-gzip', -1, CompressionTypes.GZIP],
    ]) {
      const sent = messages(topic, 60)
      const results = []
      for (let i = 0; i < sent.length; i += 20) {
        const r = await attempt(() => producer.send({ topic, acks, compression, messages: sent.slice(i, i + 20) }))
        results.push(r)
      }
      out.produce[topic] = { sent, results }
    }

    // Offsets: ten messages a second apart in js-times partition 0;
    // partition 1 stays empty.
    const timed = []
    for (let i = 0; i < 10; i++) {
      timed.push({ partition: 0, value: `t${i}`, timestamp: String(BASE_TS + i * 1000) })
    }
    out.produceTimes = await attempt(() => producer.send({ topic: 'js-times', acks: -1, messages: timed }))
    await producer.disconnect()

    out.offsets = await attempt(() => admin.fetchTopicOffsets('js-times'))
    out.offsetsByTimestamp = {}
    for (const [name, ts] of [
      ['before', BASE_TS - 3600000],
      ['first', BASE_TS],
      ['between', BASE_TS + 3500],
      ['last', BASE_TS + 9000],
      ['after', BASE_TS + 10000],
    ]) {
      out.offsetsByTimestamp[name] = await attempt(() => admin.fetchTopicOffsetsByTimestamp('js-times', ts))
    }

    out.delete = await attempt(() => admin.deleteTopics({ topics: ['js-default'] }))
    out.deleteUnknown = await attempt(() => admin.deleteTopics({ topics: ['js-never-created'] }))
    out.topicsAfterDelete = (await admin.listTopics()).sort()
  } finally {
    await admin.disconnect()
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
