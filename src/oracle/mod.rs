//! The memory of MusicHal: the factor oracle and the audio oracle, built online, plus the
//! navigator that improvises on them.
//!
//! Plain library, no nice-plug import: the trainer (CLI) builds an [`Oracle`] from a corpus'
//! token stream; the worker loads it from the corpus file, navigates it with a [`Navigator`]
//! and may extend it online with [`Oracle::add_symbol`] (live learning).
//!
//! # Algorithms
//!
//! - **Factor oracle** (Allauzen, Crochemore & Raffinot 1999, "Factor oracle: a new structure for
//!   pattern matching"): an automaton with `n + 1` states over a sequence of `n` symbols, built
//!   online in O(n). State `i > 0` stands for the prefix `s[..i]` and for frame `i - 1`. Per state:
//!   `trn` (forward transitions; every transition into state `j` is labelled `s[j - 1]`, so only
//!   targets are stored, the linear transition `i -> i + 1` included), `sfx` (suffix link: the
//!   state where the first occurrence of the longest repeated suffix of `s[..i]` ends) and `lrs`
//!   (its length), computed as in Lefebvre & Lecroq (2000, "Computing repeated factors with a
//!   factor oracle") like vmo's `add_state`.
//! - **Audio oracle** (Dubnov, Assayag & Cont 2007/2011): the same construction over feature
//!   vectors, where "same symbol" means "distance below a threshold". The states get latent
//!   labels (the first state of each cluster of similar frames, as vmo's `MO`), so navigation is
//!   the same for both kinds.
//! - **Threshold by information rate** (Wang & Dubnov 2014, "Variable Markov Oracle"): the
//!   oracle's repeated-suffix structure defines a Lempel-Ziv-like code (vmo's `compror`);
//!   [`information_rate`] is the per-frame difference between the unconditional code length
//!   and the compressed one, and [`select_threshold`] builds an audio oracle per grid threshold
//!   and keeps the one with the largest total IR.

mod factor;
mod ir;
mod navigate;
mod repeats;

pub use factor::{Oracle, OracleData, NO_SUFFIX};
pub use ir::{
    compror, information_rate, select_threshold, CodeBlock, InformationRate, ThresholdChoice,
};
pub use navigate::{Improviser, Navigator, MAX_QUERY_LEN};

use serde::{Deserialize, Serialize};

/// A symbol of the oracle's alphabet. One stream's gesture token (`u16`) or both streams' tokens
/// packed by [`DriveStream::symbol`]; for [`OracleKind::Audio`], a latent cluster label.
pub type Symbol = u32;

/// Which construction the oracle uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OracleKind {
    /// Factor oracle over discrete symbols (gesture tokens): symbols match when equal.
    Factor,
    /// Audio oracle over feature vectors: frames match when their distance is below
    /// `threshold`.
    Audio,
}

/// Which gesture-token stream(s) drive the oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DriveStream {
    /// The harmonic stream's tokens.
    Harmonic,
    /// The percussive stream's tokens.
    Percussive,
    /// The pair (harmonic, percussive), packed as `harmonic << 16 | percussive`.
    Both,
}

impl DriveStream {
    /// The oracle symbol of a frame whose tokens are `harmonic` and `percussive`.
    #[inline]
    pub fn symbol(self, harmonic: u16, percussive: u16) -> Symbol {
        match self {
            DriveStream::Harmonic => Symbol::from(harmonic),
            DriveStream::Percussive => Symbol::from(percussive),
            DriveStream::Both => (Symbol::from(harmonic) << 16) | Symbol::from(percussive),
        }
    }

    /// The tokens `(harmonic, percussive)` a symbol stands for; `None` for the stream the
    /// symbol does not carry.
    pub fn tokens(self, symbol: Symbol) -> (Option<u16>, Option<u16>) {
        match self {
            DriveStream::Harmonic => (Some(symbol as u16), None),
            DriveStream::Percussive => (None, Some(symbol as u16)),
            DriveStream::Both => (Some((symbol >> 16) as u16), Some(symbol as u16)),
        }
    }
}

/// How the audio oracle compares two feature vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Distance {
    /// Euclidean distance `|a - b|`.
    Euclidean,
    /// Cosine distance `1 - a.b / (|a| |b|)`, in 0..2 (0 when either vector is zero and the
    /// other is too, 1 when only one is).
    Cosine,
}

impl Distance {
    /// The distance between `a` and `b` (same length).
    pub fn between(self, a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len());
        match self {
            Distance::Euclidean => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt(),
            Distance::Cosine => {
                let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
                for (x, y) in a.iter().zip(b) {
                    dot += x * y;
                    na += x * x;
                    nb += y * y;
                }
                if na == 0.0 && nb == 0.0 {
                    0.0
                } else if na == 0.0 || nb == 0.0 {
                    1.0
                } else {
                    (1.0 - dot / (na.sqrt() * nb.sqrt())).max(0.0)
                }
            }
        }
    }
}

/// Errors of oracle construction and validation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OracleError {
    /// An operation for one kind was called on the other.
    #[error("operation needs a {expected:?} oracle, this one is {actual:?}")]
    WrongKind {
        expected: OracleKind,
        actual: OracleKind,
    },
    /// A feature vector of the wrong dimension.
    #[error("feature vector has dimension {actual}, the oracle's is {expected}")]
    DimensionMismatch { expected: usize, actual: usize },
    /// A feature vector holding NaN or infinity.
    #[error("feature vector {index} holds a non-finite value")]
    NonFiniteFeature { index: usize },
    /// A threshold that is negative or not finite.
    #[error("invalid threshold {threshold}: must be finite and >= 0")]
    InvalidThreshold { threshold: f32 },
    /// An empty threshold grid or feature list.
    #[error("nothing to choose from: {what} is empty")]
    Empty { what: &'static str },
    /// A per-state array whose length disagrees with the number of states.
    #[error("oracle array `{array}` has length {actual}, expected {expected}")]
    LengthMismatch {
        array: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A suffix link that does not point to an earlier state (or state 0's is not `NO_SUFFIX`).
    #[error("state {state}: suffix link {sfx} is out of range")]
    SuffixLinkOutOfRange { state: usize, sfx: u32 },
    /// A repeated-suffix length longer than the suffix link allows.
    #[error("state {state}: lrs {lrs} exceeds its suffix link's state {sfx}")]
    LrsOutOfRange { state: usize, lrs: u32, sfx: u32 },
    /// Transition offsets that are not a non-decreasing partition of the target array.
    #[error("transition offsets are malformed at state {state}")]
    BadTransitionOffsets { state: usize },
    /// A forward transition to a state that does not exist or is not later.
    #[error("state {state}: transition target {target} is out of range")]
    TransitionOutOfRange { state: usize, target: u32 },
    /// A state lacking its linear transition `i -> i + 1`.
    #[error("state {state} lacks its linear transition to {}", state + 1)]
    MissingLinearTransition { state: usize },
    /// Two transitions of one state with the same label (a factor oracle is deterministic).
    #[error("state {state}: two transitions labelled {symbol}")]
    DuplicateTransition { state: usize, symbol: Symbol },
    /// Latent centroids whose length is not `clusters * dim`.
    #[error("latent centroids have {actual} values, expected {expected}")]
    CentroidLength { expected: usize, actual: usize },
    /// A symbol too large for the drive stream (a single stream's tokens are `u16`).
    #[error("state {state}: symbol {symbol} does not fit drive stream {drive:?}")]
    SymbolOutOfRange {
        state: usize,
        symbol: Symbol,
        drive: DriveStream,
    },
}
