// Binding tests for the Kotlin API: what only the binding can break — object lifetime, byte
// arrays, typed exceptions, foreign-trait callbacks (a SecureArea written in Kotlin on the JCA),
// and suspend functions. Logic is tested once, in Rust.
//
// Run by bindings/run-tests.sh; ends with "kotlin: N passed, N failed".

import kotlinx.coroutines.runBlocking
import kr.jigap.wallet.*
import java.math.BigInteger
import java.nio.file.Files
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.ECPoint
import java.security.spec.ECPublicKeySpec
import java.util.Base64
import javax.crypto.KeyAgreement
import kotlin.system.exitProcess

/**
 * The host's HttpClient, in Kotlin on the JDK's java.net.http: HTTPS trusting only the test
 * authority's TLS root, no redirects followed (the core handles those itself).
 */
class JdkHttpClient(tlsRoot: ByteArray) : HttpClient {
    private val client: java.net.http.HttpClient
    val requests = java.util.concurrent.atomic.AtomicInteger()

    init {
        val root = java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(tlsRoot.inputStream())
        val store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType())
        store.load(null, null)
        store.setCertificateEntry("jigap-test-root", root)
        val trust = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm())
        trust.init(store)
        val tls = javax.net.ssl.SSLContext.getInstance("TLS")
        tls.init(null, trust.trustManagers, null)
        client = java.net.http.HttpClient.newBuilder()
            .sslContext(tls)
            .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
            .connectTimeout(java.time.Duration.ofSeconds(10))
            .build()
    }

    override suspend fun send(request: HttpRequest): HttpResponse {
        requests.incrementAndGet()
        val builder = java.net.http.HttpRequest.newBuilder(java.net.URI(request.url))
            .timeout(java.time.Duration.ofSeconds(30))
        for (h in request.headers) builder.header(h.name, h.value)
        when (request.method) {
            HttpMethod.GET -> builder.GET()
            HttpMethod.POST -> builder.POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.body))
        }
        val response = try {
            client.sendAsync(builder.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray())
                .await()
        } catch (e: Exception) {
            throw WalletException.HostCallback("${request.url}: $e")
        }
        val headers = response.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
        return HttpResponse(
            status = response.statusCode().toUShort(),
            contentType = response.headers().firstValue("content-type").orElse(null),
            headers = headers,
            body = response.body(),
        )
    }
}

/** Waits for a CompletableFuture without blocking the coroutine's thread. */
suspend fun <T> java.util.concurrent.CompletableFuture<T>.await(): T =
    kotlinx.coroutines.suspendCancellableCoroutine { continuation ->
        whenComplete { value, error ->
            if (error != null) continuation.resumeWith(Result.failure(error)) else continuation.resumeWith(Result.success(value))
        }
    }

/** One string field of a flat JSON object (enough for the test issuer's admin answers). */
fun jsonString(json: String, field: String): String? =
    Regex("\"" + Regex.escape(field) + "\"\\s*:\\s*\"([^\"]*)\"").find(json)?.groupValues?.get(1)

/** A host SecureArea: P-256 keys from the JCA, held in memory, with a switch to make it throw. */
class JcaSecureArea : SecureArea {
    private val keys = java.util.concurrent.ConcurrentHashMap<String, KeyPair>()
    @Volatile var failing = false
    val deleted = java.util.Collections.synchronizedList(mutableListOf<String>())

    private fun check() {
        if (failing) throw IllegalStateException("keystore unavailable")
    }

    private fun key(alias: String): KeyPair =
        keys[alias] ?: throw WalletException.NotFound("key $alias")

    override fun createKey(alias: String): ByteArray {
        check()
        val generator = KeyPairGenerator.getInstance("EC")
        generator.initialize(ECGenParameterSpec("secp256r1"))
        val pair = generator.generateKeyPair()
        keys[alias] = pair
        return sec1(pair.public as ECPublicKey)
    }

    override fun publicKey(alias: String): ByteArray {
        check()
        return sec1(key(alias).public as ECPublicKey)
    }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        check()
        val signer = Signature.getInstance("SHA256withECDSA")
        signer.initSign(key(alias).private)
        signer.update(message)
        return signer.sign() // DER, as Android Keystore returns it
    }

    override fun keyAgreement(alias: String, peerPublicKey: ByteArray): ByteArray {
        check()
        val own = key(alias)
        val params = (own.public as ECPublicKey).params
        val x = BigInteger(1, peerPublicKey.copyOfRange(1, 33))
        val y = BigInteger(1, peerPublicKey.copyOfRange(33, 65))
        val peer = KeyFactory.getInstance("EC").generatePublic(ECPublicKeySpec(ECPoint(x, y), params))
        val agreement = KeyAgreement.getInstance("ECDH")
        agreement.init(own.private)
        agreement.doPhase(peer, true)
        return agreement.generateSecret()
    }

    override fun deleteKey(alias: String) {
        check()
        keys.remove(alias)
        deleted.add(alias)
    }

    companion object {
        fun sec1(key: ECPublicKey): ByteArray {
            fun fixed(n: BigInteger): ByteArray {
                val b = n.toByteArray()
                return when {
                    b.size == 32 -> b
                    b.size > 32 -> b.copyOfRange(b.size - 32, b.size)
                    else -> ByteArray(32 - b.size) + b
                }
            }
            return byteArrayOf(4) + fixed(key.w.affineX) + fixed(key.w.affineY)
        }
    }
}

fun verifyEs256(jwt: String, sec1: ByteArray): Boolean {
    val parts = jwt.split(".")
    val raw = Base64.getUrlDecoder().decode(parts[2])
    val der = rawToDer(raw)
    val params = (KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }
        .generateKeyPair().public as ECPublicKey).params
    val point = ECPoint(BigInteger(1, sec1.copyOfRange(1, 33)), BigInteger(1, sec1.copyOfRange(33, 65)))
    val key = KeyFactory.getInstance("EC").generatePublic(ECPublicKeySpec(point, params))
    val verifier = Signature.getInstance("SHA256withECDSA")
    verifier.initVerify(key)
    verifier.update("${parts[0]}.${parts[1]}".toByteArray())
    return verifier.verify(der)
}

fun rawToDer(raw: ByteArray): ByteArray {
    fun int(b: ByteArray): ByteArray {
        var v = b.dropWhile { it == 0.toByte() }.toByteArray()
        if (v.isEmpty()) v = byteArrayOf(0)
        if (v[0] < 0) v = byteArrayOf(0) + v
        return byteArrayOf(2, v.size.toByte()) + v
    }
    val body = int(raw.copyOfRange(0, 32)) + int(raw.copyOfRange(32, 64))
    return byteArrayOf(0x30, body.size.toByte()) + body
}

val allBytes = ByteArray(256) { it.toByte() } + ByteArray(1000) { (it * 7).toByte() }

val police = TestAuthority.create("Kotlin Police", "KR", null)

fun mdlClaims(portrait: ByteArray) = MdlClaims(
    familyName = "홍", givenName = "길동", birthDate = "1990-05-05", documentNumber = "11-23-456789-01",
    issuingAuthority = "경찰청", portrait = portrait, vehicleCategories = listOf("B"), validDays = 30u,
)

/** Issues an mDL with `portrait` to a new device key of `wallet` and stores it: its id and bytes. */
fun addMdl(wallet: Wallet, portrait: ByteArray = byteArrayOf(-1, -40, -1, -39)): Pair<String, ByteArray> {
    val key = wallet.createDeviceKey()
    val mdl = police.issueMdl(key.publicKey, mdlClaims(portrait))
    return Pair(wallet.addMdoc(mdl, key.alias), mdl)
}

fun protector() = passphraseKeyProtectorWithCost("kotlin test passphrase", 10_000u)

fun expect(condition: Boolean, what: String) {
    if (!condition) throw AssertionError(what)
}

inline fun <reified E : Throwable> expectThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

val tests = linkedMapOf<String, () -> Unit>()
fun test(name: String, body: () -> Unit) { tests[name] = body }

fun main() {
    val dir = Files.createTempDirectory("jigap-kotlin")
    val path = dir.resolve("wallet.jigap").toString()
    var credentialId = ""
    var credentialBytes = ByteArray(0)

    test("open a wallet on a file, set and verify a PIN") {
        val wallet = Wallet.openBlocking(WalletConfig(path = path, keyProtector = protector()))
        expect(wallet.status().newlyCreated, "new store")
        wallet.setPin("123456")
        wallet.lock()
        expectThrows<WalletException.Locked> { wallet.listCredentials(CredentialFilter(), 0u, 10u) }
        val wrong = expectThrows<WalletException.WrongPin> { wallet.verifyPin("000000") }
        expect(wrong.triesLeft == 4u, "tries left 4, got ${wrong.triesLeft}")
        val wrong2 = expectThrows<WalletException.WrongPin> { wallet.verifyPin("000001") }
        expect(wrong2.triesLeft == 3u, "tries left 3")
        wallet.verifyPin("123456")
        expect(wallet.status().pinTriesLeft == 5u, "counter reset")
        expectThrows<WalletException.InvalidInput> { wallet.changePin("123456", "12ab56") }
        wallet.closeStore()
    }

    test("add and list credentials with byte arrays intact") {
        val wallet = Wallet.openBlocking(WalletConfig(path = path, createIfMissing = false, keyProtector = protector()))
        wallet.verifyPin("123456")
        val (id, bytes) = addMdl(wallet, allBytes)
        credentialId = id
        credentialBytes = bytes
        val certKey = wallet.createDeviceKey()
        wallet.addSdJwt(
            police.issueECertificate("tax-payment", certKey.publicKey, """{"name":"홍길동","arrears":false}""", null),
            certKey.alias,
        )
        val page = wallet.listCredentials(CredentialFilter(format = CredentialFormat.MSO_MDOC), 0u, 10u)
        expect(page.total == 1uL && page.items.single().id == credentialId, "filtered listing")
        expect(page.items.single().displayNameKo == "모바일 운전면허증", "Korean text intact")
        val got = wallet.getCredential(credentialId)
        expect(got.raw.contentEquals(credentialBytes), "raw bytes intact")
        expect(got.raw.toList().windowed(allBytes.size).any { it == allBytes.toList() }, "every byte value crossed")
        val all = wallet.listCredentials(CredentialFilter(), 0u, 1u)
        expect(all.total == 2uL && all.nextOffset == 1u, "paging")
        expectThrows<WalletException.NotFound> { wallet.getCredential("missing") }
        val refused = expectThrows<WalletException.Verification> { wallet.addMdoc(ByteArray(100) { (it * 37).toByte() }, certKey.alias) }
        expect(refused.failure == VerificationFailure.MALFORMED, "${refused.failure}")
        wallet.closeStore()
        expectThrows<WalletException.Closed> { wallet.status() }
    }

    test("close and reopen with data intact; wrong passphrase is WrongKey") {
        expectThrows<WalletException.WrongKey> {
            Wallet.openBlocking(WalletConfig(path = path, keyProtector = passphraseKeyProtectorWithCost("nope", 10_000u)))
        }
        Wallet.openBlocking(WalletConfig(path = path, keyProtector = protector())).use { wallet ->
            expect(!wallet.status().unlocked, "opens locked")
            wallet.verifyPin("123456")
            expect(wallet.getCredential(credentialId).raw.contentEquals(credentialBytes), "bytes after reopen")
            expect(wallet.status().credentialCount == 2uL, "count after reopen")
        }
    }

    test("a SecureArea written in Kotlin signs for the core") {
        val area = JcaSecureArea()
        Wallet.openBlocking(WalletConfig(keyProtector = protector(), secureArea = area, clock = fixedClock(1_800_000_000L))).use { wallet ->
            val key = wallet.createDeviceKey()
            expect(key.publicKey.size == 65 && key.publicKey[0] == 4.toByte(), "SEC1 public key")
            val jwt = wallet.keyProofJwt(key.alias, "https://issuer.example", "nonce-1")
            expect(verifyEs256(jwt, key.publicKey), "proof verifies with the host key")
            val payload = String(Base64.getUrlDecoder().decode(jwt.split(".")[1]))
            expect(payload.contains("\"nonce\":\"nonce-1\"") && payload.contains("1800000000"), payload)
            val mdl = police.issueMdl(key.publicKey, mdlClaims(allBytes))
            val id = wallet.addMdoc(mdl, key.alias)
            wallet.deleteCredential(id)
            expect(area.deleted == listOf(key.alias), "deleting the credential deleted its host key")
        }
    }

    test("a throwing callback becomes HostCallback and the wallet stays usable") {
        val area = JcaSecureArea()
        Wallet.openBlocking(WalletConfig(keyProtector = protector(), secureArea = area)).use { wallet ->
            val key = wallet.createDeviceKey()
            area.failing = true
            val e = expectThrows<WalletException.HostCallback> { wallet.keyProofJwt(key.alias, "aud", null) }
            expect(e.reason.contains("keystore unavailable"), "reason carried: ${e.reason}")
            expectThrows<WalletException.HostCallback> { wallet.createDeviceKey() }
            area.failing = false
            val second = wallet.createDeviceKey()
            expectThrows<WalletException.NotFound> { wallet.keyProofJwt("no-such-key", "aud", null) }
            expect(verifyEs256(wallet.keyProofJwt(key.alias, "aud", null), key.publicKey), "usable again")
            // A wipe whose host keys cannot be deleted says so, with the keys left behind.
            area.failing = true
            val incomplete = expectThrows<WalletException.WipeIncomplete> { wallet.wipeBlocking() }
            expect(incomplete.undeletedKeyAliases.sorted() == listOf(key.alias, second.alias).sorted(), "${incomplete.undeletedKeyAliases}")
            expect(incomplete.dataKeyDestroyed, "the store is erased all the same")
        }
    }

    test("suspend functions: openWallet and wipe") {
        runBlocking {
            val wipePath = dir.resolve("wipe.jigap").toString()
            val wallet = openWallet(WalletConfig(path = wipePath, keyProtector = protector()))
            addMdl(wallet)
            wallet.createDeviceKey()
            val report = wallet.wipe()
            // The credential's key, the spare key and the key that signs the citizen's record.
            expect(report.credentialsRemoved == 1uL && report.softwareKeysRemoved == 3uL && report.dataKeyDestroyed, "$report")
            expectThrows<WalletException.Closed> { wallet.status() }
            val again = openWallet(WalletConfig(path = wipePath, keyProtector = protector()))
            expect(again.status().newlyCreated, "a wiped store reopens empty")
            again.closeStore()
            val e = try { openWallet(WalletConfig(path = " ", keyProtector = protector())); null } catch (e: WalletException.InvalidInput) { e }
            expect(e != null, "async errors arrive typed")
        }
    }

    test("a full mdoc presentation: the host only carries bytes") {
        val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
        val authority = TestAuthority.create("Kotlin Test", "KR", null)
        val key = wallet.createDeviceKey()
        val mdl = authority.issueMdl(
            key.publicKey,
            MdlClaims(
                familyName = "홍", givenName = "길동", birthDate = "1990-05-05", documentNumber = "11-23-456789-01",
                issuingAuthority = "경찰청", portrait = byteArrayOf(-1, -40, -1, -39), vehicleCategories = listOf("B"),
                validDays = 30u,
            ),
        )
        val id = wallet.addMdoc(mdl, key.alias)
        wallet.addTrustAnchor(TrustRole.MDOC_READER, authority.rootCertificate(TrustRole.MDOC_READER))

        val holder = wallet.startPresentation(listOf(RetrievalMethod.Nfc(255uL, 65536uL)), DeviceAuthMode.SIGNATURE)
        val reader = MdocReader(
            ReaderConfig(
                iacaCertificates = listOf(authority.rootCertificate(TrustRole.MDOC_ISSUER)),
                readerCertificateChain = listOf(authority.signerCertificate(TrustRole.MDOC_READER)),
                readerPrivateKey = authority.signerKey(TrustRole.MDOC_READER),
            ),
        )
        val ns = "org.iso.18013.5.1"
        val session = reader.startSession(
            holder.engagement().qrUri,
            listOf(DocumentRequest("org.iso.18013.5.1.mDL", listOf(RequestedItem(ns, "age_over_19"), RequestedItem(ns, "family_name")))),
        )
        val event = holder.receive(session.requestMessage()) as PresentationEvent.Request
        val doc = event.documents.single()
        expect(doc.reader?.trusted == true, "reader trusted: ${doc.reader}")
        expect(doc.matchingCredentials == listOf(id), "matching credential")
        val answer = holder.respond(listOf(Approval(doc.index, id, listOf(ElementRef(ns, "age_over_19")))))

        // A byte flipped in transit is a typed verification failure, and the session survives it.
        val damaged = answer.copyOf()
        damaged[damaged.size - 3] = (damaged[damaged.size - 3].toInt() xor 1).toByte()
        val failure = expectThrows<WalletException.Verification> { session.receive(damaged) }
        expect(failure.failure == VerificationFailure.DECRYPTION, "failure ${failure.failure}")

        val response = session.receive(answer) as ReaderEvent.Response
        val verified = response.report.documents.single()
        expect(verified.elements.size == 1, "only one element released")
        expect(verified.elements[0].identifier == "age_over_19" && verified.elements[0].display == "true", "${verified.elements}")
        expect(verified.notReturned.single().identifier == "family_name", "family_name withheld")
        expect(session.receive(holder.terminate()) is ReaderEvent.Terminated, "terminated")
    }

    test("in person by NFC tap and over BLE: the host moves APDUs and GATT values") {
        val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
        val authority = TestAuthority.create("Kotlin Test", "KR", null)
        val key = wallet.createDeviceKey()
        // A 20 KB portrait: many APDUs and many BLE notifications.
        val portrait = ByteArray(20_000) { (it % 251).toByte() }
        val id = wallet.addMdoc(authority.issueMdl(key.publicKey, mdlClaims(portrait)), key.alias)
        wallet.addTrustAnchor(TrustRole.MDOC_READER, authority.rootCertificate(TrustRole.MDOC_READER))
        val reader = MdocReader(
            ReaderConfig(
                iacaCertificates = listOf(authority.rootCertificate(TrustRole.MDOC_ISSUER)),
                readerCertificateChain = listOf(authority.signerCertificate(TrustRole.MDOC_READER)),
                readerPrivateKey = authority.signerKey(TrustRole.MDOC_READER),
            ),
        )
        val ns = "org.iso.18013.5.1"
        val request = listOf(DocumentRequest("org.iso.18013.5.1.mDL", listOf(RequestedItem(ns, "age_over_19"), RequestedItem(ns, "portrait"))))
        fun approve(holder: PresentationSession, message: ByteArray): ByteArray {
            val event = holder.receive(message) as PresentationEvent.Request
            val doc = event.documents.single()
            expect(doc.reader?.trusted == true, "reader trusted: ${doc.reader}")
            return holder.respond(listOf(Approval(doc.index, id, listOf(ElementRef(ns, "age_over_19"), ElementRef(ns, "portrait")))))
        }
        fun check(event: ReaderEvent) {
            val verified = (event as ReaderEvent.Response).report.documents.single()
            expect(verified.elements.map { it.identifier }.sorted() == listOf("age_over_19", "portrait"), "${verified.elements}")
        }

        // NFC: the phone is a tag the reader taps (HostApduService would hand over each APDU),
        // and the data stays on NFC; the BLE carrier is offered too.
        val uuid = ByteArray(16) { (0x40 + it).toByte() }
        val holder = wallet.startPresentation(emptyList(), DeviceAuthMode.SIGNATURE)
        val tag = holder.startNfcEngagement(255u, 256u, BleCarrier(uuid, true, null))
        val engagementReader = NfcEngagementReader(false)
        var apdus = 0
        fun toPhone(apdu: ByteArray): NfcHolderStep { apdus++; return tag.processApdu(apdu) }
        var command = engagementReader.firstCommand()
        var select: ByteArray? = null
        while (select == null) {
            val response = (toPhone(command) as NfcHolderStep.Respond).apdu
            when (val step = engagementReader.onResponse(response)) {
                is NfcReaderStep.Send -> command = step.apdu
                is NfcReaderStep.Done -> select = step.message
            }
        }
        expect(bleCarrierOf(select!!)?.uuid?.contentEquals(uuid) == true, "the BLE carrier read back")
        val session = reader.startNfcSession(select!!, request)
        val transfer = NfcTransferReader(false, 255u)
        transfer.onSelected((toPhone(transfer.selectCommand()) as NfcHolderStep.Respond).apdu)
        command = transfer.send(session.requestMessage())
        var answer: ByteArray? = null
        while (answer == null) {
            val response = when (val step = toPhone(command)) {
                is NfcHolderStep.Respond -> step.apdu
                is NfcHolderStep.Message -> tag.reply(approve(holder, step.message))
            }
            when (val step = transfer.onResponse(response)) {
                is NfcReaderStep.Send -> command = step.apdu
                is NfcReaderStep.Done -> answer = step.message
            }
        }
        expect(apdus > 80, "a 20 KB answer in 256-byte responses: $apdus APDUs")
        check(session.receive(answer!!))

        // BLE at MTU 23 after a QR code: the reader writes, the phone notifies.
        val second = wallet.startPresentation(emptyList(), DeviceAuthMode.MAC)
        val engagement = second.engagement()
        val bleSession = reader.startSession(engagement.qrUri, request)
        checkBleIdent(engagement.deviceEngagement, bleIdent(engagement.deviceEngagement))
        expectThrows<WalletException> { checkBleIdent(engagement.deviceEngagement, ByteArray(16)) }
        val central = BleTransport(23u)
        val peripheral = BleTransport(23u)
        expect(peripheral.onState(central.start()) == BleStateChange.STARTED, "started")
        var received: ByteArray? = null
        for (write in central.outgoing(bleSession.requestMessage())) {
            expect(write.size <= 20, "writes fit MTU 23")
            received = peripheral.onData(write) ?: received
        }
        val notifications = peripheral.outgoing(approve(second, received!!))
        expect(notifications.size > 1000, "${notifications.size} notifications")
        var back: ByteArray? = null
        for (n in notifications) back = central.onData(n) ?: back
        check(bleSession.receive(back!!))
        // A lost last notification: the end of the session reports it.
        val lossy = BleTransport(23u)
        lossy.onState(byteArrayOf(1))
        for (n in notifications.dropLast(1)) expect(lossy.onData(n) == null, "incomplete")
        expectThrows<WalletException> { lossy.onState(byteArrayOf(2)) }
        expectThrows<WalletException> { BleTransport(22u) }

        // BLE L2CAP: the PSM read from its characteristic, then a stream socket whose reads
        // arrive in whatever pieces; each session message is framed by its length.
        expect(l2capPsmOf(l2capPsmValue((0x81).toUShort())) == (0x81).toUShort(), "PSM read back")
        expectThrows<WalletException> { l2capPsmOf(byteArrayOf(0, -127)) }
        val third = wallet.startPresentation(emptyList(), DeviceAuthMode.MAC)
        val l2capSession = reader.startSession(third.engagement().qrUri, request)
        val readerSocket = BleL2capChannel()
        val phoneSocket = BleL2capChannel()
        val requestStream = readerSocket.outgoing(l2capSession.requestMessage())
        val requests = requestStream.toList().chunked(7).flatMap { phoneSocket.onBytes(it.toByteArray()) }
        expect(requests.size == 1, "one request from 7-byte reads")
        val answers = readerSocket.onBytes(phoneSocket.outgoing(approve(third, requests.single())))
        check(l2capSession.receive(answers.single()))
        readerSocket.onChannelClosed()
        // A message cut short when the socket closes is an error.
        val cut = BleL2capChannel()
        expect(cut.onBytes(requestStream.copyOf(requestStream.size - 1)).isEmpty(), "incomplete")
        expectThrows<WalletException> { cut.onChannelClosed() }
    }

    test("an SD-JWT certificate presented with key binding and verified") {
        val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
        val authority = TestAuthority.create("Kotlin Test", "KR", null)
        val key = wallet.createDeviceKey()
        val issued = authority.issueECertificate(
            "resident-abstract", key.publicKey,
            """{"name":"홍길동","resident_registration_number":"900505-1234567","address":{"region":"서울특별시","locality":"종로구"}}""",
            null,
        )
        val id = wallet.addSdJwt(issued, key.alias)
        val view = wallet.eCertificateView(id)
        expect(view.claims.any { it.path == "/resident_registration_number" && it.disclosable }, "RRN can be withheld")
        val presentation = wallet.presentSdJwt(id, listOf("/name", "/address/locality"), "https://bank.example", "n-1")
        val verifier = SdJwtVerifier(SdJwtVerifierConfig(trustedIssuerCertificates = listOf(authority.rootCertificate(TrustRole.SD_JWT_ISSUER))))
        val verified = verifier.verify(presentation, "https://bank.example", "n-1")
        expect(verified.keyBound, "key bound")
        expect(verified.claimsJson.contains("홍길동") && !verified.claimsJson.contains("900505"), verified.claimsJson)
        val wrong = expectThrows<WalletException.Verification> { verifier.verify(presentation, "https://bank.example", "n-2") }
        expect(wrong.failure == VerificationFailure.KEY_BINDING_NONCE, "failure ${wrong.failure}")
    }

    test("bills and the inbox: signed ingest, smishing refused, paging") {
        val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
        val authority = TestAuthority.create("Kotlin Gov", "KR", null)
        wallet.addTrustAnchor(TrustRole.SENDER, authority.rootCertificate(TrustRole.SENDER))
        val bill = wallet.addBill(authority.signBill(BillDraft(
            id = "TAX-1", version = 1uL, senderName = "종로구청", kind = BillKind.LOCAL_TAX, title = "주민세",
            amountKrw = 75_000uL, dueDate = "2099-12-31", payeeAccount = "가상계좌", period = "2099",
        )))
        expect(bill.state == BillState.UNPAID && bill.amountKrw == 75_000uL, "$bill")
        for (i in 0 until 5) {
            wallet.addNotification(authority.signNotification(NotificationDraft(
                id = "N-$i", category = NotificationCategory.HEALTH_CHECKUP, titleKo = "검진 $i",
                bodyKo = "올해 검진 대상자입니다.", priority = Priority.NORMAL,
            )))
        }
        val smish = expectThrows<WalletException.Verification> {
            wallet.addNotification(authority.signNotification(NotificationDraft(
                id = "S-1", category = NotificationCategory.TAX, titleKo = "환급", bodyKo = "문의 010-1234-5678",
                priority = Priority.HIGH,
            )))
        }
        expect(smish.failure == VerificationFailure.CALL_TO_ACTION, "${smish.failure}")
        val page1 = wallet.listNotifications(NotificationFilter(), 0u, 2u)
        val page3 = wallet.listNotifications(NotificationFilter(), 4u, 2u)
        expect(page1.total == 5uL && page1.items.size == 2 && page1.nextOffset == 2u, "page 1")
        expect(page3.items.size == 1 && page3.nextOffset == null, "last page")
    }

    test("an eligibility check on the device") {
        val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
        val gov = TestAuthority.create("Kotlin Gov", "KR", null)
        wallet.addTrustAnchor(TrustRole.CATALOG_PUBLISHER, gov.rootCertificate(TrustRole.CATALOG_PUBLISHER))
        wallet.setBenefitOptIn(true)
        wallet.setCitizenFacts(listOf(
            CitizenFact("age", FactValue.Int(70L)),
            CitizenFact("income_percent_median", FactValue.Int(50L)),
        ))
        val results = wallet.evaluateBenefits(gov.signBenefitCatalog(1uL))
        val pension = results.single { it.benefitId == "basic-pension" }
        expect(pension.eligibility == Eligibility.ELIGIBLE, "${pension.eligibility}")
        expect(pension.explanation.contains("age (70) >= 65: yes"), "${pension.explanation}")
        val rent = results.single { it.benefitId == "youth-rent-support" }
        expect(rent.eligibility == Eligibility.NOT_ELIGIBLE, "age decides it")
        val parental = results.single { it.benefitId == "parental-benefit" }
        expect(parental.eligibility == Eligibility.UNKNOWN && parental.missing.single().attribute == "youngest_child_age_months", "$parental")
        expectThrows<WalletException.InvalidInput> { wallet.setCitizenFacts(listOf(CitizenFact("salary", FactValue.Int(1L)))) }
    }

    test("online issuance over HTTPS through an HttpClient written in Kotlin") {
        // bindings/run-tests.sh starts `jigap serve issuer` (HTTPS, the test authority's TLS
        // certificate) and says where.
        val base = System.getenv("JIGAP_ISSUER_URL") ?: error("JIGAP_ISSUER_URL is not set")
        val admin = System.getenv("JIGAP_ISSUER_ADMIN_TOKEN") ?: error("JIGAP_ISSUER_ADMIN_TOKEN is not set")
        val authorityDir = java.nio.file.Path.of(System.getenv("JIGAP_ISSUER_DIR") ?: error("JIGAP_ISSUER_DIR is not set"))
        val http = JdkHttpClient(Files.readAllBytes(authorityDir.resolve("tls-root.der")))
        runBlocking {
            suspend fun offer(): Pair<String, String> {
                val answer = http.send(HttpRequest(
                    method = HttpMethod.POST,
                    url = "$base/admin/offers",
                    headers = listOf(HttpHeader("Authorization", "Bearer $admin"), HttpHeader("Content-Type", "application/json")),
                    body = """{"configuration_ids": ["mdl"], "tx_code": true}""".toByteArray(),
                ))
                val text = String(answer.body)
                expect(answer.status.toInt() == 201, "admin offer: ${answer.status} $text")
                return jsonString(text, "offer_uri")!! to jsonString(text, "tx_code")!!
            }
            val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
            wallet.addTrustAnchor(TrustRole.MDOC_ISSUER, Files.readAllBytes(authorityDir.resolve("mdoc-issuer-root.der")))
            val (uri, code) = offer()
            val session = wallet.resolveCredentialOffer(uri, http, null)
            val view = session.offer()
            expect(view.credentialIssuer == base, view.credentialIssuer)
            expect(view.credentials.single().docType == "org.iso.18013.5.1.mDL", "${view.credentials}")
            expect(view.preAuthorized && view.txCode?.inputMode == TxCodeInputMode.NUMERIC, "$view")
            val result = session.accept(IssuanceOptions(txCode = code, copies = 2u))
            val issued = result.credentials.single()
            expect(issued.copies == 2u && result.pending.isEmpty(), "$result")
            val stored = wallet.getCredential(issued.credentialId).summary
            expect(stored.copies == CopyCount(total = 2u, unused = 2u), "${stored.copies}")
            expect(http.requests.get() >= 6, "metadata, server metadata, token, nonce, credential, notification")

            // A wrong transaction code is the issuer's typed refusal.
            val (uri2, code2) = offer()
            val wrong = if (code2 == "000000") "111111" else "000000"
            val again = wallet.resolveCredentialOffer(uri2, http, null)
            val refused = expectThrows<WalletException.Issuance> { again.accept(IssuanceOptions(txCode = wrong)) }
            expect(refused.failure == IssuanceFailure.INVALID_GRANT, "${refused.failure}")
        }
    }

    test("online presentation (OpenID4VP) over HTTPS to a relying party, and the record of it") {
        // bindings/run-tests.sh starts `jigap serve issuer` and `jigap serve verifier` on the
        // same test authority, both over HTTPS, and says where.
        val issuerBase = System.getenv("JIGAP_ISSUER_URL") ?: error("JIGAP_ISSUER_URL is not set")
        val issuerAdmin = System.getenv("JIGAP_ISSUER_ADMIN_TOKEN") ?: error("JIGAP_ISSUER_ADMIN_TOKEN is not set")
        val verifierBase = System.getenv("JIGAP_VERIFIER_URL") ?: error("JIGAP_VERIFIER_URL is not set")
        val verifierAdmin = System.getenv("JIGAP_VERIFIER_ADMIN_TOKEN") ?: error("JIGAP_VERIFIER_ADMIN_TOKEN is not set")
        val authorityDir = java.nio.file.Path.of(System.getenv("JIGAP_ISSUER_DIR") ?: error("JIGAP_ISSUER_DIR is not set"))
        val http = JdkHttpClient(Files.readAllBytes(authorityDir.resolve("tls-root.der")))
        runBlocking {
            suspend fun admin(url: String, token: String, body: String?): String {
                val answer = http.send(HttpRequest(
                    method = if (body == null) HttpMethod.GET else HttpMethod.POST,
                    url = url,
                    headers = listOf(HttpHeader("Authorization", "Bearer $token"), HttpHeader("Content-Type", "application/json")),
                    body = (body ?: "").toByteArray(),
                ))
                val text = String(answer.body)
                expect(answer.status.toInt() in 200..201, "$url: ${answer.status} $text")
                return text
            }
            val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
            wallet.addTrustAnchor(TrustRole.MDOC_ISSUER, Files.readAllBytes(authorityDir.resolve("mdoc-issuer-root.der")))
            wallet.addTrustAnchor(TrustRole.RELYING_PARTY, Files.readAllBytes(authorityDir.resolve("relying-party-root.der")))
            // The citizen first receives an mDL from the issuer.
            val offer = admin("$issuerBase/admin/offers", issuerAdmin, """{"configuration_ids": ["mdl"], "tx_code": false}""")
            val received = wallet.resolveCredentialOffer(jsonString(offer, "offer_uri")!!, http, null)
                .accept(IssuanceOptions())
            val mdl = received.credentials.single().credentialId

            // A relying party asks for two items of it; the request is signed by its certificate.
            val asked = admin("$verifierBase/admin/requests", verifierAdmin, """{"request": ["mdl:age_over_19,family_name"]}""")
            val session = wallet.startOnlinePresentation(jsonString(asked, "wallet_uri")!!, http)
            val view = session.request()
            expect(view.relyingParty.verified && view.relyingParty.subject != null, "${view.relyingParty}")
            expect(view.unsatisfiable == null, "${view.unsatisfiable}")
            val query = view.queries.single()
            val candidate = query.candidates.single()
            expect(candidate.credentialId == mdl, "${query.candidates}")
            expect(candidate.claims.map { it.path }.toSet() == setOf("org.iso.18013.5.1/age_over_19", "org.iso.18013.5.1/family_name"), "${candidate.claims}")
            val outcome = session.respond(listOf(QueryChoice(query.queryId, listOf(mdl))))
            expect(outcome.redirectUri?.startsWith("$verifierBase/done/") == true, "${outcome.redirectUri}")
            val result = admin("$verifierBase/admin/results/${jsonString(asked, "request_id")}", verifierAdmin, null)
            expect(jsonString(result, "status") == "verified", result)
            // The same request cannot be answered twice.
            expectThrows<WalletException> { wallet.startOnlinePresentation(jsonString(asked, "wallet_uri")!!, http) }

            // Declining tells the relying party.
            val second = admin("$verifierBase/admin/requests", verifierAdmin, """{"request": ["mdl:family_name"]}""")
            wallet.startOnlinePresentation(jsonString(second, "wallet_uri")!!, http).decline()
            val declined = admin("$verifierBase/admin/results/${jsonString(second, "request_id")}", verifierAdmin, null)
            expect(jsonString(declined, "status") == "declined", declined)

            // Both are in the citizen's record, newest first, and the record checks.
            val record = wallet.listJournal(JournalFilter(kinds = listOf(JournalKind.PRESENTATION, JournalKind.PRESENTATION_DECLINED)), 0u, 10u)
            expect(record.entries.map { it.kind } == listOf(JournalKind.PRESENTATION_DECLINED, JournalKind.PRESENTATION), "${record.entries}")
            expect(record.entries[1].detailsJson.contains("age_over_19"), record.entries[1].detailsJson)
            val check = wallet.verifyJournal()
            expect(check.entries == 3uL, "issuance, presentation, decline: $check")
            expect(verifyJournalExport(wallet.exportJournal(), check.publicKey) == 3uL, "the export checks")
        }
    }

    test("the consent step: predicates first, restricted identifiers, a remembered grant, a tamper-evident record") {
        // RFC 7229's test certificate policy stands for the legal basis a trust framework names.
        val legalBasis = "1.3.6.1.5.5.7.13.1"
        val wallet = Wallet.openBlocking(WalletConfig(keyProtector = protector()))
        wallet.setDisclosurePolicy(wallet.disclosurePolicy().copy(legalBasisPolicies = listOf(legalBasis)))
        val authority = TestAuthority.create("Kotlin Policy", "KR", null)
        wallet.addTrustAnchor(TrustRole.MDOC_READER, authority.rootCertificate(TrustRole.MDOC_READER))
        val key = wallet.createDeviceKey()
        wallet.addMdoc(
            authority.issueResidentCard(
                key.publicKey,
                ResidentCardClaims(
                    nameKo = "홍길동", residentRegistrationNumber = "900505-1234567", birthDate = "1990-05-05",
                    address = "서울특별시 종로구", issuingAuthority = "서울특별시 종로구청장",
                    portrait = byteArrayOf(-1, -40, -1, -39), validDays = 30u,
                ),
            ),
            key.alias,
        )
        val ns = "kr.jigap.mdoc.resident-registration.1"
        fun reader(chain: List<ByteArray>, privateKey: ByteArray?) = MdocReader(
            ReaderConfig(
                iacaCertificates = listOf(authority.rootCertificate(TrustRole.MDOC_ISSUER)),
                readerCertificateChain = chain,
                readerPrivateKey = privateKey,
            ),
        )
        val unsigned = reader(emptyList(), null)
        val trusted = reader(listOf(authority.signerCertificate(TrustRole.MDOC_READER)), authority.signerKey(TrustRole.MDOC_READER))
        val signer = authority.issueSigner(TrustRole.MDOC_READER, "Kotlin Bank Reader", listOf(legalBasis))
        val bank = reader(listOf(signer.certificate), signer.key)

        /** The host's consent screen: approves what the policy offers or a grant covers. */
        class Screen(val rememberDays: UInt) : UserPrompt {
            var asked = 0
            override suspend fun ask(request: DisclosureRequest): DisclosureDecision? {
                asked++
                return DisclosureDecision(
                    request.documents.map { d ->
                        DocumentApproval(d.id, d.credentialIds.first(), d.items.filter { it.verdict is ItemVerdict.Offered || it.verdict is ItemVerdict.Granted }.map { it.path })
                    },
                    rememberDays,
                )
            }
        }

        suspend fun present(r: MdocReader, items: List<String>, screen: UserPrompt): Pair<DisclosureRequest, List<String>> {
            val holder = wallet.startPresentation(emptyList(), DeviceAuthMode.SIGNATURE)
            val session = r.startSession(holder.engagement().qrUri, listOf(DocumentRequest(ns, items.map { RequestedItem(ns, it) })))
            val event = holder.receive(session.requestMessage()) as PresentationEvent.Request
            val response = session.receive(holder.answer(screen, 30u)) as ReaderEvent.Response
            return event.disclosure to response.report.documents.single().elements.map { it.identifier }.sorted()
        }

        runBlocking {
            val (first, released) = present(trusted, listOf("birth_date", "age_over_19"), Screen(0u))
            expect(first.relyingParty.authenticated, "${first.relyingParty}")
            expect(first.documents[0].items[0].verdict == ItemVerdict.NeedsOwnApproval("$ns/age_over_19"), "${first.documents[0].items}")
            expect(released == listOf("age_over_19"), "the predicate first: $released")

            val (second, toUnsigned) = present(unsigned, listOf("resident_registration_number", "age_over_19"), Screen(0u))
            expect(!second.relyingParty.authenticated && second.relyingParty.name == null, "${second.relyingParty}")
            expect(second.documents[0].items[0].verdict == ItemVerdict.Withheld(WithheldReason.RESTRICTED), "${second.documents[0].items}")
            expect(toUnsigned == listOf("age_over_19"), "restricted to an unauthenticated reader: $toUnsigned")

            val (third, toBank) = present(bank, listOf("resident_registration_number", "name_ko"), Screen(30u))
            expect(third.relyingParty.legalBasis, "${third.relyingParty}")
            expect(toBank == listOf("name_ko", "resident_registration_number"), "released with a legal basis: $toBank")
            val grant = wallet.listGrants().single()
            expect(grant.items == listOf("$ns/name_ko"), "never the number in a grant: ${grant.items}")

            val quiet = Screen(0u)
            val (fourth, granted) = present(bank, listOf("name_ko"), quiet)
            expect(quiet.asked == 0 && fourth.documents[0].items[0].verdict is ItemVerdict.Granted, "the grant answered")
            expect(granted == listOf("name_ko"), "$granted")
            wallet.revokeGrant(grant.id)
            val asked = Screen(0u)
            present(bank, listOf("name_ko"), asked)
            expect(asked.asked == 1, "asked again after the revocation")
        }

        val check = wallet.verifyJournal()
        val export = wallet.exportJournal()
        expect(verifyJournalExport(export, check.publicKey) == check.entries, "the export checks")
        val lines = export.lines()
        val tampered = mapOf(
            "dropped" to lines.toMutableList().also { it.removeAt(1) },
            "reordered" to lines.toMutableList().also { java.util.Collections.swap(it, 0, 1) },
            "truncated" to lines.toMutableList().also { it.removeAt(it.size - 2) },
            "edited" to lines.toMutableList().also { it[0] = it[0].replace("\"at\":", "\"at\":1") },
        )
        for ((how, broken) in tampered) {
            expect(broken != lines, how)
            expectThrows<WalletException.JournalTampered> { verifyJournalExport(broken.joinToString("\n"), check.publicKey) }
        }
    }

    var passed = 0
    var failed = 0
    for ((name, body) in tests) {
        try {
            body()
            passed++
            println("ok   $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace()
        }
    }
    dir.toFile().deleteRecursively()
    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
