//! A small, reusable CLAP host, built on `clack-host` / `clack-extensions` 0.2.0: the integration
//! tests' harness and the engine of `musichal render`. It loads the plugin binary the way a DAW
//! does (dlopen + `clap_entry`), so tests and renders exercise the real CLAP wrapper: parameter
//! ids/values/text, sample-accurate automation, audio ports and
//! their configurations, note output, state save/load, and the host callbacks the plugin uses.
//!
//! # Threads
//!
//! [`ClapHost`] is the CLAP *main thread*: it holds the `!Send` [`PluginInstance`](clack_host::prelude::PluginInstance) and must stay on
//! the thread that created it (it is `!Send` itself). [`ClapHost::activate`] spawns one *audio
//! thread* that owns the plugin's audio processor, calls `start_processing`, every `process`,
//! `flush`, `reset` and finally `stop_processing`; the main thread hands it jobs through channels
//! and, while it waits for a job, services `request_callback()` by calling
//! `call_on_main_thread_callback()` (nice-plug posts a task from `process()` after every
//! parameter change and asks for that callback; a host that never answers fills its queue).
//! The thread-check extension answers from these two thread identities, and any main-thread-only
//! host callback that arrives on another thread is recorded in [`ClapHost::thread_violations`].
//! The plugin's library is never unloaded (see [`ClapHost::load_plugin`]). Messages the plugin
//! logs through the `log` extension are echoed to stderr unless `MUSICHAL_HOST_QUIET` is set.
//! The host also implements `clap_host_gui` (requests are recorded, see [`GuiRequest`]) and
//! drives the plugin's `gui` extension from the main thread (`gui_create`, `gui_set_parent_x11`,
//! `gui_show`, ...); [`ClapHost::pump_main_thread`] plays the host's idle loop while an editor is
//! open.
//!
//! # Parameter values
//!
//! Values are always the CLAP values the plugin reports: within `ParamInfo::min..=max` as given by
//! `get_info`. nice-plug reports every parameter as normalised `0..=1` (stepped ones `0..=steps`),
//! and its ids are hashes of the string ids, so tests find parameters by display name and convert
//! display text with [`ClapHost::text_to_value`] / [`ClapHost::value_text`].
//!
//! # Unsafe
//!
//! Four kinds of `unsafe`, each with its `SAFETY:` note: loading the library
//! (`PluginEntry::load` runs the library's initialisers), the `audio-ports-config` extension,
//! which this crate declares itself (module `ports_config`) because the project's `clack-extensions` features do not
//! include it, copying a SysEx payload out of an output event during the process call, and
//! looking up a function the library exports ([`ClapHost::plugin_function`]).

mod audio_thread;
mod error;
mod events;
mod handlers;
mod host;
mod locate;
mod ports_config;
mod types;

pub use clack_extensions::params::ParamInfoFlags;
pub use error::{HostError, Result};
pub use events::{InputEvent, MidiOrNoteEvent, NoteKind, OtherOutputEvent, TimedEvent, Transport};
pub use handlers::{ClapHostHandlers, GuiRequest, HostMain, HostShared, LogEntry};
pub use host::{block_plan, ClapHost};
pub use locate::{plugin_file_name, plugin_path};
pub use ports_config::AudioPortsConfig;
pub use types::{
    ActiveConfig, AudioPortInfo, BlockSizes, NotePortInfo, ParamInfo, PluginDescriptorInfo,
    ProcessOutput,
};
