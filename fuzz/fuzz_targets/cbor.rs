//! Fuzz target `cbor`: see `wallet_core_fuzz::harness::cbor`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::cbor(data);
});
