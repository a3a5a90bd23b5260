// A host-app integration sample in Swift: what an iOS super app writes around the core when a
// bank asks the citizen for a resident registration abstract.
//
// The wallet app stores the certificate it received from the government, then answers the bank's
// request with only the claims the citizen approves, bound to the bank's nonce. The bank's server
// verifies the presentation with the same core. The app draws screens and moves strings; the core
// does the selective disclosure, key binding and trust.
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

do {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("jigap-host-app-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let protector = try passphraseKeyProtectorWithCost(passphrase: "sample app secret", iterations: 10_000)
    let wallet = try Wallet.openBlocking(config: WalletConfig(
        path: directory.appendingPathComponent("wallet.jigap").path, keyProtector: protector))

    // The government issues the certificate to a key the wallet made for it.
    let government = try TestAuthority.create(name: "Sample Ministry", country: "KR", clock: nil)
    let key = try wallet.createDeviceKey()
    let issued = try government.issueECertificate(
        certificateType: "resident-abstract", devicePublicKey: key.publicKey,
        claimsJson: #"{"name":"김지갑","resident_registration_number":"950301-2345678","address":{"region":"서울특별시","locality":"마포구"}}"#,
        status: nil)
    let id = try wallet.addSdJwt(sdJwt: issued, keyAlias: key.alias)

    // The consent screen lists what can be withheld.
    let view = try wallet.eCertificateView(credentialId: id)
    let disclosable = view.claims.filter { $0.disclosable }.map { $0.path }
    print("disclosable claims: \(disclosable.joined(separator: ", "))")
    require(disclosable.contains("/resident_registration_number"), "the number can be withheld")

    // The bank asks with its own nonce; the citizen approves the name and the district only.
    let nonce = UUID().uuidString
    let presentation = try wallet.presentSdJwt(
        credentialId: id, claims: ["/name", "/address/locality"], audience: "https://bank.example", nonce: nonce)

    // The bank's server side: trust the government's certificate, check binding and nonce.
    let bank = try SdJwtVerifier(config: SdJwtVerifierConfig(
        trustedIssuerCertificates: [try government.rootCertificate(role: .sdJwtIssuer)]))
    let verified = try bank.verify(presentation: presentation, audience: "https://bank.example", nonce: nonce)
    require(verified.keyBound, "the presentation is bound to the wallet's key")
    require(verified.claimsJson.contains("김지갑") && verified.claimsJson.contains("마포구"), "approved claims arrive")
    require(!verified.claimsJson.contains("950301"), "the registration number stays on the phone")
    print("bank sees: \(verified.claimsJson)")

    // Replaying the presentation to another request is refused with a typed reason.
    do {
        _ = try bank.verify(presentation: presentation, audience: "https://bank.example", nonce: "another request")
        require(false, "a replay must be refused")
    } catch WalletError.Verification(let failure, _) {
        require(failure == .keyBindingNonce, "a replay fails on the nonce, got \(failure)")
    }
    try wallet.closeStore()
    print("host app sample: ok")
} catch {
    FileHandle.standardError.write("host app sample: FAILED: \(error)\n".data(using: .utf8)!)
    exit(1)
}
