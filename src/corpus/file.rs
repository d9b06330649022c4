//! Reading and writing `.mhc` files: header, checksum, atomic save.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::{CorpusError, CorpusModel, FORMAT_VERSION};

/// First 8 bytes of every corpus file.
pub const MAGIC: &[u8; 8] = b"MHCORPUS";
/// Header length: magic, version, body length, CRC-32.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 4;

impl CorpusModel {
    /// Encodes the model as a complete `.mhc` file image. Validates first: an invalid model is
    /// never written.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CorpusError> {
        self.validate()?;
        if self.format_version != FORMAT_VERSION {
            return Err(CorpusError::VersionMismatch {
                header: FORMAT_VERSION,
                body: self.format_version,
            });
        }
        let body = postcard::to_stdvec(self)?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decodes and validates a `.mhc` file image. Never panics on malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CorpusError> {
        let actual = bytes.len() as u64;
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            // A short file that is a prefix of the magic is a truncated corpus file.
            if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
                return Err(CorpusError::Truncated {
                    expected: HEADER_LEN as u64,
                    actual,
                });
            }
            return Err(CorpusError::BadMagic {
                found: bytes[..bytes.len().min(MAGIC.len())].to_vec(),
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(CorpusError::Truncated {
                expected: HEADER_LEN as u64,
                actual,
            });
        }
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let version = u32_at(8);
        if (1..super::FIRST_NOTES_VERSION).contains(&version) {
            return Err(CorpusError::OldFormat {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if (super::FIRST_NOTES_VERSION..super::FIRST_EVENTS_VERSION).contains(&version) {
            return Err(CorpusError::BeforeEvents {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version == 0 || version > FORMAT_VERSION {
            return Err(CorpusError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&bytes[12..20]);
        let body_len = u64::from_le_bytes(len_bytes);
        let expected_crc = u32_at(20);
        let available = actual - HEADER_LEN as u64;
        if available < body_len {
            return Err(CorpusError::Truncated {
                expected: HEADER_LEN as u64 + body_len,
                actual,
            });
        }
        if available > body_len {
            return Err(CorpusError::TrailingBytes {
                extra: available - body_len,
            });
        }
        let body = &bytes[HEADER_LEN..];
        let actual_crc = crc32fast::hash(body);
        if actual_crc != expected_crc {
            return Err(CorpusError::ChecksumMismatch {
                expected: expected_crc,
                actual: actual_crc,
            });
        }
        let model: CorpusModel = postcard::from_bytes(body)?;
        if model.format_version != version {
            return Err(CorpusError::VersionMismatch {
                header: version,
                body: model.format_version,
            });
        }
        model.validate()?;
        Ok(model)
    }

    /// Writes the model to `path` atomically: a temporary file in the same directory, flushed
    /// to disk, then renamed over `path` (readers never see a half-written model).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CorpusError> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        let io = |op, source| CorpusError::Io {
            op,
            path: path.display().to_string(),
            error: source,
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut f = fs::File::create(&tmp).map_err(|e| io("create", e))?;
            f.write_all(&bytes).map_err(|e| io("write", e))?;
            f.sync_all().map_err(|e| io("sync", e))?;
            drop(f);
            fs::rename(&tmp, path).map_err(|e| io("rename", e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Reads and validates the model at `path`. Every error names the file: `Io`, or `File`
    /// around what is wrong with the content (see [`CorpusError::root`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CorpusError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| CorpusError::Io {
            op: "read",
            path: path.display().to_string(),
            error: source,
        })?;
        Self::from_bytes(&bytes).map_err(|error| CorpusError::File {
            path: path.display().to_string(),
            error: Box::new(error),
        })
    }
}
