// A host-app integration sample in Kotlin: what an Android wallet app writes around the core.
//
// The app keeps the store's data key wrapped by a key only it holds (here a JCA AES key; on a
// phone, an Android Keystore key), opens the wallet on a file, receives a mobile driving licence,
// and shows it in person to a police officer's reader, releasing only "over 19". The app never
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

        // The request travels to the phone; the app draws a consent screen from the event.
        val request = holder.receive(session.requestMessage()) as PresentationEvent.Request
        val doc = request.documents.single()
        check(doc.reader?.trusted == true, "the officer's reader is trusted")
        println("reader asks for ${doc.elements.joinToString { it.identifier }}")
        // The citizen approves only age_over_19.
        val response = holder.respond(listOf(Approval(doc.index, doc.matchingCredentials.single(), listOf(ElementRef(ns, "age_over_19")))))

        val verified = (session.receive(response) as ReaderEvent.Response).report.documents.single()
        check(verified.elements.map { it.identifier to it.display } == listOf("age_over_19" to "true"), "only over-19 released")
        check(verified.notReturned.map { it.identifier } == listOf("birth_date"), "birth date withheld")
        println("officer sees: ${verified.elements.joinToString { "${it.identifier}=${it.display}" }}")
        session.receive(holder.terminate())
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
