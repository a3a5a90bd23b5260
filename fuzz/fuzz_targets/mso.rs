//! Fuzz target `mso`: see `wallet_core_fuzz::harness::mso`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::mso(data);
});
