//! The subcommands of the `musichal` binary, one module each: `train`, `inspect` and `synth`
//! ([`corpus`]), `evaluate`, `features`, `render` (through the CLAP host, with its HTML
//! [`report`]), `eq` and `doctor`; [`args`] and [`files`] check what the user gave them.

pub mod answer_figures;
pub mod args;
pub mod corpus;
pub mod doctor;
pub mod eq;
pub mod evaluate;
pub mod features;
pub mod files;
pub mod render;
pub mod report;
