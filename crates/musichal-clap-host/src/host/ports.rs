//! Audio and note ports, and audio ports configurations.

use clack_extensions::audio_ports::AudioPortInfoBuffer;
use clack_extensions::note_ports::{NoteDialect, NoteDialects, NotePortInfoBuffer};
use clack_host::prelude::*;
use std::ffi::c_void;

use super::ClapHost;
use crate::error::{HostError, Result};
use crate::ports_config::{AudioPortsConfig, RawAudioPortsConfig};
use crate::types::{AudioPortInfo, NotePortInfo};

impl ClapHost {
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
            return Err(HostError::Active {
                operation: "select_audio_ports_config",
            });
        }
        let ext = self.exts.ports_config.ok_or(HostError::MissingExtension {
            extension: "audio-ports-config",
        })?;
        let handle = self
            .instance
            .inactive_plugin_handle()
            .ok_or(HostError::Active {
                operation: "select_audio_ports_config",
            })?;
        let raw = handle.use_extension(&ext.0);
        let select = raw.select.ok_or(HostError::PortsConfigWithoutSelect)?;
        // SAFETY: function pointer from this instance's extension struct; main thread, inactive.
        let ok = unsafe { select(handle.as_raw_ptr() as *const c_void, id) };
        if ok {
            Ok(())
        } else {
            Err(HostError::PortsConfigRefused { id })
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
}
