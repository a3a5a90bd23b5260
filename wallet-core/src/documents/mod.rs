//! Government documents the wallet holds besides mobile IDs: electronic certificates.

pub mod certificates;
