//! Fuzz target `openid4vp_response`: see `wallet_core_fuzz::harness::openid4vp_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wallet_core_fuzz::harness::openid4vp_response(data);
});
