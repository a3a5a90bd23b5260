//! Fuzz target `cose`: see `wallet_core_fuzz::harness::cose`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::cose(data);
});
