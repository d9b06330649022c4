//! Pitch facts the whole crate shares: MIDI note <-> frequency, how a spectrum bin's energy is
//! split between the two nearest pitch classes for chroma, the chroma band, and the notes one
//! analysis frame holds ([`FramePitches`]). One home, so the spectral encoder, the payload, the
//! synthesiser, the corpus and the answer cannot disagree.

use serde::{Deserialize, Serialize};

/// Most notes one frame carries (the payload's polyphony).
pub const MAX_VOICES: usize = 4;
/// Chroma is computed on bins in this range (C1..~C8).
pub const CHROMA_FMIN_HZ: f32 = 50.0;
/// Upper chroma limit.
pub const CHROMA_FMAX_HZ: f32 = 5_000.0;

/// Frequency of MIDI note `note` (A4 = 69 = 440 Hz, equal temperament), Hz.
pub fn midi_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// Fractional MIDI note of `freq_hz` (the inverse of [`midi_hz`]).
pub fn hz_midi(freq_hz: f32) -> f32 {
    69.0 + 12.0 * (freq_hz / 440.0).log2()
}

/// How a spectrum bin at `freq_hz` feeds chroma: (pitch class, weight) for the two nearest
/// pitch classes (C = 0), split linearly by the fractional pitch class; both weights 0 outside
/// [`CHROMA_FMIN_HZ`]`..=`[`CHROMA_FMAX_HZ`].
pub fn pitch_class_split(freq_hz: f32) -> [(usize, f32); 2] {
    if !(CHROMA_FMIN_HZ..=CHROMA_FMAX_HZ).contains(&freq_hz) {
        return [(0, 0.0), (0, 0.0)];
    }
    let pc = hz_midi(freq_hz).rem_euclid(12.0);
    let lo = pc.floor();
    let frac = pc - lo;
    let a = lo as usize % 12;
    [(a, 1.0 - frac), ((a + 1) % 12, frac)]
}

/// [`pitch_class_split`] for every bin of an `n_fft` spectrum at `rate_hz` (bin `b` at
/// `b * rate_hz / n_fft` Hz).
pub fn chroma_map(rate_hz: u32, n_fft: usize) -> Vec<[(usize, f32); 2]> {
    let bin_hz = rate_hz as f32 / n_fft as f32;
    (0..n_fft / 2 + 1)
        .map(|b| pitch_class_split(b as f32 * bin_hz))
        .collect()
}

/// The MIDI notes one frame holds, at most [`MAX_VOICES`], strongest first. `Copy`, no heap:
/// the payload, the corpus frames and the answer all carry this one type. Serialised as a
/// sequence of `u8` (the same bytes as a `Vec<u8>`); more than [`MAX_VOICES`] is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FramePitches {
    notes: [u8; MAX_VOICES],
    len: u8,
}

impl FramePitches {
    /// No notes.
    pub const EMPTY: Self = Self {
        notes: [0; MAX_VOICES],
        len: 0,
    };

    /// The first [`MAX_VOICES`] of `notes`.
    pub fn from_slice(notes: &[u8]) -> Self {
        let mut out = Self::EMPTY;
        for &n in notes.iter().take(MAX_VOICES) {
            out.push(n);
        }
        out
    }

    /// Appends `note`; `false` (and nothing changes) when full.
    pub fn push(&mut self, note: u8) -> bool {
        if (self.len as usize) < MAX_VOICES {
            self.notes[self.len as usize] = note;
            self.len += 1;
            true
        } else {
            false
        }
    }

    /// The notes.
    pub fn as_slice(&self) -> &[u8] {
        &self.notes[..self.len as usize]
    }

    /// Number of notes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// No notes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::ops::Deref for FramePitches {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Serialize for FramePitches {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

impl<'de> Deserialize<'de> for FramePitches {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Notes;
        impl<'de> serde::de::Visitor<'de> for Notes {
            type Value = FramePitches;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "at most {MAX_VOICES} MIDI notes")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = FramePitches::EMPTY;
                while let Some(n) = seq.next_element::<u8>()? {
                    if !out.push(n) {
                        return Err(serde::de::Error::invalid_length(MAX_VOICES + 1, &self));
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(Notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_frequencies() {
        assert_eq!(midi_hz(69.0), 440.0);
        assert!((midi_hz(60.0) - 261.6256).abs() < 1e-3);
        assert!((hz_midi(midi_hz(47.3)) - 47.3).abs() < 1e-4);
    }

    #[test]
    fn a_bin_feeds_its_two_nearest_pitch_classes() {
        // A4 exactly: all of it to A (9).
        let [(a, wa), (_, wb)] = pitch_class_split(440.0);
        assert_eq!((a, wa, wb), (9, 1.0, 0.0));
        // A quarter tone above B: half to B (11), half to C (0), wrapping.
        let [(a, wa), (b, wb)] = pitch_class_split(midi_hz(71.5));
        assert_eq!((a, b), (11, 0));
        assert!((wa - 0.5).abs() < 1e-4 && (wb - 0.5).abs() < 1e-4);
        // Outside the chroma band: nothing.
        assert_eq!(
            pitch_class_split(40.0)[0].1 + pitch_class_split(6_000.0)[0].1,
            0.0
        );
    }

    /// A frame's notes serialise exactly like the `Vec<u8>` corpus files held before, and more
    /// than four are refused.
    #[test]
    fn frame_pitches_have_the_bytes_of_a_vec() {
        for notes in [vec![], vec![60], vec![60, 64, 67, 72]] {
            let ours = postcard::to_stdvec(&FramePitches::from_slice(&notes)).unwrap();
            assert_eq!(ours, postcard::to_stdvec(&notes).unwrap());
            let back: FramePitches = postcard::from_bytes(&ours).unwrap();
            assert_eq!(back.as_slice(), &notes[..]);
        }
        let five = postcard::to_stdvec(&vec![1u8, 2, 3, 4, 5]).unwrap();
        assert!(postcard::from_bytes::<FramePitches>(&five).is_err());
        let mut p = FramePitches::from_slice(&[1, 2, 3, 4, 5]);
        assert_eq!(p.len(), 4);
        assert!(!p.push(9));
    }
}
