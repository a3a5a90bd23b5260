//! Fuzz target `device_engagement`: see `wallet_core_fuzz::harness::device_engagement`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::device_engagement(data);
});
