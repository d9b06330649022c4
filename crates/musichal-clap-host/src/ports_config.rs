//! The `audio-ports-config` extension (plugin side), declared here: the project's
//! `clack-extensions` features lack it.

use clack_host::extensions::{Extension, PluginExtensionSide, RawExtension};
use std::ffi::{c_char, c_void};

/// Mirror of CLAP's `clap_audio_ports_config` (clap 1.x `ext/audio-ports-config.h`).
#[repr(C)]
pub(crate) struct RawAudioPortsConfig {
    pub(crate) id: u32,
    pub(crate) name: [c_char; 256],
    pub(crate) input_port_count: u32,
    pub(crate) output_port_count: u32,
    pub(crate) has_main_input: bool,
    pub(crate) main_input_channel_count: u32,
    pub(crate) main_input_port_type: *const c_char,
    pub(crate) has_main_output: bool,
    pub(crate) main_output_channel_count: u32,
    pub(crate) main_output_port_type: *const c_char,
}

/// Mirror of CLAP's `clap_plugin_audio_ports_config`. The plugin pointer is declared as
/// `*const c_void`; it is ABI-identical to `*const clap_plugin`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawPluginAudioPortsConfig {
    pub(crate) count: Option<unsafe extern "C" fn(plugin: *const c_void) -> u32>,
    pub(crate) get: Option<
        unsafe extern "C" fn(
            plugin: *const c_void,
            index: u32,
            config: *mut RawAudioPortsConfig,
        ) -> bool,
    >,
    pub(crate) select: Option<unsafe extern "C" fn(plugin: *const c_void, config_id: u32) -> bool>,
}

#[derive(Copy, Clone)]
pub(crate) struct PluginAudioPortsConfig(
    pub(crate) RawExtension<PluginExtensionSide, RawPluginAudioPortsConfig>,
);

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
