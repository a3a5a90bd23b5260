//! Fuzz target `bill`: see `wallet_core_fuzz::harness::bill`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::bill(data);
});
