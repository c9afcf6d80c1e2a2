"""BIP-340 Schnorr signatures over secp256k1 in pure Python, written from the specification
(https://github.com/bitcoin/bips/blob/master/bip-0340.mediawiki). For tests only: it is slow and
not constant-time."""

import hashlib

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def tagged_hash(tag: str, msg: bytes) -> bytes:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


def point_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and a[1] != b[1]:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], P - 2, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], P - 2, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def point_mul(p, n: int):
    r = None
    for i in range(256):
        if (n >> i) & 1:
            r = point_add(r, p)
        p = point_add(p, p)
    return r


def lift_x(x: int):
    if x >= P:
        return None
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    if pow(y, 2, P) != y_sq:
        return None
    return (x, y if y % 2 == 0 else P - y)


def int_from(b: bytes) -> int:
    return int.from_bytes(b, "big")


def bytes_from_int(x: int) -> bytes:
    return x.to_bytes(32, "big")


def pubkey_gen(seckey: bytes) -> bytes:
    d0 = int_from(seckey)
    if not 1 <= d0 <= N - 1:
        raise ValueError("secret key must be in [1, n-1]")
    return bytes_from_int(point_mul(G, d0)[0])


def sign(msg: bytes, seckey: bytes, aux_rand: bytes) -> bytes:
    d0 = int_from(seckey)
    if not 1 <= d0 <= N - 1:
        raise ValueError("secret key must be in [1, n-1]")
    if len(aux_rand) != 32:
        raise ValueError("aux_rand must be 32 bytes")
    pt = point_mul(G, d0)
    d = d0 if pt[1] % 2 == 0 else N - d0
    t = bytes_from_int(d ^ int_from(tagged_hash("BIP0340/aux", aux_rand)))
    k0 = int_from(tagged_hash("BIP0340/nonce", t + bytes_from_int(pt[0]) + msg)) % N
    if k0 == 0:
        raise RuntimeError("nonce is zero")
    r = point_mul(G, k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    e = int_from(tagged_hash("BIP0340/challenge", bytes_from_int(r[0]) + bytes_from_int(pt[0]) + msg)) % N
    sig = bytes_from_int(r[0]) + bytes_from_int((k + e * d) % N)
    if not verify(msg, bytes_from_int(pt[0]), sig):
        raise RuntimeError("created signature does not verify")
    return sig


def verify(msg: bytes, pubkey: bytes, sig: bytes) -> bool:
    if len(pubkey) != 32 or len(sig) != 64:
        return False
    p = lift_x(int_from(pubkey))
    r = int_from(sig[:32])
    s = int_from(sig[32:])
    if p is None or r >= P or s >= N:
        return False
    e = int_from(tagged_hash("BIP0340/challenge", sig[:32] + pubkey + msg)) % N
    rp = point_add(point_mul(G, s), point_mul(p, N - e))
    return rp is not None and rp[1] % 2 == 0 and rp[0] == r


def check_vectors(csv_path: str) -> int:
    """Checks this implementation against BIP-340's test-vectors.csv; returns how many ran."""
    import csv
    count = 0
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            pk = bytes.fromhex(row["public key"])
            msg = bytes.fromhex(row["message"])
            sig = bytes.fromhex(row["signature"])
            expected = row["verification result"] == "TRUE"
            if row["secret key"]:
                sk = bytes.fromhex(row["secret key"])
                if pubkey_gen(sk) != pk:
                    raise AssertionError(f"vector {row['index']}: public key differs")
                if sign(msg, sk, bytes.fromhex(row["aux_rand"])) != sig:
                    raise AssertionError(f"vector {row['index']}: signature differs")
            if verify(msg, pk, sig) != expected:
                raise AssertionError(f"vector {row['index']}: verification result differs")
            count += 1
    return count
