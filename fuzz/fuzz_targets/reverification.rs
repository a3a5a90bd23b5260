//! Fuzz target `reverification`: see `wallet_core_fuzz::harness::reverification`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::reverification(data);
});
