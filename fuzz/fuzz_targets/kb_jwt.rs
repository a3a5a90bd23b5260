//! Fuzz target `kb_jwt`: see `wallet_core_fuzz::harness::kb_jwt`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::kb_jwt(data);
});
