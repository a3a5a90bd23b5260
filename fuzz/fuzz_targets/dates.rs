//! Fuzz target `dates`: see `wallet_core_fuzz::harness::dates`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::dates(data);
});
