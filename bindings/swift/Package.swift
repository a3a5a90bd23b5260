// swift-tools-version:5.9
// The Swift package of the Jigap wallet core. `bindings/run-tests.sh` fills in the generated
// sources (Sources/JigapWallet/JigapWallet.swift, Sources/wallet_coreFFI/wallet_coreFFI.h) from
// the built library before building; they are not kept in the repository. It also stages the
// host-app sample from examples/swift/HostApp as Examples/HostApp.
import PackageDescription

let package = Package(
    name: "JigapWallet",
    products: [
        .library(name: "JigapWallet", targets: ["JigapWallet"]),
    ],
    targets: [
        .systemLibrary(name: "wallet_coreFFI", path: "Sources/wallet_coreFFI"),
        .target(
            name: "JigapWallet",
            dependencies: ["wallet_coreFFI"],
            path: "Sources/JigapWallet"
        ),
        // The host-app integration sample (examples/swift/HostApp in the repository).
        .executableTarget(
            name: "HostApp",
            dependencies: ["JigapWallet"],
            path: "Examples/HostApp"
        ),
        // OpenSSL's libcrypto, used only by the tests' host SecureArea.
        .systemLibrary(name: "COpenSSL", path: "Tests/COpenSSL"),
        .testTarget(
            name: "JigapWalletTests",
            dependencies: ["JigapWallet", "COpenSSL"],
            path: "Tests/JigapWalletTests"
        ),
    ]
)
