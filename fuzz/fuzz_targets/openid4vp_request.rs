//! Fuzz target `openid4vp_request`: see `wallet_core_fuzz::harness::openid4vp_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::openid4vp_request(data);
});
