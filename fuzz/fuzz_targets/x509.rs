//! Fuzz target `x509`: see `wallet_core_fuzz::harness::x509`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::x509(data);
});
