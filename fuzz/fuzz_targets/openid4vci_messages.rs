//! Fuzz target `openid4vci_messages`: see `wallet_core_fuzz::harness::openid4vci_messages`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::openid4vci_messages(data);
});
