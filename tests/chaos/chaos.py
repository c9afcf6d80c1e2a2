#!/usr/bin/env python3
"""Chaos test on real processes (issue 9): four `civitasd` validators whose P2P links all pass
through a loopback TCP proxy run here (tests/chaos/proxy.py), a steady load of signed transfers,
and a seeded random schedule of SIGKILL + restart, SIGSTOP + SIGCONT, cut links, a 2|2
partition and added latency. At the end it checks safety and liveness (docs/RELIABILITY.md).

Uses only Debian packages (python3-grpcio, python3-protobuf); message classes are generated
with protoc --python_out into the run directory; transactions are signed by the pure-Python
BIP-340 of tests/interop/bip340.py. Entry point: scripts/chaos.sh.
"""

import argparse
import collections
import concurrent.futures
import glob
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
sys.path.insert(0, HERE)

try:
    import grpc
    import google.protobuf  # noqa: F401
except ImportError as e:  # pragma: no cover
    print(f"chaos: {e} (install python3-grpcio and python3-protobuf: scripts/setup.sh)")
    sys.exit(2)

import bip340  # noqa: E402  (tests/interop/bip340.py, reused)
from proxy import LinkProxy  # noqa: E402

N = 4
# A transfer's gas limit: its intrinsic gas at the genesis defaults (docs/PROTOCOL.md, "Gas and
# fees": tx_base_gas 25,000 plus 2 per envelope byte) with room for any chain id.
TRANSFER_GAS_LIMIT = 25_500
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def log(msg):
    print(f"[chaos {now():7.1f}s] {msg}", flush=True)


def address_of(pk):
    return bip340.tagged_hash("civitas/address/v1", pk)[:20]


def tx_id_of(pk, body):
    return bip340.tagged_hash("civitas/txid/v1", pk + body)


def sign_job(secret, body):
    """Runs in a worker process: BIP-340 in pure Python costs ~0.1-0.3 s per signature."""
    sig = bip340.sign(bip340.tagged_hash("civitas/tx/v1", body), secret, os.urandom(32))
    return body, sig


class Protos:
    def __init__(self, protoc, proto_dir, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        protos = sorted(glob.glob(os.path.join(proto_dir, "civitas", "v1", "*.proto")))
        subprocess.run([protoc, f"--python_out={out_dir}", "-I", proto_dir] + protos, check=True)
        sys.path.insert(0, out_dir)
        from civitas.v1 import node_pb2, types_pb2
        self.types = types_pb2
        self.node = node_pb2


class Client:
    """Hand-written unary client of civitas.v1.Node, as in tests/interop."""

    OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.min_reconnect_backoff_ms", 200),
               ("grpc.max_reconnect_backoff_ms", 1000), ("grpc.max_receive_message_length", 64 << 20)]

    def __init__(self, target, pb):
        self.pb = pb
        self.target = target
        self.channel = grpc.insecure_channel(target, options=self.OPTIONS)
        self._m = {}

    def call(self, method, request, response_type, timeout=2.0):
        fn = self._m.get(method)
        if fn is None:
            fn = self.channel.unary_unary(
                f"/civitas.v1.Node/{method}",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=response_type.FromString)
            self._m[method] = fn
        return fn(request, timeout=timeout)

    def status(self, timeout=1.0):
        return self.call("GetStatus", self.pb.node.GetStatusRequest(), self.pb.node.GetStatusResponse,
                         timeout)

    def account(self, address, timeout=2.0):
        return self.call("GetAccount", self.pb.node.GetAccountRequest(address=address),
                         self.pb.node.GetAccountResponse, timeout).account

    def submit(self, tx, timeout=2.0):
        req = self.pb.node.SubmitTransactionRequest(tx=tx, wait_for_commit=False)
        return self.call("SubmitTransaction", req, self.pb.node.SubmitTransactionResponse, timeout)

    def get_tx(self, tx_id, timeout=2.0):
        return self.call("GetTransaction", self.pb.node.GetTransactionRequest(tx_id=tx_id),
                         self.pb.node.GetTransactionResponse, timeout)

    def blocks(self, from_height, to_height, timeout=10.0):
        """Yields BlockWithId for from_height..to_height."""
        token = ""
        while True:
            req = self.pb.node.ListBlocksRequest(from_height=from_height, to_height=to_height,
                                                 page_size=100, page_token=token)
            resp = self.call("ListBlocks", req, self.pb.node.ListBlocksResponse, timeout)
            yield from resp.blocks
            token = resp.next_page_token
            if not token:
                return


def reason_of(err):
    try:
        return dict(err.trailing_metadata() or ()).get("civitas-reason", "")
    except Exception:
        return ""


# ---- the network ------------------------------------------------------------------------------


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def metric(http_port, name):
    """A metric of the node whose HTTP port is `http_port` (None when it cannot be read)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Net:
    """The four node processes and the link proxy."""

    def __init__(self, args, run_dir, base):
        self.args = args
        self.dir = run_dir
        self.base = base
        self.procs = [None] * N
        self.expected_down = [False] * N  # killed by us, not yet restarted
        self.stopped = [False] * N        # SIGSTOP'd by us
        self.unexpected_exits = []         # (node, returncode, time)
        self.lock = threading.Lock()
        self.proxy = None

    def p2p_port(self, i):
        return self.base + 10 * i

    def grpc_addr(self, i):
        return f"127.0.0.1:{self.base + 10 * i + 1}"

    def p2p_peers(self, i):
        """Node i's civitas_p2p_peers metric (None when it cannot be read)."""
        v = metric(self.base + 10 * i + 2, "civitas_p2p_peers")
        return None if v is None else int(v)

    def proxy_port(self, i, j):
        # The link node i -> node j (i dials j).
        return self.base + 100 + 10 * i + j

    def home(self, i):
        return os.path.join(self.dir, f"node{i}")

    def log_path(self, i):
        return os.path.join(self.dir, f"node{i}.log")

    def all_ports(self):
        ports = []
        for i in range(N):
            ports += [self.base + 10 * i + k for k in range(3)]
            ports += [self.proxy_port(i, j) for j in range(N) if j != i]
        return ports

    def create(self):
        subprocess.run([self.args.civitasd, "testnet", "--validators", str(N), "--output", self.dir,
                        "--base-port", str(self.base), "--block-interval-ms", "100",
                        "--heartbeat-ms", "100"],
                       check=True, stdout=subprocess.DEVNULL)
        for i in range(N):
            path = os.path.join(self.home(i), "config", "config.toml")
            with open(path) as f:
                text = f.read()
            m = re.search(r"^peers = \[(.*?)\]", text, re.S | re.M)
            if m.group(1).strip():
                raise RuntimeError(f"node{i}: unexpected peers {m.group(1)!r}")
            # The validators find each other through their genesis endpoints; a config peer
            # entry for a member's key replaces its endpoint, so every link goes through the
            # proxy.
            with open(os.path.join(self.home(i), "config", "genesis.json")) as f:
                genesis = json.load(f)
            entries = [(v["public_key"],) + tuple(v["p2p"].rsplit(":", 1))
                       for v in genesis["validators"]]
            entries = [e for e in entries if (int(e[2]) - self.base) // 10 != i]
            if len(entries) != N - 1:
                raise RuntimeError(f"node{i}: unexpected genesis endpoints {entries!r}")
            new = []
            for key, host, port in entries:
                j = (int(port) - self.base) // 10
                if j == i or not 0 <= j < N or int(port) != self.p2p_port(j):
                    raise RuntimeError(f"node{i}: peer port {port} is no node's P2P port")
                new.append(f'  "{key}@127.0.0.1:{self.proxy_port(i, j)}"')
            text = text[:m.start()] + "peers = [\n" + ",\n".join(new) + "\n]" + text[m.end():]
            with open(path, "w") as f:
                f.write(text)
        # The nodes run through a symlink with a name of their own: the binary is the same, but
        # a test elsewhere on a shared machine that stops `civitasd` processes by name (pkill)
        # does not stop these (that happened, and showed up as all four exiting at once).
        os.makedirs(os.path.join(self.dir, "bin"), exist_ok=True)
        self.node_bin = os.path.join(self.dir, "bin", "chaos-node")
        os.symlink(os.path.abspath(self.args.civitasd), self.node_bin)
        if self.args.soak:
            self.mount_small_disk()
        links = {(i, j): (self.proxy_port(i, j), self.p2p_port(j))
                 for i in range(N) for j in range(N) if i != j}
        self.proxy = LinkProxy(links)
        self.proxy.start()

    def start(self, i, skew_ms=0):
        """Starts node i; with `skew_ms`, its clock is that far off (CIVITAS_CLOCK_SKEW_MS)."""
        with self.lock:
            logf = open(self.log_path(i), "ab")
            logf.write(f"\n==== chaos: start node{i} at {now():.1f}s"
                       f"{f' clock skew {skew_ms} ms' if skew_ms else ''} ====\n".encode())
            logf.flush()
            env = dict(os.environ, CIVITAS_CLOCK_SKEW_MS=str(skew_ms)) if skew_ms else None
            self.procs[i] = subprocess.Popen([self.node_bin, "start", "--home", self.home(i)],
                                             stdout=logf, stderr=subprocess.STDOUT, env=env,
                                             start_new_session=True)
            logf.close()
            self.expected_down[i] = False
            self.stopped[i] = False

    # The soak's full disk: node DISK_NODE keeps its ledger on a tmpfs of its own.
    def mount_small_disk(self):
        data = os.path.join(self.home(DISK_NODE), "data")
        self.disk = os.path.join(self.dir, "disk")
        os.makedirs(self.disk, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,mode=0700", "tmpfs",
                            self.disk], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"--soak needs a tmpfs for the full-disk fault (run as root): "
                               f"{r.stderr.strip()}")
        if os.path.exists(data):
            for name in os.listdir(data):
                subprocess.run(["mv", os.path.join(data, name), self.disk], check=True)
            os.rmdir(data)
        os.symlink(self.disk, data)

    def unmount_small_disk(self):
        if getattr(self, "disk", None):
            subprocess.run(["umount", "-l", self.disk], capture_output=True)

    def kill(self, i):
        with self.lock:
            self.expected_down[i] = True
            p = self.procs[i]
            p.send_signal(signal.SIGKILL)
        p.wait()

    def sigstop(self, i):
        with self.lock:
            self.stopped[i] = True
            self.procs[i].send_signal(signal.SIGSTOP)

    def sigcont(self, i):
        with self.lock:
            self.procs[i].send_signal(signal.SIGCONT)
            self.stopped[i] = False

    def check_alive(self):
        """Records a node that exited without being killed by us (a crash)."""
        with self.lock:
            for i, p in enumerate(self.procs):
                if p is None or self.expected_down[i]:
                    continue
                rc = p.poll()
                if rc is not None:
                    why = "exited by itself"
                    try:
                        with open(self.log_path(i), "rb") as f:
                            f.seek(max(0, os.path.getsize(self.log_path(i)) - 4096))
                            tail = f.read().decode(errors="replace")
                        if "signal 15: shutting down" in tail or "signal 2: shutting down" in tail:
                            why = "was terminated by a signal from outside the test"
                    except OSError:
                        pass
                    self.unexpected_exits.append((i, rc, now(), why))
                    self.expected_down[i] = True  # report once
                    log(f"!! node{i} {why} (exit code {rc})")

    def shutdown(self):
        with self.lock:
            for p in self.procs:
                if p is not None and p.poll() is None:
                    try:
                        p.send_signal(signal.SIGCONT)
                        p.send_signal(signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            deadline = time.time() + 10
            for p in self.procs:
                if p is None:
                    continue
                try:
                    p.wait(max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.proxy:
            self.proxy.stop()
        twin = getattr(self, "twin", None)
        if twin is not None and twin.poll() is None:
            twin.kill()
            twin.wait()


# ---- observation -------------------------------------------------------------------------------


class Monitor:
    """Polls every node's status (one thread per node, so a stopped node delays nobody)."""

    def __init__(self, net, clients):
        self.net = net
        self.clients = clients
        self.heights = [0] * N
        self.max_seen = [0] * N  # highest height each node ever reported
        self.last_ok = [0.0] * N
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.max_height_log = []  # (t, max height) when it changes
        self.threads = [threading.Thread(target=self._poll, args=(i,), daemon=True) for i in range(N)]

    def start(self):
        for t in self.threads:
            t.start()

    def _poll(self, i):
        while not self.stop_ev.is_set():
            try:
                h = self.clients[i].status(timeout=1.0).height
                with self.lock:
                    self.heights[i] = h
                    self.max_seen[i] = max(self.max_seen[i], h)
                    self.last_ok[i] = now()
                    m = max(self.max_seen)
                    if not self.max_height_log or self.max_height_log[-1][1] != m:
                        self.max_height_log.append((now(), m))
            except grpc.RpcError:
                pass
            self.net.check_alive()
            self.stop_ev.wait(0.2)

    def max_height(self):
        with self.lock:
            return max(self.max_seen)

    def snapshot(self):
        with self.lock:
            return list(self.heights)

    def fresh_heights(self, timeout=3.0):
        """Heights asked now from every node (None for a node that does not answer)."""
        out = []
        for c in self.clients:
            try:
                out.append(c.status(timeout=timeout).height)
            except grpc.RpcError:
                out.append(None)
        return out


# ---- load ---------------------------------------------------------------------------------------


class Account:
    def __init__(self, idx, secret, node):
        self.idx = idx
        self.secret = secret
        self.pk = bip340.pubkey_gen(secret)
        self.addr = address_of(self.pk)
        self.node = node


class Load:
    """Each account signs transfers in nonce order and always submits to its own node
    (wait_for_commit=false), keeps a small window in flight, polls GetTransaction for each, and
    resubmits the same bytes when one has not committed for a while (its node may have been
    killed with it in the mempool). Every receipt a node reports is recorded."""

    WINDOW = 3
    RESUBMIT_AFTER = 6.0

    def __init__(self, pb, clients, chain_id, accounts, pool, sink):
        self.pb = pb
        self.clients = clients
        self.chain_id = chain_id
        self.accounts = accounts
        self.pool = pool
        self.sink = sink
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.committed = {}  # tx_id -> dict(account, nonce, height, node, status)
        self.submitted = 0
        self.resubmits = 0
        self.submit_errors = collections.Counter()
        self.pending_left = {}  # account idx -> count pending when the load stopped
        self.threads = [threading.Thread(target=self._run, args=(a,), daemon=True) for a in accounts]

    def body(self, acct, nonce):
        return self.pb.types.TxBody(
            chain_id=self.chain_id, nonce=nonce, gas_limit=TRANSFER_GAS_LIMIT,
            transfer=self.pb.types.Transfer(to=self.sink, amount=1 + nonce % 7)).SerializeToString()

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self, drain_seconds):
        self.drain_deadline = now() + drain_seconds
        self.stop_ev.set()
        for t in self.threads:
            t.join(drain_seconds + 10)

    def _run(self, acct):
        try:
            self._loop(acct)
        except Exception:
            log(f"!! load thread of account {acct.idx} failed:\n{traceback.format_exc()}")

    def _loop(self, acct):
        client = self.clients[acct.node]
        nonce = 0
        signing = collections.deque()  # futures of (body, sig), in nonce order
        pending = collections.OrderedDict()  # nonce -> [tx, tx_id, last_submit_time]
        while True:
            stopping = self.stop_ev.is_set()
            if stopping and (not pending or now() > self.drain_deadline):
                self.pending_left[acct.idx] = len(pending)
                return
            if not stopping:
                while len(signing) + len(pending) < 2 * self.WINDOW:
                    signing.append(self.pool.submit(sign_job, acct.secret, self.body(acct, nonce)))
                    nonce += 1
                while len(pending) < self.WINDOW and signing and signing[0].done():
                    body, sig = signing.popleft().result()
                    n = self.pb.types.TxBody.FromString(body).nonce
                    tx = self.pb.types.Transaction(body=body, public_key=acct.pk, signature=sig)
                    pending[n] = [tx, tx_id_of(acct.pk, body), None]
            # Submit what was never submitted, and resubmit everything (in nonce order) when the
            # oldest has waited too long.
            oldest = next(iter(pending.values()), None)
            resubmit = oldest is not None and oldest[2] is not None and \
                now() - oldest[2] > self.RESUBMIT_AFTER
            for n, entry in pending.items():
                if entry[2] is not None and not resubmit:
                    continue
                try:
                    resp = client.submit(entry[0])
                    if resp.tx_id != entry[1]:
                        raise AssertionError("tx id differs from the node's")
                    with self.lock:
                        self.submitted += entry[2] is None
                        self.resubmits += entry[2] is not None
                except grpc.RpcError as e:
                    with self.lock:
                        self.submit_errors[f"{e.code().name}/{reason_of(e)}"] += 1
                    if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                        break  # node down or stopped: try later, in order
                entry[2] = now()
            # Poll the oldest few.
            for n in list(pending)[:self.WINDOW]:
                entry = pending[n]
                if entry[2] is None:
                    break
                try:
                    got = client.get_tx(entry[1])
                except grpc.RpcError as e:
                    if e.code() == grpc.StatusCode.NOT_FOUND:
                        continue
                    break
                if got.receipt.height == 0:
                    continue
                with self.lock:
                    self.committed[entry[1]] = dict(
                        account=acct.idx, nonce=n, height=got.receipt.height, node=acct.node,
                        status=got.receipt.status, t=now())
                del pending[n]
            self.stop_ev.wait(0.15) if not stopping else time.sleep(0.15)


# ---- schedule ------------------------------------------------------------------------------------

KINDS = ["kill", "stop", "cut", "partition", "latency"]
WEIGHTS = {"kill": 3, "stop": 2, "cut": 2, "partition": 1, "latency": 2}
# The soak adds a skewed clock (a restart with CIVITAS_CLOCK_SKEW_MS), a full disk (the ledger's tmpfs of
# node DISK_NODE filled) and, once, a second instance of a validator (a copy of its home).
SOAK_KINDS = KINDS + ["skew", "diskfull", "twin"]
SOAK_WEIGHTS = dict(WEIGHTS, skew=1, diskfull=1)
PAIRS = [(i, j) for i in range(N) for j in range(i + 1, N)]
DISK_NODE = N - 1
DISK_MB = 1024


def make_schedule(seed, duration, soak_count=0):
    """A list of perturbations, one at a time, with gaps; every kind at least once (first, in
    a seeded order), then drawn by weight until the duration is used. A soak (`soak_count`
    > 0) draws from SOAK_KINDS, with shorter gaps, until it holds `soak_count` perturbations
    (the duration is then ignored); it has exactly one twin."""
    rng = random.Random(seed)
    events = []
    t = 3.0
    kinds = SOAK_KINDS if soak_count else KINDS
    weights = SOAK_WEIGHTS if soak_count else WEIGHTS
    first = kinds[:]
    rng.shuffle(first)
    while True:
        forced = bool(first)
        kind = first.pop(0) if forced else rng.choices(list(weights), list(weights.values()))[0]
        ev = {"kind": kind}
        if kind == "kill":
            ev.update(node=rng.randrange(N), hold=rng.uniform(2, 8))
        elif kind == "stop":
            ev.update(node=rng.randrange(N), hold=rng.uniform(1, 6))
        elif kind == "cut":
            ev.update(pairs=rng.sample(PAIRS, rng.choice([1, 1, 2])), hold=rng.uniform(3, 8))
        elif kind == "partition":
            nodes = list(range(N))
            rng.shuffle(nodes)
            a = sorted(nodes[:2])
            b = sorted(nodes[2:])
            ev.update(sides=[a, b], hold=rng.uniform(4, 8))
        elif kind == "latency":
            pairs = rng.sample(PAIRS, rng.randint(1, len(PAIRS)))
            ev.update(pairs=pairs, ms=rng.choice([20, 50, 100, 200, 400]), hold=rng.uniform(4, 10))
            if rng.random() < 0.4:  # a validator fails while the links are slow
                ev["also"] = {"kind": rng.choice(["kill", "stop"]), "node": rng.randrange(N),
                              "after": rng.uniform(0.5, 1.5), "hold": rng.uniform(1.5, 3)}
        elif kind == "skew":
            ev.update(node=rng.randrange(N), offset=rng.choice([-90, -60, 60, 90]),
                      hold=rng.uniform(6, 12))
        elif kind == "diskfull":
            ev.update(node=DISK_NODE, hold=rng.uniform(2, 5))
        elif kind == "twin":
            ev.update(node=rng.randrange(N), hold=rng.uniform(15, 25))
        gap = rng.uniform(1.5, 3) if soak_count else rng.uniform(2, 5)
        if soak_count:
            if len(events) >= soak_count:
                break
        elif t + ev["hold"] > duration and not forced:
            break
        ev["at"] = t
        events.append(ev)
        t += ev["hold"] + gap
    return events


def describe(ev):
    k = ev["kind"]
    if k in ("kill", "stop"):
        return f"{k} node{ev['node']} for {ev['hold']:.1f}s"
    if k == "cut":
        return f"cut {' '.join(f'{a}-{b}' for a, b in ev['pairs'])} for {ev['hold']:.1f}s"
    if k == "partition":
        return f"partition {ev['sides'][0]}|{ev['sides'][1]} for {ev['hold']:.1f}s"
    if k == "skew":
        return f"skew node{ev['node']}'s clock by {ev['offset']:+d}s for {ev['hold']:.1f}s"
    if k == "diskfull":
        return f"fill node{ev['node']}'s disk for {ev['hold']:.1f}s"
    if k == "twin":
        return f"twin of node{ev['node']} (same key) for {ev['hold']:.1f}s"
    s = f"latency +{ev['ms']}ms on {' '.join(f'{a}-{b}' for a, b in ev['pairs'])} for {ev['hold']:.1f}s"
    if "also" in ev:
        also = ev["also"]
        s += f", with {also['kind']} node{also['node']} for {also['hold']:.1f}s after {also['after']:.1f}s"
    return s


# ---- the run -------------------------------------------------------------------------------------


class Chaos:
    def __init__(self, args):
        self.args = args
        self.violations = []
        self.notes = []
        self.applied = collections.Counter()
        self.partitions = []  # dicts with heights
        self.restarts = []    # (node, t_restart, target height)

    def violation(self, msg):
        log(f"VIOLATION: {msg}")
        self.violations.append(msg)

    def run(self):
        a = self.args
        self.pb = Protos(a.protoc, a.proto_dir, os.path.join(a.dir, "py"))
        # Signing workers are separate processes (pure-Python BIP-340 would hold the GIL the
        # proxy thread needs), spawned before any gRPC channel exists.
        import multiprocessing
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=a.signers, mp_context=multiprocessing.get_context("spawn"))
        net = self.net = Net(a, a.dir, a.base_port)
        net.create()
        log(f"testnet in {a.dir}, base port {a.base_port}; every P2P link through the proxy")
        for i in range(N):
            net.start(i)
        clients = self.clients = [Client(net.grpc_addr(i), self.pb) for i in range(N)]
        for i in range(N):
            grpc.channel_ready_future(clients[i].channel).result(timeout=60)
        chain_id = clients[0].status().chain_id
        mon = self.mon = Monitor(net, clients)
        mon.start()
        self.wait_for(lambda: min(mon.snapshot()) >= 2, 60, "the network to commit its first blocks")
        log(f"network up: heights {mon.snapshot()}")

        pool = self.pool
        try:
            net.proxy.start_capture()
            accounts = self.fund(chain_id, pool)
            self.check_no_plaintext(net.proxy.stop_capture(), chain_id, accounts)
            load = self.load = Load(self.pb, clients, chain_id, accounts, pool,
                                    sink=address_of(bip340.pubkey_gen(b"\x07" * 32)))
            load.start()
            time.sleep(3)
            self.check_flipped_byte()
            self.perturb()
            t_faults_end = now()
            h_end = mon.max_height()
            log(f"faults over at height {h_end}; waiting for commits to resume")
            resumed = self.wait_for(lambda: mon.max_height() >= h_end + 2, a.resume_bound, None)
            if resumed is None:
                self.violation(f"commits did not resume within {a.resume_bound:.0f}s after faults "
                               f"stopped (max height stuck at {mon.max_height()})")
            else:
                self.resume_seconds = now() - t_faults_end
                log(f"commits resumed {self.resume_seconds:.1f}s after the faults stopped")
            time.sleep(3)
            log("stopping the load; draining what is in flight")
            load.stop(drain_seconds=30)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        self.converge()
        mon.stop_ev.set()
        self.final_checks(accounts)
        net.check_alive()
        for i, rc, t, why in net.unexpected_exits:
            self.violation(f"node{i} {why} (exit code {rc}) at {t:.1f}s; see {net.log_path(i)}")

    def wait_for(self, cond, timeout, what):
        deadline = now() + timeout
        while now() < deadline:
            if cond():
                return True
            time.sleep(0.1)
        if what:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        return None

    def fund(self, chain_id, pool):
        """The operator pays each load account (submitted to node0, nonces in order)."""
        with open(os.path.join(self.args.dir, "keys", "operator.json")) as f:
            op_secret = bytes.fromhex(json.load(f)["secret_key"])
        op_pk = bip340.pubkey_gen(op_secret)
        c = self.clients[0]
        op_nonce = c.account(address_of(op_pk)).nonce
        rng = random.Random(self.args.seed * 7919 + 1)
        accounts = []
        for k in range(self.args.accounts):
            while True:
                s = rng.randbytes(32)
                if 1 <= int.from_bytes(s, "big") < bip340.N:
                    break
            accounts.append(Account(k, s, node=k % N))
        bodies = [self.pb.types.TxBody(chain_id=chain_id, nonce=op_nonce + k, gas_limit=TRANSFER_GAS_LIMIT,
                                       transfer=self.pb.types.Transfer(to=acc.addr, amount=10**9))
                  .SerializeToString() for k, acc in enumerate(accounts)]
        signed = [f.result() for f in [pool.submit(sign_job, op_secret, b) for b in bodies]]
        self.funding_secrets = [op_pk] + [sig for _, sig in signed]
        ids = []
        for body, sig in signed:
            tx = self.pb.types.Transaction(body=body, public_key=op_pk, signature=sig)
            ids.append(c.submit(tx, timeout=10).tx_id)

        def all_in():
            for tid in ids:
                try:
                    c.get_tx(tid)
                except grpc.RpcError:
                    return False
            return True
        self.wait_for(all_in, 60, "the funding transfers to commit")
        log(f"funded {len(accounts)} accounts; account k submits to node k mod {N}")
        return accounts

    # ---- the links' channel security (docs/P2P.md) ----

    def check_no_plaintext(self, captured, chain_id, accounts):
        """What crossed the links while the funding transfers were gossiped and committed holds
        none of the transactions' bytes in the clear (the payees' addresses, the operator's
        public key, the signatures, the chain id)."""
        total = sum(len(b) for b in captured.values())
        if total < 20_000:
            self.violation(f"the proxy captured only {total} bytes of P2P traffic: nothing to check")
            return
        needles = [acc.addr for acc in accounts] + self.funding_secrets + [chain_id.encode()]
        for (i, j), data in sorted(captured.items()):
            for n in needles:
                if n in data:
                    self.violation(f"link {i}->{j} carried {n.hex()[:16]}... in plaintext")
        self.notes.append(f"wire: {total} bytes captured on the links during the funding, "
                          f"no plaintext of {len(needles)} known values")
        log(f"wire: {total} bytes captured, no plaintext of the funding")

    def check_flipped_byte(self):
        """One flipped byte in the stream of the pair {0, 1}: that connection fails its record
        MAC and is closed, a new one is made, no node exits, and the council keeps committing."""
        proxy = self.net.proxy
        accepted_before = proxy.flip_byte(0, 1)
        h0 = self.mon.max_height()
        t0 = now()
        relinked = False
        while now() - t0 < 30:
            flipped, accepted = proxy.flip_result(0, 1)
            # A new connection on the pair means the corrupted one was dropped; both ends back
            # at three peers after it means the pair authenticated again.
            relinked = (flipped and accepted > accepted_before and
                        all(self.net.p2p_peers(i) == N - 1 for i in (0, 1)))
            if relinked and self.mon.max_height() >= h0 + 3:
                break
            time.sleep(0.2)
        proxy.disarm_flips()
        flipped, accepted = proxy.flip_result(0, 1)
        if not flipped:
            self.violation("flipped byte: no traffic crossed the pair 0-1 in 30 s")
        elif accepted <= accepted_before:
            self.violation("flipped byte: the corrupted connection of the pair 0-1 was kept")
        elif not relinked:
            self.violation("flipped byte: nodes 0 and 1 did not link again within 30 s "
                           f"(peers {self.net.p2p_peers(0)}, {self.net.p2p_peers(1)})")
        elif self.mon.max_height() < h0 + 3:
            self.violation(f"flipped byte: the council stalled at height {self.mon.max_height()}")
        else:
            self.notes.append(f"wire: a flipped byte on the pair 0-1 dropped that connection; it "
                              f"was reconnected in {now() - t0:.1f}s while blocks committed")
            log(f"wire: flipped byte dropped the 0-1 connection; reconnected in {now() - t0:.1f}s")
        self.net.check_alive()

    # ---- perturbations ----

    def perturb(self):
        a, net, mon = self.args, self.net, self.mon
        events = make_schedule(a.seed, a.duration, a.soak)
        log(f"schedule (seed {a.seed}, {a.duration:.0f}s): {len(events)} perturbations")
        for ev in events:
            log(f"  at {ev['at']:6.1f}s  {describe(ev)}")
        start = now()
        for ev in events:
            wait = start + ev["at"] - now()
            if wait > 0:
                time.sleep(wait)
            log(f"-> {describe(ev)} (heights {mon.snapshot()})")
            getattr(self, "do_" + ev["kind"])(ev)
            self.applied[ev["kind"]] += 1
            log(f"<- healed (heights {mon.snapshot()})")
        net.proxy.heal_all()

    def do_kill(self, ev):
        i = ev["node"]
        self.net.kill(i)
        time.sleep(ev["hold"])
        target = self.mon.max_height()
        self.net.start(i)
        self.restarts.append({"node": i, "t": now(), "target": target, "caught_up": None})
        threading.Thread(target=self._watch_catch_up, args=(self.restarts[-1],), daemon=True).start()

    def _watch_catch_up(self, r):
        deadline = now() + 120
        while now() < deadline:
            if self.mon.max_seen[r["node"]] >= r["target"] and self.mon.last_ok[r["node"]] > r["t"]:
                r["caught_up"] = now() - r["t"]
                return
            time.sleep(0.2)

    def do_stop(self, ev):
        i = ev["node"]
        self.net.sigstop(i)
        time.sleep(ev["hold"])
        self.net.sigcont(i)

    def do_cut(self, ev):
        for p in ev["pairs"]:
            self.net.proxy.cut(*p)
        time.sleep(ev["hold"])
        for p in ev["pairs"]:
            self.net.proxy.heal_cut(*p)

    def do_latency(self, ev):
        for p in ev["pairs"]:
            self.net.proxy.set_delay(*p, ev["ms"] / 1000.0)
        t = now()
        also = ev.get("also")
        if also:
            time.sleep(also["after"])
            getattr(self, "do_" + also["kind"])(also)
            self.applied[also["kind"]] += 1
            self.applied["with_latency"] += 1
        time.sleep(max(0.0, ev["hold"] - (now() - t)))
        for p in ev["pairs"]:
            self.net.proxy.set_delay(*p, 0.0)

    def _restart_tracked(self, i):
        target = self.mon.max_height()
        self.net.start(i)
        self.restarts.append({"node": i, "t": now(), "target": target, "caught_up": None})
        threading.Thread(target=self._watch_catch_up, args=(self.restarts[-1],), daemon=True).start()

    def do_skew(self, ev):
        """Node i runs with its clock `offset` seconds off, then normally."""
        i = ev["node"]
        self.net.kill(i)
        self.net.start(i, skew_ms=ev["offset"] * 1000)
        time.sleep(ev["hold"])
        self.net.kill(i)
        self._restart_tracked(i)

    def do_diskfull(self, ev):
        """A filler takes the free space of node i's ledger file system: the node must stop by
        itself (exit 1, disk_full), and start again at its height once the filler is gone."""
        i = ev["node"]
        net = self.net
        st = os.statvfs(net.disk)
        free = st.f_bavail * st.f_frsize
        filler = os.path.join(net.disk, "filler")
        with net.lock:
            net.expected_down[i] = True  # it is to stop by itself
        subprocess.run(["fallocate", "-l", str(max(0, free - (8 << 20))), filler], check=True)
        p = net.procs[i]
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        if rc != 1:
            self.violation(f"node{i} did not stop with exit code 1 on a full disk (got {rc})")
            if rc is None:
                net.kill(i)
        else:
            with open(net.log_path(i), "rb") as f:
                f.seek(max(0, os.path.getsize(net.log_path(i)) - 4096))
                if b"disk_full" not in f.read():
                    self.violation(f"node{i} stopped on a full disk without saying disk_full")
            self.applied["diskfull_clean_stop"] += 1
        time.sleep(ev["hold"])
        os.remove(filler)
        self._restart_tracked(i)

    def do_twin(self, ev):
        """A second process runs a copy of node i's home (same validator key, its own ports)
        beside it; the council must keep one chain. The copy is taken with node i stopped."""
        i = ev["node"]
        net = self.net
        twin_home = os.path.join(net.dir, f"twin{i}")
        net.sigstop(i)
        try:
            subprocess.run(["cp", "-a", "--dereference", net.home(i), twin_home], check=True)
        finally:
            net.sigcont(i)
        base = net.base + 10 * N  # unused by the testnet and the proxy
        logf = open(os.path.join(net.dir, f"twin{i}.log"), "ab")
        net.twin = subprocess.Popen(
            [net.node_bin, "start", "--home", twin_home, "--p2p-listen", f"127.0.0.1:{base}",
             "--grpc-listen", f"127.0.0.1:{base + 1}", "--http-listen", f"127.0.0.1:{base + 2}"],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        time.sleep(ev["hold"])
        net.twin.kill()
        net.twin.wait()
        seen = sum(max(0, metric(net.base + 10 * j + 2, "civitas_consensus_equivocations_total") or 0)
                   for j in range(N) if j != i)
        self.notes.append(f"twin of node{i}: {seen:.0f} equivocations counted by the others")

    def do_partition(self, ev):
        """Cuts the four cross links. Messages already delivered may still complete a commit
        in the first moment; after a settle time nothing may commit until the heal."""
        a, b = ev["sides"]
        cross = [(x, y) for x in a for y in b]
        for p in cross:
            self.net.proxy.cut(*p)
        t_cut = now()
        at_cut = self.mon.fresh_heights()
        settle = self.args.partition_settle
        time.sleep(settle)
        h_start = self.mon.fresh_heights()
        max_start = self.mon.max_height()
        time.sleep(max(0.0, ev["hold"] - settle))
        h_end = self.mon.fresh_heights()
        max_end = self.mon.max_height()
        rec = {"sides": ev["sides"], "t": t_cut, "at_cut": at_cut, "start": h_start, "end": h_end,
               "max_start": max_start, "max_end": max_end}
        self.partitions.append(rec)
        log(f"   partition: heights at cut {at_cut}, after {settle}s {h_start}, before heal {h_end}")
        if max_end != max_start or any(s is not None and e is not None and e > max_start
                                        for s, e in zip(h_start, h_end)):
            self.violation(f"commits during the 2|2 partition {a}|{b}: max height {max_start} -> "
                           f"{max_end} (heights {h_start} -> {h_end})")
        for p in cross:
            self.net.proxy.heal_cut(*p)

    # ---- the end ----

    def converge(self):
        """Every node reaches the highest height seen, bounded."""
        target = self.mon.max_height()
        log(f"waiting for every node to reach height {target}")
        ok = self.wait_for(lambda: min(self.mon.snapshot()) >= target, self.args.converge_bound, None)
        if not ok:
            self.violation(f"nodes did not converge to height {target} within "
                           f"{self.args.converge_bound:.0f}s: heights {self.mon.snapshot()}")
        for r in self.restarts:
            if r["caught_up"] is None and self.mon.max_seen[r["node"]] < r["target"]:
                self.violation(f"node{r['node']} restarted at {r['t']:.1f}s never reached height "
                               f"{r['target']}")

    def final_checks(self, accounts):
        pb = self.pb
        chains = []
        for i, c in enumerate(self.clients):
            chain = {}
            try:
                tip = c.status(timeout=5).height
                for b in c.blocks(1, tip):
                    chain[b.block.block.header.height] = b
            except grpc.RpcError as e:
                self.violation(f"node{i} does not answer at the end: {e.code().name}")
                chains.append(chain)
                continue
            if sorted(chain) != list(range(1, tip + 1)):
                self.violation(f"node{i}: ListBlocks did not return heights 1..{tip}")
            chains.append(chain)
        tips = [max(ch) if ch else 0 for ch in chains]
        self.tips = tips
        # 1. Agreement on block id, consensus block id (commit_qc.block_id) and state root.
        disagreements = 0
        for h in range(1, max(tips) + 1):
            seen = {}
            for i, ch in enumerate(chains):
                if h in ch:
                    b = ch[h]
                    hdr = b.block.block.header
                    seen[i] = (b.block_id.hex(), b.block.commit_qc.block_id.hex(),
                               hdr.state_height, hdr.state_root.hex(), hdr.parent_id.hex())
            if len(set(seen.values())) > 1:
                disagreements += 1
                if disagreements <= 5:
                    self.violation(f"nodes disagree at height {h}: " +
                                   "; ".join(f"node{i}: block {v[0][:16]} qc {v[1][:16]} "
                                             f"root@{v[2]} {v[3][:16]}" for i, v in seen.items()))
        if disagreements > 5:
            self.violation(f"... {disagreements} heights disagree in all")
        # The certified state root each node reports now, at common state heights.
        roots = collections.defaultdict(dict)
        for i, c in enumerate(self.clients):
            try:
                st = c.status(timeout=5)
                roots[st.state_height][i] = st.state_root.hex()
            except grpc.RpcError:
                pass
        # 2. Every reported commit is in the chain exactly once, at the reported height.
        longest = chains[tips.index(max(tips))]
        where = collections.defaultdict(list)
        per_sender = collections.defaultdict(list)
        for h in sorted(longest):
            for tx in longest[h].block.block.txs:
                tid = tx_id_of(tx.public_key, tx.body)
                where[tid].append(h)
                per_sender[tx.public_key].append(pb.types.TxBody.FromString(tx.body).nonce)
        load = self.load
        for tid, rec in load.committed.items():
            hs = where.get(tid, [])
            if len(hs) != 1:
                self.violation(f"tx {tid.hex()} (account {rec['account']} nonce {rec['nonce']}), "
                               f"reported committed at height {rec['height']} by node{rec['node']}, "
                               f"is in the chain {len(hs)} times {hs}")
            elif hs[0] != rec["height"]:
                self.violation(f"tx {tid.hex()} reported at height {rec['height']} is at {hs[0]}")
            if rec["status"] != pb.types.TX_STATUS_SUCCESS:
                self.notes.append(f"tx {tid.hex()[:16]} committed with status {rec['status']}")
        for tid, hs in where.items():
            if len(hs) > 1:
                self.violation(f"tx {tid.hex()} is in the chain {len(hs)} times: heights {hs}")
        # 3. Nonces: each load account's transactions carry nonces 0..m-1 once each, every node
        # reports nonce m, and nothing reported committed is missing from that range.
        for acct in accounts:
            nonces = per_sender.get(acct.pk, [])
            m = len(nonces)
            if sorted(nonces) != list(range(m)):
                self.violation(f"account {acct.idx}: nonces in the chain are not 0..{m - 1}: "
                               f"{sorted(nonces)[:20]}...")
            for i, c in enumerate(self.clients):
                try:
                    n = c.account(acct.addr, timeout=5).nonce
                except grpc.RpcError as e:
                    self.violation(f"node{i}: GetAccount failed: {e.code().name}")
                    continue
                if n != m and not (load.pending_left.get(acct.idx) and n > m):
                    self.violation(f"account {acct.idx}: node{i} reports nonce {n}, the chain "
                                   f"holds {m} of its transactions")
            reported = sorted(r["nonce"] for r in load.committed.values() if r["account"] == acct.idx)
            if reported and reported[-1] >= m:
                self.violation(f"account {acct.idx}: nonce {reported[-1]} reported committed, but "
                               f"the chain has only {m} transactions of it")
        self.chain_txs = sum(len(v) for v in per_sender.values())

    def summary(self):
        a = self.args
        load = getattr(self, "load", None)
        lines = ["", "==== chaos summary ===="]
        lines.append(f"seed {a.seed}, schedule {a.duration:.0f}s, run {now():.0f}s, dir {a.dir}")
        lines.append("perturbations applied: " + (", ".join(
            f"{k} {self.applied[k]}" for k in SOAK_KINDS if self.applied[k]) or "none") +
            f" (total {sum(self.applied[k] for k in SOAK_KINDS)}; {self.applied['with_latency']} "
            f"kill/stop during added latency)")
        if self.applied["diskfull"]:
            lines.append(f"full disk: {self.applied['diskfull_clean_stop']} of "
                         f"{self.applied['diskfull']} fills stopped the node cleanly (exit 1, "
                         f"disk_full)")
        if load:
            ok = sum(1 for r in load.committed.values() if r["status"] == self.pb.types.TX_STATUS_SUCCESS)
            lines.append(f"transactions: {load.submitted} submitted, {load.resubmits} resubmissions, "
                         f"{len(load.committed)} reported committed ({ok} successful), "
                         f"{sum(load.pending_left.values())} still pending at the end")
            if load.submit_errors:
                lines.append("submit errors: " + ", ".join(f"{k} {v}" for k, v in
                                                           load.submit_errors.most_common()))
        if hasattr(self, "tips"):
            lines.append(f"tips {self.tips}; max height {max(self.tips)}; "
                         f"{getattr(self, 'chain_txs', 0)} load transactions in the chain")
        for p in self.partitions:
            lines.append(f"partition {p['sides'][0]}|{p['sides'][1]}: heights at cut {p['at_cut']}, "
                         f"+{a.partition_settle}s {p['start']}, before heal {p['end']}")
        for r in self.restarts:
            cu = f"{r['caught_up']:.1f}s" if r["caught_up"] is not None else "not seen"
            lines.append(f"restart node{r['node']} at {r['t']:.1f}s: reached height {r['target']} "
                         f"after {cu}")
        if hasattr(self, "resume_seconds"):
            lines.append(f"commits resumed {self.resume_seconds:.1f}s after the last fault "
                         f"(bound {a.resume_bound:.0f}s)")
        for n in self.notes[:10]:
            lines.append("note: " + n)
        if self.violations:
            lines.append(f"FAILED: {len(self.violations)} violation(s):")
            lines += ["  " + v for v in self.violations]
            lines.append(f"replay: scripts/chaos.sh --seed {a.seed} --duration {a.duration:g}")
            lines.append(f"node logs: {a.dir}/node<i>.log")
        else:
            lines.append("OK: no violation")
        print("\n".join(lines), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--civitasd", required=True)
    ap.add_argument("--protoc", default="protoc")
    ap.add_argument("--proto-dir", required=True)
    ap.add_argument("--dir", required=True, help="run directory (homes, logs)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--duration", type=float, default=75.0, help="seconds of perturbations")
    ap.add_argument("--base-port", type=int, default=None)
    ap.add_argument("--accounts", type=int, default=8)
    ap.add_argument("--signers", type=int, default=1, help="signing worker processes")
    ap.add_argument("--resume-bound", type=float, default=15.0)
    ap.add_argument("--converge-bound", type=float, default=60.0)
    ap.add_argument("--partition-settle", type=float, default=1.0)
    ap.add_argument("--soak", type=int, default=0, metavar="N",
                    help="soak: N perturbations (>= 400 for the record), adding clock skew, a "
                         "full disk and a twin validator; needs root (tmpfs)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1 << 31)
    rng = random.SystemRandom()
    if args.base_port is None:
        for _ in range(50):
            base = rng.randrange(20000, 32000) // 10 * 10  # below the ephemeral range
            tmp = Net(args, args.dir, base)
            if all(port_free(p) for p in tmp.all_ports()):
                args.base_port = base
                break
        else:
            print("chaos: no free port range found")
            return 2
    if os.path.exists(args.dir) and os.listdir(args.dir):
        print(f"chaos: {args.dir} is not empty")
        return 2
    os.makedirs(args.dir, exist_ok=True)
    log(f"seed {args.seed}, duration {args.duration:g}s, dir {args.dir}")
    chaos = Chaos(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        chaos.run()
    except KeyboardInterrupt:
        chaos.violation("interrupted")
    except Exception as e:
        traceback.print_exc()
        chaos.violation(f"the test itself failed: {e}")
    finally:
        if getattr(chaos, "net", None):
            chaos.net.shutdown()
            chaos.net.unmount_small_disk()
        if getattr(chaos, "mon", None):
            chaos.mon.stop_ev.set()
        if getattr(chaos, "load", None):
            chaos.load.stop_ev.set()
    chaos.summary()
    return 1 if chaos.violations else 0


if __name__ == "__main__":
    sys.exit(main())
