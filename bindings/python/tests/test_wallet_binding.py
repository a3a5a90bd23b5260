"""Binding tests for the Python API: byte arrays, typed exceptions, a SecureArea written in
Python (on the `cryptography` package), callbacks that raise, and async functions.

Run by bindings/run-tests.sh with the generated module on PYTHONPATH; the last line printed is
"python: N passed, N failed".
"""

import asyncio
import base64
import json
import os
import sys
import tempfile
import threading
import unittest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.exceptions import InvalidSignature

import wallet_core as jigap

ALL_BYTES = bytes(range(256)) + bytes((i * 7) % 256 for i in range(1000))


def protector():
    return jigap.passphrase_key_protector_with_cost("python test passphrase", 10_000)


POLICE = jigap.TestAuthority.create("Python Police", "KR", None)


def mdl_claims(portrait):
    return jigap.MdlClaims(
        family_name="홍", given_name="길동", birth_date="1990-05-05", document_number="11-23-456789-01",
        issuing_authority="경찰청", portrait=portrait, vehicle_categories=["B"], valid_days=30)


def add_mdl(wallet, portrait=b"\xff\xd8\xff\xd9", key=None):
    """Issues an mDL to a (new) device key of `wallet` and stores it: its id and bytes."""
    key = key or wallet.create_device_key()
    mdl = POLICE.issue_mdl(key.public_key, mdl_claims(portrait))
    return wallet.add_mdoc(mdl, key.alias), mdl


class HostSecureArea(jigap.SecureArea):
    """P-256 keys from `cryptography`, in memory, with a switch that makes every call raise."""

    def __init__(self):
        self._keys = {}
        self._lock = threading.Lock()
        self.failing = False
        self.deleted = []

    def _check(self):
        if self.failing:
            raise RuntimeError("keystore unavailable")

    def _key(self, alias):
        with self._lock:
            key = self._keys.get(alias)
        if key is None:
            raise jigap.WalletError.NotFound(f"key {alias}")
        return key

    def create_key(self, alias):
        self._check()
        key = ec.generate_private_key(ec.SECP256R1())
        with self._lock:
            self._keys[alias] = key
        return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def public_key(self, alias):
        self._check()
        return self._key(alias).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def sign(self, alias, message):
        self._check()
        return self._key(alias).sign(message, ec.ECDSA(hashes.SHA256()))

    def key_agreement(self, alias, peer_public_key):
        self._check()
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), peer_public_key)
        return self._key(alias).exchange(ec.ECDH(), peer)

    def delete_key(self, alias):
        self._check()
        with self._lock:
            self._keys.pop(alias, None)
        self.deleted.append(alias)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_es256(jwt, sec1):
    header, payload, signature = jwt.split(".")
    raw = b64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sec1)
    try:
        key.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        return json.loads(b64url_decode(payload))
    except InvalidSignature:
        return None


class WalletBindingTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "wallet.jigap")

    def tearDown(self):
        self.dir.cleanup()

    def open(self, **kwargs):
        return jigap.Wallet.open_blocking(jigap.WalletConfig(path=self.path, key_protector=protector(), **kwargs))

    def test_pin_set_verify_and_typed_errors(self):
        wallet = self.open()
        wallet.set_pin("123456")
        wallet.lock()
        with self.assertRaises(jigap.WalletError.Locked):
            wallet.list_credentials(jigap.CredentialFilter(), 0, 10)
        with self.assertRaises(jigap.WalletError.WrongPin) as wrong:
            wallet.verify_pin("000000")
        self.assertEqual(wrong.exception.tries_left, 4)
        wallet.verify_pin("123456")
        self.assertEqual(wallet.status().pin_tries_left, 5)
        with self.assertRaises(jigap.WalletError.InvalidInput):
            wallet.set_pin("654321")

    def test_credentials_bytes_intact_across_reopen(self):
        wallet = self.open()
        cid, raw = add_mdl(wallet, ALL_BYTES)
        issuer = wallet.get_credential(cid).summary.issuer
        self.assertIn("Python Police Document Signer", issuer)
        page = wallet.list_credentials(jigap.CredentialFilter(issuer=issuer), 0, 10)
        self.assertEqual(page.total, 1)
        self.assertEqual(page.items[0].display_name_ko, "모바일 운전면허증")
        self.assertEqual(wallet.get_credential(cid).raw, raw)
        self.assertIn(ALL_BYTES, raw)
        with self.assertRaises(jigap.WalletError.Verification):
            wallet.add_mdoc(bytes(range(100)), wallet.create_device_key().alias)
        wallet.close_store()
        with self.assertRaises(jigap.WalletError.Closed):
            wallet.status()
        with self.assertRaises(jigap.WalletError.WrongKey):
            jigap.Wallet.open_blocking(jigap.WalletConfig(
                path=self.path, key_protector=jigap.passphrase_key_protector_with_cost("nope", 10_000)))
        again = self.open(create_if_missing=False)
        self.assertFalse(again.status().newly_created)
        self.assertEqual(again.get_credential(cid).raw, raw)
        with self.assertRaises(jigap.WalletError.NotFound):
            again.get_credential("missing")

    def test_python_secure_area_signs_and_failures_are_host_callback(self):
        area = HostSecureArea()
        wallet = jigap.Wallet.open_blocking(jigap.WalletConfig(
            key_protector=protector(), secure_area=area, clock=jigap.fixed_clock(1_800_000_000)))
        key = wallet.create_device_key()
        self.assertEqual(len(key.public_key), 65)
        jwt = wallet.key_proof_jwt(key.alias, "https://issuer.example", "n-1")
        payload = verify_es256(jwt, key.public_key)
        self.assertIsNotNone(payload)
        self.assertEqual(payload["nonce"], "n-1")
        self.assertEqual(payload["iat"], 1_800_000_000)

        area.failing = True
        with self.assertRaises(jigap.WalletError.HostCallback) as failure:
            wallet.key_proof_jwt(key.alias, "aud", None)
        self.assertIn("keystore unavailable", failure.exception.reason)
        area.failing = False
        with self.assertRaises(jigap.WalletError.NotFound):
            wallet.key_proof_jwt("no-such-key", "aud", None)
        self.assertIsNotNone(verify_es256(wallet.key_proof_jwt(key.alias, "aud", None), key.public_key))
        cid, _ = add_mdl(wallet, key=key)
        wallet.delete_credential(cid)
        self.assertEqual(area.deleted, [key.alias])

    def test_async_open_and_wipe(self):
        async def scenario():
            wallet = await jigap.open_wallet(jigap.WalletConfig(path=self.path, key_protector=protector()))
            add_mdl(wallet, ALL_BYTES)
            report = await wallet.wipe()
            self.assertEqual(report.credentials_removed, 1)
            self.assertTrue(report.data_key_destroyed)
            with self.assertRaises(jigap.WalletError.Closed):
                wallet.status()
            fresh = await jigap.open_wallet(jigap.WalletConfig(path=self.path, key_protector=protector()))
            self.assertTrue(fresh.status().newly_created)

        asyncio.run(scenario())

    def test_full_mdoc_presentation_carrying_only_bytes(self):
        wallet = self.open()
        authority = jigap.TestAuthority.create("Python Test", "KR", None)
        key = wallet.create_device_key()
        mdl = authority.issue_mdl(key.public_key, jigap.MdlClaims(
            family_name="홍", given_name="길동", birth_date="1990-05-05", document_number="11-23-456789-01",
            issuing_authority="경찰청", portrait=b"\xff\xd8\xff\xd9", vehicle_categories=["B"], valid_days=30))
        cid = wallet.add_mdoc(mdl, key.alias)
        wallet.add_trust_anchor(jigap.TrustRole.MDOC_READER,
                                authority.root_certificate(jigap.TrustRole.MDOC_READER))
        holder = wallet.start_presentation([], jigap.DeviceAuthMode.SIGNATURE)
        reader = jigap.MdocReader(jigap.ReaderConfig(
            iaca_certificates=[authority.root_certificate(jigap.TrustRole.MDOC_ISSUER)],
            reader_certificate_chain=[authority.signer_certificate(jigap.TrustRole.MDOC_READER)],
            reader_private_key=authority.signer_key(jigap.TrustRole.MDOC_READER)))
        ns = "org.iso.18013.5.1"
        session = reader.start_session(holder.engagement().qr_uri, [
            jigap.DocumentRequest(doc_type="org.iso.18013.5.1.mDL", items=[
                jigap.RequestedItem(namespace=ns, identifier="age_over_19"),
                jigap.RequestedItem(namespace=ns, identifier="family_name")])])
        event = holder.receive(session.request_message())
        self.assertTrue(event.is_REQUEST())
        doc = event.documents[0]
        self.assertTrue(doc.reader.trusted)
        answer = holder.respond([jigap.Approval(
            document_index=doc.index, credential_id=cid, elements=[jigap.ElementRef(namespace=ns, identifier="age_over_19")])])
        with self.assertRaises(jigap.WalletError.Verification) as failure:
            session.receive(answer[:-1] + bytes([answer[-1] ^ 1]))
        self.assertEqual(failure.exception.failure, jigap.VerificationFailure.DECRYPTION)
        result = session.receive(answer)
        self.assertTrue(result.is_RESPONSE())
        verified = result.report.documents[0]
        self.assertEqual([e.identifier for e in verified.elements], ["age_over_19"])
        self.assertEqual(verified.elements[0].display, "true")

    def test_sd_jwt_certificate_presented_with_key_binding(self):
        wallet = self.open()
        authority = jigap.TestAuthority.create("Python Test", "KR", None)
        key = wallet.create_device_key()
        issued = authority.issue_e_certificate("resident-abstract", key.public_key, json.dumps(
            {"name": "홍길동", "resident_registration_number": "900505-1234567",
             "address": {"region": "서울특별시", "locality": "종로구"}}), None)
        cid = wallet.add_sd_jwt(issued, key.alias)
        presentation = wallet.present_sd_jwt(cid, ["/name", "/address/locality"], "https://bank.example", "n-1")
        verifier = jigap.SdJwtVerifier(jigap.SdJwtVerifierConfig(
            trusted_issuer_certificates=[authority.root_certificate(jigap.TrustRole.SD_JWT_ISSUER)]))
        verified = verifier.verify(presentation, "https://bank.example", "n-1")
        self.assertTrue(verified.key_bound)
        claims = json.loads(verified.claims_json)
        self.assertEqual(claims["address"]["locality"], "종로구")
        self.assertNotIn("resident_registration_number", claims)
        with self.assertRaises(jigap.WalletError.Verification) as failure:
            verifier.verify(presentation, "https://bank.example", "n-2")
        self.assertEqual(failure.exception.failure, jigap.VerificationFailure.KEY_BINDING_NONCE)

    def test_bills_and_inbox(self):
        wallet = self.open()
        authority = jigap.TestAuthority.create("Python Gov", "KR", None)
        wallet.add_trust_anchor(jigap.TrustRole.SENDER, authority.root_certificate(jigap.TrustRole.SENDER))
        bill = wallet.add_bill(authority.sign_bill(jigap.BillDraft(
            id="TAX-1", version=1, sender_name="종로구청", kind=jigap.BillKind.LOCAL_TAX, title="주민세",
            amount_krw=75_000, due_date="2099-12-31", payee_account="가상계좌", period="2099")))
        self.assertEqual(bill.state, jigap.BillState.UNPAID)
        for i in range(3):
            wallet.add_notification(authority.sign_notification(jigap.NotificationDraft(
                id=f"N-{i}", category=jigap.NotificationCategory.GENERAL, title_ko="안내", body_ko="안내입니다.",
                priority=jigap.Priority.NORMAL)))
        with self.assertRaises(jigap.WalletError.Verification) as failure:
            wallet.add_notification(authority.sign_notification(jigap.NotificationDraft(
                id="S", category=jigap.NotificationCategory.TAX, title_ko="환급", body_ko="https://bit.ly/x",
                priority=jigap.Priority.HIGH)))
        self.assertEqual(failure.exception.failure, jigap.VerificationFailure.CALL_TO_ACTION)
        page = wallet.list_notifications(jigap.NotificationFilter(), 0, 2)
        self.assertEqual((page.total, len(page.items), page.next_offset), (3, 2, 2))

    def test_eligibility_check(self):
        wallet = self.open()
        gov = jigap.TestAuthority.create("Python Gov", "KR", None)
        wallet.add_trust_anchor(jigap.TrustRole.CATALOG_PUBLISHER,
                                gov.root_certificate(jigap.TrustRole.CATALOG_PUBLISHER))
        wallet.set_benefit_opt_in(True)
        wallet.set_citizen_facts([jigap.CitizenFact(name="pregnant", value=jigap.FactValue.BOOL(True)),
                                  jigap.CitizenFact(name="region", value=jigap.FactValue.TEXT("서울"))])
        results = {r.benefit_id: r for r in wallet.evaluate_benefits(gov.sign_benefit_catalog(1))}
        self.assertEqual(results["seoul-pregnancy-transport"].eligibility, jigap.Eligibility.ELIGIBLE)
        self.assertEqual(results["pregnancy-medical-voucher"].eligibility, jigap.Eligibility.ELIGIBLE)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"python: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 and not result.skipped else 1)
