// A host-app integration sample in Swift: what an iOS super app writes around the core when a
// bank's web page asks the citizen for a resident registration abstract through the platform's
// Digital Credentials API.
//
// The wallet app stores the certificate it received from the government. The bank's page asks
// (a request signed by the bank's certificate, for the name, the district and the registration
// number); the platform hands the request and the page's origin to the app. The core checks who
// asks and runs the consent step through the app's screen: the registration number is a
// restricted identifier and this bank's certificate carries no legal basis for it, so the policy
// withholds it; the citizen approves what is offered. The bank's server verifies the answer with
// the same core. The app draws screens and moves strings; the core does the policy, selective
// disclosure, key binding, encryption and trust, and keeps the record.
//
// Built and run by bindings/run-tests.sh (`swift run HostApp`) after the Swift binding tests; exits
// non-zero if the story does not end as printed. A shipping app would protect the store with a
// Keychain-backed KeyProtector; the sample uses the core's passphrase protector.

import Foundation
import JigapWallet

func require(_ condition: Bool, _ what: String) {
    if !condition {
        FileHandle.standardError.write("host app sample: FAILED: \(what)\n".data(using: .utf8)!)
        exit(1)
    }
}

/// The app's consent screen: shows who asks and the policy's verdict on each item, and shares
/// what is offered.
final class ConsentScreen: UserPrompt, @unchecked Sendable {
    func ask(request: DisclosureRequest) async throws -> DisclosureDecision? {
        let who = request.relyingParty
        print("consent: \(who.name ?? "an unverified site") at \(request.origin ?? "?") asks for")
        for document in request.documents {
            for item in document.items {
                let verdict: String
                switch item.verdict {
                case .offered: verdict = "offered"
                case .granted: verdict = "remembered"
                case .needsOwnApproval(let minimal): verdict = "only if chosen (\(minimal) first)"
                case .withheld(let reason): verdict = "withheld: \(reason)"
                }
                print("  \(item.labelKo ?? item.path) — \(verdict)")
            }
        }
        return DisclosureDecision(approved: request.documents.map { document in
            DocumentApproval(
                id: document.id, credentialId: document.credentialIds[0],
                items: document.items.compactMap {
                    if case .offered = $0.verdict { return $0.path }
                    return nil
                })
        }, rememberDays: 0)
    }
}

do {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("jigap-host-app-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let protector = try passphraseKeyProtectorWithCost(passphrase: "sample app secret", iterations: 10_000)
    let wallet = try Wallet.openBlocking(config: WalletConfig(
        path: directory.appendingPathComponent("wallet.jigap").path, keyProtector: protector))

    // The government issues the certificate to a key the wallet made for it; the app trusts the
    // government's relying-party root to tell verified banks from others.
    let government = try TestAuthority.create(name: "Sample Ministry", country: "KR", clock: nil)
    _ = try wallet.addTrustAnchor(role: .relyingParty, certificate: try government.rootCertificate(role: .relyingParty))
    let key = try wallet.createDeviceKey()
    let issued = try government.issueECertificate(
        certificateType: "resident-abstract", devicePublicKey: key.publicKey,
        claimsJson: #"{"name":"김지갑","resident_registration_number":"950301-2345678","address":{"region":"서울특별시","locality":"마포구"}}"#,
        status: nil)
    _ = try wallet.addSdJwt(sdJwt: issued, keyAlias: key.alias)

    // The bank's server makes a signed request for its page; the registration number is asked
    // as an alternative the bank can do without (DCQL claim sets, first preferred).
    let bank = try Openid4vpVerifier(config: Openid4vpVerifierConfig(
        signingCertificateChain: [try government.signerCertificate(role: .relyingParty)],
        signingKey: try government.signerKey(role: .relyingParty),
        clientIdScheme: .x509Hash,
        iacaCertificates: [],
        sdJwtIssuerCertificates: [try government.rootCertificate(role: .sdJwtIssuer)]))
    let origin = "https://bank.example"
    let created = try bank.createRequest(options: PresentationRequestOptions(
        dcqlQueryJson: #"""
        {"credentials": [{"id": "abstract", "format": "dc+sd-jwt",
          "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
          "claims": [{"id": "name", "path": ["name"]}, {"id": "district", "path": ["address", "locality"]},
                     {"id": "rrn", "path": ["resident_registration_number"]}],
          "claim_sets": [["name", "district", "rrn"], ["name", "district"]]}]}
        """#,
        responseMode: .dcApiJwt, expectedOrigins: [origin]))

    // The platform hands the app the page's request and origin; the core runs the consent step.
    let presentation = try wallet.startDcApiPresentation(
        protocol: "openid4vp-v1-signed", request: #"{"request": "\#(created.requestObject)"}"#, origin: origin)
    let disclosure = presentation.disclosure()
    require(disclosure.relyingParty.authenticated, "the bank is verified")
    let number = disclosure.documents[0].items.first { $0.path == "/resident_registration_number" }
    if case .withheld(.restricted)? = number?.verdict {} else {
        require(false, "the registration number is withheld as restricted, got \(String(describing: number))")
    }
    let outcome = try await presentation.answer(prompt: ConsentScreen(), timeoutSeconds: 60)

    // The bank's server verifies what the page got back.
    let verified = try bank.receiveDcApi(requestId: created.requestId, dataJson: outcome.dcApiResponse!, origin: origin)
    let claims = verified.credentials[0].claims.map { $0.path.joined(separator: "/") }
    require(claims.contains("name") && claims.contains("address/locality"), "approved claims arrive: \(claims)")
    require(!claims.contains("resident_registration_number"), "the registration number stays on the phone")
    print("bank sees: \(claims.joined(separator: ", "))")

    // The citizen's record says what went where and what was withheld, and it checks.
    let record = try wallet.listJournal(filter: JournalFilter(kinds: [.presentation]), offset: 0, limit: 10)
    require(record.entries.count == 1 && record.entries[0].detailsJson.contains("restricted"), "the record")
    _ = try wallet.verifyJournal()
    try wallet.closeStore()
    print("host app sample: ok")
} catch {
    FileHandle.standardError.write("host app sample: FAILED: \(error)\n".data(using: .utf8)!)
    exit(1)
}
