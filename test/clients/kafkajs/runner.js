// kafkajs runner of the client matrix. The contract (flags, JSON-lines
// record files, one line of failure reason) is test/clients/internal/spec's.
'use strict'

const fs = require('fs')
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec

const codecs = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

const MAX_BYTES = 4000000

class Fail extends Error {}

function parseArgs(argv) {
  const a = { codec: 'none', partitions: 3, rf: 1, timeout: 30, timestamps: [], idempotent: false, transactional: false, abort: false }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '')
    if (name === 'idempotent' || name === 'transactional' || name === 'abort') {
      a[name] = true
      continue
    }
    a[name === 'in' ? 'inp' : name] = argv[++i]
  }
  a.partitions = Number(a.partitions)
  a.rf = Number(a.rf)
  a.count = Number(a.count || 0)
  a.timeout = Number(a.timeout)
  a.timestamps = a.timestamps.length ? a.timestamps.split(',').map(Number) : []
  a.deadline = Date.now() + a.timeout * 1000
  return a
}

const left = a => Math.max(0, a.deadline - Date.now())
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const b64 = v => (v === null || v === undefined ? null : Buffer.from(v, 'base64'))
const e64 = v => (v === null || v === undefined ? null : Buffer.from(v).toString('base64'))

function readRecords(path) {
  return fs
    .readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const d = JSON.parse(line)
      return { p: d.p, k: b64(d.k), v: b64(d.v), h: (d.h || []).map(h => [h.k, b64(h.v)]), ts: d.ts || 0 }
    })
}

function writeLines(path, objs) {
  fs.writeFileSync(path, objs.map(o => JSON.stringify(o) + '\n').join(''))
}

// kafkajs takes headers as an object; a repeated key becomes an array.
function headersObject(list) {
  const out = {}
  for (const [k, v] of list) {
    if (out[k] === undefined) out[k] = v
    else out[k] = [].concat(out[k], [v])
  }
  return out
}

function headersList(obj) {
  const out = []
  for (const k of Object.keys(obj || {})) {
    for (const v of [].concat(obj[k])) out.push({ k, v: e64(v) })
  }
  return out
}

function client(a, retries = 5) {
  return new Kafka({
    clientId: 'spool-matrix-kafkajs',
    brokers: a.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries, initialRetryTime: 200 },
    ...security(a),
  })
}

// security is kafkajs's ssl and sasl options for the matrix's security
// flags (--security-protocol, --sasl-mechanism, --sasl-user,
// --sasl-password, --ca-file).
function security(a) {
  const protocol = a['security-protocol'] || 'PLAINTEXT'
  const out = {}
  if (protocol.endsWith('SSL')) {
    out.ssl = { ca: [fs.readFileSync(a['ca-file'], 'utf8')] }
  }
  if (protocol.startsWith('SASL_')) {
    out.sasl = { mechanism: a['sasl-mechanism'].toLowerCase(), username: a['sasl-user'], password: a['sasl-password'] }
  }
  return out
}

async function admin(a) {
  const adm = client(a).admin()
  await adm.connect()
  await adm.createTopics({
    topics: [{ topic: a.topic, numPartitions: a.partitions, replicationFactor: a.rf }],
    waitForLeaders: true,
    timeout: 10000,
  })
  for (;;) {
    const md = await adm.fetchTopicMetadata({ topics: [a.topic] })
    if (md.topics.length === 1 && md.topics[0].partitions.length === a.partitions) break
    if (!left(a)) throw new Fail(`describe topic: ${JSON.stringify(md)}`)
    await sleep(100)
  }
  await adm.deleteTopics({ topics: [a.topic], timeout: 10000 })
  while ((await adm.listTopics()).includes(a.topic)) {
    if (!left(a)) throw new Fail('deleted topic still listed')
    await sleep(100)
  }
  await adm.disconnect()
}

async function produce(a) {
  const want = readRecords(a.inp)
  const producer = client(a).producer({
    idempotent: a.idempotent || a.transactional,
    maxInFlightRequests: a.idempotent || a.transactional ? 1 : undefined,
    transactionalId: a.transactional ? `${a.topic}-txn` : undefined,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  const batch = {
    topic: a.topic,
    acks: -1,
    compression: codecs[a.codec],
    messages: want.map(r => {
      const m = { partition: r.p, key: r.k, value: r.v, headers: headersObject(r.h) }
      if (r.ts) m.timestamp = String(r.ts)
      return m
    }),
  }
  if (a.transactional) {
    for (const commit of [false, true]) {
      const txn = await producer.transaction()
      await txn.send(batch)
      await (commit ? txn.commit() : txn.abort())
    }
  } else {
    await producer.send(batch)
  }
  await producer.disconnect()
  // kafkajs consumes only in a group: there is no assign-only consumer.
  const got = await consume(a, `${a.topic}-readback`, want.length)
  writeLines(a.out, got)
}

// consume reads n records in the group from the earliest offset, commits
// exactly those, and leaves.
async function consume(a, groupId, n) {
  const consumer = client(a).consumer({ groupId, maxBytesPerPartition: MAX_BYTES, maxBytes: 2 * MAX_BYTES })
  await consumer.connect()
  await consumer.subscribe({ topics: [a.topic], fromBeginning: true })
  const got = []
  let done
  const finished = new Promise(resolve => (done = resolve))
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (got.length >= n) return
      got.push({
        p: partition,
        o: Number(message.offset),
        k: e64(message.key),
        v: e64(message.value),
        h: headersList(message.headers),
        ts: Number(message.timestamp),
      })
      if (got.length === n) done()
    },
  })
  const timer = sleep(left(a)).then(() => 'timeout')
  if ((await Promise.race([finished, timer])) === 'timeout') {
    throw new Fail(`consumed ${got.length} of ${n} records`)
  }
  const next = {}
  for (const r of got) next[r.p] = Math.max(next[r.p] || 0, r.o + 1)
  await consumer.commitOffsets(
    Object.entries(next).map(([p, o]) => ({ topic: a.topic, partition: Number(p), offset: String(o) }))
  )
  await consumer.disconnect()
  return got
}

// transform consumes --count records in --group (read_committed, kafkajs's
// default) and, in one transaction, sends them to --to and their offsets to
// the group; with --abort it aborts that transaction.
async function transform(a) {
  const kafka = client(a)
  const consumer = kafka.consumer({ groupId: a.group, maxBytesPerPartition: MAX_BYTES, maxBytes: 2 * MAX_BYTES })
  await consumer.connect()
  await consumer.subscribe({ topics: [a.topic], fromBeginning: true })
  const got = []
  let done
  const finished = new Promise(resolve => (done = resolve))
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (got.length >= a.count) return
      got.push({ p: partition, o: Number(message.offset), k: message.key, v: message.value, h: message.headers })
      if (got.length === a.count) done()
    },
  })
  const timer = sleep(left(a)).then(() => 'timeout')
  if ((await Promise.race([finished, timer])) === 'timeout') {
    throw new Fail(`consumed ${got.length} of ${a.count} records`)
  }
  await consumer.pause([{ topic: a.topic }])

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: `${a.topic}-txn` })
  await producer.connect()
  const txn = await producer.transaction()
  await txn.send({
    topic: a.to,
    acks: -1,
    messages: got.map(r => ({ partition: r.p, key: r.k, value: r.v, headers: r.h })),
  })
  const next = {}
  for (const r of got) next[r.p] = Math.max(next[r.p] || 0, r.o + 1)
  await txn.sendOffsets({
    consumerGroupId: a.group,
    topics: [{ topic: a.topic, partitions: Object.entries(next).map(([p, o]) => ({ partition: Number(p), offset: String(o) })) }],
  })
  await (a.abort ? txn.abort() : txn.commit())
  await producer.disconnect()
  await consumer.disconnect()
  writeLines(
    a.out,
    got.map(r => ({ p: r.p, o: r.o, k: e64(r.k), v: e64(r.v), h: headersList(r.h) }))
  )
}

async function group(a) {
  writeLines(a.out, await consume(a, a.group, a.count))
}

async function offsets(a) {
  const adm = client(a).admin()
  await adm.connect()
  const out = []
  for (const ts of a.timestamps) {
    const res = await adm.fetchTopicOffsetsByTimestamp(a.topic, ts)
    const p0 = res.find(r => r.partition === 0)
    if (!p0) throw new Fail(`no answer for partition 0 at ${ts}`)
    out.push({ ts, offset: Number(p0.offset) })
  }
  await adm.disconnect()
  writeLines(a.out, out)
}

// metadata: subscribing loads the topic's metadata with the consumer's
// allowAutoTopicCreation (on by default), without joining the group.
async function metadata(a) {
  const kafka = client(a, 1)
  let last = { found: false, partitions: 0 }
  while (left(a)) {
    const consumer = kafka.consumer({ groupId: `${a.topic}-metadata`, allowAutoTopicCreation: true })
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [a.topic] })
    } catch (e) {
      last = { found: false, partitions: 0, error: `${e.name}: ${e.message}` }
    }
    await consumer.disconnect()
    const adm = kafka.admin()
    await adm.connect()
    try {
      const md = await adm.fetchTopicMetadata({ topics: [a.topic] })
      const t = md.topics.find(t => t.name === a.topic)
      if (t && t.partitions.length) last = { found: true, partitions: t.partitions.length }
    } catch (e) {
      if (!last.error) last = { found: false, partitions: 0, error: `${e.name}: ${e.message}` }
    }
    await adm.disconnect()
    if (last.found) break
    await sleep(200)
  }
  writeLines(a.out, [last])
}

const scenarios = { admin, produce, group, transform, offsets, metadata }

async function main() {
  const a = parseArgs(process.argv.slice(2))
  // A client call that ignores its own timeouts still ends at the deadline.
  const grace = 5
  setTimeout(() => {
    process.stdout.write(`no result within ${a.timeout + grace}s (the client call did not return)\n`)
    process.exit(1)
  }, (a.timeout + grace) * 1000).unref()
  const fn = scenarios[a.scenario]
  if (!fn) throw new Fail(`unknown scenario ${a.scenario}`)
  await fn(a)
}

main().then(
  () => process.exit(0),
  e => {
    const msg = e instanceof Fail ? e.message : `${e.name}: ${e.message}`
    process.stdout.write(msg.replace(/\n/g, ' | ') + '\n')
    process.exit(1)
  }
)
