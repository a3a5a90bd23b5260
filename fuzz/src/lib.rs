//! Fuzz harnesses for the parsers of wallet-core that read bytes from outside.
//!
//! Each target in `fuzz_targets/` calls one function of [`harness`]. The same module is
//! compiled into `wallet-core/tests/parser_robustness.rs`, so the normal test run replays the
//! committed seeds (and deterministic mutations of them) through exactly the same calls.

pub mod harness;
