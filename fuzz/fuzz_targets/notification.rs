//! Fuzz target `notification`: see `wallet_core_fuzz::harness::notification`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::notification(data);
});
