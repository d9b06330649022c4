//! State save and load (`clap.state`).

use super::ClapHost;
use crate::error::{HostError, Result};

impl ClapHost {
    /// `clap_plugin_state.save` into a byte vector.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let state = self
            .exts
            .state
            .ok_or(HostError::MissingExtension { extension: "state" })?;
        let mut bytes = Vec::new();
        let handle = self.instance.plugin_handle();
        state
            .save(&handle, &mut bytes)
            .map_err(|e| HostError::StateSaveFailed {
                reason: e.to_string(),
            })?;
        self.service_main_thread();
        Ok(bytes)
    }

    /// `clap_plugin_state.load` from bytes.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let state = self
            .exts
            .state
            .ok_or(HostError::MissingExtension { extension: "state" })?;
        let handle = self.instance.plugin_handle();
        let mut reader = bytes;
        state
            .load(&handle, &mut reader)
            .map_err(|e| HostError::StateLoadFailed {
                reason: e.to_string(),
            })?;
        self.service_main_thread();
        let _ = self.rescan_params();
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
            .ok_or(HostError::StateTooShort { len: bytes.len() })?;
        let mut state: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| HostError::StateNotJson {
                reason: e.to_string(),
            })?;
        let text = serde_json::to_string(value).map_err(|e| HostError::FieldNotSerialisable {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        state["fields"][key] = serde_json::Value::String(text);
        let json = serde_json::to_vec(&state).expect("a JSON value serialises");
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend(json);
        self.load_state(&out)
    }
}
