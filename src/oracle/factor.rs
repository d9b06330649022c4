//! The oracle itself: online construction (`add_symbol` / `add_feature`), accessors, and the
//! validated conversion to and from its serialised form [`OracleData`].

use serde::{Deserialize, Serialize};

use super::repeats::{EdgePool, Edges, FxHashMap, RepeatTracker};
use super::{Distance, DriveStream, OracleError, OracleKind, Symbol};

/// `sfx[0]`: the initial state has no suffix link (vmo's `None`).
pub const NO_SUFFIX: u32 = u32::MAX;

/// [`Oracle::from_symbols`] runs the suffix automaton on a second thread from this many symbols
/// on (below, the build takes a few milliseconds and a thread would not pay for itself).
const PARALLEL_MIN_SYMBOLS: usize = 1 << 15;

/// A factor oracle or audio oracle, built online one state per frame.
///
/// State `0` is the initial state; state `i` (1..=n) stands for frame `i - 1`. Per state:
/// - `symbols[i]`: the label of every transition into `i` (the frame's symbol; for
///   [`OracleKind::Audio`], its latent cluster label); `symbols[0]` is unused (0);
/// - `trn[i]`: forward transitions, as target states in insertion order (`i + 1` first);
/// - `sfx[i]`: suffix link, the state where the first occurrence of the longest repeated suffix
///   of the prefix `s[..i]` ends (`NO_SUFFIX` for state 0; 0 when there is no repeated suffix);
/// - `lrs[i]`: the length of that longest repeated suffix (0 when none);
/// - `construction_sfx[i]`: the factor oracle's own suffix link `S(i)` (Allauzen et al.), which
///   the online construction walks to add transitions. For the factor kind it differs from the
///   exact `sfx` in some states (see [`super::repeats`]); `sfx`/`lrs` there come from a suffix
///   automaton run beside the oracle. For the audio kind (no exact notion: matching by
///   threshold is not transitive) `sfx == construction_sfx` and `lrs` is Lefebvre & Lecroq's;
/// - `rsfx[i]`: reverse suffix links (states whose `sfx` is `i`, ascending), derived, not
///   serialised.
///
/// `trn` and `construction_sfx` are also kept together per state in [`Transitions`], the one
/// structure the construction's suffix walk reads; each transition target there is stored with
/// its label (`symbols[target]`), so finding a state's transition by symbol scans its labels
/// instead of looking up the symbol of every target (state 0 alone has a transition per
/// distinct symbol). `rsfx` and `by_symbol` are derived: the bulk constructors
/// ([`Oracle::from_symbols`], [`Oracle::from_data`]) build them in one pass at the end;
/// [`Oracle::add_symbol`] and [`Oracle::add_feature`] keep them up to date state by state.
///
/// Written by the trainer (offline) or by the worker (live learning); read by [`super::Navigator`].
#[derive(Clone, Debug)]
pub struct Oracle {
    kind: OracleKind,
    drive: DriveStream,
    distance: Distance,
    /// Audio kind: frames closer than this match. Factor kind: 0.
    threshold: f32,
    /// Audio kind: feature dimension. Factor kind: 0.
    dim: usize,
    symbols: Vec<Symbol>,
    sfx: Vec<u32>,
    lrs: Vec<u32>,
    construction_sfx: Vec<u32>,
    /// Targets labelled by their symbols, and `construction_sfx` again.
    trn: Transitions,
    rsfx: Vec<Vec<u32>>,
    /// Factor kind: exact repeated suffixes (rebuilt from the sequence on the first append
    /// after a load).
    repeats: Option<RepeatTracker>,
    /// States (>= 1) carrying each symbol, ascending: the candidates of query-guided navigation.
    by_symbol: FxHashMap<Symbol, Vec<u32>>,
    /// Audio kind, while building in memory: every state's feature vector (`(i - 1) * dim`).
    /// Not serialised; states added after a load compare against latent centroids instead.
    features: Vec<f32>,
    /// Audio kind: running mean feature of each latent cluster (`label * dim`).
    latent_centroids: Vec<f32>,
    /// Audio kind: number of states per latent cluster (for the running mean).
    latent_counts: Vec<u32>,
}

/// The serialised form of an [`Oracle`] (what the corpus file stores): plain arrays, with the
/// transitions in compressed-sparse-row form. [`Oracle::from_data`] validates it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OracleData {
    /// Construction kind.
    pub kind: OracleKind,
    /// Which token stream(s) the symbols come from.
    pub drive: DriveStream,
    /// Audio kind: the distance used.
    pub distance: Distance,
    /// Audio kind: the match threshold (in `distance` units). Factor kind: 0.
    pub threshold: f32,
    /// Audio kind: feature dimension. Factor kind: 0.
    pub dim: u32,
    /// Symbol of states 1..=n (length n).
    pub symbols: Vec<Symbol>,
    /// Suffix links of states 0..=n (length n + 1, `sfx[0] == NO_SUFFIX`).
    pub sfx: Vec<u32>,
    /// Longest repeated suffix lengths of states 0..=n (length n + 1).
    pub lrs: Vec<u32>,
    /// The factor oracle's construction suffix links `S(i)` (length n + 1), needed to keep
    /// extending the oracle online after a load.
    pub construction_sfx: Vec<u32>,
    /// Transitions of state `i` are `trn_targets[trn_offsets[i]..trn_offsets[i + 1]]`
    /// (length n + 2).
    pub trn_offsets: Vec<u32>,
    /// Concatenated transition targets.
    pub trn_targets: Vec<u32>,
    /// Audio kind: latent cluster centroids (`clusters * dim`). Factor kind: empty.
    pub latent_centroids: Vec<f32>,
}

impl PartialEq for Oracle {
    /// Equal when the persistent content is equal (derived indices follow from it).
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.drive == other.drive
            && self.distance == other.distance
            && self.threshold == other.threshold
            && self.dim == other.dim
            && self.symbols == other.symbols
            && self.sfx == other.sfx
            && self.lrs == other.lrs
            && self.construction_sfx == other.construction_sfx
            && self.trn == other.trn
            && self.latent_centroids == other.latent_centroids
    }
}

impl Oracle {
    fn empty(
        kind: OracleKind,
        drive: DriveStream,
        distance: Distance,
        threshold: f32,
        dim: usize,
    ) -> Self {
        Self {
            kind,
            drive,
            distance,
            threshold,
            dim,
            symbols: vec![0],
            sfx: vec![NO_SUFFIX],
            lrs: vec![0],
            construction_sfx: vec![NO_SUFFIX],
            trn: Transitions::new(),
            rsfx: vec![Vec::new()],
            repeats: None,
            by_symbol: FxHashMap::default(),
            features: Vec::new(),
            latent_centroids: Vec::new(),
            latent_counts: Vec::new(),
        }
    }

    /// An empty factor oracle (state 0 only).
    pub fn new_factor(drive: DriveStream) -> Self {
        let mut oracle = Self::empty(OracleKind::Factor, drive, Distance::Euclidean, 0.0, 0);
        oracle.repeats = Some(RepeatTracker::new());
        oracle
    }

    /// A factor oracle over `symbols`, in O(n): the same oracle as [`Oracle::add_symbol`] for
    /// each symbol in turn.
    ///
    /// Built in passes rather than symbol by symbol: the factor oracle's states, transitions and
    /// construction links; the exact `sfx`/`lrs` from the suffix automaton; then the derived
    /// indices. Each pass keeps only its own working set in the caches, and for long sequences
    /// (at least [`PARALLEL_MIN_SYMBOLS`]) the suffix automaton runs on a second thread when the
    /// machine has more than one core. The result is the same either way.
    pub fn from_symbols(drive: DriveStream, symbols: &[Symbol]) -> Self {
        let parallel = symbols.len() >= PARALLEL_MIN_SYMBOLS
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        Self::build_factor(drive, symbols, parallel)
    }

    fn build_factor(drive: DriveStream, symbols: &[Symbol], parallel: bool) -> Self {
        let mut oracle = Self::empty(OracleKind::Factor, drive, Distance::Euclidean, 0.0, 0);
        oracle.reserve(symbols.len());
        let factor_pass = |oracle: &mut Self| {
            for &symbol in symbols {
                oracle.push_factor_state(symbol);
            }
            oracle.index_symbols();
        };
        let (repeats, sfx, lrs) = if parallel {
            std::thread::scope(|scope| {
                let repeats = scope.spawn(|| RepeatTracker::with_repeats(symbols));
                factor_pass(&mut oracle);
                repeats
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            factor_pass(&mut oracle);
            RepeatTracker::with_repeats(symbols)
        };
        (oracle.sfx, oracle.lrs) = (sfx, lrs);
        oracle.repeats = Some(repeats);
        oracle.index_reverse_links();
        oracle
    }

    /// A factor oracle over a corpus' token streams, as `drive` selects.
    pub fn from_tokens(drive: DriveStream, harmonic: &[u16], percussive: &[u16]) -> Self {
        let symbols: Vec<Symbol> = harmonic
            .iter()
            .zip(percussive)
            .map(|(&h, &p)| drive.symbol(h, p))
            .collect();
        Self::from_symbols(drive, &symbols)
    }

    /// An empty audio oracle over `dim`-dimensional features.
    pub fn new_audio(
        drive: DriveStream,
        dim: usize,
        threshold: f32,
        distance: Distance,
    ) -> Result<Self, OracleError> {
        if !threshold.is_finite() || threshold < 0.0 {
            return Err(OracleError::InvalidThreshold { threshold });
        }
        if dim == 0 {
            return Err(OracleError::DimensionMismatch {
                expected: 1,
                actual: 0,
            });
        }
        Ok(Self::empty(
            OracleKind::Audio,
            drive,
            distance,
            threshold,
            dim,
        ))
    }

    /// An audio oracle over `features` (row-major, `dim` values per frame).
    pub fn from_features(
        drive: DriveStream,
        features: &[f32],
        dim: usize,
        threshold: f32,
        distance: Distance,
    ) -> Result<Self, OracleError> {
        let mut oracle = Self::new_audio(drive, dim, threshold, distance)?;
        if features.len() % dim != 0 {
            return Err(OracleError::DimensionMismatch {
                expected: dim,
                actual: features.len() % dim,
            });
        }
        oracle.reserve(features.len() / dim);
        oracle.features.reserve(features.len());
        for row in features.chunks_exact(dim) {
            oracle.add_feature(row)?;
        }
        Ok(oracle)
    }

    /// Builds `by_symbol` from the states' symbols in one pass.
    fn index_symbols(&mut self) {
        self.by_symbol.clear();
        for (i, &symbol) in self.symbols.iter().enumerate().skip(1) {
            self.by_symbol.entry(symbol).or_default().push(i as u32);
        }
    }

    /// Builds `rsfx` from the suffix links: a counting sort by link (cache-friendly, unlike
    /// pushing to the lists in state order), then each list copied out at its size.
    fn index_reverse_links(&mut self) {
        let mut offsets = vec![0u32; self.sfx.len() + 1];
        for &s in &self.sfx[1..] {
            offsets[s as usize + 1] += 1;
        }
        for s in 1..offsets.len() {
            offsets[s] += offsets[s - 1];
        }
        let mut linked = vec![0u32; self.sfx.len() - 1];
        let mut fill = offsets.clone();
        for (i, &s) in self.sfx.iter().enumerate().skip(1) {
            linked[fill[s as usize] as usize] = i as u32;
            fill[s as usize] += 1;
        }
        self.rsfx = offsets
            .windows(2)
            .map(|w| linked[w[0] as usize..w[1] as usize].to_vec())
            .collect();
    }

    fn reserve(&mut self, additional: usize) {
        self.symbols.reserve(additional);
        self.sfx.reserve(additional);
        self.lrs.reserve(additional);
        self.construction_sfx.reserve(additional);
        self.trn.reserve(additional);
        self.rsfx.reserve(additional);
    }

    /// Adds one state for `symbol` (factor kind): extends transitions, the suffix link and lrs
    /// (Allauzen et al. 1999; Lefebvre & Lecroq 2000). Amortised O(1). Returns the new state.
    pub fn add_symbol(&mut self, symbol: Symbol) -> Result<usize, OracleError> {
        if self.kind != OracleKind::Factor {
            return Err(OracleError::WrongKind {
                expected: OracleKind::Factor,
                actual: self.kind,
            });
        }
        if self
            .repeats
            .as_ref()
            .is_none_or(|r| r.count() != self.len())
        {
            self.repeats = Some(RepeatTracker::with_repeats(self.sequence()).0);
        }
        let i = self.push_factor_state(symbol);
        if let Some(repeats) = self.repeats.as_mut() {
            (self.sfx[i], self.lrs[i]) = repeats.push(symbol);
        }
        self.index_state(i);
        Ok(i)
    }

    /// Appends state `i` labelled `symbol`, with the linear transition `i - 1 -> i`; its links
    /// are the caller's to set.
    fn new_state(&mut self, symbol: Symbol) -> usize {
        let i = self.symbols.len();
        self.symbols.push(symbol);
        self.sfx.push(0);
        self.lrs.push(0);
        self.construction_sfx.push(0);
        self.trn.push_state();
        self.rsfx.push(Vec::new());
        self.trn.push(i - 1, symbol, i as u32);
        i
    }

    /// Adds the state of `symbol` (factor kind) with its transitions and construction link;
    /// `sfx`, `lrs` and the derived indices (`rsfx`, `by_symbol`) are the caller's.
    fn push_factor_state(&mut self, symbol: Symbol) -> usize {
        let i = self.new_state(symbol);
        // Allauzen et al.: walk the construction suffix links from S(i - 1), adding transitions
        // to i until a state already reads `symbol`.
        let mut k = self.trn.link(i - 1);
        let mut found = 0;
        while k != NO_SUFFIX {
            if let Some(t) = self.trn.find(k as usize, symbol) {
                found = t;
                break;
            }
            self.trn.push(k as usize, symbol, i as u32);
            k = self.trn.link(k as usize);
        }
        self.construction_sfx[i] = found;
        self.trn.set_link(i, found);
        i
    }

    /// Lefebvre & Lecroq's link and lrs (audio kind), once the suffix walk is done.
    fn link_approximate(&mut self, i: usize, found: Option<u32>, pi_1: u32) {
        match found {
            None => {
                self.sfx[i] = 0;
                self.lrs[i] = 0;
            }
            Some(t) => {
                self.sfx[i] = t;
                self.lrs[i] = self.len_common_suffix(pi_1, t - 1) + 1;
            }
        }
        self.construction_sfx[i] = self.sfx[i];
        self.trn.set_link(i, self.sfx[i]);
        self.index_state(i);
    }

    /// Derived indices of a new state: reverse suffix link and symbol index.
    fn index_state(&mut self, i: usize) {
        let s = self.sfx[i] as usize;
        self.rsfx[s].push(i as u32);
        self.by_symbol
            .entry(self.symbols[i])
            .or_default()
            .push(i as u32);
    }

    /// Lefebvre & Lecroq's `LengthCommonSuffix(p1, p2)`.
    fn len_common_suffix(&self, p1: u32, mut p2: u32) -> u32 {
        let s1 = self.sfx[p1 as usize];
        if p2 == s1 {
            return self.lrs[p1 as usize];
        }
        while p2 != 0 && self.sfx[p2 as usize] != s1 {
            p2 = self.sfx[p2 as usize];
        }
        self.lrs[p1 as usize].min(self.lrs[p2 as usize])
    }

    /// Adds one state for a feature vector (audio kind, Dubnov et al.): a transition "matches"
    /// when the target's feature is closer than the threshold (the closest wins). The new
    /// state's label is its suffix's label, or a new latent cluster when it has none.
    pub fn add_feature(&mut self, feature: &[f32]) -> Result<usize, OracleError> {
        if self.kind != OracleKind::Audio {
            return Err(OracleError::WrongKind {
                expected: OracleKind::Audio,
                actual: self.kind,
            });
        }
        if feature.len() != self.dim {
            return Err(OracleError::DimensionMismatch {
                expected: self.dim,
                actual: feature.len(),
            });
        }
        if feature.iter().any(|x| !x.is_finite()) {
            return Err(OracleError::NonFiniteFeature {
                index: self.symbols.len() - 1,
            });
        }
        // Keep per-state features only while they are complete (built in memory).
        let keep_features = self.features.len() == (self.symbols.len() - 1) * self.dim;
        // Walk the suffix links from the last state for the closest matching transition. The
        // new state's transitions from the states passed are added once its label is known.
        let last = self.symbols.len() - 1;
        let mut k = self.sfx[last];
        let mut pi_1 = last as u32;
        let mut found = None;
        while k != NO_SUFFIX {
            let mut best: Option<(u32, f32)> = None;
            for &t in self.trn.targets(k as usize) {
                let d = self
                    .distance
                    .between(feature, self.state_feature(t as usize, keep_features));
                if d < self.threshold && best.is_none_or(|(_, bd)| d < bd) {
                    best = Some((t, d));
                }
            }
            if let Some((t, _)) = best {
                found = Some(t);
                break;
            }
            pi_1 = k;
            k = self.sfx[k as usize];
        }
        let walk_end = k;
        let label = match found {
            None => {
                self.latent_centroids.extend_from_slice(feature);
                self.latent_counts.push(1);
                (self.latent_counts.len() - 1) as Symbol
            }
            Some(t) => {
                let label = self.symbols[t as usize];
                let l = label as usize;
                self.latent_counts[l] += 1;
                let n = self.latent_counts[l] as f32;
                let centroid = &mut self.latent_centroids[l * self.dim..(l + 1) * self.dim];
                for (c, x) in centroid.iter_mut().zip(feature) {
                    *c += (x - *c) / n;
                }
                label
            }
        };
        let i = self.new_state(label);
        if keep_features {
            self.features.extend_from_slice(feature);
        }
        let mut k = self.sfx[last];
        while k != walk_end {
            self.trn.push(k as usize, label, i as u32);
            k = self.sfx[k as usize];
        }
        self.link_approximate(i, found, pi_1);
        Ok(i)
    }

    fn state_feature(&self, state: usize, have_features: bool) -> &[f32] {
        if have_features {
            &self.features[(state - 1) * self.dim..state * self.dim]
        } else {
            let l = self.symbols[state] as usize;
            &self.latent_centroids[l * self.dim..(l + 1) * self.dim]
        }
    }

    /// Audio kind: the latent label whose centroid is nearest to `feature`, if closer than the
    /// threshold (how the worker turns live features into query symbols).
    pub fn nearest_label(&self, feature: &[f32]) -> Option<Symbol> {
        if self.kind != OracleKind::Audio || feature.len() != self.dim {
            return None;
        }
        self.latent_centroids
            .chunks_exact(self.dim)
            .enumerate()
            .map(|(l, c)| (l, self.distance.between(feature, c)))
            .filter(|&(_, d)| d < self.threshold)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(l, _)| l as Symbol)
    }

    /// Construction kind.
    pub fn kind(&self) -> OracleKind {
        self.kind
    }
    /// The stream(s) the symbols come from.
    pub fn drive(&self) -> DriveStream {
        self.drive
    }
    /// Audio kind: match threshold; factor kind: 0.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }
    /// Number of states, `n + 1`.
    pub fn num_states(&self) -> usize {
        self.symbols.len()
    }
    /// Number of frames (symbols) `n`.
    pub fn len(&self) -> usize {
        self.symbols.len() - 1
    }
    /// True when no frame has been added.
    pub fn is_empty(&self) -> bool {
        self.symbols.len() == 1
    }
    /// Symbol (label of the incoming transitions) of state `i >= 1`.
    pub fn symbol(&self, state: usize) -> Symbol {
        self.symbols[state]
    }
    /// Symbols of states 1..=n, i.e. the input sequence (or its latent labels).
    pub fn sequence(&self) -> &[Symbol] {
        &self.symbols[1..]
    }
    /// Suffix links (`sfx[0] == NO_SUFFIX`).
    pub fn sfx(&self) -> &[u32] {
        &self.sfx
    }
    /// Longest repeated suffix lengths.
    pub fn lrs(&self) -> &[u32] {
        &self.lrs
    }
    /// The factor oracle's construction suffix links `S(i)` (see the type's docs).
    pub fn construction_sfx(&self) -> &[u32] {
        &self.construction_sfx
    }
    /// Forward transitions (targets) of `state`.
    pub fn transitions(&self, state: usize) -> &[u32] {
        self.trn.targets(state)
    }
    /// Reverse suffix links of `state`: the states whose suffix link is `state`.
    pub fn reverse_suffix(&self, state: usize) -> &[u32] {
        &self.rsfx[state]
    }
    /// All states (>= 1, ascending) whose symbol is `symbol`.
    pub fn states_with_symbol(&self, symbol: Symbol) -> &[u32] {
        self.by_symbol
            .get(&symbol)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
    /// Number of distinct symbols (latent clusters for the audio kind).
    pub fn num_symbols(&self) -> usize {
        self.by_symbol.len()
    }
    /// The transition of `state` labelled `symbol`, if any.
    pub fn transition(&self, state: usize, symbol: Symbol) -> Option<usize> {
        self.trn.find(state, symbol).map(|t| t as usize)
    }
    /// Walks `word` from state 0; the state reached, or `None` if the oracle rejects it. Every
    /// factor of the input is accepted (the oracle may accept a few non-factors too).
    pub fn accepts(&self, word: &[Symbol]) -> Option<usize> {
        word.iter()
            .try_fold(0usize, |state, &s| self.transition(state, s))
    }

    /// The serialised form.
    pub fn to_data(&self) -> OracleData {
        let mut trn_offsets = Vec::with_capacity(self.trn.len() + 1);
        let mut trn_targets = Vec::with_capacity(self.trn.total_len());
        trn_offsets.push(0u32);
        for state in 0..self.trn.len() {
            trn_targets.extend_from_slice(self.trn.targets(state));
            trn_offsets.push(trn_targets.len() as u32);
        }
        OracleData {
            kind: self.kind,
            drive: self.drive,
            distance: self.distance,
            threshold: self.threshold,
            dim: self.dim as u32,
            symbols: self.symbols[1..].to_vec(),
            sfx: self.sfx.clone(),
            lrs: self.lrs.clone(),
            construction_sfx: self.construction_sfx.clone(),
            trn_offsets,
            trn_targets,
            latent_centroids: self.latent_centroids.clone(),
        }
    }

    /// Validates `data` (lengths, index ranges, determinism, linear transitions) and rebuilds
    /// the derived indices. Never panics on malformed input.
    pub fn from_data(data: &OracleData) -> Result<Self, OracleError> {
        data.validate()?;
        let dim = data.dim as usize;
        let mut oracle = Self::empty(data.kind, data.drive, data.distance, data.threshold, dim);
        oracle.symbols.extend_from_slice(&data.symbols);
        oracle.sfx = data.sfx.clone();
        oracle.lrs = data.lrs.clone();
        oracle.construction_sfx = data.construction_sfx.clone();
        oracle.trn = Transitions::from_csr(
            &data.trn_offsets,
            &data.trn_targets,
            &data.construction_sfx,
            &oracle.symbols,
        );
        oracle.index_symbols();
        oracle.index_reverse_links();
        if data.kind == OracleKind::Audio {
            oracle.latent_centroids = data.latent_centroids.clone();
            oracle.latent_counts = vec![0; data.latent_centroids.len() / dim];
            for &s in &data.symbols {
                oracle.latent_counts[s as usize] += 1;
            }
        }
        Ok(oracle)
    }
}

/// Transitions kept in a state's [`WalkState`] record before they move to the pool: with the
/// construction link, the record is 32 bytes. Most states have one to three transitions.
const INLINE_TRANSITIONS: usize = 3;

/// What the construction's suffix walk reads of a state: its construction suffix link and its
/// transitions, labelled. Together in one aligned 32-byte record, a state the walk visits costs
/// one cache miss rather than one per array (in a long oracle those visits land anywhere).
/// `link` repeats `Oracle::construction_sfx`, which stays a plain array for
/// [`Oracle::construction_sfx`] and serialisation.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
struct WalkState {
    link: u32,
    trn: Edges<INLINE_TRANSITIONS>,
}

/// The oracle's transitions: one [`WalkState`] per state over one [`EdgePool`]. Equality sees
/// the transitions (and links), not the layout.
#[derive(Clone, Debug)]
struct Transitions {
    states: Vec<WalkState>,
    pool: EdgePool,
}

impl Transitions {
    /// State 0 alone.
    fn new() -> Self {
        Self {
            states: vec![WalkState {
                link: NO_SUFFIX,
                trn: Edges::EMPTY,
            }],
            pool: EdgePool::default(),
        }
    }

    /// From the serialised form: state `i`'s targets are
    /// `targets[offsets[i]..offsets[i + 1]]`, each labelled by `symbols[target]`; `links` are the
    /// construction suffix links. The caller has validated the arrays.
    fn from_csr(offsets: &[u32], targets: &[u32], links: &[u32], symbols: &[Symbol]) -> Self {
        let mut pool = EdgePool::default();
        let states = offsets
            .windows(2)
            .zip(links)
            .map(|(w, &link)| WalkState {
                link,
                trn: Edges::from_targets(&mut pool, &targets[w[0] as usize..w[1] as usize], |t| {
                    symbols[t as usize]
                }),
            })
            .collect();
        Self { states, pool }
    }

    /// Reserves room for `states` more states (and their transitions, roughly).
    fn reserve(&mut self, states: usize) {
        self.states.reserve(states);
        // Pooled transitions are a fraction of the at most 2n; the rest is amortised growth.
        self.pool.reserve(states / 2);
    }

    /// Number of states.
    fn len(&self) -> usize {
        self.states.len()
    }

    /// Adds a state without transitions (its link to be set).
    #[inline]
    fn push_state(&mut self) {
        self.states.push(WalkState {
            link: 0,
            trn: Edges::EMPTY,
        });
    }

    /// Construction suffix link of `state`.
    #[inline]
    fn link(&self, state: usize) -> u32 {
        self.states[state].link
    }

    #[inline]
    fn set_link(&mut self, state: usize, link: u32) {
        self.states[state].link = link;
    }

    /// Targets of `state`'s transitions, in insertion order.
    #[inline]
    fn targets(&self, state: usize) -> &[u32] {
        self.states[state].trn.targets(&self.pool)
    }

    /// The target of `state`'s transition labelled `symbol`, if any.
    #[inline]
    fn find(&self, state: usize, symbol: Symbol) -> Option<u32> {
        self.states[state]
            .trn
            .find(&self.pool, symbol)
            .map(|(_, t)| t)
    }

    /// Adds the transition `state -> target`, labelled `symbol` (the target's symbol).
    #[inline]
    fn push(&mut self, state: usize, symbol: Symbol, target: u32) {
        self.states[state].trn.push(&mut self.pool, symbol, target);
    }

    /// Total number of transitions.
    fn total_len(&self) -> usize {
        self.states.iter().map(|s| s.trn.len()).sum()
    }
}

impl PartialEq for Transitions {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.states.iter().zip(&other.states).all(|(a, b)| {
                a.link == b.link
                    && a.trn.targets(&self.pool) == b.trn.targets(&other.pool)
                    && a.trn.labels(&self.pool) == b.trn.labels(&other.pool)
            })
    }
}

impl OracleData {
    /// Number of frames `n`.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when the oracle holds no frame.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Checks every structural invariant; see [`Oracle::from_data`].
    pub fn validate(&self) -> Result<(), OracleError> {
        let n = self.symbols.len();
        let len_check = |array: &'static str, expected: usize, actual: usize| {
            if expected == actual {
                Ok(())
            } else {
                Err(OracleError::LengthMismatch {
                    array,
                    expected,
                    actual,
                })
            }
        };
        len_check("sfx", n + 1, self.sfx.len())?;
        len_check("lrs", n + 1, self.lrs.len())?;
        len_check("construction_sfx", n + 1, self.construction_sfx.len())?;
        len_check("trn_offsets", n + 2, self.trn_offsets.len())?;
        if !self.threshold.is_finite() || self.threshold < 0.0 {
            return Err(OracleError::InvalidThreshold {
                threshold: self.threshold,
            });
        }
        match self.kind {
            OracleKind::Factor => {
                len_check("latent_centroids", 0, self.latent_centroids.len())?;
                if self.drive != DriveStream::Both {
                    if let Some((i, &s)) = self
                        .symbols
                        .iter()
                        .enumerate()
                        .find(|(_, &s)| s > u16::MAX as u32)
                    {
                        return Err(OracleError::SymbolOutOfRange {
                            state: i + 1,
                            symbol: s,
                            drive: self.drive,
                        });
                    }
                }
            }
            OracleKind::Audio => {
                let dim = self.dim as usize;
                if dim == 0 {
                    return Err(OracleError::DimensionMismatch {
                        expected: 1,
                        actual: 0,
                    });
                }
                let clusters = self.latent_centroids.len() / dim;
                if self.latent_centroids.len() % dim != 0 {
                    return Err(OracleError::CentroidLength {
                        expected: clusters * dim,
                        actual: self.latent_centroids.len(),
                    });
                }
                if let Some(i) = self.latent_centroids.iter().position(|x| !x.is_finite()) {
                    return Err(OracleError::NonFiniteFeature { index: i / dim });
                }
                if let Some((i, &s)) = self
                    .symbols
                    .iter()
                    .enumerate()
                    .find(|(_, &s)| s as usize >= clusters)
                {
                    return Err(OracleError::SymbolOutOfRange {
                        state: i + 1,
                        symbol: s,
                        drive: self.drive,
                    });
                }
            }
        }
        if self.sfx[0] != NO_SUFFIX || self.construction_sfx[0] != NO_SUFFIX {
            return Err(OracleError::SuffixLinkOutOfRange {
                state: 0,
                sfx: self.sfx[0],
            });
        }
        if self.lrs[0] != 0 {
            return Err(OracleError::LrsOutOfRange {
                state: 0,
                lrs: self.lrs[0],
                sfx: 0,
            });
        }
        for i in 1..=n {
            let s = self.sfx[i];
            if s as usize >= i {
                return Err(OracleError::SuffixLinkOutOfRange { state: i, sfx: s });
            }
            if self.construction_sfx[i] as usize >= i {
                return Err(OracleError::SuffixLinkOutOfRange {
                    state: i,
                    sfx: self.construction_sfx[i],
                });
            }
            if self.lrs[i] > s {
                return Err(OracleError::LrsOutOfRange {
                    state: i,
                    lrs: self.lrs[i],
                    sfx: s,
                });
            }
        }
        if self.trn_offsets[0] != 0
            || *self.trn_offsets.last().unwrap_or(&0) as usize != self.trn_targets.len()
        {
            return Err(OracleError::BadTransitionOffsets { state: 0 });
        }
        if let Some(i) = self.trn_offsets.windows(2).position(|w| w[0] > w[1]) {
            return Err(OracleError::BadTransitionOffsets { state: i });
        }
        let mut labels: Vec<Symbol> = Vec::new();
        for i in 0..=n {
            let (a, b) = (self.trn_offsets[i], self.trn_offsets[i + 1]);
            let targets = &self.trn_targets[a as usize..b as usize];
            labels.clear();
            for &t in targets {
                if t as usize <= i || t as usize > n {
                    return Err(OracleError::TransitionOutOfRange {
                        state: i,
                        target: t,
                    });
                }
                labels.push(self.symbols[t as usize - 1]);
            }
            if i < n && !targets.contains(&(i as u32 + 1)) {
                return Err(OracleError::MissingLinearTransition { state: i });
            }
            if self.kind == OracleKind::Factor {
                labels.sort_unstable();
                if let Some(w) = labels.windows(2).find(|w| w[0] == w[1]) {
                    return Err(OracleError::DuplicateTransition {
                        state: i,
                        symbol: w[0],
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &str) -> Vec<Symbol> {
        s.bytes().map(Symbol::from).collect()
    }

    #[test]
    fn empty_oracle_has_one_state() {
        let o = Oracle::new_factor(DriveStream::Harmonic);
        assert_eq!(o.num_states(), 1);
        assert!(o.is_empty());
        assert_eq!(o.sfx(), &[NO_SUFFIX]);
    }

    #[test]
    fn data_round_trip_rebuilds_indices() {
        let o = Oracle::from_symbols(DriveStream::Harmonic, &word("abbbaabcab"));
        let back = Oracle::from_data(&o.to_data()).unwrap();
        assert_eq!(o, back);
        for i in 0..o.num_states() {
            assert_eq!(o.reverse_suffix(i), back.reverse_suffix(i));
        }
        assert_eq!(
            o.states_with_symbol(b'a' as u32),
            back.states_with_symbol(b'a' as u32)
        );
    }

    /// Xorshift: `next(m)` is uniform-ish in `0..m`.
    fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut x = seed | 1;
        move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        }
    }

    fn random(n: usize, alphabet: u64, seed: u64) -> Vec<Symbol> {
        let mut next = rng(seed);
        (0..n).map(|_| next(alphabet) as Symbol).collect()
    }

    /// A sequence with repeats (copies of earlier stretches) over `alphabet` symbols.
    fn repetitive(n: usize, alphabet: u64, seed: u64) -> Vec<Symbol> {
        let mut next = rng(seed);
        let mut out: Vec<Symbol> = Vec::with_capacity(n);
        while out.len() < n {
            if out.len() > 16 && next(2) == 0 {
                let len = (4 + next(24) as usize).min(n - out.len());
                let from = next((out.len() - len.min(out.len() - 1)) as u64) as usize;
                for k in 0..len {
                    out.push(out[from + k]);
                }
            } else {
                out.push(next(alphabet) as Symbol);
            }
        }
        out
    }

    fn online(symbols: &[Symbol]) -> Oracle {
        let mut o = Oracle::new_factor(DriveStream::Both);
        for &s in symbols {
            o.add_symbol(s).unwrap();
        }
        o
    }

    /// Same serialised form, same derived indices, and the labels stored with the transitions
    /// are the targets' symbols.
    fn assert_same_oracle(a: &Oracle, b: &Oracle) {
        assert_eq!(a.to_data(), b.to_data());
        assert_eq!(a, b);
        for i in 0..a.num_states() {
            assert_eq!(a.reverse_suffix(i), b.reverse_suffix(i), "rsfx[{i}]");
            let labels: Vec<Symbol> = a
                .transitions(i)
                .iter()
                .map(|&t| a.symbol(t as usize))
                .collect();
            assert_eq!(a.trn.states[i].trn.labels(&a.trn.pool), labels.as_slice());
            assert_eq!(a.trn.link(i), a.construction_sfx()[i]);
        }
        assert_eq!(a.num_symbols(), b.num_symbols());
        for &s in a.sequence() {
            assert_eq!(a.states_with_symbol(s), b.states_with_symbol(s));
        }
    }

    /// Both bulk paths against `add_symbol` one symbol at a time.
    fn assert_bulk_equals_online(seq: &[Symbol]) {
        let expected = online(seq);
        let sequential = Oracle::build_factor(DriveStream::Both, seq, false);
        let parallel = Oracle::build_factor(DriveStream::Both, seq, true);
        assert_same_oracle(&expected, &sequential);
        assert_same_oracle(&expected, &parallel);
        assert_eq!(
            Oracle::from_symbols(DriveStream::Both, seq).to_data(),
            expected.to_data()
        );
    }

    #[test]
    fn bulk_builds_equal_the_online_build() {
        for (alphabet, seed) in [(2, 1), (4, 2), (64, 3), (70_000, 4)] {
            for n in [0, 1, 2, 3, 10, 100, 1_000, 4_000] {
                assert_bulk_equals_online(&random(n, alphabet, seed + n as u64));
                assert_bulk_equals_online(&repetitive(n, alphabet, seed + n as u64));
            }
        }
    }

    #[test]
    fn bulk_builds_equal_the_online_build_around_the_parallel_threshold() {
        let seq = repetitive(PARALLEL_MIN_SYMBOLS + 1, 4, 5);
        let expected = online(&seq);
        for n in [PARALLEL_MIN_SYMBOLS - 1, PARALLEL_MIN_SYMBOLS] {
            let mut prefix = online(&seq[..n]);
            for built in [
                Oracle::build_factor(DriveStream::Both, &seq[..n], false),
                Oracle::build_factor(DriveStream::Both, &seq[..n], true),
                Oracle::from_symbols(DriveStream::Both, &seq[..n]),
            ] {
                assert_same_oracle(&prefix, &built);
                // A bulk-built oracle keeps growing online like the online one.
                let mut built = built;
                for &s in &seq[n..] {
                    built.add_symbol(s).unwrap();
                }
                assert_same_oracle(&expected, &built);
            }
            for &s in &seq[n..] {
                prefix.add_symbol(s).unwrap();
            }
            assert_same_oracle(&expected, &prefix);
        }
    }

    #[test]
    fn reloaded_oracle_keeps_growing_like_the_original() {
        for (alphabet, seed) in [(2, 6), (4, 7), (64, 8)] {
            for seq in [
                random(3_000, alphabet, seed),
                repetitive(3_000, alphabet, seed),
            ] {
                let whole = Oracle::from_symbols(DriveStream::Both, &seq);
                for cut in [0, 1, 700, 2_999] {
                    let part = Oracle::from_symbols(DriveStream::Both, &seq[..cut]);
                    let mut reloaded = Oracle::from_data(&part.to_data()).unwrap();
                    assert_same_oracle(&part, &reloaded);
                    for &s in &seq[cut..] {
                        reloaded.add_symbol(s).unwrap();
                    }
                    assert_same_oracle(&whole, &reloaded);
                }
            }
        }
    }

    #[test]
    fn audio_oracle_round_trips_and_keeps_growing() {
        // Noisy copies of a few prototypes: clusters, repeats and transitions with shared labels.
        let mut next = rng(11);
        let dim = 4;
        let prototypes: Vec<f32> = (0..6 * dim).map(|_| next(100) as f32 / 10.0).collect();
        let mut features: Vec<f32> = Vec::new();
        for _ in 0..2_000 {
            let p = next(6) as usize;
            for k in 0..dim {
                features.push(prototypes[p * dim + k] + next(100) as f32 / 100.0);
            }
        }
        let whole = Oracle::from_features(
            DriveStream::Harmonic,
            &features,
            dim,
            1.0,
            Distance::Euclidean,
        )
        .unwrap();
        let cut = 1_500 * dim;
        let part = Oracle::from_features(
            DriveStream::Harmonic,
            &features[..cut],
            dim,
            1.0,
            Distance::Euclidean,
        )
        .unwrap();
        let mut reloaded = Oracle::from_data(&part.to_data()).unwrap();
        assert_same_oracle(&part, &reloaded);
        assert_same_oracle(&whole, &Oracle::from_data(&whole.to_data()).unwrap());
        let mut grown = part.clone();
        for row in features[cut..].chunks_exact(dim) {
            grown.add_feature(row).unwrap();
            reloaded.add_feature(row).unwrap();
        }
        // In memory the features are kept, so growing `part` equals building `whole`; the
        // reloaded oracle compares against centroids instead, but stays consistent.
        assert_same_oracle(&whole, &grown);
        assert_same_oracle(&reloaded, &Oracle::from_data(&reloaded.to_data()).unwrap());
    }

    #[test]
    fn wrong_kind_is_an_error() {
        let mut o = Oracle::new_factor(DriveStream::Harmonic);
        assert!(matches!(
            o.add_feature(&[0.0]),
            Err(OracleError::WrongKind { .. })
        ));
        let mut a = Oracle::new_audio(DriveStream::Harmonic, 2, 0.1, Distance::Euclidean).unwrap();
        assert!(matches!(
            a.add_symbol(3),
            Err(OracleError::WrongKind { .. })
        ));
        assert!(matches!(
            a.add_feature(&[0.0]),
            Err(OracleError::DimensionMismatch { .. })
        ));
        assert!(matches!(
            a.add_feature(&[f32::NAN, 0.0]),
            Err(OracleError::NonFiniteFeature { .. })
        ));
    }

    #[test]
    fn audio_oracle_with_tiny_threshold_equals_factor_oracle_of_exact_symbols() {
        // Features that are one-hot codes of symbols: distance 0 within a symbol, sqrt(2) across.
        let seq = word("abcabcabbbaab");
        let mut feats = Vec::new();
        for &s in &seq {
            let mut v = [0.0f32; 3];
            v[(s - b'a' as u32) as usize] = 1.0;
            feats.extend_from_slice(&v);
        }
        let a = Oracle::from_features(DriveStream::Harmonic, &feats, 3, 0.5, Distance::Euclidean)
            .unwrap();
        let f = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        assert_eq!(a.sfx(), f.sfx());
        assert_eq!(a.lrs(), f.lrs());
        for i in 0..f.num_states() {
            assert_eq!(a.transitions(i), f.transitions(i));
        }
        // Latent labels: a -> 0, b -> 1, c -> 2.
        assert_eq!(&a.sequence()[..3], &[0, 1, 2]);
        assert_eq!(a.nearest_label(&[0.0, 0.0, 1.0]), Some(2));
        // Reloaded (no per-state features) it still extends consistently via centroids.
        let mut b = Oracle::from_data(&a.to_data()).unwrap();
        let mut a2 = a.clone();
        b.add_feature(&[1.0, 0.0, 0.0]).unwrap();
        a2.add_feature(&[1.0, 0.0, 0.0]).unwrap();
        assert_eq!(a2, b);
    }

    #[test]
    fn validate_rejects_each_broken_invariant() {
        let good = Oracle::from_symbols(DriveStream::Harmonic, &word("abcabcab")).to_data();
        assert!(good.validate().is_ok());
        let mut d = good.clone();
        d.sfx[5] = 5;
        assert!(matches!(
            d.validate(),
            Err(OracleError::SuffixLinkOutOfRange { state: 5, .. })
        ));
        let mut d = good.clone();
        d.lrs[4] = 9;
        assert!(matches!(
            d.validate(),
            Err(OracleError::LrsOutOfRange { state: 4, .. })
        ));
        let mut d = good.clone();
        d.trn_targets[0] = 99;
        assert!(matches!(
            d.validate(),
            Err(OracleError::TransitionOutOfRange {
                state: 0,
                target: 99
            })
        ));
        let mut d = good.clone();
        d.lrs.pop();
        assert!(matches!(
            d.validate(),
            Err(OracleError::LengthMismatch { array: "lrs", .. })
        ));
        let mut d = good.clone();
        d.trn_offsets[2] = 1000;
        assert!(d.validate().is_err());
        let mut d = good.clone();
        d.symbols[0] = 70_000;
        assert!(matches!(
            d.validate(),
            Err(OracleError::SymbolOutOfRange { .. })
        ));
    }
}
