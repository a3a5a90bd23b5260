"""Cross-language interoperability: an mDL issued by the core's test authority (driven through
the Python binding) is checked against ISO/IEC 18013-5 by code written here from the standard,
sharing nothing with the core: a small CBOR decoder, COSE_Sign1 (RFC 9052) verification on the
`cryptography` package, and the Mobile Security Object rules of clause 9.1.2:

  * issuerAuth is a COSE_Sign1 with alg ES256 in the protected header and the document signer
    certificate in x5chain (label 33); the signer is signed by the IACA root and carries the
    mdoc document-signer extended key usage (1.0.18013.5.1.2);
  * the payload is #6.24(MobileSecurityObject) with version "1.0", digestAlgorithm "SHA-256",
    the mDL docType, tdate (#6.0) validity, and the holder's device key as a COSE_Key;
  * every IssuerSignedItemBytes hashes (SHA-256 over the whole #6.24 item) to the digest listed
    under its namespace and digestID, and each item carries at least 16 bytes of random.

Run by bindings/run-tests.sh with the generated Python module on PYTHONPATH; prints
"interop: N passed, N failed" (shared with the SD-JWT check by the caller's count).
"""

import hashlib
import struct
import sys
import unittest

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import wallet_core as jigap

MDL = "org.iso.18013.5.1.mDL"
MDL_NS = "org.iso.18013.5.1"
DS_EKU = x509.ObjectIdentifier("1.0.18013.5.1.2")


class Tag:
    def __init__(self, number, value, raw):
        self.number, self.value, self.raw = number, value, raw


class CborError(ValueError):
    pass


def cbor_decode(data):
    """Decodes one definite-length CBOR item covering all of `data`."""
    value, end = _item(data, 0)
    if end != len(data):
        raise CborError("trailing bytes")
    return value


def _argument(data, pos, info):
    if info < 24:
        return info, pos
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None or pos + size > len(data):
        raise CborError("bad or truncated argument")
    return int.from_bytes(data[pos:pos + size], "big"), pos + size


def _item(data, pos):
    if pos >= len(data):
        raise CborError("truncated")
    start = pos
    major, info = data[pos] >> 5, data[pos] & 0x1F
    pos += 1
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info in simple:
            return simple[info], pos
        if info == 25:
            return struct.unpack(">e", data[pos:pos + 2])[0], pos + 2
        if info == 26:
            return struct.unpack(">f", data[pos:pos + 4])[0], pos + 4
        if info == 27:
            return struct.unpack(">d", data[pos:pos + 8])[0], pos + 8
        raise CborError(f"unsupported simple value {info}")
    arg, pos = _argument(data, pos, info)
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise CborError("truncated string")
        chunk = bytes(data[pos:pos + arg])
        return (chunk if major == 2 else chunk.decode("utf-8")), pos + arg
    if major == 4:
        items = []
        for _ in range(arg):
            value, pos = _item(data, pos)
            items.append(value)
        return items, pos
    if major == 5:
        result = {}
        for _ in range(arg):
            key, pos = _item(data, pos)
            value, pos = _item(data, pos)
            if isinstance(key, list):
                raise CborError("array keys are not used by mdoc")
            result[key] = value
        return result, pos
    value, pos = _item(data, pos)  # major 6: a tag
    return Tag(arg, value, bytes(data[start:pos])), pos


def cbor_head(major, length):
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError("too long")


def sig_structure(protected, payload):
    """Sig_structure for COSE_Sign1 with empty external_aad (RFC 9052 section 4.4)."""
    out = cbor_head(4, 4)
    context = b"Signature1"
    out += cbor_head(3, len(context)) + context
    out += cbor_head(2, len(protected)) + protected
    out += cbor_head(2, 0)
    out += cbor_head(2, len(payload)) + payload
    return out


def independent_verify(issuer_signed, iaca_der, device_public_key):
    """Checks IssuerSigned bytes per ISO/IEC 18013-5; returns {identifier: value} of the mDL."""
    top = cbor_decode(issuer_signed)
    protected, unprotected, payload, signature = top["issuerAuth"]
    assert cbor_decode(protected) == {1: -7}, "alg must be ES256 in the protected header"
    chain = unprotected[33]
    chain = [chain] if isinstance(chain, bytes) else chain
    signer = x509.load_der_x509_certificate(chain[0])
    iaca = x509.load_der_x509_certificate(iaca_der)
    iaca.public_key().verify(signer.signature, signer.tbs_certificate_bytes,
                             ec.ECDSA(signer.signature_hash_algorithm))
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DS_EKU in list(eku), "document signer EKU"
    if len(signature) != 64:
        raise InvalidSignature("COSE ES256 signatures are r||s, 64 bytes")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    signer.public_key().verify(der, sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))

    wrapped = cbor_decode(payload)
    assert isinstance(wrapped, Tag) and wrapped.number == 24, "payload is #6.24(MSO)"
    mso = cbor_decode(wrapped.value)
    assert mso["version"] == "1.0" and mso["digestAlgorithm"] == "SHA-256" and mso["docType"] == MDL
    validity = mso["validityInfo"]
    for field in ("signed", "validFrom", "validUntil"):
        assert isinstance(validity[field], Tag) and validity[field].number == 0, f"{field} is a tdate"
    key = mso["deviceKeyInfo"]["deviceKey"]
    assert key[1] == 2 and key[-1] == 1, "EC2 key on P-256"
    assert b"\x04" + key[-2] + key[-3] == device_public_key, "bound to the holder's device key"

    claims = {}
    for namespace, items in top["nameSpaces"].items():
        digests = mso["valueDigests"][namespace]
        for item in items:
            assert isinstance(item, Tag) and item.number == 24, "IssuerSignedItemBytes"
            signed_item = cbor_decode(item.value)
            assert len(signed_item["random"]) >= 16, "at least 16 bytes of random"
            assert hashlib.sha256(item.raw).digest() == digests[signed_item["digestID"]], \
                f"digest of {signed_item['elementIdentifier']}"
            if namespace == MDL_NS:
                claims[signed_item["elementIdentifier"]] = signed_item["elementValue"]
    return claims


class MdocInterop(unittest.TestCase):
    def setUp(self):
        self.wallet = jigap.Wallet.open_blocking(jigap.WalletConfig(
            path=None, create_if_missing=True,
            key_protector=jigap.passphrase_key_protector_with_cost("interop", 10_000),
            secure_area=None, clock=None, listener=None))
        self.authority = jigap.TestAuthority.create("Interop Police", "KR", None)
        self.key = self.wallet.create_device_key()
        self.mdl = self.authority.issue_mdl(self.key.public_key, jigap.MdlClaims(
            family_name="김", given_name="지갑", birth_date="1995-03-01", document_number="11-25-000001-01",
            issuing_authority="경찰청", portrait=b"\xff\xd8\xff\xd9", vehicle_categories=["B"],
            valid_days=30, status=None))
        self.iaca = self.authority.root_certificate(jigap.TrustRole.MDOC_ISSUER)

    def test_issued_mdl_verifies_independently(self):
        claims = independent_verify(self.mdl, self.iaca, self.key.public_key)
        self.assertEqual(claims["family_name"], "김")
        self.assertEqual(claims["given_name"], "지갑")
        self.assertIs(claims["age_over_19"], True)
        birth = claims["birth_date"]
        self.assertTrue(isinstance(birth, Tag) and birth.number == 1004 and birth.value == "1995-03-01")
        self.assertEqual(claims["portrait"], b"\xff\xd8\xff\xd9")

    def test_independent_checker_rejects_tampering(self):
        # A changed element value no longer matches its digest.
        changed = self.mdl.replace("김".encode(), "이".encode(), 1)
        self.assertNotEqual(changed, self.mdl)
        with self.assertRaises(AssertionError):
            independent_verify(changed, self.iaca, self.key.public_key)
        # Another holder's key is not the one the MSO binds.
        other = self.wallet.create_device_key()
        with self.assertRaises(AssertionError):
            independent_verify(self.mdl, self.iaca, other.public_key)
        # Another authority's root does not sign this document signer.
        stranger = jigap.TestAuthority.create("Stranger", "KR", None).root_certificate(jigap.TrustRole.MDOC_ISSUER)
        with self.assertRaises(InvalidSignature):
            independent_verify(self.mdl, stranger, self.key.public_key)
        # The wallet, for its part, refuses the altered document with a typed error.
        with self.assertRaises(jigap.WalletError.Verification) as refused:
            self.wallet.add_mdoc(changed, self.key.alias)
        self.assertEqual(refused.exception.failure, jigap.VerificationFailure.DIGEST_MISMATCH)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"interop: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
