"""kafka-python runner of the client matrix: Debian's 2.0.2 on /usr/bin/python3
and PyPI's 2.x in the project's virtualenv. The idempotent and transactional
paths are only asked of the PyPI version; Debian's has neither."""

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from common import Fail, Record, left, per_partition, read_records, run, security_kwargs, write_lines, write_records

MAX_BYTES = 4000000


def servers(a):
    return a.bootstrap.split(",")


def describe(adm, topic):
    for t in adm.describe_topics([topic]):
        if t["topic"] == topic:
            return t
    return None


def admin(a):
    # Creating a topic takes milliseconds; a step that takes seconds is the
    # failure to report, not a reason to wait out the whole scenario.
    adm = KafkaAdminClient(bootstrap_servers=servers(a), **security_kwargs(a), request_timeout_ms=10000)
    resp = adm.create_topics([NewTopic(a.topic, num_partitions=a.partitions, replication_factor=a.rf)])
    for name, code, msg in getattr(resp, "topic_errors", []):
        if code:
            raise Fail("create topic: error %d %s" % (code, msg))
    while True:
        t = describe(adm, a.topic)
        if t and t["error_code"] == 0 and len(t["partitions"]) == a.partitions:
            break
        if left(a) == 0:
            raise Fail("describe topic: %s" % t)
        time.sleep(0.1)
    resp = adm.delete_topics([a.topic])
    for name, code in getattr(resp, "topic_error_codes", []):
        if code:
            raise Fail("delete topic: error %d" % code)
    while True:
        t = describe(adm, a.topic)
        if t and t["error_code"] == 3:  # UNKNOWN_TOPIC_OR_PARTITION
            break
        if left(a) == 0:
            raise Fail("deleted topic still described: %s" % t)
        time.sleep(0.1)
    adm.close()


def producer(a, **kw):
    return KafkaProducer(bootstrap_servers=servers(a), **security_kwargs(a), acks="all", max_request_size=MAX_BYTES, linger_ms=5, **kw)


def send(p, a, topic, recs):
    """Sends every record to its partition of topic and waits for each ack."""
    futures = []
    for r in recs:
        futures.append(p.send(topic, value=r.value, key=r.key, headers=r.headers,
                              partition=r.partition, timestamp_ms=r.timestamp or None))
    p.flush(timeout=left(a))
    for f in futures:
        f.get(timeout=max(1, left(a)))


def produce(a):
    want = read_records(a.inp)
    kw = {}
    # Only asked when the client has them (not Debian's 2.0.2).
    if a.idempotent or a.transactional:
        kw["enable_idempotence"] = True
    if a.transactional:
        kw["transactional_id"] = a.topic + "-txn"
    p = producer(a, compression_type=None if a.codec == "none" else a.codec, **kw)
    if a.transactional:
        p.init_transactions()
        p.begin_transaction()
        send(p, a, a.topic, want)
        p.abort_transaction()
        p.begin_transaction()
        send(p, a, a.topic, want)
        p.commit_transaction()
    else:
        send(p, a, a.topic, want)
    p.close(timeout=5)
    write_records(a.out, read_back(a, per_partition(want), committed=a.transactional))


def from_rec(m):
    return Record(m.partition, m.key, m.value, m.headers or [], m.timestamp, m.offset)


def consumer(a, *topics, **kw):
    return KafkaConsumer(*topics, bootstrap_servers=servers(a), **security_kwargs(a), enable_auto_commit=False,
                         max_partition_fetch_bytes=MAX_BYTES, fetch_max_bytes=2 * MAX_BYTES, **kw)


def read_back(a, want, committed=False):
    c = consumer(a, **({"isolation_level": "read_committed"} if committed else {}))
    tps = [TopicPartition(a.topic, p) for p in want]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got, out = {}, []
    while any(got.get(p, 0) < n for p, n in want.items()):
        if left(a) == 0:
            raise Fail("read back: have %s of %s records per partition" % (got, want))
        for tp, recs in c.poll(timeout_ms=500).items():
            for m in recs:
                got[m.partition] = got.get(m.partition, 0) + 1
                out.append(from_rec(m))
    c.close()
    return out


def group(a):
    c = consumer(a, a.topic, group_id=a.group, auto_offset_reset="earliest")
    out = []
    while len(out) < a.count:
        if left(a) == 0:
            raise Fail("consumed %d of %d records" % (len(out), a.count))
        for tp, recs in c.poll(timeout_ms=500, max_records=a.count - len(out)).items():
            out.extend(from_rec(m) for m in recs)
    nxt = {}
    for r in out:
        nxt[r.partition] = max(nxt.get(r.partition, 0), r.offset + 1)
    c.commit(offsets(a, nxt))
    c.close()
    write_records(a.out, out)


def offsets(a, nxt):
    # 2.0.2's OffsetAndMetadata has no leader epoch; later ones do.
    extra = ("",) if len(OffsetAndMetadata._fields) == 2 else ("", -1)
    return {TopicPartition(a.topic, p): OffsetAndMetadata(o, *extra) for p, o in nxt.items()}


def transform(a):
    """Consumes --count records in --group read_committed and, in one
    transaction, produces them to --to and sends their offsets to the
    group; aborts that transaction with --abort."""
    c = consumer(a, a.topic, group_id=a.group, auto_offset_reset="earliest", isolation_level="read_committed")
    got = []
    while len(got) < a.count:
        if left(a) == 0:
            raise Fail("consumed %d of %d records" % (len(got), a.count))
        for tp, recs in c.poll(timeout_ms=500, max_records=a.count - len(got)).items():
            got.extend(from_rec(m) for m in recs)
    nxt = {}
    for r in got:
        nxt[r.partition] = max(nxt.get(r.partition, 0), r.offset + 1)
    p = producer(a, enable_idempotence=True, transactional_id=a.topic + "-txn")
    p.init_transactions()
    p.begin_transaction()
    send(p, a, a.to, [Record(r.partition, r.key, r.value, r.headers) for r in got])
    p.send_offsets_to_transaction(offsets(a, nxt), a.group)
    if a.abort:
        p.abort_transaction()
    else:
        p.commit_transaction()
    p.close(timeout=5)
    c.close()
    write_records(a.out, got)


def offsets_by_time(a):
    c = consumer(a)
    out = []
    for ts in a.timestamps:
        tp = TopicPartition(a.topic, 0)
        res = c.offsets_for_times({tp: ts})
        # kafka-python answers None where Kafka answers -1.
        o = res.get(tp)
        out.append({"ts": ts, "offset": -1 if o is None else o.offset})
    c.close()
    write_lines(a.out, out)


def metadata(a):
    # The producer asks with Metadata v1, which lets the broker auto-create.
    p = KafkaProducer(bootstrap_servers=servers(a), **security_kwargs(a), max_block_ms=1000)
    last = {"found": False, "partitions": 0}
    while left(a) > 0:
        try:
            parts = p.partitions_for(a.topic)
        except Exception as e:
            last = {"found": False, "partitions": 0, "error": "%s: %s" % (type(e).__name__, e)}
            continue
        if parts:
            last = {"found": True, "partitions": len(parts)}
            break
        time.sleep(0.2)
    p.close(timeout=1)
    write_lines(a.out, [last])


if __name__ == "__main__":
    run({"admin": admin, "produce": produce, "group": group, "transform": transform, "offsets": offsets_by_time,
         "metadata": metadata})
