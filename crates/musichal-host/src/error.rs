//! Errors of the host.

use std::fmt;

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

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(HostError(msg.into()))
}
