"""kafka-python runner of the client matrix (Debian's package)."""

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from common import Fail, Record, left, per_partition, read_records, run, write_lines, write_records

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
    adm = KafkaAdminClient(bootstrap_servers=servers(a), request_timeout_ms=10000)
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


def produce(a):
    want = read_records(a.inp)
    p = KafkaProducer(
        bootstrap_servers=servers(a),
        acks="all",
        compression_type=None if a.codec == "none" else a.codec,
        max_request_size=MAX_BYTES,
        linger_ms=5,
    )
    futures = []
    for r in want:
        futures.append(p.send(a.topic, value=r.value, key=r.key, headers=r.headers,
                              partition=r.partition, timestamp_ms=r.timestamp or None))
    p.flush(timeout=left(a))
    for f in futures:
        f.get(timeout=max(1, left(a)))
    p.close(timeout=5)
    write_records(a.out, read_back(a, per_partition(want)))


def from_rec(m):
    return Record(m.partition, m.key, m.value, m.headers or [], m.timestamp, m.offset)


def consumer(a, *topics, **kw):
    return KafkaConsumer(*topics, bootstrap_servers=servers(a), enable_auto_commit=False,
                         max_partition_fetch_bytes=MAX_BYTES, fetch_max_bytes=2 * MAX_BYTES, **kw)


def read_back(a, want):
    c = consumer(a)
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
    c.commit({TopicPartition(a.topic, p): OffsetAndMetadata(o, "") for p, o in nxt.items()})
    c.close()
    write_records(a.out, out)


def offsets(a):
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
    p = KafkaProducer(bootstrap_servers=servers(a), max_block_ms=1000)
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
    run({"admin": admin, "produce": produce, "group": group, "offsets": offsets, "metadata": metadata})
