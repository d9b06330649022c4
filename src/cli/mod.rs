//! Subcommands of the `musichal` binary that work on corpora and audio: `train`, `inspect`,
//! `synth` (and `render` with the engine).

pub mod args;
pub mod corpus;
pub mod features;
pub mod files;
pub mod render;
pub mod report;
