#!/usr/bin/env python3
"""Cross-language interoperability: a Python client, written only from docs/PROTOCOL.md and the
.proto files, builds and signs transactions by itself (pure-Python BIP-340, bip340.py) and a real
civitasd accepts, commits and serves them back. It also checks the other direction: an envelope
made by `civitas sign` decodes and verifies in Python.

Uses only Debian packages: python3-grpcio and python3-protobuf; the message classes are
generated at test time with protoc --python_out, and the gRPC calls are made by hand (no
grpc_tools). Exit code 77 (a skip for ctest) only when grpcio or protobuf is missing.
"""

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

SKIP = 77
# A transfer's gas limit: its intrinsic gas at the genesis defaults (docs/PROTOCOL.md, "Gas and
# fees": tx_base_gas 25,000 plus 2 per envelope byte) with room for any chain id.
TRANSFER_GAS_LIMIT = 25_500

try:
    import grpc
    import google.protobuf  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: {e} (install python3-grpcio and python3-protobuf: scripts/setup.sh)")
    sys.exit(SKIP)

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bip340  # noqa: E402


def log(msg):
    print(f"[interop] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def address_of(pk: bytes) -> bytes:
    return bip340.tagged_hash("civitas/address/v1", pk)[:20]


def tx_id_of(pk: bytes, body: bytes) -> bytes:
    return bip340.tagged_hash("civitas/txid/v1", pk + body)


class Node:
    """The hand-written client of civitas.v1.Node: one unary call per method."""

    def __init__(self, target, pb):
        self.pb = pb
        self.channel = grpc.insecure_channel(target)
        grpc.channel_ready_future(self.channel).result(timeout=30)

    def call(self, method, request, response_type, timeout=30):
        fn = self.channel.unary_unary(
            f"/civitas.v1.Node/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString)
        return fn(request, timeout=timeout)

    def status(self):
        return self.call("GetStatus", self.pb.node.GetStatusRequest(), self.pb.node.GetStatusResponse)

    def account(self, address):
        return self.call("GetAccount", self.pb.node.GetAccountRequest(address=address),
                         self.pb.node.GetAccountResponse).account

    def submit(self, tx, wait=True):
        req = self.pb.node.SubmitTransactionRequest(tx=tx, wait_for_commit=wait, wait_timeout_ms=20000)
        return self.call("SubmitTransaction", req, self.pb.node.SubmitTransactionResponse)

    def get_tx(self, tx_id):
        return self.call("GetTransaction", self.pb.node.GetTransactionRequest(tx_id=tx_id),
                         self.pb.node.GetTransactionResponse)


class Protos:
    def __init__(self, protoc, proto_dir, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        protos = sorted(glob.glob(os.path.join(proto_dir, "civitas", "v1", "*.proto")))
        subprocess.run([protoc, f"--python_out={out_dir}", "-I", proto_dir] + protos, check=True)
        sys.path.insert(0, out_dir)
        from civitas.v1 import node_pb2, types_pb2
        self.types = types_pb2
        self.node = node_pb2


def sign_tx(pb, secret: bytes, body: bytes):
    pk = bip340.pubkey_gen(secret)
    sig = bip340.sign(bip340.tagged_hash("civitas/tx/v1", body), secret, os.urandom(32))
    return pb.types.Transaction(body=body, public_key=pk, signature=sig)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--civitasd", required=True)
    ap.add_argument("--civitas", required=True, help="the C++ CLI, for the reverse direction")
    ap.add_argument("--protoc", required=True)
    ap.add_argument("--proto-dir", required=True)
    ap.add_argument("--data", required=True, help="tests/data")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()

    n = bip340.check_vectors(os.path.join(args.data, "bip340-test-vectors.csv"))
    log(f"pure-Python BIP-340 passes the {n} published vectors")

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    pb = Protos(args.protoc, args.proto_dir, os.path.join(args.work, "py"))

    # docs/PROTOCOL.md's body vector, encoded by Python's protobuf.
    vec = pb.types.TxBody(chain_id="civitas-test", nonce=7, gas_limit=5000,
                          transfer=pb.types.Transfer(to=bytes(range(20)), amount=1000))
    check(vec.SerializeToString().hex() ==
          "0a0c636976697461732d74657374100718882752190a14000102030405060708090a0b0c0d0e0f1011121310e807",
          "Python's TxBody encoding differs from docs/PROTOCOL.md")

    home = os.path.join(args.work, "node")
    chain_id = "interop-py"
    subprocess.run([args.civitasd, "init", "--solo", "--home", home, "--chain-id", chain_id], check=True,
                   stdout=subprocess.DEVNULL)
    grpc_addr = f"127.0.0.1:{free_port()}"
    node_log = open(os.path.join(args.work, "node.log"), "w")
    proc = subprocess.Popen(
        [args.civitasd, "start", "--home", home, "--grpc-listen", grpc_addr,
         "--http-listen", f"127.0.0.1:{free_port()}", "--p2p-listen", f"127.0.0.1:{free_port()}",
         "--block-interval-ms", "100", "--log-level", "warn"],
        stdout=node_log, stderr=subprocess.STDOUT)
    try:
        run(args, pb, home, chain_id, grpc_addr)
    except BaseException:
        node_log.flush()
        with open(os.path.join(args.work, "node.log")) as f:
            sys.stderr.write("---- node log (tail) ----\n" + "".join(f.readlines()[-40:]))
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log("ok")
    return 0


def run(args, pb, home, chain_id, grpc_addr):
    node = Node(grpc_addr, pb)
    st = node.status()
    check(st.chain_id == chain_id, f"chain id {st.chain_id!r}")
    log(f"node up at {grpc_addr}: chain {st.chain_id}, height {st.height}")

    # The operator's plain key file (docs/PROTOCOL.md, "Key files").
    with open(os.path.join(home, "keys", "operator.json")) as f:
        op = json.load(f)
    op_secret = bytes.fromhex(op["secret_key"])
    op_pk = bip340.pubkey_gen(op_secret)
    check(op_pk.hex() == op["public_key"], "operator public key differs from the pure-Python one")
    op_addr = address_of(op_pk)

    # A citizen key made in Python.
    while True:
        secret = os.urandom(32)
        if 1 <= int.from_bytes(secret, "big") < bip340.N:
            break
    pk = bip340.pubkey_gen(secret)
    addr = address_of(pk)

    # 1. The operator funds the citizen: body built, signed and submitted by Python.
    amount = 1_000_000
    op_nonce = node.account(op_addr).nonce
    body = pb.types.TxBody(chain_id=chain_id, nonce=op_nonce, gas_limit=TRANSFER_GAS_LIMIT,
                           transfer=pb.types.Transfer(to=addr, amount=amount)).SerializeToString()
    tx = sign_tx(pb, op_secret, body)
    want_id = tx_id_of(op_pk, body)
    resp = node.submit(tx)
    check(resp.tx_id == want_id, "tx id computed in Python differs from the node's")
    check(resp.committed, "transfer not committed within the wait")
    check(resp.receipt.status == pb.types.TX_STATUS_SUCCESS, f"transfer failed: {resp.receipt.reason}")
    log(f"Python-signed transfer committed at height {resp.receipt.height}, tx {want_id.hex()}")

    # 2. Read it back: the node keeps the body bytes exactly as signed.
    got = node.get_tx(want_id)
    check(got.tx.body == body and got.tx.public_key == op_pk and got.tx.signature == tx.signature,
          "the stored transaction differs from what was sent")
    check(got.receipt.height == resp.receipt.height, "receipt height differs")
    check(bip340.verify(bip340.tagged_hash("civitas/tx/v1", got.tx.body), got.tx.public_key,
                        got.tx.signature), "stored signature does not verify in Python")
    acct = node.account(addr)
    check(acct.balance == amount and acct.nonce == 0, f"citizen account {acct}")
    log(f"citizen {addr.hex()} has {acct.balance}")

    # 3. The citizen's own first transaction.
    back = 1234
    body2 = pb.types.TxBody(chain_id=chain_id, nonce=0, gas_limit=TRANSFER_GAS_LIMIT,
                            transfer=pb.types.Transfer(to=op_addr, amount=back)).SerializeToString()
    resp2 = node.submit(sign_tx(pb, secret, body2))
    check(resp2.committed and resp2.receipt.status == pb.types.TX_STATUS_SUCCESS,
          f"citizen transfer: committed={resp2.committed} reason={resp2.receipt.reason}")
    acct = node.account(addr)
    check(acct.nonce == 1 and acct.balance == amount - back - resp2.receipt.fee, f"after: {acct}")

    # 4. A signature the node must refuse, with its machine-readable reason.
    body3 = pb.types.TxBody(chain_id=chain_id, nonce=1, gas_limit=TRANSFER_GAS_LIMIT,
                            transfer=pb.types.Transfer(to=op_addr, amount=1)).SerializeToString()
    bad = sign_tx(pb, secret, body3)
    bad.signature = bytes([bad.signature[0] ^ 1]) + bad.signature[1:]
    try:
        node.submit(bad, wait=False)
        raise AssertionError("a bad signature was accepted")
    except grpc.RpcError as e:
        reason = dict(e.trailing_metadata() or ()).get("civitas-reason")
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and reason == "bad_signature",
              f"bad signature refused with {e.code()} / {reason}")
    log("a bad signature is refused: INVALID_ARGUMENT, bad_signature")

    # 5. The other direction: `civitas sign` (C++) makes an envelope offline; Python decodes
    # it, checks every field and the signature, and submits it.
    key_path = os.path.join(args.work, "citizen.json")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"type": "bip340-secp256k1", "public_key": pk.hex(), "secret_key": secret.hex()}, f)
    out = subprocess.run(
        [args.civitas, "-o", "json", "sign", "transfer", "--key", key_path, "--chain-id", chain_id,
         "--nonce", "1", "--gas-limit", str(TRANSFER_GAS_LIMIT), "--to", op_addr.hex(), "--amount", "77"],
        check=True, capture_output=True, text=True).stdout
    signed = json.loads(out)
    env = pb.types.Transaction.FromString(bytes.fromhex(signed["envelope"]))
    b = pb.types.TxBody.FromString(env.body)
    check(env.public_key == pk and b.chain_id == chain_id and b.nonce == 1 and
          b.gas_limit == TRANSFER_GAS_LIMIT and b.transfer.to == op_addr and b.transfer.amount == 77,
          f"civitas sign produced {b}")
    check(bip340.verify(bip340.tagged_hash("civitas/tx/v1", env.body), env.public_key, env.signature),
          "the C++ signature does not verify in Python")
    check(signed["tx_id"] == tx_id_of(pk, env.body).hex(), "tx id of civitas sign differs")
    resp3 = node.submit(env)
    check(resp3.committed and resp3.receipt.status == pb.types.TX_STATUS_SUCCESS,
          "the C++-signed envelope did not commit")
    check(node.account(addr).nonce == 2, "nonce after the C++-signed transfer")
    log("an envelope from `civitas sign` verifies in Python and commits")


if __name__ == "__main__":
    sys.exit(main())
