//! Fuzz target `issuer_signed`: see `wallet_core_fuzz::harness::issuer_signed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::issuer_signed(data);
});
