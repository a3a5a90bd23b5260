//! Fuzz target `status_token`: see `wallet_core_fuzz::harness::status_token`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::status_token(data);
});
