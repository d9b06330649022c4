//! Transposition search: is the live input a corpus passage played in another key?
//!
//! The query is the chroma (pitch-class profile) of the last [`WINDOW`] live frames, cut into
//! [`PARTS`] consecutive parts so that the order of the harmony counts, not only its key. Each
//! corpus position has the same profile of the [`WINDOW`] frames ending there (prefix sums make
//! that O(1) per position). For each interval `t` in the allowed range the live profile is
//! rotated down by `t` semitones and compared (cosine, averaged over the parts) with every
//! corpus position; the interval of the best match wins if it beats the untransposed best by
//! [`MIN_GAIN`], and the answer is then transposed by `t` (the input is the corpus moved by `t`,
//! so the corpus' answer must move by `t` too).
//!
//! Cost per segment: corpus frames x intervals x PARTS x 12 multiply-adds (a one-minute corpus,
//! 12 intervals: about 2.6 M), on the worker thread.

/// Live frames in the query (about 0.43 s at 75 frames/s).
pub const WINDOW: usize = 32;
/// Consecutive parts of the window compared in order.
pub const PARTS: usize = 4;
/// How much better (mean cosine) a transposed match must be than the best untransposed one.
pub const MIN_GAIN: f32 = 0.05;
/// Widest search: -5..=+6 semitones covers every key once.
pub const MAX_DOWN: i8 = 5;
pub const MAX_UP: i8 = 6;

const PART_LEN: usize = WINDOW / PARTS;

/// A corpus' chroma prepared for searching.
#[derive(Clone, Debug, Default)]
pub struct ChromaIndex {
    /// Prefix sums of the per-frame chroma: `prefix[i]` sums frames `0..i`.
    prefix: Vec<[f32; 12]>,
}

/// The search's verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transposition {
    /// Semitones to add to the answer.
    pub interval: i8,
    /// Mean cosine of the best match at that interval (0..=1).
    pub score: f32,
    /// Last corpus frame of the best match.
    pub position: usize,
}

fn unit(v: [f32; 12]) -> [f32; 12] {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 1e-9 {
        v.map(|x| x / n)
    } else {
        [0.0; 12]
    }
}

impl ChromaIndex {
    /// Indexes the corpus' per-frame chroma.
    pub fn new(chroma: impl IntoIterator<Item = [f32; 12]>) -> Self {
        let mut prefix = vec![[0.0f32; 12]];
        let mut acc = [0.0f64; 12];
        for c in chroma {
            for (a, x) in acc.iter_mut().zip(c) {
                *a += f64::from(if x.is_finite() { x.max(0.0) } else { 0.0 });
            }
            prefix.push(acc.map(|a| a as f32));
        }
        Self { prefix }
    }

    /// Frames indexed.
    pub fn len(&self) -> usize {
        self.prefix.len() - 1
    }

    /// True when no frame is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Normalised profile of corpus frames `a..b`.
    fn part(&self, a: usize, b: usize) -> [f32; 12] {
        let (lo, hi) = (&self.prefix[a], &self.prefix[b]);
        unit(std::array::from_fn(|k| hi[k] - lo[k]))
    }

    /// Best interval for the live chroma `live` (oldest first; only the last [`WINDOW`] frames
    /// are used), searching `-down..=up` semitones. `None` when the window is not full, the
    /// corpus is shorter than it, or the live input has no pitch content.
    pub fn search(&self, live: &[[f32; 12]], down: i8, up: i8) -> Option<Transposition> {
        if live.len() < WINDOW || self.len() < WINDOW {
            return None;
        }
        let live = &live[live.len() - WINDOW..];
        let parts: [[f32; 12]; PARTS] = std::array::from_fn(|p| {
            let mut sum = [0.0f32; 12];
            for frame in &live[p * PART_LEN..(p + 1) * PART_LEN] {
                for (s, x) in sum.iter_mut().zip(frame) {
                    *s += if x.is_finite() { x.max(0.0) } else { 0.0 };
                }
            }
            unit(sum)
        });
        if parts.iter().all(|p| p.iter().all(|&x| x == 0.0)) {
            return None;
        }
        let (down, up) = (down.clamp(0, MAX_DOWN), up.clamp(0, MAX_UP));
        // Corpus part profiles at every end position, computed once.
        let positions = WINDOW..=self.len();
        let corpus: Vec<[[f32; 12]; PARTS]> = positions
            .clone()
            .map(|end| {
                let start = end - WINDOW;
                std::array::from_fn(|p| self.part(start + p * PART_LEN, start + (p + 1) * PART_LEN))
            })
            .collect();
        let best_at = |t: i8| -> Transposition {
            // The live profile moved down by t: bin k of the rotated profile is bin k + t.
            let rotated: [[f32; 12]; PARTS] = std::array::from_fn(|p| {
                std::array::from_fn(|k| parts[p][(k as i32 + t as i32).rem_euclid(12) as usize])
            });
            let mut best = Transposition {
                interval: t,
                score: f32::MIN,
                position: 0,
            };
            for (i, c) in corpus.iter().enumerate() {
                let mut score = 0.0;
                for p in 0..PARTS {
                    score += rotated[p]
                        .iter()
                        .zip(&c[p])
                        .map(|(a, b)| a * b)
                        .sum::<f32>();
                }
                score /= PARTS as f32;
                if score > best.score {
                    best.score = score;
                    best.position = i + WINDOW - 1;
                }
            }
            best
        };
        let untransposed = best_at(0);
        let mut best = untransposed;
        for t in (-down..=up).filter(|&t| t != 0) {
            let candidate = best_at(t);
            if candidate.score > best.score {
                best = candidate;
            }
        }
        Some(if best.score >= untransposed.score + MIN_GAIN {
            best
        } else {
            untransposed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Chroma of a chord (pitch classes) with a little noise.
    fn chord(pcs: &[usize], rng: &mut rand_pcg::Pcg32) -> [f32; 12] {
        let mut c: [f32; 12] = std::array::from_fn(|_| rng.random::<f32>() * 0.05);
        for &p in pcs {
            c[p % 12] += 1.0;
        }
        c
    }

    /// A corpus of chord progressions, 8 frames per chord.
    fn corpus(rng: &mut rand_pcg::Pcg32) -> Vec<[f32; 12]> {
        let progression: [&[usize]; 8] = [
            &[0, 4, 7],
            &[5, 9, 0],
            &[7, 11, 2],
            &[0, 4, 7],
            &[9, 0, 4],
            &[2, 5, 9],
            &[7, 11, 2, 5],
            &[0, 4, 7],
        ];
        let mut out = Vec::new();
        for _ in 0..4 {
            for c in progression {
                for _ in 0..8 {
                    out.push(chord(c, rng));
                }
            }
        }
        out
    }

    #[test]
    fn a_transposed_corpus_phrase_is_found_at_its_interval() {
        let mut rng = rand_pcg::Pcg32::seed_from_u64(5);
        let frames = corpus(&mut rng);
        let index = ChromaIndex::new(frames.iter().copied());
        for t in -MAX_DOWN..=MAX_UP {
            for start in [0usize, 40, 100] {
                // The corpus' frames start..start+WINDOW, moved up by t semitones.
                let live: Vec<[f32; 12]> = frames[start..start + WINDOW]
                    .iter()
                    .map(|c| {
                        std::array::from_fn(|k| c[(k as i32 - t as i32).rem_euclid(12) as usize])
                    })
                    .collect();
                let found = index.search(&live, MAX_DOWN, MAX_UP).unwrap();
                assert_eq!(
                    found.interval, t,
                    "phrase at {start} moved by {t}: {found:?}"
                );
                assert!(found.score > 0.95, "{found:?}");
            }
        }
    }

    #[test]
    fn the_range_limits_the_search_and_no_pitch_means_no_verdict() {
        let mut rng = rand_pcg::Pcg32::seed_from_u64(6);
        let frames = corpus(&mut rng);
        let index = ChromaIndex::new(frames.iter().copied());
        // A C major passage moved up a tritone: the full range finds it at +6, a +-2 range
        // cannot reach it. It does not stay put, though: a semitone down turns the passage's
        // F# major chords into F major ones, which the corpus has, and that partial match
        // (mean cosine 0.77) beats the best untransposed one by more than MIN_GAIN, so the
        // narrow search answers -1, inside its range and far below the tritone's match.
        let live: Vec<[f32; 12]> = frames[..WINDOW]
            .iter()
            .map(|c| std::array::from_fn(|k| c[(k as i32 - 6).rem_euclid(12) as usize]))
            .collect();
        let full = index.search(&live, MAX_DOWN, MAX_UP).unwrap();
        assert_eq!(full.interval, 6, "{full:?}");
        assert!(full.score > 0.95, "{full:?}");
        let narrow = index.search(&live, 2, 2).unwrap();
        assert!((-2..=2).contains(&narrow.interval), "{narrow:?}");
        assert!(narrow.score < full.score - 0.1, "{narrow:?} vs {full:?}");
        // With no range at all nothing moves.
        assert_eq!(index.search(&live, 0, 0).unwrap().interval, 0);
        // Silence (no chroma) and a short window give no verdict.
        assert!(index.search(&vec![[0.0; 12]; WINDOW], 5, 6).is_none());
        assert!(index.search(&live[..WINDOW - 1], 5, 6).is_none());
    }
}
