//! Minimal `.npy` (NPY format version 1.0) writer for `[rows, cols]` little-endian f32 arrays,
//! as read by `numpy.load`. Spec: <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>.

use std::io::Write;
use std::path::Path;

use super::error::{PerceptionError, Result};

/// Serialises `data` (row-major `[rows, cols]`) into NPY v1.0 bytes.
pub fn npy_bytes_f32(data: &[f32], rows: usize, cols: usize) -> Result<Vec<u8>> {
    if rows * cols != data.len() {
        return Err(PerceptionError::ShapeMismatch {
            expected: rows * cols,
            actual: data.len(),
        });
    }
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // magic(6) + version(2) + header_len(2) + dict + padding + '\n' must be a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + pad + 1;
    let mut out = Vec::with_capacity(10 + header_len + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes `data` (`[rows, cols]`) to `path` as `.npy`.
pub fn write_npy_f32(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    let bytes = npy_bytes_f32(data, rows, cols)?;
    let mut f = std::fs::File::create(path).map_err(|source| PerceptionError::Io {
        op: "create",
        path: path.into(),
        error: source,
    })?;
    f.write_all(&bytes).map_err(|source| PerceptionError::Io {
        op: "write",
        path: path.into(),
        error: source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        let b = npy_bytes_f32(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
        let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        let header = std::str::from_utf8(&b[10..10 + hl]).unwrap();
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
        assert!(header.ends_with('\n'));
        assert_eq!(b.len(), 10 + hl + 24);
        assert_eq!(
            f32::from_le_bytes([
                b[10 + hl + 4],
                b[10 + hl + 5],
                b[10 + hl + 6],
                b[10 + hl + 7]
            ]),
            2.0
        );
        assert!(npy_bytes_f32(&[1.0], 2, 3).is_err());
    }
}
