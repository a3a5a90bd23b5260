//! Fuzz target `proximity`: see `wallet_core_fuzz::harness::proximity`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::proximity(data);
});
