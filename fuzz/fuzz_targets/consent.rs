//! Fuzz target `consent`: see `wallet_core_fuzz::harness::consent`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::consent(data);
});
