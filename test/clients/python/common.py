"""The runner contract of the client matrix, for the Python runners.

Mirrors test/clients/internal/spec: the same flags, JSON-lines record files
with base64 keys, values and header values (null for null), and one line of
failure reason on stdout with exit status 1.
"""

import argparse
import base64
import json
import os
import sys
import threading
import time


# Seconds past --timeout before the watchdog gives up on a blocked call.
GRACE = 5


class Fail(Exception):
    """A scenario failure; its message is the cell's reason."""


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--topic", default="")
    p.add_argument("--in", dest="inp", default="")
    p.add_argument("--out", default="")
    p.add_argument("--group", default="")
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--codec", default="none")
    p.add_argument("--idempotent", action="store_true")
    p.add_argument("--transactional", action="store_true")
    p.add_argument("--to", default="")
    p.add_argument("--abort", action="store_true")
    p.add_argument("--group-protocol", default="classic")
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--rf", type=int, default=1)
    p.add_argument("--timestamps", default="")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--security-protocol", default="PLAINTEXT")
    p.add_argument("--sasl-mechanism", default="SCRAM-SHA-512")
    p.add_argument("--sasl-user", default="")
    p.add_argument("--sasl-password", default="")
    p.add_argument("--ca-file", default="")
    a = p.parse_args()
    a.timestamps = [int(t) for t in a.timestamps.split(",") if t]
    a.deadline = time.monotonic() + a.timeout
    return a


def security_kwargs(a, ssl_context=False):
    """kafka-python's (and aiokafka's) security arguments for the flags.

    aiokafka takes an SSLContext where kafka-python takes the CA file."""
    kw = {"security_protocol": a.security_protocol}
    if a.security_protocol.endswith("SSL"):
        if ssl_context:
            import ssl
            kw["ssl_context"] = ssl.create_default_context(cafile=a.ca_file)
        else:
            kw["ssl_cafile"] = a.ca_file
    if a.security_protocol.startswith("SASL_"):
        kw.update(sasl_mechanism=a.sasl_mechanism, sasl_plain_username=a.sasl_user, sasl_plain_password=a.sasl_password)
    return kw


def librdkafka_security(a):
    """librdkafka's configuration for the flags."""
    c = {"security.protocol": a.security_protocol.lower()}
    if a.security_protocol.endswith("SSL"):
        c["ssl.ca.location"] = a.ca_file
    if a.security_protocol.startswith("SASL_"):
        c.update({"sasl.mechanisms": a.sasl_mechanism, "sasl.username": a.sasl_user, "sasl.password": a.sasl_password})
    return c


def left(a):
    """Seconds until the scenario's deadline."""
    return max(0.0, a.deadline - time.monotonic())


def _b(v):
    return None if v is None else base64.b64decode(v)


def _e(v):
    return None if v is None else base64.b64encode(bytes(v)).decode()


class Record:
    def __init__(self, partition, key, value, headers, timestamp=0, offset=0):
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers  # [(str, bytes)]
        self.timestamp = timestamp
        self.offset = offset


def read_records(path):
    out = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            out.append(Record(d["p"], _b(d["k"]), _b(d["v"]),
                              [(h["k"], _b(h["v"])) for h in d.get("h") or []],
                              d.get("ts", 0)))
    return out


def write_records(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps({
                "p": r.partition, "o": r.offset, "k": _e(r.key), "v": _e(r.value),
                "h": [{"k": k, "v": _e(v)} for k, v in r.headers or []],
                "ts": r.timestamp,
            }) + "\n")


def write_lines(path, objs):
    with open(path, "w") as f:
        for o in objs:
            f.write(json.dumps(o) + "\n")


def per_partition(recs):
    m = {}
    for r in recs:
        m[r.partition] = m.get(r.partition, 0) + 1
    return m


def run(scenarios):
    """Runs the scenario named by --scenario and exits per the contract."""
    a = parse_args()
    fn = scenarios.get(a.scenario)
    # Some client calls block past any timeout they are given (kafka-python's
    # group join waits for a coordinator forever); the deadline still holds.
    watchdog = threading.Timer(a.timeout + GRACE, _deadline, [a.timeout + GRACE])
    watchdog.daemon = True
    watchdog.start()
    try:
        if fn is None:
            raise Fail("unknown scenario %r" % a.scenario)
        fn(a)
    except Exception as e:  # every failure becomes the one-line reason
        msg = "%s: %s" % (type(e).__name__, e) if not isinstance(e, Fail) else str(e)
        print(msg.replace("\n", " | "))
        _exit(1)
    _exit(0)


def _deadline(seconds):
    print("no result within %gs (the client call did not return)" % seconds)
    _exit(1)


def _exit(code):
    # Client libraries leave background threads behind; do not wait for them.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
