//! Improvising on an oracle: free navigation (vmo's `improvise_step`, OMax) and query-guided
//! navigation (OMax / Somax: jump to where the corpus' context matches what was just played).
//!
//! One [`Navigator::step`] is one output frame. `step*` allocate nothing once the candidate
//! buffer has grown to its working size, so the worker can call them per frame.

use rand::{Rng, RngExt};

use super::{Oracle, OracleError, Symbol, NO_SUFFIX};

/// Longest query context compared, in frames (a bit over 0.4 s at 75 frames/s).
pub const MAX_QUERY_LEN: usize = 32;

/// Where the improvisation is in the oracle, and how it moves.
///
/// Owned by the worker; the oracle is passed to every step so it can be extended between steps
/// (live learning).
#[derive(Clone, Debug)]
pub struct Navigator {
    /// Current state (0 = not started; state `i >= 1` is frame `i - 1`).
    state: usize,
    /// Probability (0..=1) of continuing linearly `i -> i + 1` rather than jumping.
    continuity: f32,
    /// Candidate buffer, reused across steps.
    candidates: Vec<u32>,
    /// Shared context length of each candidate (preferring steps only), reused across steps.
    matches: Vec<u16>,
}

impl Navigator {
    /// A navigator at the initial state. `continuity` is clamped to 0..=1 (NaN -> 0).
    pub fn new(continuity: f32) -> Self {
        let mut nav = Self {
            state: 0,
            continuity: 0.0,
            candidates: Vec::with_capacity(256),
            matches: Vec::with_capacity(256),
        };
        nav.set_continuity(continuity);
        nav
    }

    /// Probability of a linear continuation.
    pub fn continuity(&self) -> f32 {
        self.continuity
    }

    /// Sets the probability of a linear continuation (clamped to 0..=1, NaN -> 0).
    pub fn set_continuity(&mut self, continuity: f32) {
        self.continuity = if continuity.is_nan() {
            0.0
        } else {
            continuity.clamp(0.0, 1.0)
        };
    }

    /// The current state.
    pub fn state(&self) -> usize {
        self.state
    }

    /// Moves to `state` (e.g. to resume); clamped to the oracle's last state on the next step.
    pub fn set_state(&mut self, state: usize) {
        self.state = state;
    }

    /// Back to the initial state.
    pub fn reset(&mut self) {
        self.state = 0;
    }

    fn continues<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        self.continuity >= 1.0 || (self.continuity > 0.0 && rng.random::<f32>() < self.continuity)
    }

    /// One free move; returns the new state (0 only for an empty oracle).
    ///
    /// With probability `continuity` (and always from state 0) the next frame follows linearly;
    /// otherwise, and always at the end of the sequence, it jumps to `c + 1` where `c` shares
    /// context with the current state `i`: `sfx[i]` (when it has a repeated suffix), the states
    /// whose suffix link is `i`, and the states sharing `i`'s suffix link. Without any such `c`
    /// it restarts after `sfx[i]`.
    pub fn step<R: Rng + ?Sized>(&mut self, oracle: &Oracle, rng: &mut R) -> usize {
        let n = oracle.len();
        if n == 0 {
            self.state = 0;
            return 0;
        }
        let i = self.state.min(n);
        self.state = if i == 0 || (i < n && self.continues(rng)) {
            i + 1
        } else {
            self.jump(oracle, i, rng)
        };
        self.state
    }

    fn jump<R: Rng + ?Sized>(&mut self, oracle: &Oracle, i: usize, rng: &mut R) -> usize {
        let n = oracle.len();
        if i == 0 {
            return 1;
        }
        let s = oracle.sfx()[i];
        self.candidates.clear();
        let usable = |c: u32| c as usize != i && (c as usize) < n;
        if s != 0 && s != NO_SUFFIX {
            if usable(s) {
                self.candidates.push(s);
            }
            self.candidates.extend(
                oracle
                    .reverse_suffix(s as usize)
                    .iter()
                    .copied()
                    .filter(|&c| usable(c)),
            );
        }
        self.candidates.extend(
            oracle
                .reverse_suffix(i)
                .iter()
                .copied()
                .filter(|&c| usable(c)),
        );
        if self.candidates.is_empty() {
            // No shared context: restart after the suffix link (state 1 when it is 0).
            return if s == NO_SUFFIX { 1 } else { s as usize + 1 };
        }
        let c = self.candidates[rng.random_range(0..self.candidates.len())];
        c as usize + 1
    }

    /// One query-guided move. `query` is the recent live symbol sequence (oldest first, in the
    /// oracle's alphabet: packed by the same [`super::DriveStream`], or latent labels for the
    /// audio kind).
    ///
    /// With probability `continuity` (when not at the start or the end) it continues linearly.
    /// Otherwise it jumps to `c + 1` for the state `c` whose preceding context `s[..c]` shares
    /// the longest suffix with the query (up to [`MAX_QUERY_LEN`]; ties broken by `rng`); when
    /// the query's last symbol never occurs (before the end), it falls back to a free jump.
    pub fn step_guided<R: Rng + ?Sized>(
        &mut self,
        oracle: &Oracle,
        query: &[Symbol],
        rng: &mut R,
    ) -> usize {
        self.step_guided_taboo(oracle, query, rng, &|_| false)
    }

    /// [`Self::step_guided`] with a taboo: a state for which `taboo(state)` holds (e.g. played
    /// within the last few seconds) is not entered, neither by continuing linearly nor by a
    /// jump, unless no other candidate matches the query's last symbol at all; then the step
    /// is taken as without the taboo (the linear continuation the continuity drew, else the
    /// best-matching jump), so an exhausted context keeps flowing instead of re-entering the
    /// one best match every frame.
    pub fn step_guided_taboo<R: Rng + ?Sized>(
        &mut self,
        oracle: &Oracle,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
    ) -> usize {
        self.step_guided_preferring(oracle, query, rng, taboo, &|_| 0.0, 0.0)
    }

    /// [`Self::step_guided_taboo`] whose jump also weighs what the candidate states are:
    /// with `weight` > 0, every state that follows the query's last symbol (not only those
    /// sharing the longest context) is a candidate, scored `(1 - weight) x m / longest +
    /// weight x prefer(state)` for a shared context of `m` symbols, `prefer` in 0..=1; the
    /// best score is taken (ties broken by `rng`). With `weight` 0 this is
    /// [`Self::step_guided_taboo`], draw for draw. The linear continuation is still decided by
    /// the continuity alone. (Somax2 weighs its candidates by melodic and harmonic influences
    /// in the same way.)
    pub fn step_guided_preferring<R: Rng + ?Sized>(
        &mut self,
        oracle: &Oracle,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
        prefer: &dyn Fn(usize) -> f32,
        weight: f32,
    ) -> usize {
        self.step_weighing(oracle, query, rng, taboo, prefer, weight, false)
    }

    /// [`Self::step_guided_preferring`] whose jump weighs *every* state (with `weight` > 0):
    /// one that does not follow the query's last symbol shares no context (`m` = 0) and can
    /// still win on `prefer`. For an alphabet so large that few states follow any one symbol
    /// (the event oracle's labels), where the last symbol alone would leave no choice.
    pub fn step_guided_weighing_all<R: Rng + ?Sized>(
        &mut self,
        oracle: &Oracle,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
        prefer: &dyn Fn(usize) -> f32,
        weight: f32,
    ) -> usize {
        self.step_weighing(oracle, query, rng, taboo, prefer, weight, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn step_weighing<R: Rng + ?Sized>(
        &mut self,
        oracle: &Oracle,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
        prefer: &dyn Fn(usize) -> f32,
        weight: f32,
        all: bool,
    ) -> usize {
        let weight = if weight.is_finite() {
            weight.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let n = oracle.len();
        let Some(&last) = query.last() else {
            return self.step(oracle, rng);
        };
        if n == 0 {
            self.state = 0;
            return 0;
        }
        let i = self.state.min(n);
        let linear = i > 0 && i < n && self.continues(rng);
        if linear && !taboo(i + 1) {
            self.state = i + 1;
            return self.state;
        }
        let q = &query[query.len().saturating_sub(MAX_QUERY_LEN)..];
        let seq = oracle.sequence();
        for allow_taboo in [false, true] {
            if allow_taboo && linear {
                // Nothing else matches: continue as without the taboo.
                self.state = i + 1;
                return self.state;
            }
            self.candidates.clear();
            self.matches.clear();
            let mut best_len = 0usize;
            let everyone = all && weight > 0.0;
            let pool: &[u32] = if everyone {
                &[]
            } else {
                oracle.states_with_symbol(last)
            };
            let pool = pool
                .iter()
                .map(|&c| c as usize)
                .chain(if everyone { 1..n } else { 0..0 });
            for c in pool {
                if c >= n || (!allow_taboo && taboo(c + 1)) {
                    continue;
                }
                // Context of state c is seq[..c] (c >= 1); its last symbol is seq[c - 1].
                let max = q.len().min(c);
                let mut m = usize::from(seq[c - 1] == last);
                while m > 0 && m < max && seq[c - 1 - m] == q[q.len() - 1 - m] {
                    m += 1;
                }
                if weight > 0.0 {
                    best_len = best_len.max(m);
                    self.candidates.push(c as u32);
                    self.matches.push(m as u16);
                    continue;
                }
                if m > best_len {
                    best_len = m;
                    self.candidates.clear();
                }
                if m == best_len {
                    self.candidates.push(c as u32);
                }
            }
            if weight > 0.0 && !self.candidates.is_empty() {
                // The best score; ties counted, then one of them drawn.
                let score = |k: usize| {
                    let c = self.candidates[k] as usize;
                    let p = prefer(c + 1);
                    let p = if p.is_finite() {
                        p.clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    (1.0 - weight) * f32::from(self.matches[k]) / best_len.max(1) as f32
                        + weight * p
                };
                let mut best = f32::NEG_INFINITY;
                let mut ties = 0usize;
                for k in 0..self.candidates.len() {
                    let s = score(k);
                    if s > best + 1e-6 {
                        best = s;
                        ties = 1;
                    } else if (s - best).abs() <= 1e-6 {
                        ties += 1;
                    }
                }
                let mut pick = rng.random_range(0..ties);
                for k in 0..self.candidates.len() {
                    if (score(k) - best).abs() <= 1e-6 {
                        if pick == 0 {
                            self.state = self.candidates[k] as usize + 1;
                            return self.state;
                        }
                        pick -= 1;
                    }
                }
            }
            if !self.candidates.is_empty() {
                self.state =
                    self.candidates[rng.random_range(0..self.candidates.len())] as usize + 1;
                return self.state;
            }
        }
        self.state = self.jump(oracle, i, rng);
        self.state
    }

    /// `steps` free moves (vmo's `improvise`): the visited states.
    pub fn improvise<R: Rng + ?Sized>(
        &mut self,
        oracle: &Oracle,
        steps: usize,
        rng: &mut R,
    ) -> Vec<usize> {
        (0..steps).map(|_| self.step(oracle, rng)).collect()
    }
}

/// An oracle that learns live, with its navigator and the payload index of each state: what the
/// worker owns. Corpus states carry their frame index (`state - 1`); appended states carry the
/// caller's index (e.g. into a live frame buffer).
#[derive(Clone, Debug)]
pub struct Improviser {
    oracle: Oracle,
    navigator: Navigator,
    /// Payload index of each state (`payload[0]` unused).
    payload: Vec<u32>,
}

impl Improviser {
    /// Wraps a (corpus) oracle; state `i` gets payload `i - 1`.
    pub fn new(oracle: Oracle, continuity: f32) -> Self {
        let payload = (0..oracle.num_states() as u32)
            .map(|i| i.saturating_sub(1))
            .collect();
        Self {
            oracle,
            navigator: Navigator::new(continuity),
            payload,
        }
    }

    /// Live learning: adds a state for `symbol` (factor kind), carrying `payload_index`.
    pub fn append(&mut self, symbol: Symbol, payload_index: u32) -> Result<usize, OracleError> {
        let state = self.oracle.add_symbol(symbol)?;
        self.payload.push(payload_index);
        Ok(state)
    }

    /// Live learning for the audio kind: adds a state for `feature`, carrying `payload_index`.
    pub fn append_feature(
        &mut self,
        feature: &[f32],
        payload_index: u32,
    ) -> Result<usize, OracleError> {
        let state = self.oracle.add_feature(feature)?;
        self.payload.push(payload_index);
        Ok(state)
    }

    /// One free move: the payload index to play, `None` for an empty oracle.
    pub fn step<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<u32> {
        let s = self.navigator.step(&self.oracle, rng);
        (s > 0).then(|| self.payload[s])
    }

    /// One query-guided move: the payload index to play, `None` for an empty oracle.
    pub fn step_guided<R: Rng + ?Sized>(&mut self, query: &[Symbol], rng: &mut R) -> Option<u32> {
        let s = self.navigator.step_guided(&self.oracle, query, rng);
        (s > 0).then(|| self.payload[s])
    }

    /// One query-guided move avoiding states for which `taboo(state)` holds when it can (see
    /// [`Navigator::step_guided_taboo`]); returns the payload index, `None` for an empty oracle.
    pub fn step_guided_taboo<R: Rng + ?Sized>(
        &mut self,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
    ) -> Option<u32> {
        let s = self
            .navigator
            .step_guided_taboo(&self.oracle, query, rng, taboo);
        (s > 0).then(|| self.payload[s])
    }

    /// One query-guided move whose jumps also weigh `prefer`, called with a candidate's payload
    /// index (see [`Navigator::step_guided_preferring`]); returns the payload index, `None` for
    /// an empty oracle.
    pub fn step_guided_preferring<R: Rng + ?Sized>(
        &mut self,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
        prefer: &dyn Fn(usize) -> f32,
        weight: f32,
    ) -> Option<u32> {
        self.step_weighing(query, rng, taboo, prefer, weight, false)
    }

    /// [`Self::step_guided_preferring`] weighing every state
    /// ([`Navigator::step_guided_weighing_all`]).
    pub fn step_guided_weighing_all<R: Rng + ?Sized>(
        &mut self,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
        prefer: &dyn Fn(usize) -> f32,
        weight: f32,
    ) -> Option<u32> {
        self.step_weighing(query, rng, taboo, prefer, weight, true)
    }

    fn step_weighing<R: Rng + ?Sized>(
        &mut self,
        query: &[Symbol],
        rng: &mut R,
        taboo: &dyn Fn(usize) -> bool,
        prefer: &dyn Fn(usize) -> f32,
        weight: f32,
        all: bool,
    ) -> Option<u32> {
        let payload = &self.payload;
        let by_payload = |state: usize| payload.get(state).map_or(0.0, |&p| prefer(p as usize));
        let s =
            self.navigator
                .step_weighing(&self.oracle, query, rng, taboo, &by_payload, weight, all);
        (s > 0).then(|| self.payload[s])
    }

    /// The oracle.
    pub fn oracle(&self) -> &Oracle {
        &self.oracle
    }

    /// The navigator (continuity, state).
    pub fn navigator_mut(&mut self) -> &mut Navigator {
        &mut self.navigator
    }

    /// Payload index of `state` (>= 1).
    pub fn payload(&self, state: usize) -> u32 {
        self.payload[state]
    }
}

#[cfg(test)]
mod tests {
    use super::super::DriveStream;
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn empty_oracle_stays_at_zero() {
        let o = Oracle::new_factor(DriveStream::Harmonic);
        let mut rng = rand_pcg::Pcg32::seed_from_u64(1);
        let mut nav = Navigator::new(0.5);
        assert_eq!(nav.step(&o, &mut rng), 0);
        assert_eq!(nav.step_guided(&o, &[1, 2], &mut rng), 0);
    }

    #[test]
    fn steps_stay_in_range_and_jumps_share_context() {
        let seq: Vec<Symbol> = b"abcabdabcabdabcaaab"
            .iter()
            .map(|&b| b as Symbol)
            .collect();
        let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        let mut rng = rand_pcg::Pcg32::seed_from_u64(3);
        let mut nav = Navigator::new(0.3);
        let mut prev = 0;
        for _ in 0..2000 {
            let s = nav.step(&o, &mut rng);
            assert!((1..=o.len()).contains(&s));
            if s != prev + 1 && prev > 0 {
                // A jump lands after a state c with c related to prev by suffix links.
                let c = s - 1;
                let sfx = o.sfx();
                let related = c == sfx[prev] as usize
                    || sfx[c] as usize == prev
                    || (sfx[c] == sfx[prev] && sfx[c] != 0)
                    || c == sfx[prev] as usize;
                assert!(related, "jump {prev} -> {s}");
            }
            prev = s;
        }
    }

    /// "xab...yb...zb": after the query "ab", the longest shared context is state 3 (after
    /// "xab"); the other "b"s share one symbol. Without a preference every jump lands after
    /// "xab"; with one, the preferred "zb" wins once its weight outweighs the context.
    #[test]
    fn a_preference_weighs_candidates_against_the_shared_context() {
        let seq: Vec<Symbol> = b"xabcyb_czb-c".iter().map(|&b| b as Symbol).collect();
        let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        let query: Vec<Symbol> = b"ab".iter().map(|&b| b as Symbol).collect();
        // The states that follow each "b": 4 (after "xab"), 7 (after "yb"), 11 (after "zb").
        let prefer = |state: usize| if state == 11 { 1.0 } else { 0.0 };
        let land = |weight: f32, seed: u64| {
            let mut rng = rand_pcg::Pcg32::seed_from_u64(seed);
            let mut nav = Navigator::new(0.0);
            nav.set_state(1);
            nav.step_guided_preferring(&o, &query, &mut rng, &|_| false, &prefer, weight)
        };
        for seed in 0..20 {
            assert_eq!(land(0.0, seed), 4, "no preference: longest context");
            // Context scores 1 vs 1/2: weight 0.2 gives 0.8 against 0.4 + 0.2.
            assert_eq!(land(0.2, seed), 4, "a weak preference keeps the context");
            assert_eq!(land(0.6, seed), 11, "a strong preference wins");
        }
        // Weight 0 is step_guided_taboo draw for draw.
        let mut a = Navigator::new(0.5);
        let mut b = Navigator::new(0.5);
        let (mut ra, mut rb) = (
            rand_pcg::Pcg32::seed_from_u64(9),
            rand_pcg::Pcg32::seed_from_u64(9),
        );
        for _ in 0..200 {
            let x = a.step_guided_taboo(&o, &query, &mut ra, &|s| s % 3 == 0);
            let y = b.step_guided_preferring(&o, &query, &mut rb, &|s| s % 3 == 0, &prefer, 0.0);
            assert_eq!(x, y);
        }
    }

    /// Weighing every state: on "xabcyb_czb-c" after the query "ab", a state that follows no
    /// "b" (shared context 0) wins when it is preferred strongly enough, and never when only
    /// the states after the last symbol are weighed. A taboo state is left out as before.
    #[test]
    fn weighing_every_state_lets_the_preference_reach_past_the_last_symbol() {
        let seq: Vec<Symbol> = b"xabcyb_czb-c".iter().map(|&b| b as Symbol).collect();
        let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        let query: Vec<Symbol> = b"ab".iter().map(|&b| b as Symbol).collect();
        // State 8 follows "_" (state 7 = "_"): no "b" before it.
        let prefer = |state: usize| if state == 8 { 1.0 } else { 0.0 };
        let land = |weight: f32, all: bool, taboo: &dyn Fn(usize) -> bool| {
            let mut rng = rand_pcg::Pcg32::seed_from_u64(5);
            let mut nav = Navigator::new(0.0);
            nav.set_state(1);
            if all {
                nav.step_guided_weighing_all(&o, &query, &mut rng, taboo, &prefer, weight)
            } else {
                nav.step_guided_preferring(&o, &query, &mut rng, taboo, &prefer, weight)
            }
        };
        let none = |_: usize| false;
        // After "xab" (state 4) the context scores (1 - w) x 1; state 8 scores w x 1.
        assert_eq!(
            land(0.3, true, &none),
            4,
            "the context outweighs a weak preference"
        );
        assert_eq!(
            land(0.8, true, &none),
            8,
            "a strong preference reaches past the symbol"
        );
        assert_eq!(
            land(0.8, false, &none),
            4,
            "only states after a b are weighed"
        );
        assert_eq!(land(0.8, true, &|s| s == 8), 4, "the taboo holds");
        // Weight 0 weighs nothing: the longest context, as step_guided_taboo.
        assert_eq!(land(0.0, true, &none), 4);
    }

    #[test]
    fn improviser_appends_live_states_with_payloads() {
        let o = Oracle::from_symbols(DriveStream::Harmonic, &[1, 2, 3]);
        let mut imp = Improviser::new(o, 1.0);
        let mut rng = rand_pcg::Pcg32::seed_from_u64(3);
        assert_eq!(imp.append(1, 1000).unwrap(), 4);
        assert_eq!(imp.append(2, 1001).unwrap(), 5);
        let played: Vec<u32> = (0..5).filter_map(|_| imp.step(&mut rng)).collect();
        assert_eq!(played, vec![0, 1, 2, 1000, 1001]);
        assert_eq!(imp.oracle().lrs()[5], 2);
    }
}
