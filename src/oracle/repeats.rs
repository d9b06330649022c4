//! Exact longest repeated suffixes, online: a suffix automaton (Blumer et al. 1985) run beside
//! the factor oracle.
//!
//! The factor oracle's own suffix link `S(i)` (the one its construction walks) is not always the
//! end of the first occurrence of the longest repeated suffix, and Lefebvre & Lecroq's `lrs`
//! under-estimates it in some cases (on random binary words about one state in seven; Lefebvre,
//! Lecroq & Alexandre 2003 discuss this). In a suffix automaton, the suffix link of the state
//! reached by the whole prefix `s[..i]` is the class of the longest suffix occurring at least
//! twice in `s[..i]`: its `len` is `lrs[i]` and the first end position of its class is `sfx[i]`,
//! both exact, in amortised O(1) per symbol (O(n) states and transitions).

use super::Symbol;

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

/// The suffix automaton of the sequence so far, reduced to what repeated suffixes need.
///
/// Transitions are small per-state vectors scanned linearly: measured faster here than one
/// hash map over all transitions or arena-linked lists (cache locality wins at these sizes).
#[derive(Clone, Debug, Default)]
pub(crate) struct RepeatTracker {
    /// Length of the longest word of each state's class.
    len: Vec<u32>,
    /// Suffix link of each state (`NONE` for the root).
    link: Vec<u32>,
    /// End position (1-based, = oracle state) of the first occurrence of the state's words.
    first_end: Vec<u32>,
    /// Sparse transitions `(symbol, target)` of each state.
    next: Vec<Vec<(Symbol, u32)>>,
    /// State of the whole sequence.
    last: u32,
    /// Symbols added so far.
    count: u32,
}

impl RepeatTracker {
    pub(crate) fn new() -> Self {
        Self {
            len: vec![0],
            link: vec![NONE],
            first_end: vec![0],
            next: vec![Vec::new()],
            last: 0,
            count: 0,
        }
    }

    pub(crate) fn with_capacity(symbols: usize) -> Self {
        let mut t = Self::new();
        let states = 2 * symbols + 1;
        t.len.reserve(states);
        t.link.reserve(states);
        t.first_end.reserve(states);
        t.next.reserve(states);
        t
    }

    /// The tracker of a whole sequence.
    pub(crate) fn from_sequence(sequence: &[Symbol]) -> Self {
        let mut t = Self::with_capacity(sequence.len());
        for &s in sequence {
            t.push(s);
        }
        t
    }

    /// Symbols added so far.
    pub(crate) fn count(&self) -> usize {
        self.count as usize
    }

    #[inline]
    fn get(&self, state: u32, symbol: Symbol) -> Option<u32> {
        self.next[state as usize]
            .iter()
            .find(|e| e.0 == symbol)
            .map(|e| e.1)
    }

    #[inline]
    fn set(&mut self, state: u32, symbol: Symbol, target: u32) {
        let edges = &mut self.next[state as usize];
        match edges.iter_mut().find(|e| e.0 == symbol) {
            Some(e) => e.1 = target,
            None => edges.push((symbol, target)),
        }
    }

    fn new_state(&mut self, len: u32, link: u32, first_end: u32, next: Vec<(Symbol, u32)>) -> u32 {
        self.len.push(len);
        self.link.push(link);
        self.first_end.push(first_end);
        self.next.push(next);
        (self.len.len() - 1) as u32
    }

    /// Appends `symbol`; returns `(sfx, lrs)` of the new prefix: where the first occurrence of
    /// its longest repeated suffix ends (0 if none) and that suffix's length.
    pub(crate) fn push(&mut self, symbol: Symbol) -> (u32, u32) {
        self.count += 1;
        let end = self.count;
        let cur = self.new_state(self.len[self.last as usize] + 1, 0, end, Vec::new());
        let mut p = self.last;
        while p != NONE && self.get(p, symbol).is_none() {
            self.set(p, symbol, cur);
            p = self.link[p as usize];
        }
        if p != NONE {
            let q = self.get(p, symbol).unwrap_or(0);
            if self.len[p as usize] + 1 == self.len[q as usize] {
                self.link[cur as usize] = q;
            } else {
                let edges = self.next[q as usize].clone();
                let clone = self.new_state(
                    self.len[p as usize] + 1,
                    self.link[q as usize],
                    self.first_end[q as usize],
                    edges,
                );
                while p != NONE && self.get(p, symbol) == Some(q) {
                    self.set(p, symbol, clone);
                    p = self.link[p as usize];
                }
                self.link[q as usize] = clone;
                self.link[cur as usize] = clone;
            }
        }
        self.last = cur;
        let l = self.link[cur as usize] as usize;
        if l == 0 {
            (0, 0)
        } else {
            (self.first_end[l], self.len[l])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn where_the_factor_oracle_link_is_short() {
        // "abaabab": the longest repeated suffix of the whole word is "bab"? no: "abab" does not
        // occur earlier; "bab" does not either; "ab" ends first at 2.
        let mut t = RepeatTracker::new();
        let got: Vec<(u32, u32)> = b"abaabab".iter().map(|&c| t.push(c as Symbol)).collect();
        assert_eq!(got.last(), Some(&(2, 2)));
        assert_eq!(got[4], (2, 2)); // "abaab": "ab" ends first at 2
        assert_eq!(got[5], (3, 3)); // "abaaba": "aba" ends first at 3
    }
}
