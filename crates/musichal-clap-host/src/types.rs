//! What the host reports about the plugin and its processing.

use clack_extensions::params::ParamInfoFlags;
use std::time::Duration;

use crate::events::{MidiOrNoteEvent, OtherOutputEvent};

/// What the plugin's `clap_plugin_descriptor` says about it, as a host's plugin browser shows
/// it. clack reports a field that is missing or blank (an empty string) as `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginDescriptorInfo {
    pub id: String,
    pub name: String,
    pub vendor: Option<String>,
    pub url: Option<String>,
    pub manual_url: Option<String>,
    pub support_url: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
}

/// A parameter as `clap_plugin_params.get_info` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub id: u32,
    pub name: String,
    pub module: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub flags: ParamInfoFlags,
}

impl ParamInfo {
    pub fn is_stepped(&self) -> bool {
        self.flags.contains(ParamInfoFlags::IS_STEPPED)
    }
    pub fn is_automatable(&self) -> bool {
        self.flags.contains(ParamInfoFlags::IS_AUTOMATABLE)
    }
}

/// An audio port (`clap_plugin_audio_ports.get`).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPortInfo {
    pub id: u32,
    pub name: String,
    pub channel_count: u32,
    pub is_main: bool,
    pub port_type: Option<String>,
    pub in_place_pair: Option<u32>,
}

/// A note port (`clap_plugin_note_ports.get`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotePortInfo {
    pub id: u32,
    pub name: String,
    pub supports_clap: bool,
    pub supports_midi: bool,
    pub preferred: Option<String>,
}

/// What `process()` produced. Sample offsets are relative to the block for
/// [`ClapHost::process`](crate::ClapHost::process) and absolute (from the start of the signal) for
/// [`ClapHost::process_signal`](crate::ClapHost::process_signal).
#[derive(Debug, Clone, Default)]
pub struct ProcessOutput {
    /// The main output port, one `Vec` per channel.
    pub audio: Vec<Vec<f32>>,
    /// Note and MIDI events with their sample offsets, in emission order.
    pub midi: Vec<(u64, MidiOrNoteEvent)>,
    /// Other output events with their sample offsets.
    pub other_events: Vec<(u64, OtherOutputEvent)>,
    /// Per block: the status the plugin returned (`"Continue"`, `"ContinueIfNotQuiet"`, ...).
    pub statuses: Vec<String>,
    /// Time spent inside the plugin's `process()` calls (wall clock on the audio thread,
    /// around the call alone: the host's buffer and event handling is not counted).
    pub plugin_time: Duration,
}

/// Block sizes for [`ClapHost::process_signal`](crate::ClapHost::process_signal).
#[derive(Debug, Clone)]
pub enum BlockSizes {
    /// Every block has this size (the last one may be shorter).
    Fixed(usize),
    /// Cycle through these sizes.
    Cycle(Vec<usize>),
    /// Reproducible pseudo-random sizes in `min..=max`.
    Random { min: usize, max: usize, seed: u64 },
}

/// The configuration of the current activation.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveConfig {
    pub sample_rate: f64,
    pub min_block: u32,
    pub max_block: u32,
    /// Channel count of every input port, main first.
    pub input_channels: Vec<u32>,
    /// Channel count of every output port, main first.
    pub output_channels: Vec<u32>,
}
