//! Fuzz target `device_request`: see `wallet_core_fuzz::harness::device_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::device_request(data);
});
