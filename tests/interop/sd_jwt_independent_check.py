"""Cross-language interoperability: an SD-JWT presentation made by the core (driven through its
Python binding) is checked by an independent RFC 9901 verifier written here from the standard,
on the `cryptography` package, sharing no code with the core's verifier:

  * the issuer JWS (ES256) verifies with the leaf of its `x5c`, and that leaf is signed by the
    authority's root certificate;
  * every disclosure's base64url SHA-256 digest appears in an `_sd` array of the payload or of a
    disclosed object, and the disclosed claims are exactly the approved ones;
  * the KB-JWT (`typ` kb+jwt) verifies with `cnf.jwk`, carries the verifier's `aud` and `nonce`,
    and its `sd_hash` is the digest of the presentation up to and including the last `~`.

Run by bindings/run-tests.sh with the generated Python module on PYTHONPATH; prints
"interop: N passed, N failed".
"""

import base64
import hashlib
import json
import sys
import unittest

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import wallet_core as jigap


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verify_es256(public_key, jws):
    """Verifies a compact JWS signed ES256 (raw r||s); returns (header, payload)."""
    head, body, signature = jws.split(".")
    raw = b64url_decode(signature)
    if len(raw) != 64:
        raise InvalidSignature("ES256 signatures are 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body))


def jwk_public_key(jwk):
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("cnf.jwk is not a P-256 key")
    x = int.from_bytes(b64url_decode(jwk["x"]), "big")
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def independent_verify(presentation, root_der, audience, nonce):
    """RFC 9901 verification from scratch; returns the disclosed (path, value) pairs."""
    parts = presentation.split("~")
    issuer_jwt, disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1]
    if not kb_jwt:
        raise ValueError("no key binding JWT")

    header = json.loads(b64url_decode(issuer_jwt.split(".")[0]))
    assert header["alg"] == "ES256" and header["typ"] == "dc+sd-jwt", header
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    root = x509.load_der_x509_certificate(root_der)
    # Each certificate is signed by the next; the last by the trusted root.
    for child, parent in zip(chain, chain[1:] + [root]):
        parent.public_key().verify(child.signature, child.tbs_certificate_bytes,
                                   ec.ECDSA(child.signature_hash_algorithm))
    _, payload = verify_es256(chain[0].public_key(), issuer_jwt)
    assert payload.get("_sd_alg", "sha-256") == "sha-256"

    # Digest -> decoded disclosure; each digest may be used once.
    by_digest = {}
    for d in disclosures:
        digest = b64url(hashlib.sha256(d.encode("ascii")).digest())
        assert digest not in by_digest, "a disclosure is repeated"
        by_digest[digest] = json.loads(b64url_decode(d))

    disclosed = []

    def walk(node, path):
        if isinstance(node, dict):
            for digest in node.get("_sd", []):
                if digest in by_digest:
                    _, name, value = by_digest.pop(digest)
                    disclosed.append((f"{path}/{name}", value))
                    walk(value, f"{path}/{name}")
            for name, value in node.items():
                if name not in ("_sd", "_sd_alg"):
                    walk(value, f"{path}/{name}")
        elif isinstance(node, list):
            for i, element in enumerate(node):
                if isinstance(element, dict) and set(element) == {"..."}:
                    if element["..."] in by_digest:
                        _, value = by_digest.pop(element["..."])
                        disclosed.append((f"{path}/{i}", value))
                        walk(value, f"{path}/{i}")
                else:
                    walk(element, f"{path}/{i}")

    walk(payload, "")
    assert not by_digest, f"disclosures not referenced by the payload: {list(by_digest.values())}"

    kb_header, kb_payload = verify_es256(jwk_public_key(payload["cnf"]["jwk"]), kb_jwt)
    assert kb_header["typ"] == "kb+jwt" and kb_header["alg"] == "ES256", kb_header
    assert kb_payload["aud"] == audience and kb_payload["nonce"] == nonce, kb_payload
    assert isinstance(kb_payload["iat"], int)
    presented = presentation[: len(presentation) - len(kb_jwt)]
    assert kb_payload["sd_hash"] == b64url(hashlib.sha256(presented.encode("ascii")).digest())
    return dict(disclosed)


class SdJwtInterop(unittest.TestCase):
    def setUp(self):
        self.wallet = jigap.Wallet.open_blocking(jigap.WalletConfig(
            path=None, create_if_missing=True,
            key_protector=jigap.passphrase_key_protector_with_cost("interop", 10_000),
            secure_area=None, clock=None, listener=None))
        self.authority = jigap.TestAuthority.create("Interop Ministry", "KR", None)
        key = self.wallet.create_device_key()
        issued = self.authority.issue_e_certificate("resident-abstract", key.public_key, json.dumps(
            {"name": "김지갑", "resident_registration_number": "950301-2345678",
             "address": {"region": "서울특별시", "locality": "마포구"}}), None)
        self.cid = self.wallet.add_sd_jwt(issued, key.alias)
        self.root = self.authority.root_certificate(jigap.TrustRole.SD_JWT_ISSUER)

    def test_presentation_verifies_independently_with_only_approved_claims(self):
        presentation = self.wallet.present_sd_jwt(
            self.cid, ["/name", "/address/locality"], "https://bank.example", "n-42")
        disclosed = independent_verify(presentation, self.root, "https://bank.example", "n-42")
        self.assertEqual(disclosed["/name"], "김지갑")
        self.assertEqual(disclosed["/address/locality"], "마포구")
        self.assertNotIn("/resident_registration_number", disclosed)
        self.assertNotIn("950301", presentation + json.dumps(disclosed, ensure_ascii=False))

    def test_independent_checker_rejects_tampering(self):
        presentation = self.wallet.present_sd_jwt(
            self.cid, ["/name"], "https://bank.example", "n-43")
        with self.assertRaises(AssertionError):
            independent_verify(presentation, self.root, "https://bank.example", "another nonce")
        # A disclosure smuggled in from a fuller presentation breaks the KB-JWT's sd_hash.
        fuller = self.wallet.present_sd_jwt(
            self.cid, ["/name", "/address/locality"], "https://bank.example", "n-43")
        extra = [d for d in fuller.split("~")[1:-1] if d not in presentation.split("~")]
        parts = presentation.split("~")
        forged = "~".join([parts[0]] + parts[1:-1] + extra + [parts[-1]])
        with self.assertRaises(AssertionError):
            independent_verify(forged, self.root, "https://bank.example", "n-43")
        # A flipped bit in the issuer signature fails the signature check.
        head, body, sig = parts[0].split(".")
        raw = bytearray(b64url_decode(sig))
        raw[5] ^= 1
        broken = "~".join([f"{head}.{body}.{b64url(bytes(raw))}"] + parts[1:])
        with self.assertRaises(InvalidSignature):
            independent_verify(broken, self.root, "https://bank.example", "n-43")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"interop: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
