//! Fuzz target `status_list`: see `wallet_core_fuzz::harness::status_list`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::status_list(data);
});
