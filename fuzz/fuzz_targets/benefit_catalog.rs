//! Fuzz target `benefit_catalog`: see `wallet_core_fuzz::harness::benefit_catalog`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::benefit_catalog(data);
});
