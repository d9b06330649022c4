//! Shared helpers for integration tests. Each `tests/*.rs` file that needs them says `mod common;`
//! and uses what it needs; unused items in a given test binary are expected.
#![allow(dead_code)]

/// The CLAP host (`src/host.rs`): shared with `musichal render`.
#[allow(unused_imports)]
pub use musichal::host as clap_host;

/// Four-voice chorales rendered by FluidSynth (perception tests).
pub mod chorale;
