//! The workspace's uniffi-bindgen: generates Kotlin, Swift and Python bindings from the built
//! `libwallet_core` in library mode, with the same uniffi version the core is compiled against.

fn main() {
    uniffi::uniffi_bindgen_main()
}
