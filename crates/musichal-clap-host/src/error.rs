//! Errors of the host: one variant per kind of failure, with the data that names what failed.
//! Where the plugin or clack gave a reason, `reason` carries its text.

use std::path::PathBuf;

/// Everything that can go wrong while loading and driving a plugin.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    // Loading and instantiating.
    #[error("cannot load {} as a CLAP plugin ({reason}); point at a CLAP binary built for this machine", path.display())]
    LoadFailed { path: PathBuf, reason: String },
    #[error("{} has no CLAP plugin factory; it is not a CLAP plugin", path.display())]
    NoFactory { path: PathBuf },
    #[error("{} offers no plugin (its factory lists no descriptor with an id)", path.display())]
    NoPlugins { path: PathBuf },
    #[error("{} has no plugin with id {id}; ask for one of the ids its factory lists", path.display())]
    NoSuchPlugin { path: PathBuf, id: String },
    #[error("the host's own description is not valid for CLAP ({reason})")]
    HostInfo { reason: String },
    #[error("the plugin {id} could not be instantiated ({reason})")]
    InstantiateFailed { id: String, reason: String },

    // Functions the plugin binary exports.
    #[error("{} holds a NUL byte, so the loaded library cannot be looked up by it", path.display())]
    PathHasNul { path: PathBuf },
    #[error("{} is not loaded in this process; load it with this host first", path.display())]
    NotLoaded { path: PathBuf },
    #[error("{} does not export {symbol}; rebuild the plugin with that function", path.display())]
    MissingSymbol { path: PathBuf, symbol: String },

    // Extensions.
    #[error("the plugin does not offer the CLAP {extension} extension")]
    MissingExtension { extension: &'static str },

    // Parameters.
    #[error("the plugin did not describe its parameter number {index} (params.get_info failed)")]
    ParamInfoFailed { index: u32 },
    #[error("the plugin has no parameter named {name:?}; its parameters are {available:?}")]
    ParamNotFound {
        name: String,
        available: Vec<String>,
    },
    #[error("the plugin gave no value for parameter id {id} (params.get_value failed)")]
    ValueUnavailable { id: u32 },
    #[error("the plugin has no display text for value {value} of {param:?} (params.value_to_text failed)")]
    NoTextForValue { param: String, value: f64 },
    #[error("{text:?} holds a NUL byte, which a CLAP string cannot carry")]
    TextHasNul { text: String },
    #[error(
        "the plugin does not accept {text:?} for {param:?}; give a value as the plugin displays it"
    )]
    TextNotAccepted { param: String, text: String },
    #[error(
        "{value} is outside {param:?}'s CLAP range {min}..={max} (CLAP values, not display units)"
    )]
    ValueOutOfRange {
        param: String,
        value: f64,
        min: f64,
        max: f64,
    },

    // Activation.
    #[error("{operation} needs an active plugin; call activate first")]
    NotActive { operation: &'static str },
    #[error("{operation} needs an inactive plugin; call deactivate first")]
    Active { operation: &'static str },
    #[error("activate: block sizes {min}..={max} are not valid; the minimum must be at least 1 and at most the maximum")]
    BadBlockSizes { min: u32, max: u32 },
    #[error("the plugin refused to activate at {sample_rate} Hz with blocks of {min_block}..={max_block} frames ({reason})")]
    ActivateFailed {
        sample_rate: f64,
        min_block: u32,
        max_block: u32,
        reason: String,
    },
    #[error("the plugin refused to start processing ({reason})")]
    StartProcessingFailed { reason: String },

    // The audio thread.
    #[error("the audio thread could not be started ({reason})")]
    AudioThreadSpawn { reason: String },
    #[error("the audio thread died; the plugin's audio processor is gone (see the panic above)")]
    AudioThreadDied,
    #[error("the audio thread panicked; the plugin's audio processor was dropped with it (see the panic above)")]
    AudioThreadPanicked,
    #[error("the audio thread did not answer within {seconds} s; the plugin's process() hangs")]
    AudioThreadTimeout { seconds: u64 },
    #[error("the audio thread answered a different command than the one sent (a bug in the host)")]
    UnexpectedAudioReply,
    #[error("the plugin's process() failed ({status})")]
    ProcessFailed { status: String },

    // Audio ports configurations.
    #[error("the plugin's audio-ports-config extension has no select function")]
    PortsConfigWithoutSelect,
    #[error("the plugin refused audio ports configuration {id}")]
    PortsConfigRefused { id: u32 },

    // Blocks and signals.
    #[error("process: a block of {frames} frames is outside 1..={max_block}, the activation's block sizes")]
    BlockOutOfRange { frames: usize, max_block: u32 },
    #[error("process: {given} input channels given, but the plugin's main input port has {expected} (select another layout with select_channel_layout before activating)")]
    InputChannelCount { given: usize, expected: usize },
    #[error("process: a channel has {got} samples, expected {expected}, the block's length")]
    ChannelLength { got: usize, expected: usize },
    #[error("process: an event at sample {time} is outside the {frames}-frame block")]
    EventOutsideBlock { time: u32, frames: usize },
    #[error("process_signal: the channels differ in length; give every channel the same length")]
    ChannelLengthsDiffer,
    #[error("BlockSizes::Cycle is empty; give it at least one block size")]
    EmptyBlockCycle,
    #[error("a block size of 0 was asked for; block sizes must be at least 1")]
    ZeroBlockSize,
    #[error("a block size of {size} exceeds the activation's max_block {max_block}; activate with a larger maximum")]
    BlockExceedsMax { size: usize, max_block: usize },

    // Render mode and latency.
    #[error("the plugin refused the {} render mode", if *offline { "offline" } else { "realtime" })]
    RenderModeRefused { offline: bool },

    // State.
    #[error("the plugin could not save its state ({reason})")]
    StateSaveFailed { reason: String },
    #[error("the plugin could not load the state given ({reason})")]
    StateLoadFailed { reason: String },
    #[error("the plugin's state is {len} bytes, shorter than its 8-byte length header")]
    StateTooShort { len: usize },
    #[error("the plugin's state is not nice-plug's JSON ({reason})")]
    StateNotJson { reason: String },
    #[error("the value for the persisted field {key:?} cannot be serialised ({reason})")]
    FieldNotSerialisable { key: String, reason: String },

    // GUI.
    #[error("gui_create: the GUI is already created; call gui_destroy first")]
    GuiAlreadyCreated,
    #[error("the plugin's {call} failed ({reason})")]
    GuiCallFailed { call: String, reason: String },
    #[error("the plugin reported no GUI size (gui.get_size failed or gave 0x0)")]
    GuiSizeUnavailable,
}

/// Result type of the host.
pub type Result<T, E = HostError> = std::result::Result<T, E>;
