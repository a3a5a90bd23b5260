//! Fuzz target `sd_jwt`: see `wallet_core_fuzz::harness::sd_jwt`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::sd_jwt(data);
});
