// A host-app integration sample in Kotlin: what an Android wallet app writes around the core.
//
// The app keeps the store's data key wrapped by a key only it holds (here a JCA AES key; on a
// phone, an Android Keystore key), opens the wallet on a file, receives a mobile driving licence,
// and shows it in person to a police officer's reader. The app draws the consent screen the core
// asks for (who asks, verified or not, and the policy's verdict on each item); the core's policy
// offers "over 19" before the birth date, and the citizen approves what is offered. The app never
// touches cryptography or CBOR: it moves bytes between the two sessions, as it would over BLE.
//
// Built and run by bindings/run-tests.sh after the Kotlin binding tests; exits non-zero if the
// story does not end as printed.

import kr.jigap.wallet.*
import java.nio.file.Files
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlin.system.exitProcess

/** Wraps the wallet's data key with an app-held AES-256 key (Android: a Keystore key). */
class AppKeyProtector(private val key: SecretKey) : KeyProtector {
    private val random = SecureRandom()

    override fun wrapKey(dataKey: ByteArray): ByteArray {
        val iv = ByteArray(12).also { random.nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(128, iv))
        return iv + cipher.doFinal(dataKey)
    }

    override fun unwrapKey(wrappedKey: ByteArray): ByteArray {
        if (wrappedKey.size < 12 + 16) throw WalletException.WrongKey()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrappedKey, 0, 12))
        try {
            return cipher.doFinal(wrappedKey, 12, wrappedKey.size - 12)
        } catch (e: AEADBadTagException) {
            throw WalletException.WrongKey() // another app key: tell the core, typed
        }
    }
}

/** The app's consent screen: shows the core's disclosure request and approves what is offered. */
class ConsentScreen : UserPrompt {
    override suspend fun ask(request: DisclosureRequest): DisclosureDecision? {
        val who = request.relyingParty
        println("consent: ${who.name ?: "an unverified reader (${who.unauthenticatedReason})"} asks for")
        for (doc in request.documents) {
            for (item in doc.items) {
                val verdict = when (val v = item.verdict) {
                    is ItemVerdict.Offered -> "offered"
                    is ItemVerdict.Granted -> "remembered"
                    is ItemVerdict.NeedsOwnApproval -> "only if you choose it (${v.minimal} answers first)"
                    is ItemVerdict.Withheld -> "withheld: ${v.reason}"
                }
                println("  ${item.labelKo ?: item.path} — $verdict")
            }
        }
        // The citizen taps "share" on what is offered.
        return DisclosureDecision(
            request.documents.map { doc ->
                DocumentApproval(doc.id, doc.credentialIds.first(), doc.items.filter { it.verdict is ItemVerdict.Offered }.map { it.path })
            },
        )
    }
}

fun check(condition: Boolean, what: String) {
    if (!condition) {
        System.err.println("host app sample: FAILED: $what")
        exitProcess(1)
    }
}

fun main() {
    val appKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    val path = Files.createTempDirectory("jigap-host-app").resolve("wallet.jigap").toString()

    // First launch: create the store and let the citizen choose a PIN.
    Wallet.openBlocking(WalletConfig(path = path, keyProtector = AppKeyProtector(appKey))).use { wallet ->
        wallet.setPin("482916")
        // The licence arrives from the issuing authority (a test authority in this sample).
        val police = TestAuthority.create("Sample Police Agency", "KR", null)
        val deviceKey = wallet.createDeviceKey()
        val licence = police.issueMdl(
            deviceKey.publicKey,
            MdlClaims(
                familyName = "김", givenName = "지갑", birthDate = "1995-03-01", documentNumber = "11-25-000001-01",
                issuingAuthority = "경찰청", portrait = byteArrayOf(-1, -40, -1, -39), vehicleCategories = listOf("B"),
                validDays = 365u,
            ),
        )
        val id = wallet.addMdoc(licence, deviceKey.alias)
        wallet.addTrustAnchor(TrustRole.MDOC_READER, police.rootCertificate(TrustRole.MDOC_READER))
        println("stored credential $id")

        // At the checkpoint: the app shows a QR code; the officer's reader scans it.
        val holder = wallet.startPresentation(listOf(RetrievalMethod.Nfc(255uL, 65536uL)), DeviceAuthMode.SIGNATURE)
        val officer = MdocReader(
            ReaderConfig(
                iacaCertificates = listOf(police.rootCertificate(TrustRole.MDOC_ISSUER)),
                readerCertificateChain = listOf(police.signerCertificate(TrustRole.MDOC_READER)),
                readerPrivateKey = police.signerKey(TrustRole.MDOC_READER),
            ),
        )
        val ns = "org.iso.18013.5.1"
        val session = officer.startSession(
            holder.engagement().qrUri,
            listOf(DocumentRequest("org.iso.18013.5.1.mDL", listOf(RequestedItem(ns, "age_over_19"), RequestedItem(ns, "birth_date")))),
        )

        // The request travels to the phone; the core runs the consent step through the app's
        // screen and returns the answer to send back.
        val request = holder.receive(session.requestMessage()) as PresentationEvent.Request
        check(request.disclosure.relyingParty.authenticated, "the officer's reader is verified")
        check(
            request.disclosure.documents.single().items.any { it.verdict is ItemVerdict.NeedsOwnApproval },
            "the birth date waits behind over-19",
        )
        val response = kotlinx.coroutines.runBlocking { holder.answer(ConsentScreen(), 60u) }

        val verified = (session.receive(response) as ReaderEvent.Response).report.documents.single()
        check(verified.elements.map { it.identifier to it.display } == listOf("age_over_19" to "true"), "only over-19 released")
        check(verified.notReturned.map { it.identifier } == listOf("birth_date"), "birth date withheld")
        println("officer sees: ${verified.elements.joinToString { "${it.identifier}=${it.display}" }}")
        session.receive(holder.terminate())
        // The citizen's record shows the presentation, and it checks.
        val record = wallet.listJournal(JournalFilter(kinds = listOf(JournalKind.PRESENTATION)), 0u, 10u)
        check(record.total == 1uL && wallet.verifyJournal().entries >= 2uL, "the presentation is recorded")
        wallet.lock()
    }

    // Next launch: the same app key opens the store; another key is refused, typed.
    Wallet.openBlocking(WalletConfig(path = path, createIfMissing = false, keyProtector = AppKeyProtector(appKey))).use { wallet ->
        wallet.verifyPin("482916")
        check(wallet.status().credentialCount == 1uL, "the licence is still there")
    }
    val otherKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    val refused = try {
        Wallet.openBlocking(WalletConfig(path = path, createIfMissing = false, keyProtector = AppKeyProtector(otherKey)))
        false
    } catch (e: WalletException.WrongKey) {
        true
    }
    check(refused, "another app key is WrongKey")
    println("host app sample: ok")
}
