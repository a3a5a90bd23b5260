//! Fuzz target `signed_document`: see `wallet_core_fuzz::harness::signed_document`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::signed_document(data);
});
