"""Verifies a motcua credential with pycose, a COSE implementation nobody here wrote, using
only an Ed25519 public key taken from the trust list.

usage: verify_pycose.py QR_TEXT PUBLIC_KEY_HEX  ->  prints "valid" or "invalid", exit 0
"""
import sys
import zlib

import base45
import cbor2
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages import Sign1Message


def main() -> None:
    text, public_hex = sys.argv[1], sys.argv[2]
    assert text.startswith("VN1:"), "not a motcua credential"
    body = base45.b45decode(text[4:])
    cose = zlib.decompress(body) if body[:1] == b"\x78" else body
    decoded = cbor2.loads(cose)
    # The QR carries the COSE_Sign1 untagged (its prefix says what it is).
    array = decoded.value if isinstance(decoded, cbor2.CBORTag) else decoded
    message = Sign1Message.from_cose_obj(list(array), True)
    message.key = OKPKey(crv=Ed25519, x=bytes.fromhex(public_hex))
    claims = cbor2.loads(message.payload)
    assert "vn" in claims, "no result claim"
    print("valid" if message.verify_signature() else "invalid")


if __name__ == "__main__":
    main()
