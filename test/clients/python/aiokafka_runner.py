"""aiokafka runner of the client matrix (PyPI, in the project's virtualenv)."""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from common import Fail, Record, left, per_partition, read_records, run, security_kwargs, write_lines, write_records

# Room for the matrix's 1 MiB records.
MAX_BYTES = 4000000


def sync(coro_fn):
    """Runs an async scenario from the synchronous runner loop."""
    return lambda a: asyncio.run(coro_fn(a))


async def admin(a):
    adm = AIOKafkaAdminClient(bootstrap_servers=a.bootstrap, **security_kwargs(a, ssl_context=True), request_timeout_ms=10000)
    await adm.start()
    try:
        resp = await adm.create_topics([NewTopic(a.topic, num_partitions=a.partitions, replication_factor=a.rf)])
        for t in resp.topic_errors:
            if t[1]:
                raise Fail("create topic: error %d %s" % (t[1], t[2] if len(t) > 2 else ""))
        while True:
            d = (await adm.describe_topics([a.topic]))[0]
            parts = d["partitions"]
            if d["error_code"] == 0 and len(parts) == a.partitions and all(p["leader"] >= 0 for p in parts):
                break
            if left(a) == 0:
                raise Fail("describe topic: %s" % d)
            await asyncio.sleep(0.1)
        resp = await adm.delete_topics([a.topic])
        for t in resp.topic_error_codes:
            if t[1]:
                raise Fail("delete topic: error %d" % t[1])
        # Listing every topic: aiokafka describes topics with a Metadata
        # request that lets the broker auto-create them, so describing the
        # deleted topic by name would bring it back.
        while a.topic in await adm.list_topics():
            if left(a) == 0:
                raise Fail("deleted topic still listed")
            await asyncio.sleep(0.1)
    finally:
        await adm.close()


def producer(a, **kw):
    return AIOKafkaProducer(bootstrap_servers=a.bootstrap, **security_kwargs(a, ssl_context=True), acks="all", max_request_size=MAX_BYTES,
                            max_batch_size=MAX_BYTES // 2, linger_ms=5, **kw)


async def send(p, topic, recs):
    """Sends every record to its partition and waits for each ack."""
    futures = []
    for r in recs:
        futures.append(await p.send(topic, value=r.value, key=r.key, partition=r.partition,
                                    headers=[(k, v) for k, v in r.headers], timestamp_ms=r.timestamp or None))
    for f in futures:
        await f


async def produce(a):
    want = read_records(a.inp)
    kw = {"compression_type": None if a.codec == "none" else a.codec}
    if a.idempotent or a.transactional:
        kw["enable_idempotence"] = True
    if a.transactional:
        kw["transactional_id"] = a.topic + "-txn"
    p = producer(a, **kw)
    await p.start()
    try:
        if a.transactional:
            await p.begin_transaction()
            await send(p, a.topic, want)
            await p.abort_transaction()
            async with p.transaction():
                await send(p, a.topic, want)
        else:
            await send(p, a.topic, want)
    finally:
        await p.stop()
    write_records(a.out, await read_back(a, per_partition(want)))


def consumer(a, *topics, **kw):
    return AIOKafkaConsumer(*topics, bootstrap_servers=a.bootstrap, **security_kwargs(a, ssl_context=True), enable_auto_commit=False,
                            isolation_level="read_committed", max_partition_fetch_bytes=MAX_BYTES,
                            fetch_max_bytes=2 * MAX_BYTES, **kw)


def from_msg(m):
    return Record(m.partition, m.key, m.value, list(m.headers or []), m.timestamp, m.offset)


async def read_back(a, want):
    c = consumer(a)
    await c.start()
    try:
        tps = [TopicPartition(a.topic, p) for p in want]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        got, out = {}, []
        while any(got.get(p, 0) < n for p, n in want.items()):
            if left(a) == 0:
                raise Fail("read back: have %s of %s records per partition" % (got, want))
            for tp, msgs in (await c.getmany(timeout_ms=500)).items():
                for m in msgs:
                    got[m.partition] = got.get(m.partition, 0) + 1
                    out.append(from_msg(m))
        return out
    finally:
        await c.stop()


async def take(c, a):
    got = []
    while len(got) < a.count:
        if left(a) == 0:
            raise Fail("consumed %d of %d records" % (len(got), a.count))
        for tp, msgs in (await c.getmany(timeout_ms=500, max_records=a.count - len(got))).items():
            got.extend(from_msg(m) for m in msgs)
    nxt = {}
    for r in got:
        nxt[r.partition] = max(nxt.get(r.partition, 0), r.offset + 1)
    return got, {TopicPartition(a.topic, p): OffsetAndMetadata(o, "") for p, o in nxt.items()}


async def group(a):
    c = consumer(a, a.topic, group_id=a.group, auto_offset_reset="earliest")
    await c.start()
    try:
        got, offsets = await take(c, a)
        await c.commit(offsets)
    finally:
        await c.stop()
    write_records(a.out, got)


async def transform(a):
    """Consumes --count records in --group read_committed and, in one
    transaction, produces them to --to and sends their offsets to the
    group; aborts that transaction with --abort."""
    c = consumer(a, a.topic, group_id=a.group, auto_offset_reset="earliest")
    await c.start()
    p = producer(a, enable_idempotence=True, transactional_id=a.topic + "-txn")
    await p.start()
    try:
        got, offsets = await take(c, a)
        await p.begin_transaction()
        await send(p, a.to, [Record(r.partition, r.key, r.value, r.headers) for r in got])
        await p.send_offsets_to_transaction(offsets, a.group)
        if a.abort:
            await p.abort_transaction()
        else:
            await p.commit_transaction()
    finally:
        await p.stop()
        await c.stop()
    write_records(a.out, got)


async def offsets(a):
    c = consumer(a)
    await c.start()
    out = []
    try:
        tp = TopicPartition(a.topic, 0)
        for ts in a.timestamps:
            o = (await c.offsets_for_times({tp: ts})).get(tp)
            # aiokafka answers None where Kafka answers -1.
            out.append({"ts": ts, "offset": -1 if o is None else o.offset})
    finally:
        await c.stop()
    write_lines(a.out, out)


async def metadata(a):
    # The producer's metadata request lets the broker auto-create the topic.
    p = AIOKafkaProducer(bootstrap_servers=a.bootstrap, **security_kwargs(a, ssl_context=True), request_timeout_ms=2000)
    await p.start()
    last = {"found": False, "partitions": 0}
    try:
        while left(a) > 0:
            try:
                parts = await asyncio.wait_for(p.partitions_for(a.topic), timeout=max(0.5, min(2.0, left(a))))
            except Exception as e:  # noqa: BLE001 - the last failure is the report
                last = {"found": False, "partitions": 0, "error": "%s: %s" % (type(e).__name__, e)}
                time.sleep(0.2)
                continue
            if parts:
                last = {"found": True, "partitions": len(parts)}
                break
            await asyncio.sleep(0.2)
    finally:
        await p.stop()
    write_lines(a.out, [last])


if __name__ == "__main__":
    run({name: sync(fn) for name, fn in {
        "admin": admin, "produce": produce, "group": group, "transform": transform,
        "offsets": offsets, "metadata": metadata}.items()})
