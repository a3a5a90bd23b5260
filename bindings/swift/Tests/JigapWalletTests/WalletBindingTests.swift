// Binding tests for the Swift API: what only the binding can break — object lifetime, Data
// round trips, typed errors, a SecureArea written in Swift (over OpenSSL's libcrypto, standing in
// for CryptoKit/Secure Enclave on Linux), callbacks that throw, and async functions.
import COpenSSL
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JigapWallet
import XCTest

struct HostError: Error, CustomStringConvertible {
    let description: String
}

/// A host secure area: P-256 keys in memory, with a switch that makes every call throw.
final class OpenSSLSecureArea: SecureArea, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: OpaquePointer] = [:]
    private var _failing = false
    private var _deleted: [String] = []

    var failing: Bool {
        get { lock.withLock { _failing } }
        set { lock.withLock { _failing = newValue } }
    }
    var deleted: [String] { lock.withLock { _deleted } }

    deinit {
        for key in keys.values { EVP_PKEY_free(key) }
    }

    private func check() throws {
        if failing { throw HostError(description: "keystore unavailable") }
    }

    private func key(_ alias: String) throws -> OpaquePointer {
        guard let key = lock.withLock({ keys[alias] }) else {
            throw WalletError.NotFound(what: "key \(alias)")
        }
        return key
    }

    static func encodedPublicKey(_ key: OpaquePointer) throws -> Data {
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        let length = EVP_PKEY_get1_encoded_public_key(key, &buffer)
        guard length > 0, let bytes = buffer else { throw HostError(description: "encode") }
        defer { jigap_free(bytes) }
        return Data(bytes: bytes, count: length)
    }

    func createKey(alias: String) throws -> Data {
        try check()
        guard let key = jigap_p256_generate() else { throw HostError(description: "keygen") }
        lock.withLock { keys[alias] = key }
        return try Self.encodedPublicKey(key)
    }

    func publicKey(alias: String) throws -> Data {
        try check()
        return try Self.encodedPublicKey(try key(alias))
    }

    func sign(alias: String, message: Data) throws -> Data {
        try check()
        let key = try key(alias)
        guard let ctx = EVP_MD_CTX_new() else { throw HostError(description: "md ctx") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1 else {
            throw HostError(description: "sign init")
        }
        let bytes = [UInt8](message)
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, bytes, bytes.count) == 1 else {
            throw HostError(description: "sign size")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &signature, &length, bytes, bytes.count) == 1 else {
            throw HostError(description: "sign")
        }
        return Data(signature.prefix(length))  // DER, as the Secure Enclave returns it
    }

    func keyAgreement(alias: String, peerPublicKey: Data) throws -> Data {
        try check()
        let key = try key(alias)
        let peerBytes = [UInt8](peerPublicKey)
        guard let peer = jigap_p256_public(peerBytes, peerBytes.count) else {
            throw HostError(description: "peer key")
        }
        defer { EVP_PKEY_free(peer) }
        guard let ctx = EVP_PKEY_CTX_new(key, nil) else { throw HostError(description: "ctx") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_derive_init(ctx) == 1, EVP_PKEY_derive_set_peer(ctx, peer) == 1 else {
            throw HostError(description: "derive init")
        }
        var length = 0
        guard EVP_PKEY_derive(ctx, nil, &length) == 1 else { throw HostError(description: "derive size") }
        var secret = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_derive(ctx, &secret, &length) == 1 else { throw HostError(description: "derive") }
        return Data(secret.prefix(length))
    }

    func deleteKey(alias: String) throws {
        try check()
        lock.withLock {
            if let key = keys.removeValue(forKey: alias) { EVP_PKEY_free(key) }
            _deleted.append(alias)
        }
    }
}

func base64urlDecode(_ text: Substring) -> Data? {
    var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while s.count % 4 != 0 { s += "=" }
    return Data(base64Encoded: s)
}

/// r || s to DER.
func derSignature(_ raw: Data) -> [UInt8] {
    func integer(_ bytes: Data) -> [UInt8] {
        var v = Array(bytes.drop(while: { $0 == 0 }))
        if v.isEmpty { v = [0] }
        if v[0] & 0x80 != 0 { v.insert(0, at: 0) }
        return [0x02, UInt8(v.count)] + v
    }
    let body = integer(raw.prefix(32)) + integer(raw.suffix(32))
    return [0x30, UInt8(body.count)] + body
}

/// Verifies an ES256 compact JWS with a SEC1 public key; returns the payload JSON.
func verifyES256(_ jwt: String, _ publicKey: Data) -> [String: Any]? {
    let parts = jwt.split(separator: ".")
    guard parts.count == 3, let raw = base64urlDecode(parts[2]), raw.count == 64 else { return nil }
    let keyBytes = [UInt8](publicKey)
    guard let key = jigap_p256_public(keyBytes, keyBytes.count), let ctx = EVP_MD_CTX_new() else { return nil }
    defer { EVP_PKEY_free(key); EVP_MD_CTX_free(ctx) }
    let input = [UInt8]("\(parts[0]).\(parts[1])".utf8)
    let der = derSignature(raw)
    guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, key) == 1,
          EVP_DigestVerify(ctx, der, der.count, input, input.count) == 1,
          let payload = base64urlDecode(parts[1]) else { return nil }
    return (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any]
}

let allBytes = Data((0..<256).map { UInt8($0) } + (0..<1000).map { UInt8(($0 * 7) % 256) })

let police = try! TestAuthority.create(name: "Swift Police", country: "KR", clock: nil)

func mdlClaims(_ portrait: Data) -> MdlClaims {
    MdlClaims(
        familyName: "홍", givenName: "길동", birthDate: "1990-05-05", documentNumber: "11-23-456789-01",
        issuingAuthority: "경찰청", portrait: portrait, vehicleCategories: ["B"], validDays: 30)
}

/// Issues an mDL with `portrait` to `key` (or a new device key) of `wallet` and stores it.
func addMdl(_ wallet: Wallet, _ portrait: Data = Data([0xff, 0xd8, 0xff, 0xd9]), key: DeviceKey? = nil) throws -> (String, Data) {
    let key = try key ?? wallet.createDeviceKey()
    let mdl = try police.issueMdl(devicePublicKey: key.publicKey, claims: mdlClaims(portrait))
    return (try wallet.addMdoc(issuerSigned: mdl, keyAlias: key.alias), mdl)
}

/// Refuses redirects: the core follows none.
final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// The host's HttpClient in Swift, on URLSession (FoundationNetworking on Linux).
final class URLSessionHttpClient: HttpClient, @unchecked Sendable {
    private let session: URLSession
    private let lock = NSLock()
    private var _requests = 0
    var requests: Int { lock.withLock { _requests } }

    init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    func send(request: HttpRequest) async throws -> HttpResponse {
        lock.withLock { _requests += 1 }
        guard let url = URL(string: request.url) else {
            throw WalletError.HostCallback(reason: "not a URL: \(request.url)")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method == .get ? "GET" : "POST"
        for header in request.headers {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        if request.method == .post { urlRequest.httpBody = request.body }
        let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: urlRequest) { data, response, error in
                if let error {
                    continuation.resume(throwing: WalletError.HostCallback(reason: "\(request.url): \(error)"))
                } else if let response {
                    continuation.resume(returning: (data ?? Data(), response))
                } else {
                    continuation.resume(throwing: WalletError.HostCallback(reason: "no response"))
                }
            }.resume()
        }
        guard let http = response as? HTTPURLResponse else {
            throw WalletError.HostCallback(reason: "not an HTTP response")
        }
        var headers: [HttpHeader] = []
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String {
                headers.append(HttpHeader(name: name, value: value))
            }
        }
        return HttpResponse(
            status: UInt16(http.statusCode),
            contentType: http.value(forHTTPHeaderField: "Content-Type"),
            headers: headers,
            body: data)
    }
}

/// The host's consent screen: approves what the policy offers or a grant covers.
final class Screen: UserPrompt, @unchecked Sendable {
    private let lock = NSLock()
    private var _asked = 0
    let rememberDays: UInt32
    var asked: Int { lock.withLock { _asked } }

    init(rememberDays: UInt32) { self.rememberDays = rememberDays }

    func ask(request: DisclosureRequest) async throws -> DisclosureDecision? {
        lock.withLock { _asked += 1 }
        return DisclosureDecision(approved: request.documents.map { document in
            DocumentApproval(id: document.id, credentialId: document.credentialIds[0], items: document.items.compactMap {
                switch $0.verdict {
                case .offered, .granted: return $0.path
                default: return nil
                }
            })
        }, rememberDays: rememberDays)
    }
}

func protector() throws -> KeyProtector {
    try passphraseKeyProtectorWithCost(passphrase: "swift test passphrase", iterations: 10_000)
}

final class WalletBindingTests: XCTestCase {
    var dir: URL!
    var path: String { dir.appendingPathComponent("wallet.jigap").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testPinSetVerifyAndTypedErrors() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(path: path, keyProtector: try protector()))
        try wallet.setPin(pin: "123456")
        try wallet.lock()
        XCTAssertThrowsError(try wallet.listCredentials(filter: CredentialFilter(), offset: 0, limit: 10)) {
            XCTAssertEqual($0 as? WalletError, .Locked)
        }
        XCTAssertThrowsError(try wallet.verifyPin(pin: "000000")) {
            XCTAssertEqual($0 as? WalletError, .WrongPin(triesLeft: 4))
        }
        XCTAssertThrowsError(try wallet.verifyPin(pin: "000001")) {
            XCTAssertEqual($0 as? WalletError, .WrongPin(triesLeft: 3))
        }
        try wallet.verifyPin(pin: "123456")
        XCTAssertEqual(try wallet.status().pinTriesLeft, 5)
    }

    func testCredentialsKeepTheirBytesAcrossReopen() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(path: path, keyProtector: try protector()))
        let (id, raw) = try addMdl(wallet, allBytes)
        _ = try addMdl(wallet)
        let page = try wallet.listCredentials(filter: CredentialFilter(), offset: 0, limit: 1)
        XCTAssertEqual(page.total, 2)
        XCTAssertEqual(page.nextOffset, 1)
        XCTAssertEqual(try wallet.getCredential(id: id).raw, raw)
        XCTAssertNotNil(raw.range(of: allBytes), "every byte value crossed the boundary")
        XCTAssertThrowsError(try wallet.addMdoc(issuerSigned: Data((0..<100).map { UInt8($0) }), keyAlias: try wallet.createDeviceKey().alias)) {
            guard case .Verification = $0 as? WalletError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try wallet.getCredential(id: id).summary.displayNameKo, "모바일 운전면허증")
        try wallet.closeStore()
        XCTAssertThrowsError(try wallet.status()) { XCTAssertEqual($0 as? WalletError, .Closed) }

        XCTAssertThrowsError(try Wallet.openBlocking(config: WalletConfig(
            path: path, keyProtector: try passphraseKeyProtectorWithCost(passphrase: "nope", iterations: 10_000)))) {
            XCTAssertEqual($0 as? WalletError, .WrongKey)
        }
        let again = try Wallet.openBlocking(config: WalletConfig(path: path, createIfMissing: false, keyProtector: try protector()))
        XCTAssertEqual(try again.getCredential(id: id).raw, raw)
        XCTAssertThrowsError(try again.getCredential(id: "missing")) {
            guard case .NotFound = $0 as? WalletError else { return XCTFail("\($0)") }
        }
    }

    func testSwiftSecureAreaSignsForTheCore() throws {
        let area = OpenSSLSecureArea()
        let wallet = try Wallet.openBlocking(config: WalletConfig(
            keyProtector: try protector(), secureArea: area, clock: fixedClock(unixSeconds: 1_800_000_000)))
        let key = try wallet.createDeviceKey()
        XCTAssertEqual(key.publicKey.count, 65)
        let jwt = try wallet.keyProofJwt(alias: key.alias, audience: "https://issuer.example", nonce: "n-1")
        let payload = try XCTUnwrap(verifyES256(jwt, key.publicKey))
        XCTAssertEqual(payload["nonce"] as? String, "n-1")
        XCTAssertEqual((payload["iat"] as? NSNumber)?.int64Value, 1_800_000_000)

        // The host area's ECDH agrees with itself both ways (used later for MAC device auth).
        let other = try area.createKey(alias: "other")
        XCTAssertEqual(try area.keyAgreement(alias: key.alias, peerPublicKey: other),
                       try area.keyAgreement(alias: "other", peerPublicKey: key.publicKey))

        let (id, _) = try addMdl(wallet, allBytes, key: key)
        try wallet.deleteCredential(id: id)
        XCTAssertEqual(area.deleted, [key.alias])
    }

    func testThrowingCallbackIsHostCallbackAndWalletStaysUsable() throws {
        let area = OpenSSLSecureArea()
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector(), secureArea: area))
        let key = try wallet.createDeviceKey()
        area.failing = true
        XCTAssertThrowsError(try wallet.keyProofJwt(alias: key.alias, audience: "aud", nonce: nil)) {
            guard case .HostCallback(let reason) = $0 as? WalletError else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("keystore unavailable"), reason)
        }
        area.failing = false
        XCTAssertThrowsError(try wallet.keyProofJwt(alias: "no-such-key", audience: "aud", nonce: nil)) {
            guard case .NotFound = $0 as? WalletError else { return XCTFail("\($0)") }
        }
        XCTAssertNotNil(verifyES256(try wallet.keyProofJwt(alias: key.alias, audience: "aud", nonce: nil), key.publicKey))
    }

    func testAsyncOpenAndWipe() async throws {
        let wallet = try await openWallet(config: WalletConfig(path: path, keyProtector: try protector()))
        _ = try addMdl(wallet, allBytes)
        _ = try wallet.createDeviceKey()
        let report = try await wallet.wipe()
        XCTAssertEqual(report.credentialsRemoved, 1)
        // The credential's key, the spare key and the key that signs the citizen's record.
        XCTAssertEqual(report.softwareKeysRemoved, 3)
        XCTAssertTrue(report.dataKeyDestroyed)
        XCTAssertThrowsError(try wallet.status()) { XCTAssertEqual($0 as? WalletError, .Closed) }
        let fresh = try await openWallet(config: WalletConfig(path: path, keyProtector: try protector()))
        XCTAssertTrue(try fresh.status().newlyCreated)
    }

    func testFullMdocPresentationCarryingOnlyBytes() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        let authority = try TestAuthority.create(name: "Swift Test", country: "KR", clock: nil)
        let key = try wallet.createDeviceKey()
        let mdl = try authority.issueMdl(devicePublicKey: key.publicKey, claims: MdlClaims(
            familyName: "홍", givenName: "길동", birthDate: "1990-05-05", documentNumber: "11-23-456789-01",
            issuingAuthority: "경찰청", portrait: Data([0xff, 0xd8, 0xff, 0xd9]), vehicleCategories: ["B"], validDays: 30))
        let id = try wallet.addMdoc(issuerSigned: mdl, keyAlias: key.alias)
        _ = try wallet.addTrustAnchor(role: .mdocReader, certificate: try authority.rootCertificate(role: .mdocReader))

        let holder = try wallet.startPresentation(
            retrievalMethods: [.ble(peripheralServerUuid: Data(repeating: 7, count: 16), centralClientUuid: nil)],
            deviceAuth: .mac)
        let reader = try MdocReader(config: ReaderConfig(
            iacaCertificates: [try authority.rootCertificate(role: .mdocIssuer)],
            readerCertificateChain: [try authority.signerCertificate(role: .mdocReader)],
            readerPrivateKey: try authority.signerKey(role: .mdocReader)))
        let ns = "org.iso.18013.5.1"
        let session = try reader.startSession(qrUri: try holder.engagement().qrUri, requests: [
            DocumentRequest(docType: "org.iso.18013.5.1.mDL", items: [
                RequestedItem(namespace: ns, identifier: "age_over_19"),
                RequestedItem(namespace: ns, identifier: "family_name"),
            ]),
        ])
        guard case .request(let documents, _) = try holder.receive(message: session.requestMessage()) else {
            return XCTFail("expected a request")
        }
        let doc = try XCTUnwrap(documents.first)
        XCTAssertEqual(doc.reader?.trusted, true)
        XCTAssertEqual(doc.matchingCredentials, [id])
        let answer = try holder.respond(approvals: [
            Approval(documentIndex: doc.index, credentialId: id, elements: [ElementRef(namespace: ns, identifier: "age_over_19")]),
        ])
        var damaged = answer
        damaged[damaged.count - 3] ^= 1
        XCTAssertThrowsError(try session.receive(message: damaged)) {
            guard case .Verification(let failure, _) = $0 as? WalletError else { return XCTFail("\($0)") }
            XCTAssertEqual(failure, .decryption)
        }
        guard case .response(let report) = try session.receive(message: answer) else {
            return XCTFail("expected a response")
        }
        let verified = try XCTUnwrap(report.documents.first)
        XCTAssertEqual(verified.deviceAuthentication, .mac)
        XCTAssertEqual(verified.elements.map { $0.identifier }, ["age_over_19"])
        XCTAssertEqual(verified.elements.first?.display, "true")
        XCTAssertEqual(verified.notReturned.map { $0.identifier }, ["family_name"])
        guard case .terminated = try session.receive(message: holder.terminate()) else {
            return XCTFail("expected termination")
        }
    }

    func testInPersonByNfcTapAndOverBleTheHostMovesBytes() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        let authority = try TestAuthority.create(name: "Swift Test", country: "KR", clock: nil)
        let key = try wallet.createDeviceKey()
        // A 20 KB portrait: many APDUs and many BLE notifications.
        let portrait = Data((0..<20_000).map { UInt8($0 % 251) })
        let id = try wallet.addMdoc(issuerSigned: try authority.issueMdl(devicePublicKey: key.publicKey, claims: MdlClaims(
            familyName: "홍", givenName: "길동", birthDate: "1990-05-05", documentNumber: "11-23-456789-01",
            issuingAuthority: "경찰청", portrait: portrait, vehicleCategories: ["B"], validDays: 30)), keyAlias: key.alias)
        _ = try wallet.addTrustAnchor(role: .mdocReader, certificate: try authority.rootCertificate(role: .mdocReader))
        let reader = try MdocReader(config: ReaderConfig(
            iacaCertificates: [try authority.rootCertificate(role: .mdocIssuer)],
            readerCertificateChain: [try authority.signerCertificate(role: .mdocReader)],
            readerPrivateKey: try authority.signerKey(role: .mdocReader)))
        let ns = "org.iso.18013.5.1"
        let request = [DocumentRequest(docType: "org.iso.18013.5.1.mDL", items: [
            RequestedItem(namespace: ns, identifier: "age_over_19"),
            RequestedItem(namespace: ns, identifier: "portrait"),
        ])]
        func approve(_ holder: PresentationSession, _ message: Data) throws -> Data {
            guard case .request(let documents, _) = try holder.receive(message: message),
                  let doc = documents.first else { throw WalletError.Internal(reason: "expected a request") }
            XCTAssertEqual(doc.reader?.trusted, true)
            return try holder.respond(approvals: [Approval(documentIndex: doc.index, credentialId: id, elements: [
                ElementRef(namespace: ns, identifier: "age_over_19"), ElementRef(namespace: ns, identifier: "portrait"),
            ])])
        }
        func check(_ event: ReaderEvent) throws {
            guard case .response(let report) = event else { return XCTFail("expected a response") }
            XCTAssertEqual(try XCTUnwrap(report.documents.first).elements.map { $0.identifier }.sorted(), ["age_over_19", "portrait"])
        }

        // NFC: the phone is a tag the reader taps; the data stays on NFC. A BLE carrier is offered too.
        let uuid = Data((0..<16).map { UInt8(0x40 + $0) })
        let holder = try wallet.startPresentation(retrievalMethods: [], deviceAuth: .signature)
        let tag = try holder.startNfcEngagement(maxCommandData: 255, maxResponseData: 256,
                                                ble: BleCarrier(uuid: uuid, peripheralServer: true, address: nil))
        var apdus = 0
        func toPhone(_ apdu: Data) throws -> NfcHolderStep { apdus += 1; return try tag.processApdu(apdu: apdu) }
        let engagementReader = try NfcEngagementReader(extended: false)
        var command = engagementReader.firstCommand()
        var select: Data? = nil
        while select == nil {
            guard case .respond(let response) = try toPhone(command) else { return XCTFail("the tag answers itself") }
            switch try engagementReader.onResponse(apdu: response) {
            case .send(let next): command = next
            case .done(let message): select = message
            }
        }
        XCTAssertEqual(try bleCarrierOf(handoverSelect: select!)?.uuid, uuid)
        let session = try reader.startNfcSession(handoverSelect: select!, requests: request)
        let transfer = try NfcTransferReader(extended: false, maxCommandData: 255)
        guard case .respond(let selected) = try toPhone(transfer.selectCommand()) else { return XCTFail("SELECT") }
        try transfer.onSelected(apdu: selected)
        command = try transfer.send(message: session.requestMessage())
        var answer: Data? = nil
        while answer == nil {
            let response: Data
            switch try toPhone(command) {
            case .respond(let apdu): response = apdu
            case .message(let message): response = try tag.reply(message: try approve(holder, message))
            }
            switch try transfer.onResponse(apdu: response) {
            case .send(let next): command = next
            case .done(let message): answer = message
            }
        }
        XCTAssertGreaterThan(apdus, 80, "a 20 KB answer in 256-byte responses")
        try check(try session.receive(message: answer!))

        // BLE at MTU 23 after a QR code: the reader writes, the phone notifies.
        let second = try wallet.startPresentation(retrievalMethods: [], deviceAuth: .mac)
        let engagement = try second.engagement()
        let bleSession = try reader.startSession(qrUri: engagement.qrUri, requests: request)
        try checkBleIdent(deviceEngagement: engagement.deviceEngagement,
                          read: try bleIdent(deviceEngagement: engagement.deviceEngagement))
        XCTAssertThrowsError(try checkBleIdent(deviceEngagement: engagement.deviceEngagement, read: Data(count: 16)))
        let central = try BleTransport(mtu: 23)
        let peripheral = try BleTransport(mtu: 23)
        XCTAssertEqual(try peripheral.onState(value: try central.start()), .started)
        var received: Data? = nil
        for write in try central.outgoing(message: bleSession.requestMessage()) {
            XCTAssertLessThanOrEqual(write.count, 20)
            received = try peripheral.onData(value: write) ?? received
        }
        let notifications = try peripheral.outgoing(message: try approve(second, received!))
        XCTAssertGreaterThan(notifications.count, 1000)
        var back: Data? = nil
        for n in notifications { back = try central.onData(value: n) ?? back }
        try check(try bleSession.receive(message: back!))
        // A lost last notification: the end of the session reports it.
        let lossy = try BleTransport(mtu: 23)
        _ = try lossy.onState(value: Data([1]))
        for n in notifications.dropLast() { XCTAssertNil(try lossy.onData(value: n)) }
        XCTAssertThrowsError(try lossy.onState(value: Data([2])))
        XCTAssertThrowsError(try BleTransport(mtu: 22))

        // BLE L2CAP: the PSM read from its characteristic, then a stream socket whose reads
        // arrive in whatever pieces; each session message is framed by its length.
        XCTAssertEqual(try l2capPsmOf(value: try l2capPsmValue(psm: 0x81)), 0x81)
        XCTAssertThrowsError(try l2capPsmOf(value: Data([0, 0x81])))
        let third = try wallet.startPresentation(retrievalMethods: [], deviceAuth: .mac)
        let l2capSession = try reader.startSession(qrUri: try third.engagement().qrUri, requests: request)
        let readerSocket = BleL2capChannel()
        let phoneSocket = BleL2capChannel()
        let requestStream = try readerSocket.outgoing(message: try l2capSession.requestMessage())
        var requests: [Data] = []
        var at = requestStream.startIndex
        while at < requestStream.endIndex {
            let end = min(at + 7, requestStream.endIndex)
            requests += try phoneSocket.onBytes(bytes: requestStream.subdata(in: at..<end))
            at = end
        }
        XCTAssertEqual(requests.count, 1, "one request from 7-byte reads")
        let answers = try readerSocket.onBytes(bytes: try phoneSocket.outgoing(message: try approve(third, requests[0])))
        XCTAssertEqual(answers.count, 1)
        try check(try l2capSession.receive(message: answers[0]))
        try readerSocket.onChannelClosed()
        // A message cut short when the socket closes is an error.
        let cut = BleL2capChannel()
        XCTAssertTrue(try cut.onBytes(bytes: requestStream.dropLast()).isEmpty)
        XCTAssertThrowsError(try cut.onChannelClosed())
    }

    func testSdJwtCertificatePresentedWithKeyBinding() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        let authority = try TestAuthority.create(name: "Swift Test", country: "KR", clock: nil)
        let key = try wallet.createDeviceKey()
        let issued = try authority.issueECertificate(
            certificateType: "resident-abstract", devicePublicKey: key.publicKey,
            claimsJson: #"{"name":"홍길동","resident_registration_number":"900505-1234567","address":{"region":"서울특별시","locality":"종로구"}}"#,
            status: nil)
        let id = try wallet.addSdJwt(sdJwt: issued, keyAlias: key.alias)
        let view = try wallet.eCertificateView(credentialId: id)
        XCTAssertTrue(view.claims.contains { $0.path == "/resident_registration_number" && $0.disclosable })
        let presentation = try wallet.presentSdJwt(
            credentialId: id, claims: ["/name", "/address/locality"], audience: "https://bank.example", nonce: "n-1")
        let verifier = try SdJwtVerifier(config: SdJwtVerifierConfig(
            trustedIssuerCertificates: [try authority.rootCertificate(role: .sdJwtIssuer)]))
        let verified = try verifier.verify(presentation: presentation, audience: "https://bank.example", nonce: "n-1")
        XCTAssertTrue(verified.keyBound)
        XCTAssertTrue(verified.claimsJson.contains("홍길동"))
        XCTAssertFalse(verified.claimsJson.contains("900505"))
        XCTAssertThrowsError(try verifier.verify(presentation: presentation, audience: "https://bank.example", nonce: "n-2")) {
            guard case .Verification(let failure, _) = $0 as? WalletError else { return XCTFail("\($0)") }
            XCTAssertEqual(failure, .keyBindingNonce)
        }
    }

    func testBillsAndInbox() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        let authority = try TestAuthority.create(name: "Swift Gov", country: "KR", clock: nil)
        _ = try wallet.addTrustAnchor(role: .sender, certificate: try authority.rootCertificate(role: .sender))
        let bill = try wallet.addBill(signedBill: authority.signBill(draft: BillDraft(
            id: "TAX-1", version: 1, senderName: "종로구청", kind: .localTax, title: "주민세",
            amountKrw: 75_000, dueDate: "2099-12-31", payeeAccount: "가상계좌", period: "2099")))
        XCTAssertEqual(bill.state, .unpaid)
        for i in 0..<5 {
            _ = try wallet.addNotification(signedNotification: authority.signNotification(draft: NotificationDraft(
                id: "N-\(i)", category: .healthCheckup, titleKo: "검진 \(i)", bodyKo: "올해 검진 대상자입니다.",
                priority: .normal)))
        }
        XCTAssertThrowsError(try wallet.addNotification(signedNotification: authority.signNotification(draft: NotificationDraft(
            id: "S-1", category: .tax, titleKo: "환급", bodyKo: "www.refund-gov.kr 접속", priority: .high)))) {
            guard case .Verification(let failure, _) = $0 as? WalletError else { return XCTFail("\($0)") }
            XCTAssertEqual(failure, .callToAction)
        }
        let first = try wallet.listNotifications(filter: NotificationFilter(), offset: 0, limit: 2)
        XCTAssertEqual(first.total, 5)
        XCTAssertEqual(first.nextOffset, 2)
        let last = try wallet.listNotifications(filter: NotificationFilter(), offset: 4, limit: 2)
        XCTAssertEqual(last.items.count, 1)
        XCTAssertNil(last.nextOffset)
    }

    func testEligibilityCheckOnTheDevice() throws {
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        let gov = try TestAuthority.create(name: "Swift Gov", country: "KR", clock: nil)
        _ = try wallet.addTrustAnchor(role: .catalogPublisher, certificate: try gov.rootCertificate(role: .catalogPublisher))
        try wallet.setBenefitOptIn(optIn: true)
        try wallet.setCitizenFacts(facts: [
            CitizenFact(name: "youngest_child_age_months", value: .int(value: 7)),
            CitizenFact(name: "region", value: .text(value: "서울")),
        ])
        let results = try wallet.evaluateBenefits(signedCatalog: gov.signBenefitCatalog(version: 1))
        let parental = try XCTUnwrap(results.first { $0.benefitId == "parental-benefit" })
        XCTAssertEqual(parental.eligibility, .eligible)
        let pension = try XCTUnwrap(results.first { $0.benefitId == "basic-pension" })
        XCTAssertEqual(pension.eligibility, .unknown)
        XCTAssertEqual(Set(pension.missing.map { $0.attribute }), ["age", "income_percent_median"])
        XCTAssertThrowsError(try wallet.setCitizenFacts(facts: [CitizenFact(name: "salary", value: .int(value: 1))]))
    }

    func testOnlineIssuanceThroughASwiftHttpClient() async throws {
        // bindings/run-tests.sh starts `jigap serve issuer` (plain HTTP on 127.0.0.1: Linux
        // URLSession cannot be told to trust one test root) and says where.
        let env = ProcessInfo.processInfo.environment
        let base = try XCTUnwrap(env["JIGAP_ISSUER_URL"], "JIGAP_ISSUER_URL is not set")
        let admin = try XCTUnwrap(env["JIGAP_ISSUER_ADMIN_TOKEN"])
        let authorityDir = try XCTUnwrap(env["JIGAP_ISSUER_DIR"])
        let http = URLSessionHttpClient()
        let answer = try await http.send(request: HttpRequest(
            method: .post, url: "\(base)/admin/offers",
            headers: [HttpHeader(name: "Authorization", value: "Bearer \(admin)"),
                      HttpHeader(name: "Content-Type", value: "application/json")],
            body: Data(#"{"configuration_ids": ["mdl"], "tx_code": true}"#.utf8)))
        XCTAssertEqual(answer.status, 201)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
        let uri = try XCTUnwrap(json["offer_uri"] as? String)
        let code = try XCTUnwrap(json["tx_code"] as? String)

        // Plain HTTP is refused unless the wallet was told it talks to a loopback test server.
        let strict = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        do {
            _ = try await strict.resolveCredentialOffer(offer: uri, http: http, platform: nil)
            XCTFail("plain http accepted")
        } catch WalletError.Issuance(let failure, _) {
            XCTAssertEqual(failure, .invalidOffer)
        }

        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector(), allowLoopbackHttp: true))
        _ = try wallet.addTrustAnchor(
            role: .mdocIssuer,
            certificate: try Data(contentsOf: URL(fileURLWithPath: "\(authorityDir)/mdoc-issuer-root.der")))
        let session = try await wallet.resolveCredentialOffer(offer: uri, http: http, platform: nil)
        let view = session.offer()
        XCTAssertEqual(view.credentials.map { $0.docType }, ["org.iso.18013.5.1.mDL"])
        XCTAssertNotNil(view.txCode)
        let result = try await session.accept(options: IssuanceOptions(txCode: code))
        let issued = try XCTUnwrap(result.credentials.first)
        XCTAssertEqual(issued.copies, 1)
        XCTAssertEqual(try wallet.getCredential(id: issued.credentialId).summary.docType, "org.iso.18013.5.1.mDL")
        XCTAssertGreaterThanOrEqual(http.requests, 6)
    }
    /// POSTs (or GETs, without a body) to a test server's admin API; the JSON answer.
    func admin(_ http: URLSessionHttpClient, _ url: String, _ token: String, _ body: String?) async throws -> [String: Any] {
        let answer = try await http.send(request: HttpRequest(
            method: body == nil ? .get : .post, url: url,
            headers: [HttpHeader(name: "Authorization", value: "Bearer \(token)"),
                      HttpHeader(name: "Content-Type", value: "application/json")],
            body: Data((body ?? "").utf8)))
        XCTAssertTrue((200...201).contains(answer.status), "\(url): \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
    }

    func testOnlinePresentationThroughASwiftHttpClientAndItsRecord() async throws {
        // bindings/run-tests.sh starts `jigap serve issuer` and `jigap serve verifier` on the
        // same test authority (plain HTTP on 127.0.0.1) and says where.
        let env = ProcessInfo.processInfo.environment
        let issuerBase = try XCTUnwrap(env["JIGAP_ISSUER_URL"], "JIGAP_ISSUER_URL is not set")
        let issuerAdmin = try XCTUnwrap(env["JIGAP_ISSUER_ADMIN_TOKEN"])
        let verifierBase = try XCTUnwrap(env["JIGAP_VERIFIER_URL"], "JIGAP_VERIFIER_URL is not set")
        let verifierAdmin = try XCTUnwrap(env["JIGAP_VERIFIER_ADMIN_TOKEN"])
        let authorityDir = try XCTUnwrap(env["JIGAP_ISSUER_DIR"])
        let http = URLSessionHttpClient()
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector(), allowLoopbackHttp: true))
        for (role, file) in [(TrustRole.mdocIssuer, "mdoc-issuer-root.der"), (.relyingParty, "relying-party-root.der")] {
            _ = try wallet.addTrustAnchor(
                role: role, certificate: try Data(contentsOf: URL(fileURLWithPath: "\(authorityDir)/\(file)")))
        }
        let offer = try await admin(http, "\(issuerBase)/admin/offers", issuerAdmin, #"{"configuration_ids": ["mdl"], "tx_code": false}"#)
        let received = try await wallet.resolveCredentialOffer(
            offer: try XCTUnwrap(offer["offer_uri"] as? String), http: http, platform: nil
        ).accept(options: IssuanceOptions())
        let mdl = try XCTUnwrap(received.credentials.first).credentialId

        let asked = try await admin(http, "\(verifierBase)/admin/requests", verifierAdmin, #"{"request": ["mdl:age_over_19,family_name"]}"#)
        let session = try await wallet.startOnlinePresentation(request: try XCTUnwrap(asked["wallet_uri"] as? String), http: http)
        let view = session.request()
        XCTAssertTrue(view.relyingParty.verified, "\(view.relyingParty)")
        XCTAssertNil(view.unsatisfiable)
        let query = try XCTUnwrap(view.queries.first)
        let candidate = try XCTUnwrap(query.candidates.first)
        XCTAssertEqual(candidate.credentialId, mdl)
        XCTAssertEqual(Set(candidate.claims.map { $0.path }), ["org.iso.18013.5.1/age_over_19", "org.iso.18013.5.1/family_name"])
        let outcome = try await session.respond(choices: [QueryChoice(queryId: query.queryId, credentialIds: [mdl])])
        XCTAssertTrue(outcome.redirectUri?.hasPrefix("\(verifierBase)/done/") ?? false, "\(String(describing: outcome.redirectUri))")
        let requestId = try XCTUnwrap(asked["request_id"] as? String)
        let result = try await admin(http, "\(verifierBase)/admin/results/\(requestId)", verifierAdmin, nil)
        XCTAssertEqual(result["status"] as? String, "verified", "\(result)")

        let second = try await admin(http, "\(verifierBase)/admin/requests", verifierAdmin, #"{"request": ["mdl:family_name"]}"#)
        _ = try await wallet.startOnlinePresentation(request: try XCTUnwrap(second["wallet_uri"] as? String), http: http).decline()
        let declined = try await admin(http, "\(verifierBase)/admin/results/\(try XCTUnwrap(second["request_id"] as? String))", verifierAdmin, nil)
        XCTAssertEqual(declined["status"] as? String, "declined", "\(declined)")

        let record = try wallet.listJournal(
            filter: JournalFilter(kinds: [.presentation, .presentationDeclined]), offset: 0, limit: 10)
        XCTAssertEqual(record.entries.map { $0.kind }, [.presentationDeclined, .presentation])
        XCTAssertTrue(record.entries[1].detailsJson.contains("age_over_19"))
        let check = try wallet.verifyJournal()
        XCTAssertEqual(check.entries, 3, "issuance, presentation, decline")
        XCTAssertEqual(try verifyJournalExport(export: try wallet.exportJournal(), expectedPublicKey: check.publicKey), 3)
    }
    func testConsentStepPolicyGrantsAndATamperEvidentRecord() async throws {
        // RFC 7229's test certificate policy stands for the legal basis a trust framework names.
        let legalBasis = "1.3.6.1.5.5.7.13.1"
        let wallet = try Wallet.openBlocking(config: WalletConfig(keyProtector: try protector()))
        var policy = try wallet.disclosurePolicy()
        policy.legalBasisPolicies = [legalBasis]
        try wallet.setDisclosurePolicy(policy: policy)
        let authority = try TestAuthority.create(name: "Swift Policy", country: "KR", clock: nil)
        _ = try wallet.addTrustAnchor(role: .mdocReader, certificate: try authority.rootCertificate(role: .mdocReader))
        let key = try wallet.createDeviceKey()
        _ = try wallet.addMdoc(issuerSigned: try authority.issueResidentCard(devicePublicKey: key.publicKey, claims: ResidentCardClaims(
            nameKo: "홍길동", residentRegistrationNumber: "900505-1234567", birthDate: "1990-05-05",
            address: "서울특별시 종로구", issuingAuthority: "서울특별시 종로구청장",
            portrait: Data([0xff, 0xd8, 0xff, 0xd9]), validDays: 30)), keyAlias: key.alias)
        let ns = "kr.jigap.mdoc.resident-registration.1"
        func reader(_ chain: [Data], _ privateKey: Data?) throws -> MdocReader {
            try MdocReader(config: ReaderConfig(
                iacaCertificates: [try authority.rootCertificate(role: .mdocIssuer)],
                readerCertificateChain: chain, readerPrivateKey: privateKey))
        }
        let unsigned = try reader([], nil)
        let trusted = try reader([try authority.signerCertificate(role: .mdocReader)], try authority.signerKey(role: .mdocReader))
        let signer = try authority.issueSigner(role: .mdocReader, commonName: "Swift Bank Reader", policies: [legalBasis])
        let bank = try reader([signer.certificate], signer.key)

        func present(_ r: MdocReader, _ items: [String], _ screen: Screen) async throws -> (DisclosureRequest, [String]) {
            let holder = try wallet.startPresentation(retrievalMethods: [], deviceAuth: .signature)
            let session = try r.startSession(qrUri: try holder.engagement().qrUri, requests: [
                DocumentRequest(docType: ns, items: items.map { RequestedItem(namespace: ns, identifier: $0) }),
            ])
            guard case .request(_, let disclosure) = try holder.receive(message: session.requestMessage()) else {
                throw WalletError.Internal(reason: "expected a request")
            }
            let message = try await holder.answer(prompt: screen, timeoutSeconds: 30)
            guard case .response(let report) = try session.receive(message: message) else {
                throw WalletError.Internal(reason: "expected a response")
            }
            return (disclosure, (report.documents.first?.elements.map { $0.identifier } ?? []).sorted())
        }

        let (first, released) = try await present(trusted, ["birth_date", "age_over_19"], Screen(rememberDays: 0))
        XCTAssertTrue(first.relyingParty.authenticated)
        XCTAssertEqual(first.documents[0].items[0].verdict, .needsOwnApproval(minimal: "\(ns)/age_over_19"))
        XCTAssertEqual(released, ["age_over_19"], "the predicate first")

        let (second, toUnsigned) = try await present(unsigned, ["resident_registration_number", "age_over_19"], Screen(rememberDays: 0))
        XCTAssertFalse(second.relyingParty.authenticated)
        XCTAssertNil(second.relyingParty.name)
        XCTAssertEqual(second.documents[0].items[0].verdict, .withheld(reason: .restricted))
        XCTAssertEqual(toUnsigned, ["age_over_19"])

        let (third, toBank) = try await present(bank, ["resident_registration_number", "name_ko"], Screen(rememberDays: 30))
        XCTAssertTrue(third.relyingParty.legalBasis)
        XCTAssertEqual(toBank, ["name_ko", "resident_registration_number"])
        let grant = try XCTUnwrap(try wallet.listGrants().first)
        XCTAssertEqual(grant.items, ["\(ns)/name_ko"], "never the number in a grant")

        let quiet = Screen(rememberDays: 0)
        let (fourth, granted) = try await present(bank, ["name_ko"], quiet)
        XCTAssertEqual(quiet.asked, 0, "the grant answered")
        XCTAssertEqual(fourth.documents[0].items[0].verdict, .granted(grantId: grant.id))
        XCTAssertEqual(granted, ["name_ko"])
        try wallet.revokeGrant(id: grant.id)
        let again = Screen(rememberDays: 0)
        _ = try await present(bank, ["name_ko"], again)
        XCTAssertEqual(again.asked, 1, "asked again after the revocation")

        let check = try wallet.verifyJournal()
        let export = try wallet.exportJournal()
        XCTAssertEqual(try verifyJournalExport(export: export, expectedPublicKey: check.publicKey), check.entries)
        let lines = export.components(separatedBy: "\n")
        var dropped = lines; dropped.remove(at: 1)
        var reordered = lines; reordered.swapAt(0, 1)
        var truncated = lines; truncated.remove(at: lines.count - 2)
        var edited = lines; edited[0] = edited[0].replacingOccurrences(of: "\"at\":", with: "\"at\":1")
        for (how, broken) in [("dropped", dropped), ("reordered", reordered), ("truncated", truncated), ("edited", edited)] {
            XCTAssertNotEqual(broken, lines, how)
            XCTAssertThrowsError(try verifyJournalExport(export: broken.joined(separator: "\n"), expectedPublicKey: check.publicKey), how) {
                guard case .JournalTampered = $0 as? WalletError else { return XCTFail("\(how): \($0)") }
            }
        }
    }
}
