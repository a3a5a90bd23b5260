//! Fuzz target `openid4vci_offer`: see `wallet_core_fuzz::harness::openid4vci_offer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::openid4vci_offer(data);
});
