//! The pre-decoded morph table the audio thread interpolates.

use crate::dsp::EqParams;

/// Most grid points a table holds (fixed size: the table is `Copy` and crosses threads by value).
pub const MAX_GRID_POINTS: usize = 65;

/// EQ settings decoded at evenly spaced morph values from term A (0) to term B (1), intensity 1.
///
/// Interpolation between neighbouring points is per parameter type: gains linearly in dB,
/// frequencies and Qs linearly in log space (as the model's own normalisation treats them), so
/// a glide between two centre frequencies moves evenly in pitch.
#[derive(Clone, Copy, Debug)]
pub struct MorphGrid {
    points: [[f32; 13]; MAX_GRID_POINTS],
    len: usize,
}

/// Which of the 13 parameters live in log space (frequencies and Qs).
const LOG_PARAM: [bool; 13] = [
    false, true, false, true, true, false, true, true, false, true, true, false, true,
];

impl Default for MorphGrid {
    /// A flat table (two identical flat points).
    fn default() -> Self {
        let flat = EqParams::FLAT.to_array();
        let mut points = [flat; MAX_GRID_POINTS];
        points[1] = flat;
        Self { points, len: 2 }
    }
}

impl MorphGrid {
    /// Build from decoded rows (2 to [`MAX_GRID_POINTS`]; extra rows are ignored, a single row
    /// is repeated).
    pub fn from_rows(rows: &[[f32; 13]]) -> Self {
        let mut grid = Self::default();
        let n = rows.len().min(MAX_GRID_POINTS);
        if n == 0 {
            return grid;
        }
        for (dst, src) in grid.points.iter_mut().zip(rows.iter().take(n)) {
            *dst = *src;
        }
        if n == 1 {
            grid.points[1] = rows[0];
            grid.len = 2;
        } else {
            grid.len = n;
        }
        grid
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The decoded row `i`.
    pub fn row(&self, i: usize) -> [f32; 13] {
        self.points[i.min(self.len - 1)]
    }

    /// Settings at `morph` in [0, 1] (clamped; NaN counts as 0), intensity 1.
    ///
    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn params_at(&self, morph: f32) -> EqParams {
        let m = if morph.is_finite() {
            morph.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let pos = m * (self.len - 1) as f32;
        let i = (pos.floor() as usize).min(self.len - 2);
        let t = pos - i as f32;
        let (a, b) = (&self.points[i], &self.points[i + 1]);
        let mut out = [0.0f32; 13];
        for k in 0..13 {
            out[k] = if LOG_PARAM[k] {
                // Geometric interpolation; both ends are positive by the decoder's bounds.
                (a[k].ln() * (1.0 - t) + b[k].ln() * t).exp()
            } else {
                a[k] * (1.0 - t) + b[k] * t
            };
        }
        EqParams::from_array(out)
    }
}
