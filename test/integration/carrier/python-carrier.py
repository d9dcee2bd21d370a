#!/usr/bin/python3
"""A carrier backend written from docs/protocol.md only (paho-mqtt, PyJWT, cryptography; Debian's python3-paho-mqtt,
python3-jwt, python3-cryptography). Run by python-carrier.spec.ts against the real agent.

It connects to the carrier listener with its TLS certificate, subscribes first (results are not retained), sends one
session request built as the page describes and waits for its signed result, verifies it with the device public key
(whose kid it computes itself, RFC 7638), acks it, then sends a request with a wrong reference format and waits for
the signed `schema` rejection naming the field. Prints one JSON object: what it received, for the spec to check.
"""
import argparse
import base64
import hashlib
import json
import os
import queue
import ssl
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kid_of(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 of {"crv","kty","x"} in that order, no spaces; base64url without padding."""
    x = b64url(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return b64url(hashlib.sha256(members.encode()).digest())


def rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def main() -> None:
    p = argparse.ArgumentParser()
    for name in ("host", "port", "ca", "cert", "key", "device", "carrier-key", "device-public-key", "reference"):
        p.add_argument(f"--{name}", required=True)
    a = p.parse_args()

    with open(a.carrier_key, "rb") as f:
        carrier_key = serialization.load_pem_private_key(f.read(), password=None)
    with open(a.device_public_key, "rb") as f:
        device_key = serialization.load_pem_public_key(f.read())
    carrier_kid = kid_of(carrier_key.public_key())
    device_kid = kid_of(device_key)
    prefix = f"regterm/v1/{a.device}"

    messages: "queue.Queue[tuple[str, bytes]]" = queue.Queue()
    subscribed = queue.Queue()
    client = mqtt.Client(client_id=f"py-carrier-{os.getpid()}", protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=a.ca, certfile=a.cert, keyfile=a.key, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.on_message = lambda _c, _u, m: messages.put((m.topic, m.payload))
    client.on_subscribe = lambda *_args: subscribed.put(True)

    def on_connect(c, _u, _flags, _rc, _props=None):
        c.subscribe([(f"{prefix}/status", 1), (f"{prefix}/session/+/result", 1), (f"{prefix}/session/+/progress", 0)])

    client.on_connect = on_connect
    client.connect(a.host, int(a.port))
    client.loop_start()
    subscribed.get(timeout=10)

    seen = {"status": [], "progress": [], "results": []}

    def wait_for(predicate, timeout_s: float):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                topic, payload = messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if topic == f"{prefix}/status":
                seen["status"].append(json.loads(payload))
            elif topic.endswith("/progress"):
                seen["progress"].append(json.loads(payload))
            elif topic.endswith("/result"):
                seen["results"].append({"topic": topic, "jws": payload.decode()})
            found = predicate(topic, payload)
            if found is not None:
                return found
        raise TimeoutError("no matching message")

    wait_for(lambda t, pl: True if t == f"{prefix}/status" and json.loads(pl)["state"] == "online" else None, 20)

    def request(policy, reference_format="jpeg"):
        with open(a.reference, "rb") as f:
            photo = f.read()
        now = datetime.now(timezone.utc)
        payload = {
            "v": 1, "deviceId": a.device, "sessionId": str(uuid.uuid4()), "nonce": b64url(os.urandom(18)),
            "issuedAt": rfc3339(now), "expiresAt": rfc3339(now + timedelta(seconds=300)),
            "reference": {"format": reference_format, "data": base64.b64encode(photo).decode()},
            "policy": policy,
        }
        token = jwt.encode(payload, carrier_key, algorithm="EdDSA",
                           headers={"kid": carrier_kid, "typ": "regterm-request+jws"})
        client.publish(f"{prefix}/session/request", token, qos=1).wait_for_publish(10)
        return payload

    def verified_result(sent, timeout_s):
        def ours(topic, pl):
            if topic not in (f"{prefix}/session/{sent['sessionId']}/result", f"{prefix}/session/_invalid/result"):
                return None
            signed = jwt.PyJWS().decode_complete(pl.decode(), key=device_key, algorithms=["EdDSA"])
            result = json.loads(signed["payload"])
            if result["sessionId"] not in (sent["sessionId"], "_invalid") or result["nonce"] != sent["nonce"]:
                return None
            return {"topic": topic, "header": signed["header"], "payload": result}
        return wait_for(ours, timeout_s)

    # One session with one motion challenge (a policy the page lists), the way a first carrier would start.
    first = request({"challenges": {"set": ["turn_left"], "required": [], "count": 1},
                     "turn": {"prompted": {"startWithinMs": 7000}}})
    accepted = verified_result(first, 150)
    client.publish(f"{prefix}/session/{first['sessionId']}/ack", b"", qos=1, retain=False).wait_for_publish(10)

    # A request the schema refuses: the rejection names the field.
    bad = request({}, reference_format="gif")
    rejected = verified_result(bad, 30)

    client.loop_stop()
    client.disconnect()
    json.dump({
        "deviceKid": device_kid, "carrierKid": carrier_kid, "first": {"sessionId": first["sessionId"], **accepted},
        "bad": {"sessionId": bad["sessionId"], **rejected}, "status": seen["status"], "progress": seen["progress"],
    }, sys.stdout)


if __name__ == "__main__":
    main()
