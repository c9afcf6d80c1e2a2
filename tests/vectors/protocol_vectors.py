#!/usr/bin/env python3
"""Computes the test vectors of docs/PROTOCOL.md from the specification alone (hashlib and a
hand-written protobuf encoder), independently of the C++ code. Writes
tests/data/protocol_vectors.json, which tests/ledger/protocol_vectors_test.cc checks.

Run: python3 tests/vectors/protocol_vectors.py
"""
import hashlib
import json
import os
import struct

def sha(b): return hashlib.sha256(b).digest()
def tagged(tag, msg):
    t = sha(tag.encode())
    return sha(t + t + msg)
def u32(v): return struct.pack(">I", v)
def u64(v): return struct.pack(">Q", v)
def lp(b): return u32(len(b)) + b

# Protobuf wire format, just what TxBody needs (fields in ascending order, defaults omitted).
def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def pb_varint(field, v): return varint(field << 3 | 0) + varint(v) if v else b""
def pb_bytes(field, b): return varint(field << 3 | 2) + varint(len(b)) + b if b else b""

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s

def merkle(leaves):
    if not leaves: return sha(b"")
    if len(leaves) == 1: return sha(b"\0" + leaves[0])
    k = 1
    while k * 2 < len(leaves): k *= 2
    return sha(b"\1" + merkle(leaves[:k]) + merkle(leaves[k:]))

# Public key of secret key 3 (BIP-340 test vector 0).
pk = bytes.fromhex("F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9")
recipient = bytes(range(20))
transfer = pb_bytes(1, recipient) + pb_varint(2, 1000)
body = pb_bytes(1, b"civitas-test") + pb_varint(2, 7) + pb_varint(3, 5000) + pb_bytes(10, transfer)

# A typed civic action: TxBody{chain_id, nonce 0 (omitted), gas_limit 100000,
# register_did (field 20) {public_key (field 1) = pk}}.
register_did = pb_bytes(1, pk)
register_body = pb_bytes(1, b"civitas-test") + pb_varint(3, 100000) + pb_bytes(20, register_did)

# A DID's controller key rotation (docs/NATION.md): the DID of pk, rotated from pk to the public
# key of BIP-340 test vector 1 at version 1; the new key signs TaggedHash of this message.
rotate_new_key = bytes.fromhex("DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659")
rotate_message = sha(pk)[:16] + pk + rotate_new_key + u64(1)

header = dict(chain_id="civitas-test", height=2, parent_id=bytes([1]) * 32, tx_root=bytes([2]) * 32,
              state_height=1, state_root=bytes([3]) * 32, proposer=pk, time_ms=1700000000000,
              tx_count=3, epoch=0, round=2)
header_bytes = (lp(header["chain_id"].encode()) + u64(header["height"]) + header["parent_id"] +
                header["tx_root"] + u64(header["state_height"]) + header["state_root"] +
                header["proposer"] + u64(header["time_ms"]) + u32(header["tx_count"]) +
                u64(header["epoch"]) + u64(header["round"]))
leaves = [sha(bytes([i])) for i in range(3)]
block_id = tagged("civitas/block/v1", header_bytes)
vote = lp(b"civitas-test") + u64(0) + u64(2) + block_id

address = tagged("civitas/address/v1", pk)[:20]
account_key = b"\x01" + address
account_value = u64(123456) + u64(7)
# A tree holding two accounts.
addr2 = recipient
k1, v1 = sha(account_key), sha(account_value)
k2, v2 = sha(b"\x01" + addr2), sha(u64(1000) + u64(0))
def leaf(k, v): return sha(b"\0" + k + v)
def inner(l, r): return sha(b"\1" + l + r)
def bit(k, i): return (k[i // 8] >> (7 - i % 8)) & 1
def tree(items, depth=0):
    if not items: return bytes(32)
    if len(items) == 1: return leaf(*items[0])
    left = [x for x in items if not bit(x[0], depth)]
    right = [x for x in items if bit(x[0], depth)]
    return inner(tree(left, depth + 1), tree(right, depth + 1))
state_root = tree(sorted([(k1, v1), (k2, v2)]))

vectors = {
    "public_key": pk.hex(),
    "tx_body_fields": {"chain_id": "civitas-test", "nonce": 7, "gas_limit": 5000,
                        "transfer_to": recipient.hex(), "transfer_amount": 1000},
    "tx_body": body.hex(),
    "tx_signing_hash": tagged("civitas/tx/v1", body).hex(),
    "tx_id": tagged("civitas/txid/v1", pk + body).hex(),
    "register_did_tx_body": register_body.hex(),
    "register_did_tx_signing_hash": tagged("civitas/tx/v1", register_body).hex(),
    "register_did_tx_id": tagged("civitas/txid/v1", pk + register_body).hex(),
    "did_rotate_new_key": rotate_new_key.hex(),
    "did_rotate_message": rotate_message.hex(),
    "did_rotate_signing_hash": tagged("civitas/did-rotate/v1", rotate_message).hex(),
    "address": address.hex(),
    "did": "did:civitas:" + b58(sha(pk)[:16]),
    "header_fields": {k: (v.hex() if isinstance(v, bytes) else v) for k, v in header.items()},
    "header_bytes": header_bytes.hex(),
    "block_id": block_id.hex(),
    "merkle_leaves": [l.hex() for l in leaves],
    "merkle_root": merkle(leaves).hex(),
    "merkle_root_empty": merkle([]).hex(),
    "vote_bytes": vote.hex(),
    "account_key": account_key.hex(),
    "account_value": account_value.hex(),
    "state_root_two_accounts": state_root.hex(),
    "contract_address_nonce_5": tagged("civitas/contract/v1", address + u64(5))[:20].hex(),
    "treasury_address": tagged("civitas/system/v1", b"treasury")[:20].hex(),
}
out = os.path.join(os.path.dirname(__file__), "..", "data", "protocol_vectors.json")
with open(out, "w") as f:
    json.dump(vectors, f, indent=2, sort_keys=True)
    f.write("\n")
print(json.dumps(vectors, indent=2, sort_keys=True))
