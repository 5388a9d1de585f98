"""confluent-kafka-python runner of the client matrix (Debian's package, on
Debian's librdkafka)."""

import concurrent.futures
import time

from confluent_kafka import Consumer, KafkaError, OFFSET_BEGINNING, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from common import Fail, Record, left, librdkafka_security, per_partition, read_records, run, write_lines, write_records

# Room for the matrix's 1 MiB records.
MAX_BYTES = 4000000


def conf(a, **extra):
    c = {"bootstrap.servers": a.bootstrap}
    c.update(librdkafka_security(a))
    c.update(extra)
    return c


def topic_names(adm, a):
    # Listing every topic: asking for one by name through this producer-type
    # handle would let the broker auto-create it.
    return adm.list_topics(timeout=max(1, left(a))).topics


def wait(future, a, what):
    # Creating or deleting a topic takes milliseconds; a step that takes
    # seconds is the failure to report, not a reason to wait out the scenario.
    limit = min(10.0, left(a))
    try:
        future.result(timeout=limit)
    except concurrent.futures.TimeoutError:
        raise Fail("%s: no answer within %.0fs" % (what, limit))


def admin(a):
    adm = AdminClient(conf(a))
    fs = adm.create_topics([NewTopic(a.topic, num_partitions=a.partitions, replication_factor=a.rf)],
                           operation_timeout=10)
    wait(fs[a.topic], a, "create topic")
    while True:
        t = topic_names(adm, a).get(a.topic)
        if t is not None and t.error is None and len(t.partitions) == a.partitions:
            break
        if left(a) == 0:
            raise Fail("describe topic: %s" % (t and (t.error, len(t.partitions))))
        time.sleep(0.1)
    wait(adm.delete_topics([a.topic], operation_timeout=10)[a.topic], a, "delete topic")
    while a.topic in topic_names(adm, a):
        if left(a) == 0:
            raise Fail("deleted topic still listed")
        time.sleep(0.1)


def produce(a):
    want = read_records(a.inp)
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(err)

    c = {
        "acks": "all",
        "compression.type": a.codec,
        "enable.idempotence": a.idempotent or a.transactional,
        "message.max.bytes": MAX_BYTES,
        "linger.ms": 5,
    }
    if a.transactional:
        c["transactional.id"] = a.topic + "-txn"
    p = Producer(conf(a, **c))

    def send():
        for r in want:
            kw = {"partition": r.partition, "headers": r.headers, "on_delivery": delivered}
            if r.timestamp:
                kw["timestamp"] = r.timestamp
            p.produce(a.topic, value=r.value, key=r.key, **kw)
            p.poll(0)
        if p.flush(left(a)) != 0:
            raise Fail("flush: records still queued at the deadline")
        if errors:
            raise Fail("produce: %d failed, first: %s" % (len(errors), errors[0]))

    if a.transactional:
        p.init_transactions(left(a))
        p.begin_transaction()
        send()
        p.abort_transaction(left(a))
        p.begin_transaction()
        send()
        p.commit_transaction(left(a))
    else:
        send()
    write_records(a.out, read_back(a, per_partition(want)))


def consumer(a, **extra):
    return Consumer(conf(a, **dict({
        "enable.auto.commit": False,
        "fetch.message.max.bytes": MAX_BYTES,
        "isolation.level": "read_committed",
    }, **extra)))


def from_msg(m):
    return Record(m.partition(), m.key(), m.value(), m.headers() or [], m.timestamp()[1], m.offset())


def read_back(a, want):
    c = consumer(a, **{"group.id": "matrix-readback-unused"})
    c.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in want])
    got, out = {}, []
    while any(got.get(p, 0) < n for p, n in want.items()):
        if left(a) == 0:
            raise Fail("read back: have %s of %s records per partition" % (got, want))
        m = c.poll(min(1.0, left(a)))
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise Fail("read back: %s" % m.error())
        got[m.partition()] = got.get(m.partition(), 0) + 1
        out.append(from_msg(m))
    c.close()
    return out


def group(a):
    extra = {"group.id": a.group, "auto.offset.reset": "earliest"}
    if a.group_protocol != "classic":
        # Only asked of the PyPI client: Debian's librdkafka 2.0.2 has no KIP-848.
        extra["group.protocol"] = a.group_protocol
    c = consumer(a, **extra)
    c.subscribe([a.topic])
    out = []
    while len(out) < a.count:
        if left(a) == 0:
            raise Fail("consumed %d of %d records" % (len(out), a.count))
        m = c.poll(min(1.0, left(a)))
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise Fail("consume: %s" % m.error())
        out.append(from_msg(m))
    nxt = {}
    for r in out:
        nxt[r.partition] = max(nxt.get(r.partition, 0), r.offset + 1)
    c.commit(offsets=[TopicPartition(a.topic, p, o) for p, o in nxt.items()], asynchronous=False)
    c.close()
    write_records(a.out, out)


def transform(a):
    """Consumes --count records in --group read_committed and, in one
    transaction, produces them to --to and sends their offsets with the
    consumer's group metadata; aborts that transaction with --abort."""
    c = consumer(a, **{"group.id": a.group, "auto.offset.reset": "earliest"})
    c.subscribe([a.topic])
    got = []
    while len(got) < a.count:
        if left(a) == 0:
            raise Fail("consumed %d of %d records" % (len(got), a.count))
        m = c.poll(min(1.0, left(a)))
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise Fail("consume: %s" % m.error())
        got.append(from_msg(m))
    nxt = {}
    for r in got:
        nxt[r.partition] = max(nxt.get(r.partition, 0), r.offset + 1)

    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(err)

    p = Producer(conf(a, **{"acks": "all", "enable.idempotence": True, "transactional.id": a.topic + "-txn",
                            "message.max.bytes": MAX_BYTES, "linger.ms": 5}))
    p.init_transactions(left(a))
    p.begin_transaction()
    for r in got:
        p.produce(a.to, value=r.value, key=r.key, partition=r.partition, headers=r.headers, on_delivery=delivered)
        p.poll(0)
    if p.flush(left(a)) != 0:
        raise Fail("flush: records still queued at the deadline")
    if errors:
        raise Fail("produce: %d failed, first: %s" % (len(errors), errors[0]))
    p.send_offsets_to_transaction([TopicPartition(a.topic, pt, o) for pt, o in nxt.items()],
                                  c.consumer_group_metadata(), left(a))
    if a.abort:
        p.abort_transaction(left(a))
    else:
        p.commit_transaction(left(a))
    c.close()
    write_records(a.out, got)


def offsets(a):
    c = consumer(a, **{"group.id": "matrix-offsets-unused"})
    out = []
    for ts in a.timestamps:
        res = c.offsets_for_times([TopicPartition(a.topic, 0, ts)], timeout=left(a))
        if res[0].error:
            raise Fail("offset for %d: %s" % (ts, res[0].error))
        out.append({"ts": ts, "offset": res[0].offset})
    c.close()
    write_lines(a.out, out)


def metadata(a):
    # A producer handle: librdkafka lets producers ask the broker to create
    # missing topics.
    p = Producer(conf(a))
    last = {"found": False, "partitions": 0}
    while left(a) > 0:
        try:
            md = p.list_topics(topic=a.topic, timeout=max(0.5, min(5, left(a))))
        except Exception as e:
            last = {"found": False, "partitions": 0, "error": str(e)}
            continue
        t = md.topics.get(a.topic)
        if t is not None and t.error is None and t.partitions:
            last = {"found": True, "partitions": len(t.partitions)}
            break
        last = {"found": False, "partitions": 0, "error": str(t.error if t else "not in answer")}
        time.sleep(0.2)
    write_lines(a.out, [last])


if __name__ == "__main__":
    run({"admin": admin, "produce": produce, "group": group, "transform": transform, "offsets": offsets,
         "metadata": metadata})
