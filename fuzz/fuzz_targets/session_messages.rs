//! Fuzz target `session_messages`: see `wallet_core_fuzz::harness::session_messages`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::session_messages(data);
});
