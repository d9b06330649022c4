//! Information rate of an oracle and threshold selection (Wang & Dubnov 2014, "Variable Markov
//! Oracle: a novel sequential data points clustering algorithm with application to 3D gesture
//! query-matching"; vmo's `encode` / `_ir_cum`).
//!
//! The oracle's `lrs` array defines a Lempel-Ziv-like parse of the sequence ("compror",
//! Lefebvre & Lecroq): from position `j`, a block extends while the suffix ending at its end is a
//! repetition at least as long as the block; a position that cannot extend is a literal (a new
//! symbol). At frame `t`, with `c0(t)` literals and `c1(t)` blocks so far and `L(t)` the length
//! of the block holding `t`:
//!
//! - `h0(t) = log2 c0(t)`: code length of a frame without memory (uniform over the symbols seen);
//! - `h1(t) = log2 c1(t) / L(t)`: code length of a frame once copies are coded as blocks;
//! - `IR(t) = max(h0(t) - h1(t), 0)` bits.
//!
//! A threshold of 0 makes every frame new (`h0 = h1`, IR 0); a huge one makes every frame the
//! same symbol (`h0 = 0`, IR 0); the total IR peaks in between, where the oracle finds the most
//! predictable structure.

use super::{Distance, DriveStream, Oracle, OracleError};

/// One block of the compror parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeBlock {
    /// Block length in frames; 0 for a literal (one new frame).
    pub len: u32,
    /// Literal: the state coded (1-based). Copy: the 1-based start of the earlier occurrence.
    pub pos: u32,
}

/// Per-frame information rate and its parts (bits).
#[derive(Clone, Debug, PartialEq)]
pub struct InformationRate {
    /// `IR(t)` for each frame.
    pub per_frame: Vec<f32>,
    /// `h0(t)`.
    pub h0: Vec<f32>,
    /// `h1(t)`.
    pub h1: Vec<f32>,
    /// Sum of `per_frame`.
    pub total: f32,
}

/// The threshold chosen by [`select_threshold`], with the oracle built at it.
#[derive(Clone, Debug)]
pub struct ThresholdChoice {
    /// The grid threshold with the largest total IR (the smallest one on ties).
    pub threshold: f32,
    /// Its total IR in bits.
    pub total_ir: f32,
    /// Every grid threshold with its total IR, in grid order.
    pub per_threshold: Vec<(f32, f32)>,
    /// The audio oracle built at `threshold`.
    pub oracle: Oracle,
}

/// The compror parse of the oracle's sequence (vmo's `encode`).
pub fn compror(oracle: &Oracle) -> Vec<CodeBlock> {
    let lrs = oracle.lrs();
    let sfx = oracle.sfx();
    let n = oracle.len();
    let mut code = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    while j < n {
        while i < n && lrs[i + 1] as usize > i - j {
            i += 1;
        }
        if i == j {
            i += 1;
            code.push(CodeBlock {
                len: 0,
                pos: i as u32,
            });
        } else {
            // sfx[i] - (i - j) + 1: where the copied block starts (1-based state of its first frame).
            let pos = (sfx[i] as i64 - (i - j) as i64 + 1).max(0) as u32;
            code.push(CodeBlock {
                len: (i - j) as u32,
                pos,
            });
        }
        j = i;
    }
    code
}

/// The information rate of `oracle` (vmo's `_ir_cum`, `alpha = 1`).
pub fn information_rate(oracle: &Oracle) -> InformationRate {
    let n = oracle.len();
    let mut cw0 = vec![0u32; n];
    let mut cw1 = vec![0u32; n];
    let mut block_len = vec![1u32; n];
    let mut j = 0usize;
    for block in compror(oracle) {
        if block.len == 0 {
            cw0[j] = 1;
            cw1[j] = 1;
            j += 1;
        } else {
            let l = block.len as usize;
            cw1[j] = 1;
            block_len[j..j + l].fill(block.len);
            j += l;
        }
    }
    let (mut c0, mut c1) = (0u32, 0u32);
    let mut h0 = Vec::with_capacity(n);
    let mut h1 = Vec::with_capacity(n);
    let mut per_frame = Vec::with_capacity(n);
    for t in 0..n {
        c0 += cw0[t];
        c1 += cw1[t];
        let a = (c0.max(1) as f32).log2();
        let b = (c1.max(1) as f32).log2() / block_len[t] as f32;
        h0.push(a);
        h1.push(b);
        per_frame.push((a - b).max(0.0));
    }
    let total = per_frame.iter().sum();
    InformationRate {
        per_frame,
        h0,
        h1,
        total,
    }
}

/// Builds an audio oracle over `features` (`dim` per frame) for each threshold of `grid` and
/// keeps the one with the largest total information rate.
pub fn select_threshold(
    drive: DriveStream,
    features: &[f32],
    dim: usize,
    grid: &[f32],
    distance: Distance,
) -> Result<ThresholdChoice, OracleError> {
    let mut best: Option<ThresholdChoice> = None;
    let mut per_threshold = Vec::with_capacity(grid.len());
    for &threshold in grid {
        let oracle = Oracle::from_features(drive, features, dim, threshold, distance)?;
        let total_ir = information_rate(&oracle).total;
        per_threshold.push((threshold, total_ir));
        if best.as_ref().is_none_or(|b| total_ir > b.total_ir) {
            best = Some(ThresholdChoice {
                threshold,
                total_ir,
                per_threshold: Vec::new(),
                oracle,
            });
        }
    }
    let mut choice = best.ok_or(OracleError::Empty {
        what: "threshold grid",
    })?;
    choice.per_threshold = per_threshold;
    Ok(choice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn compror_of_abcabcab() {
        // lrs = [0, 0,0,0, 1,2,3,4,5]: a, b, c literals, then one copy of length 5 from state 1.
        let o = Oracle::from_symbols(DriveStream::Harmonic, &[1, 2, 3, 1, 2, 3, 1, 2]);
        let code = compror(&o);
        assert_eq!(
            code,
            vec![
                CodeBlock { len: 0, pos: 1 },
                CodeBlock { len: 0, pos: 2 },
                CodeBlock { len: 0, pos: 3 },
                CodeBlock { len: 5, pos: 1 },
            ]
        );
        let ir = information_rate(&o);
        // Frames 3..8 are one block: h0 = log2 3, h1 = log2 4 / 5.
        assert!((ir.per_frame[7] - (3f32.log2() - 2.0 / 5.0)).abs() < 1e-6);
        assert_eq!(ir.per_frame[0], 0.0);
    }

    #[test]
    fn threshold_selection_finds_the_structure() {
        // A motif of 4 well-separated points, repeated 30 times with small noise.
        let mut rng = rand_pcg::Pcg32::seed_from_u64(7);
        let points = [[0.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let mut feats = Vec::new();
        for _ in 0..30 {
            for p in &points {
                feats.push(p[0] + rng.random_range(-0.01..0.01));
                feats.push(p[1] + rng.random_range(-0.01..0.01));
            }
        }
        let grid = [0.0, 0.1, 0.5, 5.0];
        let choice =
            select_threshold(DriveStream::Harmonic, &feats, 2, &grid, Distance::Euclidean).unwrap();
        let irs: Vec<f32> = choice.per_threshold.iter().map(|p| p.1).collect();
        assert_eq!(
            irs[0], 0.0,
            "threshold 0: every frame new, no information: {irs:?}"
        );
        assert_eq!(
            irs[3], 0.0,
            "huge threshold: one symbol, no information: {irs:?}"
        );
        assert!(
            choice.threshold == 0.1 || choice.threshold == 0.5,
            "{irs:?}"
        );
        assert!(choice.total_ir > 100.0, "{irs:?}");
        assert_eq!(choice.oracle.num_symbols(), 4);
        assert!(
            select_threshold(DriveStream::Harmonic, &feats, 2, &[], Distance::Euclidean).is_err()
        );
    }
}
