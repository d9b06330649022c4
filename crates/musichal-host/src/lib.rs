//! A small, reusable CLAP host, built on `clack-host` / `clack-extensions` 0.2.0: the integration
//! tests' harness and the engine of `musichal render`. It loads the plugin binary the way a DAW
//! does (dlopen + `clap_entry`), so tests and renders exercise the real CLAP wrapper: parameter ids/values/text, sample-accurate automation, audio ports and
//! their configurations, note output, state save/load, and the host callbacks the plugin uses.
//!
//! # Threads
//!
//! [`TestHost`] is the CLAP *main thread*: it holds the `!Send` [`PluginInstance`] and must stay on
//! the thread that created it (it is `!Send` itself). [`TestHost::activate`] spawns one *audio
//! thread* that owns the plugin's audio processor, calls `start_processing`, every `process`,
//! `flush`, `reset` and finally `stop_processing`; the main thread hands it jobs through channels
//! and, while it waits for a job, services `request_callback()` by calling
//! `call_on_main_thread_callback()` (nice-plug posts a task from `process()` after every
//! parameter change and asks for that callback; a host that never answers fills its queue).
//! The thread-check extension answers from these two thread identities, and any main-thread-only
//! host callback that arrives on another thread is recorded in [`TestHost::thread_violations`].
//! The plugin's library is never unloaded (see [`TestHost::load_plugin`]). Messages the plugin
//! logs through the `log` extension are echoed to stderr unless `MUSICHAL_HOST_QUIET` is set.
//! The host also implements `clap_host_gui` (requests are recorded, see [`GuiRequest`]) and
//! drives the plugin's `gui` extension from the main thread (`gui_create`, `gui_set_parent_x11`,
//! `gui_show`, ...); [`TestHost::pump_main_thread`] plays the host's idle loop while an editor is
//! open.
//!
//! # Parameter values
//!
//! Values are always the CLAP values the plugin reports: within `ParamInfo::min..=max` as given by
//! `get_info`. nice-plug reports every parameter as normalised `0..=1` (stepped ones `0..=steps`),
//! and its ids are hashes of the string ids, so tests find parameters by display name and convert
//! display text with [`TestHost::text_to_value`] / [`TestHost::value_text`].
//!
//! # Unsafe
//!
//! Four kinds of `unsafe`, each with its `SAFETY:` note: loading the library
//! (`PluginEntry::load` runs the library's initialisers), the `audio-ports-config` extension,
//! which this file declares itself because the project's `clack-extensions` features do not
//! include it, copying a SysEx payload out of an output event during the process call, and
//! looking up a function the library exports ([`TestHost::plugin_function`]).

use clack_extensions::audio_ports::AudioPortRescanFlags;
use clack_extensions::audio_ports::{
    AudioPortInfoBuffer, HostAudioPorts, HostAudioPortsImpl, PluginAudioPorts,
};
use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window as GuiWindow,
};
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::note_ports::{
    HostNotePorts, HostNotePortsImpl, NoteDialect, NoteDialects, NotePortInfoBuffer,
    NotePortRescanFlags, PluginNotePorts,
};
pub use clack_extensions::params::ParamInfoFlags;
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::state::{HostState, HostStateImpl, PluginState};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_host::events::event_types::{
    MidiEvent, NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::events::{EventFlags, EventHeader, Match};
use clack_host::extensions::{Extension, PluginExtensionSide, RawExtension};
use clack_host::prelude::*;
use clack_host::utils::FixedPoint;
use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::{c_char, c_void, CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------------------------
// Locating the plugin binary
// ------------------------------------------------------------------------------------------------

/// Name of the plugin library cargo builds for this package (`libmusichal.so` on Linux).
pub fn plugin_file_name() -> String {
    format!(
        "{}musichal{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The CLAP binary under test.
///
/// 1. `MUSICHAL_CLAP_PATH`, if set (any CLAP binary or `.clap` bundle);
/// 2. else the library cargo built for this test run: `<target>/<profile>/deps/`, next to this
///    test executable (fresh, with this run's features; follows `CARGO_TARGET_DIR`,
///    `build.target-dir` and the profile), then `<target>/<profile>/` (uplifted by
///    `cargo build --lib`, possibly stale);
/// 3. else `$CARGO_TARGET_DIR/debug/` or `<CARGO_MANIFEST_DIR>/target/debug/`.
///
/// Panics with build instructions when no candidate exists.
pub fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("MUSICHAL_CLAP_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "MUSICHAL_CLAP_PATH points to {}, which does not exist",
            path.display()
        );
        return path;
    }
    let name = plugin_file_name();
    let mut candidates = Vec::new();
    // Integration tests run as <target>/<profile>/deps/<test>-<hash>. The cdylib that this
    // `cargo test` run built (with this run's features, e.g. `assert_process_allocs`) is
    // `deps/libmusichal.so`; cargo copies it up to `<target>/<profile>/` only for `cargo build`,
    // so the copy up there may be stale. Prefer `deps/`.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(deps) = exe.parent() {
            candidates.push(deps.join(&name));
            if let Some(profile_dir) = deps.parent() {
                candidates.push(profile_dir.join(&name));
            }
        }
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(dir).join("debug").join(&name));
    }
    // This crate sits in `crates/musichal-host/` of the workspace, whose target dir is `target/`.
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target")
            .join("debug")
            .join(&name),
    );
    let mut seen = HashSet::new();
    candidates.retain(|p| seen.insert(p.clone()));
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return found.clone();
    }
    panic!(
        "the plugin binary {name} was not found (looked at: {}).\n\
         Build it first with `cargo build --lib` (it is built by `cargo test` as well, since the \
         package's lib has crate-type [\"cdylib\", \"lib\"]), or point MUSICHAL_CLAP_PATH at a \
         CLAP binary.",
        candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/// Everything that can go wrong in the harness, as a readable message.
#[derive(Debug, Clone, PartialEq)]
pub struct HostError(pub String);

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

/// Result type of the harness.
pub type Result<T, E = HostError> = std::result::Result<T, E>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(HostError(msg.into()))
}

// ------------------------------------------------------------------------------------------------
// Host callbacks (what the plugin may call)
// ------------------------------------------------------------------------------------------------

static NEXT_HOST_KEY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Key of the [`TestHost`] whose audio thread this is (0: none). `const` init: reading it
    /// never allocates, so `is_audio_thread()` is safe to call from `process()`.
    static AUDIO_THREAD_OF: Cell<u64> = const { Cell::new(0) };
}

/// One message the plugin sent through the `log` extension.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub severity: String,
    pub message: String,
}

/// Host state shared by all threads (the CLAP `clap_host` object's thread-safe part).
pub struct HostShared {
    key: u64,
    main_thread: ThreadId,
    echo_log: bool,
    callback_requested: AtomicBool,
    flush_requested: AtomicBool,
    restart_requested: AtomicBool,
    process_requested: AtomicBool,
    state_dirty: AtomicBool,
    param_rescan_flags: AtomicU32,
    param_clears: AtomicU32,
    audio_ports_rescans: AtomicU32,
    note_ports_rescans: AtomicU32,
    latency_changes: AtomicU32,
    callbacks_serviced: AtomicU64,
    log: Mutex<Vec<LogEntry>>,
    violations: Mutex<Vec<String>>,
    gui_requests: Mutex<Vec<GuiRequest>>,
}

impl HostShared {
    fn new() -> Self {
        Self {
            key: NEXT_HOST_KEY.fetch_add(1, Ordering::Relaxed),
            main_thread: thread::current().id(),
            echo_log: std::env::var_os("MUSICHAL_HOST_QUIET").is_none(),
            callback_requested: AtomicBool::new(false),
            flush_requested: AtomicBool::new(false),
            restart_requested: AtomicBool::new(false),
            process_requested: AtomicBool::new(false),
            state_dirty: AtomicBool::new(false),
            param_rescan_flags: AtomicU32::new(0),
            param_clears: AtomicU32::new(0),
            audio_ports_rescans: AtomicU32::new(0),
            note_ports_rescans: AtomicU32::new(0),
            latency_changes: AtomicU32::new(0),
            callbacks_serviced: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            gui_requests: Mutex::new(Vec::new()),
        }
    }

    fn on_main_thread(&self) -> bool {
        thread::current().id() == self.main_thread
    }

    fn on_audio_thread(&self) -> bool {
        AUDIO_THREAD_OF.with(|k| k.get()) == self.key
    }

    /// Records a call of a main-thread-only host function from another thread.
    fn require_main_thread(&self, what: &str) {
        if !self.on_main_thread() {
            let name = thread::current().name().unwrap_or("<unnamed>").to_owned();
            lock(&self.violations).push(format!(
                "{what} called on thread {name}, not the main thread"
            ));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data inconsistent (push only).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<'a> SharedHandler<'a> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }
    fn request_process(&self) {
        self.process_requested.store(true, Ordering::SeqCst);
    }
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        if self.echo_log {
            eprintln!("[plugin log {severity:?}] {message}");
        }
        lock(&self.log).push(LogEntry {
            severity: format!("{severity:?}"),
            message: message.to_owned(),
        });
    }
}

impl HostThreadCheckImpl for HostShared {
    fn is_main_thread(&self) -> bool {
        self.on_main_thread()
    }
    fn is_audio_thread(&self) -> bool {
        self.on_audio_thread()
    }
}

/// What the plugin asked of the host through `clap_host_gui` (see [`TestHost::gui_requests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuiRequest {
    ResizeHintsChanged,
    /// `request_resize(width, height)`; the harness accepts every request (it returns `true`)
    /// and leaves resizing the parent window, if wanted, to the test.
    Resize {
        width: u32,
        height: u32,
    },
    Show,
    Hide,
    Closed {
        was_destroyed: bool,
    },
}

impl HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {
        lock(&self.gui_requests).push(GuiRequest::ResizeHintsChanged);
    }
    fn request_resize(&self, new_size: GuiSize) -> Result<(), clack_host::prelude::HostError> {
        lock(&self.gui_requests).push(GuiRequest::Resize {
            width: new_size.width,
            height: new_size.height,
        });
        Ok(())
    }
    fn request_show(&self) -> Result<(), clack_host::prelude::HostError> {
        lock(&self.gui_requests).push(GuiRequest::Show);
        Ok(())
    }
    fn request_hide(&self) -> Result<(), clack_host::prelude::HostError> {
        lock(&self.gui_requests).push(GuiRequest::Hide);
        Ok(())
    }
    fn closed(&self, was_destroyed: bool) {
        self.require_main_thread("clap_host_gui.closed");
        lock(&self.gui_requests).push(GuiRequest::Closed { was_destroyed });
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// Host state only touched on the main thread.
pub struct HostMain<'a> {
    shared: &'a HostShared,
}

impl<'a> MainThreadHandler<'a> for HostMain<'a> {}

impl HostParamsImplMainThread for HostMain<'_> {
    fn rescan(&self, flags: ParamRescanFlags) {
        self.shared.require_main_thread("clap_host_params.rescan");
        self.shared
            .param_rescan_flags
            .fetch_or(flags.bits(), Ordering::SeqCst);
    }
    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        self.shared.require_main_thread("clap_host_params.clear");
        self.shared.param_clears.fetch_add(1, Ordering::SeqCst);
    }
}

impl HostStateImpl for HostMain<'_> {
    fn mark_dirty(&self) {
        self.shared
            .require_main_thread("clap_host_state.mark_dirty");
        self.shared.state_dirty.store(true, Ordering::SeqCst);
    }
}

impl HostAudioPortsImpl for HostMain<'_> {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        self.shared
            .require_main_thread("clap_host_audio_ports.is_rescan_flag_supported");
        true
    }
    fn rescan(&self, _flags: AudioPortRescanFlags) {
        self.shared
            .require_main_thread("clap_host_audio_ports.rescan");
        self.shared
            .audio_ports_rescans
            .fetch_add(1, Ordering::SeqCst);
    }
}

impl HostNotePortsImpl for HostMain<'_> {
    fn supported_dialects(&self) -> NoteDialects {
        self.shared
            .require_main_thread("clap_host_note_ports.supported_dialects");
        NoteDialects::CLAP | NoteDialects::MIDI
    }
    fn rescan(&self, _flags: NotePortRescanFlags) {
        self.shared
            .require_main_thread("clap_host_note_ports.rescan");
        self.shared
            .note_ports_rescans
            .fetch_add(1, Ordering::SeqCst);
    }
}

impl HostLatencyImpl for HostMain<'_> {
    fn changed(&self) {
        self.shared.require_main_thread("clap_host_latency.changed");
        self.shared.latency_changes.fetch_add(1, Ordering::SeqCst);
    }
}

/// The [`HostHandlers`] of the test host.
pub struct TestHostHandlers;

impl HostHandlers for TestHostHandlers {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMain<'a>;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostThreadCheck>()
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostAudioPorts>()
            .register::<HostNotePorts>()
            .register::<HostLatency>()
            .register::<HostGui>();
    }
}

// ------------------------------------------------------------------------------------------------
// audio-ports-config (plugin side), declared here: the project's clack-extensions features lack it
// ------------------------------------------------------------------------------------------------

/// Mirror of CLAP's `clap_audio_ports_config` (clap 1.x `ext/audio-ports-config.h`).
#[repr(C)]
struct RawAudioPortsConfig {
    id: u32,
    name: [c_char; 256],
    input_port_count: u32,
    output_port_count: u32,
    has_main_input: bool,
    main_input_channel_count: u32,
    main_input_port_type: *const c_char,
    has_main_output: bool,
    main_output_channel_count: u32,
    main_output_port_type: *const c_char,
}

/// Mirror of CLAP's `clap_plugin_audio_ports_config`. The plugin pointer is declared as
/// `*const c_void`; it is ABI-identical to `*const clap_plugin`.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawPluginAudioPortsConfig {
    count: Option<unsafe extern "C" fn(plugin: *const c_void) -> u32>,
    get: Option<
        unsafe extern "C" fn(
            plugin: *const c_void,
            index: u32,
            config: *mut RawAudioPortsConfig,
        ) -> bool,
    >,
    select: Option<unsafe extern "C" fn(plugin: *const c_void, config_id: u32) -> bool>,
}

#[derive(Copy, Clone)]
struct PluginAudioPortsConfig(RawExtension<PluginExtensionSide, RawPluginAudioPortsConfig>);

// SAFETY: the identifier is CLAP's `CLAP_EXT_AUDIO_PORTS_CONFIG`, and `RawPluginAudioPortsConfig`
// is a `repr(C)` copy of the struct the CLAP ABI defines for it.
unsafe impl Extension for PluginAudioPortsConfig {
    const IDENTIFIERS: &[&std::ffi::CStr] = &[c"clap.audio-ports-config"];
    type ExtensionSide = PluginExtensionSide;

    unsafe fn from_raw(raw: RawExtension<Self::ExtensionSide>) -> Self {
        // SAFETY: the caller guarantees the pointer came from the identifier above.
        Self(unsafe { raw.cast() })
    }
}

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

/// One audio ports configuration the plugin offers (`audio-ports-config`).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPortsConfig {
    pub id: u32,
    pub name: String,
    pub input_port_count: u32,
    pub output_port_count: u32,
    /// Channel count of the main input port, if there is one.
    pub main_input_channels: Option<u32>,
    /// Channel count of the main output port, if there is one.
    pub main_output_channels: Option<u32>,
}

// ------------------------------------------------------------------------------------------------
// Public data types
// ------------------------------------------------------------------------------------------------

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

/// An event the host sends into one `process()` call.
#[derive(Debug, Clone, PartialEq)]
pub enum InputEvent {
    /// Set a parameter to a CLAP value (see the module docs).
    ParamValue { param_id: u32, value: f64 },
    NoteOn {
        channel: u16,
        key: u16,
        velocity: f64,
    },
    NoteOff {
        channel: u16,
        key: u16,
        velocity: f64,
    },
    /// A MIDI 1.0 message on note port 0.
    Midi([u8; 3]),
}

/// An [`InputEvent`] at a sample offset inside its block.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub time: u32,
    pub event: InputEvent,
}

impl TimedEvent {
    pub fn new(time: u32, event: InputEvent) -> Self {
        Self { time, event }
    }
}

/// What kind of CLAP note event the plugin emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    On,
    Off,
    Choke,
    End,
}

/// A note or MIDI event the plugin emitted, in either CLAP dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum MidiOrNoteEvent {
    /// A CLAP note event. `note_id`, `port`, `channel`, `key` are -1 for "any".
    Note {
        kind: NoteKind,
        port: i16,
        channel: i16,
        key: i16,
        note_id: i32,
        velocity: f64,
    },
    /// A raw MIDI 1.0 message.
    Midi { port: u16, data: [u8; 3] },
    /// A SysEx message.
    SysEx { port: u16, data: Vec<u8> },
}

impl MidiOrNoteEvent {
    /// `Some((channel, key, velocity 0..=1))` if this is a note-on in either dialect. A MIDI
    /// note-on with velocity 0 counts as a note-off, as MIDI defines.
    pub fn note_on(&self) -> Option<(u8, u8, f64)> {
        match *self {
            Self::Note {
                kind: NoteKind::On,
                channel,
                key,
                velocity,
                ..
            } => Some((channel.max(0) as u8, key.max(0) as u8, velocity)),
            Self::Midi {
                data: [status, key, vel],
                ..
            } if status & 0xF0 == 0x90 && vel > 0 => {
                Some((status & 0x0F, key, f64::from(vel) / 127.0))
            }
            _ => None,
        }
    }

    /// `Some((channel, key))` if this is a note-off (or choke) in either dialect.
    pub fn note_off(&self) -> Option<(u8, u8)> {
        match *self {
            Self::Note {
                kind: NoteKind::Off | NoteKind::Choke,
                channel,
                key,
                ..
            } => Some((channel.max(0) as u8, key.max(0) as u8)),
            Self::Midi {
                data: [status, key, vel],
                ..
            } if status & 0xF0 == 0x80 || (status & 0xF0 == 0x90 && vel == 0) => {
                Some((status & 0x0F, key))
            }
            _ => None,
        }
    }
}

/// Any other event the plugin emitted (parameter output, gestures, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum OtherOutputEvent {
    ParamValue {
        param_id: u32,
        value: f64,
    },
    ParamGestureBegin {
        param_id: u32,
    },
    ParamGestureEnd {
        param_id: u32,
    },
    /// Anything else: its CLAP event space id and type id.
    Unknown {
        space_id: Option<u16>,
        type_id: u16,
    },
}

/// What `process()` produced. Sample offsets are relative to the block for
/// [`TestHost::process`] and absolute (from the start of the signal) for
/// [`TestHost::process_signal`].
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

/// Block sizes for [`TestHost::process_signal`].
#[derive(Debug, Clone)]
pub enum BlockSizes {
    /// Every block has this size (the last one may be shorter).
    Fixed(usize),
    /// Cycle through these sizes.
    Cycle(Vec<usize>),
    /// Reproducible pseudo-random sizes in `min..=max`.
    Random { min: usize, max: usize, seed: u64 },
}

/// A basic host transport, sent with every block while set.
#[derive(Debug, Clone, PartialEq)]
pub struct Transport {
    pub playing: bool,
    pub tempo_bpm: f64,
    pub time_sig_num: u16,
    pub time_sig_denom: u16,
    /// Song position of the next block's first sample, in quarter-note beats; advanced by the
    /// harness after every block while `playing`.
    pub song_pos_beats: f64,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            playing: true,
            tempo_bpm: 120.0,
            time_sig_num: 4,
            time_sig_denom: 4,
            song_pos_beats: 0.0,
        }
    }
}

impl Transport {
    fn beats_per_bar(&self) -> f64 {
        f64::from(self.time_sig_num) * 4.0 / f64::from(self.time_sig_denom.max(1))
    }

    fn to_event(&self) -> TransportEvent {
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        let bpb = self.beats_per_bar();
        let bar_number = (self.song_pos_beats / bpb).floor();
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: FixedPoint::from_float(self.song_pos_beats),
            song_pos_seconds: FixedPoint::from_float(self.song_pos_beats * 60.0 / self.tempo_bpm),
            tempo: self.tempo_bpm,
            tempo_inc: 0.0,
            loop_start_beats: FixedPoint::from_int(0),
            loop_end_beats: FixedPoint::from_int(0),
            loop_start_seconds: FixedPoint::from_int(0),
            loop_end_seconds: FixedPoint::from_int(0),
            bar_start: FixedPoint::from_float(bar_number * bpb),
            bar_number: bar_number as i32,
            time_signature_numerator: self.time_sig_num,
            time_signature_denominator: self.time_sig_denom,
        }
    }
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

// ------------------------------------------------------------------------------------------------
// Audio thread
// ------------------------------------------------------------------------------------------------

struct BlockJob {
    /// One `Vec` per channel per input port, each `frames` long.
    inputs: Vec<Vec<Vec<f32>>>,
    frames: usize,
    events: Vec<TimedEvent>,
    steady_time: u64,
    transport: Option<Transport>,
}

struct BlockResult {
    outputs: Vec<Vec<Vec<f32>>>,
    midi: Vec<(u64, MidiOrNoteEvent)>,
    other: Vec<(u64, OtherOutputEvent)>,
    status: String,
    /// Time inside the plugin's `process()`.
    plugin_time: Duration,
}

enum AudioCmd {
    Process(Vec<BlockJob>),
    /// `clap_plugin_params.flush` on the audio thread (allowed while active).
    Flush(Vec<TimedEvent>),
    Reset,
    Stop,
}

enum AudioReply {
    Started,
    StartFailed(String),
    Processed(Result<Vec<BlockResult>>),
    Flushed(Vec<(u64, OtherOutputEvent)>),
    Done,
}

struct AudioThread {
    tx: Sender<AudioCmd>,
    rx: Receiver<AudioReply>,
    join: Option<JoinHandle<StoppedPluginAudioProcessor<TestHostHandlers>>>,
}

fn build_input_events(events: &[TimedEvent]) -> EventBuffer {
    let mut sorted: Vec<&TimedEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.time); // stable: equal times keep the caller's order
    let mut buf = EventBuffer::with_capacity(sorted.len());
    for e in sorted {
        match e.event {
            InputEvent::ParamValue { param_id, value } => buf.push(&ParamValueEvent::new(
                e.time,
                ClapId::new(param_id),
                Pckn::match_all(),
                value,
            )),
            InputEvent::NoteOn {
                channel,
                key,
                velocity,
            } => buf.push(&NoteOnEvent::new(
                e.time,
                Pckn::new(0u16, channel, key, Match::All),
                velocity,
            )),
            InputEvent::NoteOff {
                channel,
                key,
                velocity,
            } => buf.push(&NoteOffEvent::new(
                e.time,
                Pckn::new(0u16, channel, key, Match::All),
                velocity,
            )),
            InputEvent::Midi(data) => buf.push(&MidiEvent::new(e.time, 0, data)),
        }
    }
    buf
}

fn collect_output_events(
    out: &EventBuffer,
    offset: u64,
    midi: &mut Vec<(u64, MidiOrNoteEvent)>,
    other: &mut Vec<(u64, OtherOutputEvent)>,
) {
    for ev in out.iter() {
        let t = offset + u64::from(ev.header().time());
        let note = |kind, p: Pckn, velocity| MidiOrNoteEvent::Note {
            kind,
            port: p.raw_port_index(),
            channel: p.raw_channel(),
            key: p.raw_key(),
            note_id: p.raw_note_id(),
            velocity,
        };
        match ev.as_core_event() {
            Some(CoreEventSpace::NoteOn(e)) => {
                midi.push((t, note(NoteKind::On, e.pckn(), e.velocity())))
            }
            Some(CoreEventSpace::NoteOff(e)) => {
                midi.push((t, note(NoteKind::Off, e.pckn(), e.velocity())))
            }
            Some(CoreEventSpace::NoteChoke(e)) => {
                midi.push((t, note(NoteKind::Choke, e.pckn(), 0.0)))
            }
            Some(CoreEventSpace::NoteEnd(e)) => midi.push((t, note(NoteKind::End, e.pckn(), 0.0))),
            Some(CoreEventSpace::Midi(e)) => midi.push((
                t,
                MidiOrNoteEvent::Midi {
                    port: e.port_index(),
                    data: e.data(),
                },
            )),
            Some(CoreEventSpace::MidiSysEx(e)) => {
                // SAFETY: the payload of an output event is valid until the host clears the
                // output buffer; we copy it right away, before `out` is cleared or dropped.
                let data = unsafe { e.data() }.to_vec();
                midi.push((
                    t,
                    MidiOrNoteEvent::SysEx {
                        port: e.port_index(),
                        data,
                    },
                ))
            }
            Some(CoreEventSpace::ParamValue(e)) => other.push((
                t,
                OtherOutputEvent::ParamValue {
                    param_id: e.param_id().map_or(u32::MAX, ClapId::get),
                    value: e.value(),
                },
            )),
            Some(CoreEventSpace::ParamGestureBegin(e)) => other.push((
                t,
                OtherOutputEvent::ParamGestureBegin {
                    param_id: e.param_id().map_or(u32::MAX, ClapId::get),
                },
            )),
            Some(CoreEventSpace::ParamGestureEnd(e)) => other.push((
                t,
                OtherOutputEvent::ParamGestureEnd {
                    param_id: e.param_id().map_or(u32::MAX, ClapId::get),
                },
            )),
            _ => other.push((
                t,
                OtherOutputEvent::Unknown {
                    space_id: ev.header().space_id().map(|s| s.id()),
                    type_id: ev.header().type_id(),
                },
            )),
        }
    }
}

fn run_block(
    proc_: &mut StartedPluginAudioProcessor<TestHostHandlers>,
    config: &ActiveConfig,
    in_ports: &mut AudioPorts,
    out_ports: &mut AudioPorts,
    mut job: BlockJob,
) -> Result<BlockResult> {
    let n = job.frames;
    let mut outputs: Vec<Vec<Vec<f32>>> = config
        .output_channels
        .iter()
        .map(|&c| vec![vec![0.0f32; n]; c as usize])
        .collect();
    let in_events = build_input_events(&job.events);
    let mut out_events = EventBuffer::with_capacity(64);
    let transport = job.transport.as_ref().map(Transport::to_event);
    let plugin_time;

    let status = {
        let input_audio = in_ports.with_input_buffers(job.inputs.iter_mut().map(|port| {
            AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    port.iter_mut()
                        .map(|ch| InputChannel::variable(ch.as_mut_slice())),
                ),
            }
        }));
        let mut output_audio =
            out_ports.with_output_buffers(outputs.iter_mut().map(|port| AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    port.iter_mut().map(|ch| ch.as_mut_slice()),
                ),
            }));
        let started = Instant::now();
        let status = proc_.process(
            &input_audio,
            &mut output_audio,
            &in_events.as_input(),
            &mut out_events.as_output(),
            Some(job.steady_time),
            transport.as_ref(),
        );
        plugin_time = started.elapsed();
        status.map_err(|e| HostError(format!("process() failed: {e}")))?
    };
    let mut midi = Vec::new();
    let mut other = Vec::new();
    collect_output_events(&out_events, 0, &mut midi, &mut other);
    Ok(BlockResult {
        outputs,
        midi,
        other,
        status: format!("{status:?}"),
        plugin_time,
    })
}

fn audio_thread_main(
    stopped: StoppedPluginAudioProcessor<TestHostHandlers>,
    host_key: u64,
    params: Option<PluginParams>,
    config: ActiveConfig,
    rx: Receiver<AudioCmd>,
    tx: Sender<AudioReply>,
) -> StoppedPluginAudioProcessor<TestHostHandlers> {
    AUDIO_THREAD_OF.with(|k| k.set(host_key));
    let mut started = match stopped.start_processing() {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(AudioReply::StartFailed(format!(
                "start_processing failed: {e}"
            )));
            AUDIO_THREAD_OF.with(|k| k.set(0));
            return e.into_stopped_processor();
        }
    };
    let _ = tx.send(AudioReply::Started);
    let total_in: usize = config.input_channels.iter().map(|&c| c as usize).sum();
    let total_out: usize = config.output_channels.iter().map(|&c| c as usize).sum();
    let mut in_ports = AudioPorts::with_capacity(total_in, config.input_channels.len());
    let mut out_ports = AudioPorts::with_capacity(total_out, config.output_channels.len());

    while let Ok(cmd) = rx.recv() {
        match cmd {
            AudioCmd::Process(jobs) => {
                let mut results = Vec::with_capacity(jobs.len());
                let mut failure = None;
                for job in jobs {
                    match run_block(&mut started, &config, &mut in_ports, &mut out_ports, job) {
                        Ok(r) => results.push(r),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                let reply = match failure {
                    Some(e) => Err(e),
                    None => Ok(results),
                };
                let _ = tx.send(AudioReply::Processed(reply));
            }
            AudioCmd::Flush(events) => {
                let mut other = Vec::new();
                if let Some(params) = params {
                    let input = build_input_events(&events);
                    let mut output = EventBuffer::with_capacity(16);
                    params.flush_active(
                        &mut started.plugin_handle(),
                        &input.as_input(),
                        &mut output.as_output(),
                    );
                    collect_output_events(&output, 0, &mut Vec::new(), &mut other);
                }
                let _ = tx.send(AudioReply::Flushed(other));
            }
            AudioCmd::Reset => {
                started.reset();
                let _ = tx.send(AudioReply::Done);
            }
            AudioCmd::Stop => break,
        }
    }
    let stopped = started.stop_processing();
    AUDIO_THREAD_OF.with(|k| k.set(0));
    stopped
}

// ------------------------------------------------------------------------------------------------
// The host
// ------------------------------------------------------------------------------------------------

/// The plugin extensions the harness uses (queried once after instantiation).
#[derive(Clone, Copy)]
struct PluginExts {
    params: Option<PluginParams>,
    state: Option<PluginState>,
    audio_ports: Option<PluginAudioPorts>,
    note_ports: Option<PluginNotePorts>,
    ports_config: Option<PluginAudioPortsConfig>,
    gui: Option<PluginGui>,
    render: Option<clack_extensions::render::PluginRender>,
    latency: Option<PluginLatency>,
}

/// A CLAP host for one plugin instance. See the module docs for the thread rules.
pub struct TestHost {
    // Declared first so that, should `Drop` be skipped, the audio thread handle goes first.
    audio: Option<AudioThread>,
    active: Option<ActiveConfig>,
    instance: PluginInstance<TestHostHandlers>,
    exts: PluginExts,
    params: Vec<ParamInfo>,
    /// Events queued for the next `process()` call.
    pending: Vec<TimedEvent>,
    steady_time: u64,
    transport: Option<Transport>,
    path: PathBuf,
    plugin_id: String,
    plugin_name: String,
    descriptor: PluginDescriptorInfo,
    /// Whether `clap_plugin_gui.create` succeeded and `destroy` has not been called yet.
    gui_created: bool,
    /// Keeps the library loaded for as long as the instance lives.
    _entry: PluginEntry,
}

impl TestHost {
    /// Loads the CLAP binary at `path` and instantiates its first plugin.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_plugin(path, None)
    }

    /// Loads the binary under test ([`plugin_path`]) and instantiates its first plugin.
    pub fn load_default() -> Result<Self> {
        Self::load(plugin_path())
    }

    /// Loads `path` and instantiates the plugin with CLAP id `plugin_id`, or the first one.
    pub fn load_plugin(path: impl AsRef<Path>, plugin_id: Option<&str>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        // SAFETY: loading a dynamic library runs its initialisers. The file is the plugin under
        // test, built by this workspace (or named explicitly via MUSICHAL_CLAP_PATH); trusting its
        // code is the point of the test. clack keeps the library loaded while `PluginEntry`
        // (held by `TestHost` and by the instance) lives.
        let entry = unsafe { PluginEntry::load(&path) }.map_err(|e| {
            HostError(format!(
                "cannot load CLAP entry from {}: {e}",
                path.display()
            ))
        })?;
        // Never unload the library. Code in it registers pthread TLS destructors on the threads
        // that call into it (test threads, audio threads); if the last `PluginEntry` dropped
        // first, the library would be dlclose'd and those destructors would jump into unmapped
        // memory when the thread exits (SIGSEGV under parallel `cargo test`). clack caches one
        // entry per library, so this leaks one reference count, not a copy.
        std::mem::forget(entry.clone());
        let factory = entry
            .get_plugin_factory()
            .ok_or_else(|| HostError(format!("{} has no CLAP plugin factory", path.display())))?;
        let mut descriptors = Vec::new();
        for d in factory.plugin_descriptors() {
            let text = |s: Option<&std::ffi::CStr>| s.map(|s| s.to_string_lossy().into_owned());
            let Some(id) = d.id().map(|s| s.to_owned()) else {
                continue;
            };
            let info = PluginDescriptorInfo {
                id: id.to_string_lossy().into_owned(),
                name: text(d.name()).unwrap_or_default(),
                vendor: text(d.vendor()),
                url: text(d.url()),
                manual_url: text(d.manual_url()),
                support_url: text(d.support_url()),
                version: text(d.version()),
                description: text(d.description()),
            };
            descriptors.push((id, info));
        }
        let (id_c, descriptor) = match plugin_id {
            Some(want) => descriptors
                .iter()
                .find(|(id, _)| id.to_bytes() == want.as_bytes())
                .cloned()
                .ok_or_else(|| {
                    HostError(format!("no plugin with id {want} in {}", path.display()))
                })?,
            None => descriptors.first().cloned().ok_or_else(|| {
                HostError(format!("{} exposes no plugin descriptor", path.display()))
            })?,
        };
        let host_info = HostInfo::new(
            "MusicHal test host",
            "MusicHal",
            "https://example.invalid",
            "0.1.0",
        )
        .map_err(|e| HostError(e.to_string()))?;
        let mut instance = PluginInstance::<TestHostHandlers>::new(
            |_| HostShared::new(),
            |shared| HostMain { shared },
            &entry,
            &id_c,
            &host_info,
        )
        .map_err(|e| {
            HostError(format!(
                "cannot instantiate {}: {e}",
                id_c.to_string_lossy()
            ))
        })?;
        let handle = instance.plugin_handle();
        let exts = PluginExts {
            params: handle.get_extension(),
            state: handle.get_extension(),
            audio_ports: handle.get_extension(),
            note_ports: handle.get_extension(),
            ports_config: handle.get_extension(),
            gui: handle.get_extension(),
            render: handle.get_extension(),
            latency: handle.get_extension(),
        };
        let mut host = Self {
            audio: None,
            active: None,
            instance,
            exts,
            params: Vec::new(),
            pending: Vec::new(),
            steady_time: 0,
            transport: None,
            path,
            plugin_id: id_c.to_string_lossy().into_owned(),
            plugin_name: descriptor.name.clone(),
            descriptor,
            gui_created: false,
            _entry: entry,
        };
        host.rescan_params()?;
        host.service_main_thread();
        Ok(host)
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }
    pub fn plugin_name(&self) -> &str {
        &self.plugin_name
    }
    /// The loaded plugin's descriptor (vendor, URLs, version, ...).
    pub fn descriptor(&self) -> &PluginDescriptorInfo {
        &self.descriptor
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shared<R>(&self, f: impl FnOnce(&HostShared) -> R) -> R {
        self.instance.access_shared_handler(f)
    }

    /// Messages the plugin logged through the `log` extension so far.
    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.shared(|s| lock(&s.log).clone())
    }

    /// A function that the loaded plugin binary exports under the C symbol `name`, looked up in
    /// the library this host loaded (with `dlopen(RTLD_NOLOAD)` + `dlsym`), not in the caller's
    /// own copy of the plugin's crate, if it links one: a test that reads a plugin's statics
    /// through such a function reads the plugin's, not its own.
    ///
    /// The library is never unloaded (see [`Self::load_plugin`]), so the pointer stays valid for
    /// the life of the process.
    ///
    /// # Safety
    ///
    /// `F` must be the function pointer type of the symbol as the plugin defines it (its
    /// arguments, result and ABI, e.g. `extern "C" fn() -> Diagnostics` with the same
    /// `#[repr(C)]` result type); calling a pointer of any other type is undefined behaviour.
    pub unsafe fn plugin_function<F: Copy>(&self, name: &CStr) -> Result<F> {
        const {
            assert!(
                std::mem::size_of::<F>() == std::mem::size_of::<*mut c_void>(),
                "plugin_function::<F>: F must be a function pointer type"
            )
        };
        let path = CString::new(self.path.as_os_str().as_encoded_bytes())
            .map_err(|_| HostError(format!("{}: path holds a NUL byte", self.path.display())))?;
        // SAFETY: RTLD_NOLOAD only looks up the library this host already loaded (and never
        // unloads); the handle is released again below, which leaves the library loaded.
        let symbol = unsafe {
            let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            if handle.is_null() {
                return Err(HostError(format!(
                    "{} is not loaded in this process",
                    self.path.display()
                )));
            }
            let symbol = libc::dlsym(handle, name.as_ptr());
            libc::dlclose(handle);
            symbol
        };
        if symbol.is_null() {
            return Err(HostError(format!(
                "{} does not export {}",
                self.path.display(),
                name.to_string_lossy()
            )));
        }
        // SAFETY: `F` is pointer-sized (checked above) and, as the caller guarantees, the type of
        // the function at this address.
        Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&symbol) })
    }

    /// Main-thread-only host functions the plugin called from another thread (should be empty).
    pub fn thread_violations(&self) -> Vec<String> {
        self.shared(|s| lock(&s.violations).clone())
    }

    /// How many `request_callback()`s the harness answered with `on_main_thread()`.
    pub fn callbacks_serviced(&self) -> u64 {
        self.shared(|s| s.callbacks_serviced.load(Ordering::SeqCst))
    }

    /// Whether the plugin called `clap_host_state.mark_dirty` (and resets the flag).
    pub fn take_state_dirty(&self) -> bool {
        self.shared(|s| s.state_dirty.swap(false, Ordering::SeqCst))
    }

    /// Whether the plugin asked for a restart (deactivate + activate).
    pub fn restart_requested(&self) -> bool {
        self.shared(|s| s.restart_requested.load(Ordering::SeqCst))
    }

    /// Answers pending plugin requests that belong on the main thread: `request_callback()` →
    /// `on_main_thread()`, and, while inactive, `request_flush()` → `params.flush()`, and a
    /// parameter info rescan. Called automatically around every harness operation.
    pub fn service_main_thread(&mut self) {
        if self.shared(|s| s.callback_requested.swap(false, Ordering::SeqCst)) {
            self.instance.call_on_main_thread_callback();
            self.shared(|s| s.callbacks_serviced.fetch_add(1, Ordering::SeqCst));
        }
        if self.active.is_none() && self.shared(|s| s.flush_requested.swap(false, Ordering::SeqCst))
        {
            let _ = self.flush_inactive(&[]);
        }
        let rescan = self.shared(|s| s.param_rescan_flags.swap(0, Ordering::SeqCst));
        if rescan & ParamRescanFlags::INFO.bits() != 0 || rescan & ParamRescanFlags::ALL.bits() != 0
        {
            let _ = self.rescan_params();
        }
    }

    // --------------------------------------------------------------------------------------------
    // Parameters
    // --------------------------------------------------------------------------------------------

    /// Re-reads every parameter's info from the plugin.
    pub fn rescan_params(&mut self) -> Result<()> {
        let Some(params) = self.exts.params else {
            self.params.clear();
            return Ok(());
        };
        let handle = self.instance.plugin_handle();
        let count = params.count(&handle);
        let mut out = Vec::with_capacity(count as usize);
        let mut buf = ParamInfoBuffer::new();
        // Only 0..count: nice-plug 0.4.2's get_info checks `index > count`, so asking for
        // index == count would index out of bounds inside the plugin.
        for i in 0..count {
            let info = params
                .get_info(&handle, i, &mut buf)
                .ok_or_else(|| HostError(format!("params.get_info({i}) failed")))?;
            out.push(ParamInfo {
                id: info.id.get(),
                name: String::from_utf8_lossy(info.name).into_owned(),
                module: String::from_utf8_lossy(info.module).into_owned(),
                min: info.min_value,
                max: info.max_value,
                default: info.default_value,
                flags: info.flags,
            });
        }
        self.params = out;
        Ok(())
    }

    /// All parameters, in the plugin's order.
    pub fn params(&self) -> Vec<ParamInfo> {
        self.params.clone()
    }

    /// The parameter with this display name, if any.
    pub fn param_by_name(&self, name: &str) -> Option<ParamInfo> {
        self.params.iter().find(|p| p.name == name).cloned()
    }

    /// Like [`Self::param_by_name`], but an error naming the parameters that do exist.
    pub fn param(&self, name: &str) -> Result<ParamInfo> {
        self.param_by_name(name).ok_or_else(|| {
            let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
            HostError(format!(
                "no parameter named {name:?}; the plugin has {names:?}"
            ))
        })
    }

    /// Id of the parameter with this name.
    pub fn param_id(&self, name: &str) -> Result<u32> {
        Ok(self.param(name)?.id)
    }

    /// Current CLAP value of a parameter (`params.get_value`).
    pub fn get_param(&mut self, name: &str) -> Result<f64> {
        let id = self.param_id(name)?;
        self.get_param_by_id(id)
    }

    pub fn get_param_by_id(&mut self, id: u32) -> Result<f64> {
        let params = self
            .exts
            .params
            .ok_or_else(|| HostError("plugin has no params extension".into()))?;
        let handle = self.instance.plugin_handle();
        params
            .get_value(&handle, ClapId::new(id))
            .ok_or_else(|| HostError(format!("params.get_value({id}) failed")))
    }

    /// The plugin's display text for a CLAP value of a parameter (`params.value_to_text`).
    pub fn value_to_text(&mut self, name: &str, value: f64) -> Result<String> {
        let id = self.param_id(name)?;
        let params = self
            .exts
            .params
            .ok_or_else(|| HostError("plugin has no params extension".into()))?;
        let handle = self.instance.plugin_handle();
        let mut buf = [0u8; 512];
        let text = params
            .value_to_text(&handle, ClapId::new(id), value, &mut buf)
            .map_err(|_| HostError(format!("params.value_to_text({name:?}, {value}) failed")))?;
        Ok(String::from_utf8_lossy(text).into_owned())
    }

    /// Display text of the parameter's current value.
    pub fn value_text(&mut self, name: &str) -> Result<String> {
        let v = self.get_param(name)?;
        self.value_to_text(name, v)
    }

    /// The CLAP value the plugin parses from display text (`params.text_to_value`).
    pub fn text_to_value(&mut self, name: &str, text: &str) -> Result<f64> {
        let id = self.param_id(name)?;
        let params = self
            .exts
            .params
            .ok_or_else(|| HostError("plugin has no params extension".into()))?;
        let c = CString::new(text).map_err(|e| HostError(e.to_string()))?;
        let handle = self.instance.plugin_handle();
        params
            .text_to_value(&handle, ClapId::new(id), &c)
            .ok_or_else(|| HostError(format!("the plugin cannot parse {text:?} for {name:?}")))
    }

    /// Sets a parameter to a CLAP value. Inactive: applied at once through `params.flush`.
    /// Active: queued as a param-value event at sample 0 of the next `process()` call (use
    /// [`Self::flush_params`] to apply it without processing audio).
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<()> {
        let info = self.param(name)?;
        if !(info.min..=info.max).contains(&value) {
            return err(format!(
                "{value} is outside {name:?}'s CLAP range {}..={} (CLAP values, not display units)",
                info.min, info.max
            ));
        }
        let ev = TimedEvent::new(
            0,
            InputEvent::ParamValue {
                param_id: info.id,
                value,
            },
        );
        if self.active.is_some() {
            self.pending.push(ev);
            Ok(())
        } else {
            self.flush_inactive(&[ev])
        }
    }

    /// Parses `text` with the plugin's own `text_to_value` and sets the result.
    pub fn set_param_text(&mut self, name: &str, text: &str) -> Result<f64> {
        let v = self.text_to_value(name, text)?;
        self.set_param(name, v)?;
        Ok(v)
    }

    /// Queues a param-value event at `offset` within the next `process()` call (automation).
    pub fn set_param_at(&mut self, name: &str, value: f64, offset: u32) -> Result<()> {
        if self.active.is_none() {
            return err("set_param_at needs an active plugin (call activate first)");
        }
        let id = self.param_id(name)?;
        self.pending.push(TimedEvent::new(
            offset,
            InputEvent::ParamValue {
                param_id: id,
                value,
            },
        ));
        Ok(())
    }

    /// Applies the queued parameter events now: on the audio thread via `params.flush` while
    /// active, or on the main thread while inactive.
    ///
    /// Returns the plugin's output events of an active flush (parameter gestures, values);
    /// empty when inactive.
    pub fn flush_params(&mut self) -> Result<Vec<(u64, OtherOutputEvent)>> {
        let events = std::mem::take(&mut self.pending);
        if self.active.is_some() {
            match self.audio_roundtrip(AudioCmd::Flush(events))? {
                AudioReply::Flushed(other) => Ok(other),
                _ => err("unexpected reply from the audio thread"),
            }
        } else {
            self.flush_inactive(&events).map(|()| Vec::new())
        }
    }

    fn flush_inactive(&mut self, events: &[TimedEvent]) -> Result<()> {
        let params = self
            .exts
            .params
            .ok_or_else(|| HostError("plugin has no params extension".into()))?;
        let input = build_input_events(events);
        let mut output = EventBuffer::new();
        let mut handle = self
            .instance
            .inactive_plugin_handle()
            .ok_or_else(|| HostError("flush_inactive on an active plugin".into()))?;
        params.flush(&mut handle, &input.as_input(), &mut output.as_output());
        Ok(())
    }

    // --------------------------------------------------------------------------------------------
    // Ports
    // --------------------------------------------------------------------------------------------

    /// The plugin's current audio ports.
    pub fn audio_ports(&mut self, is_input: bool) -> Vec<AudioPortInfo> {
        let Some(ext) = self.exts.audio_ports else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let mut buf = AudioPortInfoBuffer::new();
        (0..ext.count(&handle, is_input))
            .filter_map(|i| {
                ext.get(&handle, i, is_input, &mut buf)
                    .map(|p| AudioPortInfo {
                        id: p.id.get(),
                        name: String::from_utf8_lossy(p.name).into_owned(),
                        channel_count: p.channel_count,
                        is_main: p
                            .flags
                            .contains(clack_extensions::audio_ports::AudioPortFlags::IS_MAIN),
                        port_type: p.port_type.map(|t| t.0.to_string_lossy().into_owned()),
                        in_place_pair: p.in_place_pair.map(ClapId::get),
                    })
            })
            .collect()
    }

    /// The plugin's note ports.
    pub fn note_ports(&mut self, is_input: bool) -> Vec<NotePortInfo> {
        let Some(ext) = self.exts.note_ports else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let mut buf = NotePortInfoBuffer::new();
        (0..ext.count(&handle, is_input))
            .filter_map(|i| {
                ext.get(&handle, i, is_input, &mut buf)
                    .map(|p| NotePortInfo {
                        id: p.id.get(),
                        name: String::from_utf8_lossy(p.name).into_owned(),
                        supports_clap: p.supported_dialects.contains(NoteDialects::CLAP),
                        supports_midi: p.supported_dialects.contains(NoteDialects::MIDI),
                        preferred: p.preferred_dialect.map(|d: NoteDialect| format!("{d:?}")),
                    })
            })
            .collect()
    }

    /// The configurations offered through `audio-ports-config` (empty if unsupported).
    pub fn audio_ports_configs(&mut self) -> Vec<AudioPortsConfig> {
        let Some(ext) = self.exts.ports_config else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let plugin = handle.as_raw_ptr() as *const c_void;
        let Some(count) = raw.count else {
            return Vec::new();
        };
        let Some(get) = raw.get else {
            return Vec::new();
        };
        // SAFETY: `count` comes from the plugin's extension struct for this instance; we are on
        // the main thread, as the extension requires.
        let n = unsafe { count(plugin) };
        let mut out = Vec::new();
        for i in 0..n {
            // SAFETY: an all-zero `RawAudioPortsConfig` is valid (integers, bools false, null
            // pointers); the plugin fills it in on success.
            let mut cfg: RawAudioPortsConfig = unsafe { std::mem::zeroed() };
            // SAFETY: as for `count`; `cfg` is a valid, writable `clap_audio_ports_config`.
            if !unsafe { get(plugin, i, &mut cfg) } {
                continue;
            }
            let name_bytes: Vec<u8> = cfg
                .name
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8)
                .collect();
            out.push(AudioPortsConfig {
                id: cfg.id,
                name: String::from_utf8_lossy(&name_bytes).into_owned(),
                input_port_count: cfg.input_port_count,
                output_port_count: cfg.output_port_count,
                main_input_channels: cfg.has_main_input.then_some(cfg.main_input_channel_count),
                main_output_channels: cfg.has_main_output.then_some(cfg.main_output_channel_count),
            });
        }
        out
    }

    /// Selects an audio ports configuration by id (plugin must be inactive).
    pub fn select_audio_ports_config(&mut self, id: u32) -> Result<()> {
        if self.active.is_some() {
            return err("select_audio_ports_config needs an inactive plugin");
        }
        let ext = self
            .exts
            .ports_config
            .ok_or_else(|| HostError("plugin has no audio-ports-config extension".into()))?;
        let handle = self
            .instance
            .inactive_plugin_handle()
            .ok_or_else(|| HostError("plugin is active".into()))?;
        let raw = handle.use_extension(&ext.0);
        let select = raw
            .select
            .ok_or_else(|| HostError("audio-ports-config has no select()".into()))?;
        // SAFETY: function pointer from this instance's extension struct; main thread, inactive.
        let ok = unsafe { select(handle.as_raw_ptr() as *const c_void, id) };
        if ok {
            Ok(())
        } else {
            err(format!("the plugin refused audio ports config {id}"))
        }
    }

    /// Selects the configuration whose main input and output have `channels` channels.
    /// `Ok(false)` if the plugin offers no such configuration (or no audio-ports-config).
    pub fn select_channel_layout(&mut self, channels: u32) -> Result<bool> {
        let found = self.audio_ports_configs().into_iter().find(|c| {
            c.main_input_channels == Some(channels) && c.main_output_channels == Some(channels)
        });
        match found {
            Some(c) => self.select_audio_ports_config(c.id).map(|()| true),
            None => Ok(false),
        }
    }

    // --------------------------------------------------------------------------------------------
    // Activation and processing
    // --------------------------------------------------------------------------------------------

    /// The current activation, if active.
    pub fn active_config(&self) -> Option<&ActiveConfig> {
        self.active.as_ref()
    }

    /// Activates the plugin and starts processing on a fresh audio thread. Resets the steady
    /// sample clock to 0.
    pub fn activate(&mut self, sample_rate: f64, min_block: u32, max_block: u32) -> Result<()> {
        if self.active.is_some() {
            return err("activate: already active (deactivate first)");
        }
        if min_block == 0 || max_block < min_block {
            return err(format!(
                "activate: bad block sizes {min_block}..={max_block}"
            ));
        }
        self.service_main_thread();
        let ports = |this: &mut Self, is_input| -> Vec<u32> {
            this.audio_ports(is_input)
                .iter()
                .map(|p| p.channel_count)
                .collect()
        };
        let config = ActiveConfig {
            sample_rate,
            min_block,
            max_block,
            input_channels: ports(self, true),
            output_channels: ports(self, false),
        };
        let stopped = self
            .instance
            .activate(
                |_, _| (),
                PluginAudioConfiguration {
                    sample_rate,
                    min_frames_count: min_block,
                    max_frames_count: max_block,
                },
            )
            .map_err(|e| {
                HostError(format!(
                    "activate({sample_rate}, {min_block}, {max_block}) failed: {e}"
                ))
            })?;
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let (reply_tx, reply_rx) = mpsc::channel();
        let key = self.shared(|s| s.key);
        let params = self.exts.params;
        let cfg = config.clone();
        let join = thread::Builder::new()
            .name(format!("clap-audio-{key}"))
            .spawn(move || audio_thread_main(stopped, key, params, cfg, cmd_rx, reply_tx))
            .map_err(|e| HostError(format!("cannot spawn the audio thread: {e}")))?;
        let mut audio = AudioThread {
            tx: cmd_tx,
            rx: reply_rx,
            join: Some(join),
        };
        match audio.rx.recv() {
            Ok(AudioReply::Started) => {}
            Ok(AudioReply::StartFailed(msg)) => {
                let stopped = audio.join.take().and_then(|j| j.join().ok());
                if let Some(stopped) = stopped {
                    self.instance.deactivate(stopped);
                }
                return err(msg);
            }
            _ => return err("the audio thread died while starting"),
        }
        self.audio = Some(audio);
        self.active = Some(config);
        self.steady_time = 0;
        Ok(())
    }

    /// Sets one of the plugin's persisted (non-parameter) state fields, as a session reload
    /// would: saves the state, replaces `fields[key]` with `value` serialised as JSON (nice-plug
    /// keeps each field as a JSON string) and loads it back. nice-plug's CLAP state is a
    /// little-endian `u64` length followed by that JSON.
    pub fn set_persisted_field<T: serde::Serialize>(&mut self, key: &str, value: &T) -> Result<()> {
        let bytes = self.save_state()?;
        let json = bytes
            .get(8..)
            .ok_or_else(|| HostError("state shorter than its length header".into()))?;
        let mut state: serde_json::Value = serde_json::from_slice(json)
            .map_err(|e| HostError(format!("the plugin's state is not JSON: {e}")))?;
        let text = serde_json::to_string(value)
            .map_err(|e| HostError(format!("cannot serialise {key}: {e}")))?;
        state["fields"][key] = serde_json::Value::String(text);
        let json = serde_json::to_vec(&state).expect("a JSON value serialises");
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend(json);
        self.load_state(&out)
    }

    /// `clap_plugin_render.set`: offline (`true`, the host renders as fast as it can and the
    /// plugin may take its time) or realtime. Call while inactive: nice-plug reads the mode
    /// in `activate`.
    pub fn set_offline_render(&mut self, offline: bool) -> Result<()> {
        use clack_extensions::render::RenderMode;
        let render = self
            .exts
            .render
            .ok_or_else(|| HostError("plugin has no render extension".into()))?;
        let mode = if offline {
            RenderMode::Offline
        } else {
            RenderMode::Realtime
        };
        let mut handle = self.instance.plugin_handle();
        render
            .set(&mut handle, mode)
            .map_err(|_| HostError("the plugin refused the render mode".into()))?;
        self.service_main_thread();
        Ok(())
    }

    /// `clap_plugin_latency.get`: the audio latency the plugin reports, in samples (what a host
    /// compensates its tracks by). The spec allows the query only while active or activating.
    pub fn latency_samples(&mut self) -> Result<u32> {
        if self.active.is_none() {
            return err("latency_samples: the plugin is not active");
        }
        let latency = self
            .exts
            .latency
            .ok_or_else(|| HostError("plugin has no latency extension".into()))?;
        let handle = self.instance.plugin_handle();
        let samples = latency.get(&handle);
        self.service_main_thread();
        Ok(samples)
    }

    /// How many times the plugin called `clap_host_latency.changed`.
    pub fn latency_changes(&self) -> u32 {
        self.shared(|s| s.latency_changes.load(Ordering::SeqCst))
    }

    /// Stops processing, joins the audio thread and deactivates. No-op when inactive.
    pub fn deactivate(&mut self) -> Result<()> {
        let Some(mut audio) = self.audio.take() else {
            self.active = None;
            return Ok(());
        };
        self.active = None;
        self.pending.clear();
        let _ = audio.tx.send(AudioCmd::Stop);
        let joined = audio.join.take().map(|j| j.join());
        let result = match joined {
            Some(Ok(stopped)) => {
                self.instance.deactivate(stopped);
                Ok(())
            }
            // The processor was dropped with the panicking thread; clack then allows this.
            _ => {
                let _ = self.instance.try_deactivate();
                err("the audio thread panicked")
            }
        };
        self.service_main_thread();
        result
    }

    /// `clap_plugin.reset()` on the audio thread; also resets the steady clock.
    pub fn reset(&mut self) -> Result<()> {
        self.audio_roundtrip(AudioCmd::Reset)?;
        self.steady_time = 0;
        Ok(())
    }

    /// Sets (or clears) the transport sent with every block.
    pub fn set_transport(&mut self, transport: Option<Transport>) {
        self.transport = transport;
    }

    /// The transport as it will be sent with the next block.
    pub fn transport(&self) -> Option<&Transport> {
        self.transport.as_ref()
    }

    /// The steady sample clock: samples processed since activation/reset.
    pub fn steady_time(&self) -> u64 {
        self.steady_time
    }

    /// Sends a command to the audio thread and waits for its reply, answering the plugin's
    /// main-thread callback requests meanwhile (as a real host's main loop would).
    fn audio_roundtrip(&mut self, cmd: AudioCmd) -> Result<AudioReply> {
        let audio = self
            .audio
            .as_ref()
            .ok_or_else(|| HostError("the plugin is not active".into()))?;
        audio
            .tx
            .send(cmd)
            .map_err(|_| HostError("the audio thread is gone".into()))?;
        let started = Instant::now();
        loop {
            let reply = self
                .audio
                .as_ref()
                .expect("checked above")
                .rx
                .recv_timeout(Duration::from_millis(2));
            match reply {
                Ok(r) => {
                    self.service_main_thread();
                    return Ok(r);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.service_main_thread();
                    if started.elapsed() > Duration::from_secs(600) {
                        return err("the audio thread did not answer within 10 minutes");
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return err("the audio thread died"),
            }
        }
    }

    /// Builds the per-block job: main input from `inputs`, zeros for other input ports.
    fn make_job(
        &mut self,
        inputs: &[&[f32]],
        frames: usize,
        mut events: Vec<TimedEvent>,
    ) -> Result<BlockJob> {
        let config = self
            .active
            .as_ref()
            .ok_or_else(|| HostError("process: the plugin is not active".into()))?;
        if frames == 0 || frames > config.max_block as usize {
            return err(format!(
                "process: block of {frames} frames outside 1..={}",
                config.max_block
            ));
        }
        let main_in = config.input_channels.first().copied().unwrap_or(0) as usize;
        if inputs.len() != main_in {
            return err(format!(
                "process: {} input channels given, but the plugin's main input port has {main_in} \
                 (select another layout with select_channel_layout before activating)",
                inputs.len()
            ));
        }
        if let Some(bad) = inputs.iter().find(|c| c.len() != frames) {
            return err(format!(
                "process: a channel has {} samples, expected {frames}",
                bad.len()
            ));
        }
        if let Some(e) = events.iter().find(|e| e.time as usize >= frames) {
            return err(format!(
                "process: event at {} is outside the {frames}-frame block",
                e.time
            ));
        }
        let mut ports: Vec<Vec<Vec<f32>>> = config
            .input_channels
            .iter()
            .map(|&c| vec![vec![0.0f32; frames]; c as usize])
            .collect();
        if let Some(main) = ports.first_mut() {
            for (dst, src) in main.iter_mut().zip(inputs) {
                dst.copy_from_slice(src);
            }
        }
        let mut all = std::mem::take(&mut self.pending);
        all.append(&mut events);
        let job = BlockJob {
            inputs: ports,
            frames,
            events: all,
            steady_time: self.steady_time,
            transport: self.transport.clone(),
        };
        self.steady_time += frames as u64;
        if let Some(t) = self.transport.as_mut() {
            if t.playing {
                t.song_pos_beats += frames as f64 / config.sample_rate * t.tempo_bpm / 60.0;
            }
        }
        Ok(job)
    }

    /// Processes one block. `inputs` is the main input port, one slice per channel (all of the
    /// block's length); `events` are sent with the queued [`Self::set_param`] events.
    pub fn process(&mut self, inputs: &[&[f32]], events: &[TimedEvent]) -> Result<ProcessOutput> {
        let frames = inputs.first().map_or(0, |c| c.len());
        self.process_frames(inputs, frames, events)
    }

    /// Like [`Self::process`], with the block length given (for plugins without audio input).
    pub fn process_frames(
        &mut self,
        inputs: &[&[f32]],
        frames: usize,
        events: &[TimedEvent],
    ) -> Result<ProcessOutput> {
        let job = self.make_job(inputs, frames, events.to_vec())?;
        let mut out = ProcessOutput::default();
        self.run_jobs(vec![(0, job)], &mut out)?;
        Ok(out)
    }

    fn run_jobs(&mut self, jobs: Vec<(u64, BlockJob)>, out: &mut ProcessOutput) -> Result<()> {
        let starts: Vec<u64> = jobs.iter().map(|(s, _)| *s).collect();
        let reply = self.audio_roundtrip(AudioCmd::Process(
            jobs.into_iter().map(|(_, j)| j).collect(),
        ))?;
        let AudioReply::Processed(results) = reply else {
            return err("unexpected reply from the audio thread");
        };
        for (start, r) in starts.into_iter().zip(results?) {
            let main = r.outputs.into_iter().next().unwrap_or_default();
            if out.audio.is_empty() {
                out.audio = vec![Vec::new(); main.len()];
            }
            for (dst, src) in out.audio.iter_mut().zip(main) {
                dst.extend_from_slice(&src);
            }
            out.midi
                .extend(r.midi.into_iter().map(|(t, e)| (t + start, e)));
            out.other_events
                .extend(r.other.into_iter().map(|(t, e)| (t + start, e)));
            out.statuses.push(r.status);
            out.plugin_time += r.plugin_time;
        }
        Ok(())
    }

    /// Cuts a long signal (one `Vec` per channel) into blocks, processes them in order (one
    /// audio-thread job; the steady clock and transport advance per block) and concatenates the
    /// outputs. `events` carry absolute sample times and are delivered in the block containing
    /// them; queued [`Self::set_param`] events go into the first block.
    pub fn process_signal(
        &mut self,
        signal: &[Vec<f32>],
        block_sizes: &BlockSizes,
        events: &[(u64, InputEvent)],
    ) -> Result<ProcessOutput> {
        let len = signal.first().map_or(0, Vec::len);
        if signal.iter().any(|c| c.len() != len) {
            return err("process_signal: channels differ in length");
        }
        let max_block = self.active.as_ref().map_or(0, |c| c.max_block as usize);
        let sizes = block_plan(len, block_sizes, max_block)?;
        let mut jobs = Vec::with_capacity(sizes.len());
        let mut start = 0usize;
        for n in sizes {
            let chans: Vec<&[f32]> = signal.iter().map(|c| &c[start..start + n]).collect();
            let evs: Vec<TimedEvent> = events
                .iter()
                .filter(|(t, _)| (*t as usize) >= start && (*t as usize) < start + n)
                .map(|(t, e)| TimedEvent::new((*t as usize - start) as u32, e.clone()))
                .collect();
            let job = self.make_job(&chans, n, evs)?;
            jobs.push((start as u64, job));
            start += n;
        }
        let mut out = ProcessOutput::default();
        // Keep each audio-thread job to a bounded number of blocks, servicing the main thread
        // between them.
        let mut rest = jobs;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(4096));
            self.run_jobs(rest, &mut out)?;
            rest = tail;
        }
        Ok(out)
    }

    // --------------------------------------------------------------------------------------------
    // State
    // --------------------------------------------------------------------------------------------

    /// `clap_plugin_state.save` into a byte vector.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let state = self
            .exts
            .state
            .ok_or_else(|| HostError("plugin has no state extension".into()))?;
        let mut bytes = Vec::new();
        let handle = self.instance.plugin_handle();
        state
            .save(&handle, &mut bytes)
            .map_err(|e| HostError(format!("state save failed: {e}")))?;
        self.service_main_thread();
        Ok(bytes)
    }

    /// `clap_plugin_state.load` from bytes.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let state = self
            .exts
            .state
            .ok_or_else(|| HostError("plugin has no state extension".into()))?;
        let handle = self.instance.plugin_handle();
        let mut reader = bytes;
        state
            .load(&handle, &mut reader)
            .map_err(|e| HostError(format!("state load failed: {e}")))?;
        self.service_main_thread();
        let _ = self.rescan_params();
        Ok(())
    }

    // --------------------------------------------------------------------------------------------
    // GUI (`clap.gui`)
    // --------------------------------------------------------------------------------------------

    /// Answers the plugin's main-thread requests for `duration`, polling every 2 ms, as a host's
    /// idle main loop would (an open editor asks for `on_main_thread` to run its host callbacks).
    pub fn pump_main_thread(&mut self, duration: Duration) {
        let end = Instant::now() + duration;
        loop {
            self.service_main_thread();
            let now = Instant::now();
            if now >= end {
                break;
            }
            thread::sleep((end - now).min(Duration::from_millis(2)));
        }
    }

    fn gui_ext(&self) -> Result<PluginGui> {
        self.exts
            .gui
            .ok_or_else(|| HostError("plugin has no gui extension".into()))
    }

    /// Whether the plugin offers the `gui` extension.
    pub fn has_gui(&self) -> bool {
        self.exts.gui.is_some()
    }

    /// `clap_plugin_gui.is_api_supported` (`api`: `"x11"`, `"win32"`, `"cocoa"`, `"wayland"`).
    pub fn gui_is_api_supported(&mut self, api: &str, floating: bool) -> bool {
        let (Ok(gui), Ok(api)) = (self.gui_ext(), CString::new(api)) else {
            return false;
        };
        let handle = self.instance.plugin_handle();
        gui.is_api_supported(
            &handle,
            GuiConfiguration {
                api_type: GuiApiType(&api),
                is_floating: floating,
            },
        )
    }

    /// `clap_plugin_gui.get_preferred_api`: `(api, is_floating)`.
    pub fn gui_preferred_api(&mut self) -> Option<(String, bool)> {
        let gui = self.gui_ext().ok()?;
        let handle = self.instance.plugin_handle();
        gui.get_preferred_api(&handle)
            .map(|c| (c.api_type.0.to_string_lossy().into_owned(), c.is_floating))
    }

    /// `clap_plugin_gui.create`. Undo with [`Self::gui_destroy`] (also done on drop).
    pub fn gui_create(&mut self, api: &str, floating: bool) -> Result<()> {
        if self.gui_created {
            return err("gui_create: the GUI is already created (gui_destroy first)");
        }
        let gui = self.gui_ext()?;
        let api_c = CString::new(api).map_err(|e| HostError(e.to_string()))?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.create(
                &handle,
                GuiConfiguration {
                    api_type: GuiApiType(&api_c),
                    is_floating: floating,
                },
            )
        };
        self.service_main_thread();
        result.map_err(|e| HostError(format!("gui.create({api:?}, floating: {floating}): {e}")))?;
        self.gui_created = true;
        Ok(())
    }

    /// `clap_plugin_gui.set_scale`. `Ok(false)` if the plugin declined (e.g. it asks the OS).
    pub fn gui_set_scale(&mut self, scale: f64) -> Result<bool> {
        let gui = self.gui_ext()?;
        let ok = {
            let handle = self.instance.plugin_handle();
            gui.set_scale(&handle, scale).is_ok()
        };
        self.service_main_thread();
        Ok(ok)
    }

    /// `clap_plugin_gui.get_size`: the editor's size in the API's units (X11: physical pixels).
    pub fn gui_size(&mut self) -> Result<(u32, u32)> {
        let gui = self.gui_ext()?;
        let handle = self.instance.plugin_handle();
        gui.get_size(&handle)
            .map(|s| (s.width, s.height))
            .ok_or_else(|| HostError("gui.get_size failed (or returned 0x0)".into()))
    }

    /// `clap_plugin_gui.can_resize`.
    pub fn gui_can_resize(&mut self) -> bool {
        let Ok(gui) = self.gui_ext() else {
            return false;
        };
        let handle = self.instance.plugin_handle();
        gui.can_resize(&handle)
    }

    /// `clap_plugin_gui.set_size`.
    pub fn gui_set_size(&mut self, width: u32, height: u32) -> Result<()> {
        let gui = self.gui_ext()?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.set_size(&handle, GuiSize { width, height })
        };
        self.service_main_thread();
        result.map_err(|e| HostError(format!("gui.set_size({width}, {height}): {e}")))
    }

    /// `clap_plugin_gui.set_parent` with an X11 window id (embedded GUI).
    ///
    /// # Safety
    ///
    /// `window` must be a window on the X display the plugin connects to (`DISPLAY`) and must
    /// stay alive until [`Self::gui_destroy`] (or the drop of this host) has run.
    pub unsafe fn gui_set_parent_x11(&mut self, window: u64) -> Result<()> {
        let gui = self.gui_ext()?;
        let parent = GuiWindow::from_x11_handle(window as std::ffi::c_ulong);
        let result = {
            let handle = self.instance.plugin_handle();
            // SAFETY: the caller guarantees the window outlives the plugin's GUI.
            unsafe { gui.set_parent(&handle, parent) }
        };
        self.service_main_thread();
        result.map_err(|e| HostError(format!("gui.set_parent(x11 window {window:#x}): {e}")))
    }

    /// `clap_plugin_gui.show`.
    pub fn gui_show(&mut self) -> Result<()> {
        let gui = self.gui_ext()?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.show(&handle)
        };
        self.service_main_thread();
        result.map_err(|e| HostError(format!("gui.show: {e}")))
    }

    /// `clap_plugin_gui.hide`.
    pub fn gui_hide(&mut self) -> Result<()> {
        let gui = self.gui_ext()?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.hide(&handle)
        };
        self.service_main_thread();
        result.map_err(|e| HostError(format!("gui.hide: {e}")))
    }

    /// `clap_plugin_gui.destroy`, if the GUI is created (no-op otherwise).
    pub fn gui_destroy(&mut self) {
        if !self.gui_created {
            return;
        }
        self.gui_created = false;
        if let Ok(gui) = self.gui_ext() {
            let handle = self.instance.plugin_handle();
            gui.destroy(&handle);
        }
        self.service_main_thread();
    }

    /// Whether the GUI is created (between [`Self::gui_create`] and [`Self::gui_destroy`]).
    pub fn gui_is_created(&self) -> bool {
        self.gui_created
    }

    /// Everything the plugin asked through `clap_host_gui` so far, in order.
    pub fn gui_requests(&self) -> Vec<GuiRequest> {
        self.shared(|s| lock(&s.gui_requests).clone())
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        // Stop and deactivate on the main thread before the instance is destroyed; clack would
        // otherwise leak an instance whose processor is still alive. An editor still open is
        // destroyed first, as a host closing a project would.
        self.gui_destroy();
        let _ = self.deactivate();
    }
}

/// Block lengths covering `len` samples.
pub fn block_plan(len: usize, sizes: &BlockSizes, max_block: usize) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    let mut done = 0usize;
    let mut i = 0usize;
    let mut rng = match sizes {
        BlockSizes::Random { seed, .. } => *seed ^ 0x9E37_79B9_7F4A_7C15,
        _ => 0,
    };
    while done < len {
        let want = match sizes {
            BlockSizes::Fixed(n) => *n,
            BlockSizes::Cycle(v) => {
                if v.is_empty() {
                    return err("BlockSizes::Cycle is empty");
                }
                v[i % v.len()]
            }
            BlockSizes::Random { min, max, .. } => {
                // xorshift64*
                rng ^= rng >> 12;
                rng ^= rng << 25;
                rng ^= rng >> 27;
                let r = rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
                let span = max.saturating_sub(*min) + 1;
                min + (r % span as u64) as usize
            }
        };
        if want == 0 {
            return err("block size 0");
        }
        if max_block > 0 && want > max_block {
            return err(format!(
                "block size {want} exceeds the activation's max_block {max_block}"
            ));
        }
        let n = want.min(len - done);
        out.push(n);
        done += n;
        i += 1;
    }
    Ok(out)
}
