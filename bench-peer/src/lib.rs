//! Nothing to build: the work is in `benches/side_by_side.rs`.
