//! Parameters: info, values, display text, and setting them (`clap.params`).

use clack_extensions::params::ParamInfoBuffer;
use clack_host::prelude::*;
use std::ffi::CString;

use super::ClapHost;
use crate::audio_thread::{AudioCmd, AudioReply};
use crate::error::{HostError, Result};
use crate::events::{build_input_events, InputEvent, OtherOutputEvent, TimedEvent};
use crate::types::ParamInfo;

impl ClapHost {
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
                .ok_or(HostError::ParamInfoFailed { index: i })?;
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
            let names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
            HostError::ParamNotFound {
                name: name.to_owned(),
                available: names,
            }
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
        let params = self.exts.params.ok_or(HostError::MissingExtension {
            extension: "params",
        })?;
        let handle = self.instance.plugin_handle();
        params
            .get_value(&handle, ClapId::new(id))
            .ok_or(HostError::ValueUnavailable { id })
    }

    /// The plugin's display text for a CLAP value of a parameter (`params.value_to_text`).
    pub fn value_to_text(&mut self, name: &str, value: f64) -> Result<String> {
        let id = self.param_id(name)?;
        let params = self.exts.params.ok_or(HostError::MissingExtension {
            extension: "params",
        })?;
        let handle = self.instance.plugin_handle();
        let mut buf = [0u8; 512];
        let text = params
            .value_to_text(&handle, ClapId::new(id), value, &mut buf)
            .map_err(|_| HostError::NoTextForValue {
                param: name.to_owned(),
                value,
            })?;
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
        let params = self.exts.params.ok_or(HostError::MissingExtension {
            extension: "params",
        })?;
        let c = CString::new(text).map_err(|_| HostError::TextHasNul {
            text: text.to_owned(),
        })?;
        let handle = self.instance.plugin_handle();
        params
            .text_to_value(&handle, ClapId::new(id), &c)
            .ok_or_else(|| HostError::TextNotAccepted {
                param: name.to_owned(),
                text: text.to_owned(),
            })
    }

    /// Sets a parameter to a CLAP value. Inactive: applied at once through `params.flush`.
    /// Active: queued as a param-value event at sample 0 of the next `process()` call (use
    /// [`Self::flush_params`] to apply it without processing audio).
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<()> {
        let info = self.param(name)?;
        if !(info.min..=info.max).contains(&value) {
            return Err(HostError::ValueOutOfRange {
                param: name.to_owned(),
                value,
                min: info.min,
                max: info.max,
            });
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
            return Err(HostError::NotActive {
                operation: "set_param_at",
            });
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
                _ => Err(HostError::UnexpectedAudioReply),
            }
        } else {
            self.flush_inactive(&events).map(|()| Vec::new())
        }
    }

    pub(super) fn flush_inactive(&mut self, events: &[TimedEvent]) -> Result<()> {
        let params = self.exts.params.ok_or(HostError::MissingExtension {
            extension: "params",
        })?;
        let input = build_input_events(events);
        let mut output = EventBuffer::new();
        let mut handle = self
            .instance
            .inactive_plugin_handle()
            .ok_or(HostError::Active {
                operation: "flush_inactive",
            })?;
        params.flush(&mut handle, &input.as_input(), &mut output.as_output());
        Ok(())
    }
}
