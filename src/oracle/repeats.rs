//! Exact longest repeated suffixes, online: a suffix automaton (Blumer et al. 1985) run beside
//! the factor oracle; plus the transition storage both automata use.
//!
//! The factor oracle's own suffix link `S(i)` (the one its construction walks) is not always the
//! end of the first occurrence of the longest repeated suffix, and Lefebvre & Lecroq's `lrs`
//! under-estimates it in some cases (on random binary words about one state in seven; Lefebvre,
//! Lecroq & Alexandre 2003 discuss this). In a suffix automaton, the suffix link of the state
//! reached by the whole prefix `s[..i]` is the class of the longest suffix occurring at least
//! twice in `s[..i]`: its `len` is `lrs[i]` and the first end position of its class is `sfx[i]`,
//! both exact, in amortised O(1) per symbol (O(n) states and transitions).
//!
//! # Storage
//!
//! Both automata keep a short, growing list of transitions per state, millions of them for a
//! long corpus. One heap `Vec` per state made construction spend much of its time in
//! `malloc`/`free` and scattered the lists over the heap. Instead a state's transitions are an
//! [`Edges`] record: the first few sit in the state's own record, more move to a block of one
//! shared [`EdgePool`] vector.

use super::{Symbol, NO_SUFFIX};

const NONE: u32 = u32::MAX;

/// Multiply-rotate hasher for small integer keys (rustc's "Fx" hash, with a final mix): the
/// symbol maps are hot in construction, and SipHash's DoS resistance buys nothing here.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Multiplication only carries upwards, and the table indexes by low bits: finish with
        // murmur3's fmix64 so low bits depend on the whole key.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// Free blocks of an [`EdgePool`], by size class: `free[c]` holds the starts of unused blocks
/// of at least `1 << c` pairs, for reuse as blocks of exactly `1 << c`.
#[derive(Clone, Debug, Default)]
struct FreeBlocks(Vec<Vec<u32>>);

impl FreeBlocks {
    #[inline]
    fn take(&mut self, cap: u32) -> Option<u32> {
        debug_assert!(cap.is_power_of_two());
        self.0.get_mut(cap.ilog2() as usize).and_then(Vec::pop)
    }

    fn put(&mut self, start: u32, cap: u32) {
        let class = cap.ilog2() as usize;
        if self.0.len() <= class {
            self.0.resize_with(class + 1, Vec::new);
        }
        self.0[class].push(start);
    }
}

/// Grows `words` to `len` (zeroed), checking that block starts still fit in `u32`.
#[inline]
fn extend_pool(words: &mut Vec<u32>, len: usize) {
    assert!(
        u32::try_from(len).is_ok(),
        "edge pool exceeds u32::MAX words"
    );
    words.resize(len, 0);
}

/// The transitions of one automaton state: `(label, target)` pairs in insertion order, with the
/// labels contiguous and the targets contiguous. Up to `N` pairs sit in the record itself, so
/// visiting a state with few transitions, as most are, reads one place in memory. More move to
/// a block of an [`EdgePool`]: `cap` labels then `cap` targets (a short block is one cache line
/// too), the record keeping the block's start in `labels[0]` and `cap` in `targets[0]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edges<const N: usize> {
    len: u32,
    labels: [Symbol; N],
    targets: [u32; N],
}

/// Backing store of the [`Edges`] that outgrew their record. Blocks have power-of-two
/// capacities (except exact-size ones from [`Edges::from_targets`]); a full block moves to one
/// twice its size, and the old one is recycled through a free list.
#[derive(Clone, Debug, Default)]
pub(crate) struct EdgePool {
    words: Vec<u32>,
    free: FreeBlocks,
}

impl EdgePool {
    /// Room for blocks holding `pairs` pairs in all, without reallocating.
    pub(crate) fn with_capacity(pairs: usize) -> Self {
        Self {
            words: Vec::with_capacity(2 * pairs),
            free: FreeBlocks::default(),
        }
    }

    /// Reserves room for blocks of `pairs` more pairs.
    pub(crate) fn reserve(&mut self, pairs: usize) {
        self.words.reserve(2 * pairs);
    }

    /// A block of `cap` (a power of two) pairs: a recycled one, or new at the end.
    fn alloc(&mut self, cap: u32) -> u32 {
        self.free.take(cap).unwrap_or_else(|| {
            let start = self.words.len();
            extend_pool(&mut self.words, start + 2 * cap as usize);
            start as u32
        })
    }

    /// Copies the first `len` pairs of block `from` (capacity `from_cap`) to block `to`
    /// (capacity `to_cap`).
    fn copy_block(&mut self, (from, from_cap): (u32, u32), (to, to_cap): (u32, u32), len: usize) {
        let (f, fc, t, tc) = (
            from as usize,
            from_cap as usize,
            to as usize,
            to_cap as usize,
        );
        self.words.copy_within(f..f + len, t);
        self.words.copy_within(f + fc..f + fc + len, t + tc);
    }
}

impl<const N: usize> Edges<N> {
    /// No transition.
    pub(crate) const EMPTY: Self = {
        assert!(
            N >= 1,
            "the record holds a block's start and capacity when pooled"
        );
        Self {
            len: 0,
            labels: [0; N],
            targets: [0; N],
        }
    };

    /// The pairs `(label(t), t)` for `t` in `targets`, in a block of their exact size when they
    /// do not fit in the record.
    pub(crate) fn from_targets(
        pool: &mut EdgePool,
        targets: &[u32],
        label: impl Fn(u32) -> Symbol,
    ) -> Self {
        let mut edges = Self::EMPTY;
        edges.len = u32::try_from(targets.len()).expect("fewer than 2^32 transitions");
        if edges.is_inline() {
            for (j, &t) in targets.iter().enumerate() {
                edges.labels[j] = label(t);
                edges.targets[j] = t;
            }
        } else {
            let start = pool.words.len();
            extend_pool(&mut pool.words, start + 2 * targets.len());
            for (j, &t) in targets.iter().enumerate() {
                pool.words[start + j] = label(t);
            }
            pool.words[start + targets.len()..].copy_from_slice(targets);
            edges.labels[0] = start as u32;
            edges.targets[0] = edges.len;
        }
        edges
    }

    /// Number of transitions.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    fn is_inline(&self) -> bool {
        self.len() <= N
    }

    /// Start and capacity of the pool block (when not inline).
    #[inline]
    fn block(&self) -> (u32, u32) {
        (self.labels[0], self.targets[0])
    }

    /// The labels, in insertion order.
    #[inline]
    pub(crate) fn labels<'a>(&'a self, pool: &'a EdgePool) -> &'a [Symbol] {
        let len = self.len();
        if self.is_inline() {
            &self.labels[..len]
        } else {
            let start = self.block().0 as usize;
            &pool.words[start..start + len]
        }
    }

    /// The targets, in insertion order (`targets()[j]` is labelled `labels()[j]`).
    #[inline]
    pub(crate) fn targets<'a>(&'a self, pool: &'a EdgePool) -> &'a [u32] {
        let len = self.len();
        if self.is_inline() {
            &self.targets[..len]
        } else {
            let (start, cap) = self.block();
            let start = (start + cap) as usize;
            &pool.words[start..start + len]
        }
    }

    /// The transition labelled `label`, if any: its index and target.
    #[inline]
    pub(crate) fn find(&self, pool: &EdgePool, label: Symbol) -> Option<(usize, u32)> {
        let j = self.labels(pool).iter().position(|&l| l == label)?;
        Some((j, self.targets(pool)[j]))
    }

    /// Sets the target of transition `j`.
    #[inline]
    pub(crate) fn set_target(&mut self, pool: &mut EdgePool, j: usize, target: u32) {
        debug_assert!(j < self.len());
        if self.is_inline() {
            self.targets[j] = target;
        } else {
            let (start, cap) = self.block();
            pool.words[(start + cap) as usize + j] = target;
        }
    }

    /// Appends the transition `label -> target`.
    #[inline]
    pub(crate) fn push(&mut self, pool: &mut EdgePool, label: Symbol, target: u32) {
        let len = self.len();
        if len < N {
            self.labels[len] = label;
            self.targets[len] = target;
        } else {
            if len == N || len == self.block().1 as usize {
                self.grow(pool);
            }
            let (start, cap) = self.block();
            pool.words[start as usize + len] = label;
            pool.words[(start + cap) as usize + len] = target;
        }
        self.len += 1;
    }

    /// Moves the (full) transitions to a block of twice their number: out of the record, or
    /// out of a full block (then recycled).
    fn grow(&mut self, pool: &mut EdgePool) {
        let len = self.len();
        let cap = (2 * self.len).next_power_of_two();
        let start = pool.alloc(cap);
        if self.is_inline() {
            let (s, c) = (start as usize, cap as usize);
            pool.words[s..s + len].copy_from_slice(&self.labels);
            pool.words[s + c..s + c + len].copy_from_slice(&self.targets);
        } else {
            pool.copy_block(self.block(), (start, cap), len);
            let (from, from_cap) = self.block();
            pool.free.put(from, from_cap);
        }
        self.labels[0] = start;
        self.targets[0] = cap;
    }

    /// A copy of these transitions (with a block of its own when they are not inline).
    pub(crate) fn duplicate(&self, pool: &mut EdgePool) -> Self {
        if self.is_inline() {
            return *self;
        }
        let cap = self.len.next_power_of_two();
        let start = pool.alloc(cap);
        pool.copy_block(self.block(), (start, cap), self.len());
        let mut copy = Self::EMPTY;
        copy.len = self.len;
        copy.labels[0] = start;
        copy.targets[0] = cap;
        copy
    }
}

/// One state of the suffix automaton. Kept together in one aligned 32-byte record because the
/// construction visits states in no particular order and reads most fields of each.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
struct State {
    /// Length of the longest word of the state's class.
    len: u32,
    /// Suffix link (`NONE` for the root).
    link: u32,
    /// End position (1-based, = oracle state) of the first occurrence of the state's words.
    first_end: u32,
    /// Transitions, unordered.
    edges: Edges<2>,
}

/// The suffix automaton of the sequence so far, reduced to what repeated suffixes need.
///
/// A state's transitions are [`Edges`] scanned linearly: at most the alphabet's size, one or two
/// for most states, and the labels contiguous, so a scan beats hashing (measured: faster than
/// one hash map over all transitions, than per-state `Vec`s, and than arena-linked lists).
#[derive(Clone, Debug)]
pub(crate) struct RepeatTracker {
    states: Vec<State>,
    edges: EdgePool,
    /// State of the whole sequence.
    last: u32,
    /// Symbols added so far.
    count: u32,
}

impl Default for RepeatTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl RepeatTracker {
    const ROOT: State = State {
        len: 0,
        link: NONE,
        first_end: 0,
        edges: Edges::EMPTY,
    };

    pub(crate) fn new() -> Self {
        Self::with_capacity(0)
    }

    pub(crate) fn with_capacity(symbols: usize) -> Self {
        // At most 2n - 1 states and 3n - 4 transitions (Blumer et al.); the pool's block slack
        // is left to amortised growth.
        let mut states = Vec::with_capacity(2 * symbols + 1);
        states.push(Self::ROOT);
        Self {
            states,
            edges: EdgePool::with_capacity(symbols),
            last: 0,
            count: 0,
        }
    }

    /// The tracker of a whole sequence, with `sfx` and `lrs` of every prefix (indexed by oracle
    /// state, `0..=n`: `sfx[0]` is `NO_SUFFIX`, `lrs[0]` 0), as [`RepeatTracker::push`] gives them.
    pub(crate) fn with_repeats(sequence: &[Symbol]) -> (Self, Vec<u32>, Vec<u32>) {
        let mut t = Self::with_capacity(sequence.len());
        let mut sfx = Vec::with_capacity(sequence.len() + 1);
        let mut lrs = Vec::with_capacity(sequence.len() + 1);
        sfx.push(NO_SUFFIX);
        lrs.push(0);
        for &s in sequence {
            let (f, l) = t.push(s);
            sfx.push(f);
            lrs.push(l);
        }
        (t, sfx, lrs)
    }

    /// Symbols added so far.
    pub(crate) fn count(&self) -> usize {
        self.count as usize
    }

    fn new_state(&mut self, state: State) -> u32 {
        self.states.push(state);
        (self.states.len() - 1) as u32
    }

    /// Appends `symbol`; returns `(sfx, lrs)` of the new prefix: where the first occurrence of
    /// its longest repeated suffix ends (0 if none) and that suffix's length.
    pub(crate) fn push(&mut self, symbol: Symbol) -> (u32, u32) {
        self.count += 1;
        let cur = self.new_state(State {
            len: self.states[self.last as usize].len + 1,
            link: 0,
            first_end: self.count,
            edges: Edges::EMPTY,
        });
        // Walk the suffix links from the old last state, adding `symbol -> cur` until a state
        // already reads `symbol` (into `q`).
        let mut p = self.last;
        let mut found = None;
        while p != NONE {
            let state = &mut self.states[p as usize];
            if let Some((_, q)) = state.edges.find(&self.edges, symbol) {
                found = Some(q);
                break;
            }
            state.edges.push(&mut self.edges, symbol, cur);
            p = state.link;
        }
        if let Some(q) = found {
            let (p_len, q_state) = (self.states[p as usize].len, self.states[q as usize]);
            if p_len + 1 == q_state.len {
                self.states[cur as usize].link = q;
            } else {
                let edges = q_state.edges.duplicate(&mut self.edges);
                let clone = self.new_state(State {
                    len: p_len + 1,
                    link: q_state.link,
                    first_end: q_state.first_end,
                    edges,
                });
                // Redirect `symbol -> q` to the clone along the rest of the walk.
                while p != NONE {
                    let state = &mut self.states[p as usize];
                    match state.edges.find(&self.edges, symbol) {
                        Some((j, target)) if target == q => {
                            state.edges.set_target(&mut self.edges, j, clone);
                        }
                        _ => break,
                    }
                    p = state.link;
                }
                self.states[q as usize].link = clone;
                self.states[cur as usize].link = clone;
            }
        }
        self.last = cur;
        let l = self.states[cur as usize].link as usize;
        if l == 0 {
            (0, 0)
        } else {
            (self.states[l].first_end, self.states[l].len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random operations on many [`Edges`] over one pool, checked against a `Vec` per list
    /// (the model) after each: pushes (the record spills to the pool, blocks fill, move and are
    /// recycled), target updates, duplicates and rebuilds from targets.
    fn edges_behave_like_vecs<const N: usize>(seed: u64) {
        let mut x = seed;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let mut pool = EdgePool::default();
        let mut lists: Vec<Edges<N>> = vec![Edges::EMPTY; 8];
        let mut model: Vec<Vec<(Symbol, u32)>> = vec![Vec::new(); 8];
        for step in 0..4_000u32 {
            let l = next(lists.len() as u64) as usize;
            match next(10) {
                0 if lists.len() < 64 => {
                    lists.push(lists[l].duplicate(&mut pool));
                    model.push(model[l].clone());
                }
                1 if lists.len() < 64 => {
                    let targets: Vec<u32> = model[l].iter().map(|e| e.1).collect();
                    let labels = model[l].clone();
                    let label = |t: u32| labels.iter().find(|e| e.1 == t).map_or(0, |e| e.0);
                    lists.push(Edges::from_targets(&mut pool, &targets, label));
                    model.push(targets.iter().map(|&t| (label(t), t)).collect());
                }
                2 if !model[l].is_empty() => {
                    let j = next(model[l].len() as u64) as usize;
                    lists[l].set_target(&mut pool, j, 1_000_000 + step);
                    model[l][j].1 = 1_000_000 + step;
                }
                _ => {
                    // Few labels, so some repeat: `find` must give the first.
                    let label = next(12) as Symbol;
                    lists[l].push(&mut pool, label, step);
                    model[l].push((label, step));
                }
            }
            for (edges, expected) in lists.iter().zip(&model) {
                assert_eq!(edges.len(), expected.len());
                let labels: Vec<Symbol> = expected.iter().map(|e| e.0).collect();
                let targets: Vec<u32> = expected.iter().map(|e| e.1).collect();
                assert_eq!(edges.labels(&pool), labels.as_slice(), "step {step}");
                assert_eq!(edges.targets(&pool), targets.as_slice(), "step {step}");
                for label in 0..13 {
                    let first = expected.iter().position(|e| e.0 == label);
                    assert_eq!(
                        edges.find(&pool, label),
                        first.map(|j| (j, expected[j].1)),
                        "step {step}"
                    );
                }
            }
        }
        // Blocks left behind are reused: the pool stays within a small factor of its pairs.
        let pooled: usize = lists.iter().filter(|e| e.len() > N).map(Edges::len).sum();
        assert!(
            pool.words.len() <= 2 * 4 * pooled,
            "{} words",
            pool.words.len()
        );
    }

    #[test]
    fn edges_behave_like_vecs_of_pairs() {
        for seed in 1..4 {
            edges_behave_like_vecs::<1>(seed);
            edges_behave_like_vecs::<2>(seed);
            edges_behave_like_vecs::<3>(seed);
        }
    }

    #[test]
    fn with_repeats_matches_push() {
        let seq: Vec<Symbol> = b"abaababaabaababaababa"
            .iter()
            .map(|&c| c as Symbol)
            .collect();
        let (tracker, sfx, lrs) = RepeatTracker::with_repeats(&seq);
        let mut t = RepeatTracker::new();
        let pushed: Vec<(u32, u32)> = seq.iter().map(|&s| t.push(s)).collect();
        assert_eq!(tracker.count(), seq.len());
        assert_eq!((sfx[0], lrs[0]), (NO_SUFFIX, 0));
        let got: Vec<(u32, u32)> = sfx[1..]
            .iter()
            .copied()
            .zip(lrs[1..].iter().copied())
            .collect();
        assert_eq!(got, pushed);
    }

    #[test]
    fn abbbaab() {
        let mut t = RepeatTracker::new();
        let got: Vec<(u32, u32)> = b"abbbaab".iter().map(|&c| t.push(c as Symbol)).collect();
        // sfx/lrs of states 1..=7 (the factor oracle gives the same here).
        assert_eq!(
            got,
            vec![(0, 0), (0, 0), (2, 1), (3, 2), (1, 1), (1, 1), (2, 2)]
        );
    }

    /// Brute force, from the definition: for each prefix `s[..i]` (state `i`), the longest
    /// suffix that also ends earlier (`lrs`) and the first position where it ends (`sfx`; 0
    /// when nothing repeats).
    fn repeated_suffixes(s: &[u8]) -> Vec<(u32, u32)> {
        (1..=s.len())
            .map(|i| {
                (1..i)
                    .rev()
                    .find_map(|len| {
                        let suffix = &s[i - len..i];
                        (len..i)
                            .find(|&j| &s[j - len..j] == suffix)
                            .map(|j| (j as u32, len as u32))
                    })
                    .unwrap_or((0, 0))
            })
            .collect()
    }

    /// "abbabaaba", the smallest binary word where the factor oracle's construction link misses
    /// the longest repeated suffix (`tests/oracle_construction.rs` builds it by hand): the
    /// whole word ends with "aba", which first ends at 6 (`s[3..6]`), so sfx 6 and lrs 3, while
    /// the construction link of state 9 is 4 (it only carries "ba"). The tracker gives the
    /// exact links.
    #[test]
    fn where_the_factor_oracle_link_is_short() {
        let word = b"abbabaaba";
        let mut t = RepeatTracker::new();
        let got: Vec<(u32, u32)> = word.iter().map(|&c| t.push(c as Symbol)).collect();
        assert_eq!(got, repeated_suffixes(word));
        assert_eq!(got[8], (6, 3));
        let symbols: Vec<Symbol> = word.iter().map(|&c| c as Symbol).collect();
        let oracle =
            super::super::Oracle::from_symbols(super::super::DriveStream::Harmonic, &symbols);
        assert_eq!(
            oracle.construction_sfx()[9],
            4,
            "the construction link is short here"
        );
        assert_eq!(oracle.sfx()[9], 6);
    }

    /// The brute force above agrees with the tracker on every binary word up to length 10.
    #[test]
    fn the_tracker_gives_the_longest_repeated_suffix_of_every_short_binary_word() {
        for len in 1..=10 {
            for bits in 0u32..1 << len {
                let word: Vec<u8> = (0..len).map(|k| b'a' + ((bits >> k) & 1) as u8).collect();
                let mut t = RepeatTracker::new();
                let got: Vec<(u32, u32)> = word.iter().map(|&c| t.push(c as Symbol)).collect();
                assert_eq!(
                    got,
                    repeated_suffixes(&word),
                    "{}",
                    String::from_utf8_lossy(&word)
                );
            }
        }
    }
}
