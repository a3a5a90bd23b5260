//! Fuzz target `device_response`: see `wallet_core_fuzz::harness::device_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::device_response(data);
});
