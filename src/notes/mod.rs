//! Note events of a source recording: what the corpus stores per recording besides its frames.
//!
//! A [`NoteEvent`] is one note in seconds from the start of its recording. Notes come from one
//! of three [`NoteSource`]s:
//! - [`NoteSource::BasicPitch`]: Spotify's Basic Pitch network over the whole recording, decoded
//!   into notes as basic-pitch 0.4.0's own note creation does ([`basic_pitch`]);
//! - [`NoteSource::Dsp`]: the built-in DSP note tracker over the spectral path's pitch
//!   salience ([`dsp`]; when `nmp.onnx` is absent);
//! - [`NoteSource::Given`]: a MIDI file that comes with the recording ([`midi_file`]).
//!
//! [`metrics`] scores a set of notes against a reference the way mir_eval does (note onset F1
//! at 50 ms, frame multi-pitch F1 at 75 frames/s).
//!
//! Not real-time code: everything here allocates. Use it in the trainer, the CLI and the worker,
//! never in `process()`.

pub mod basic_pitch;
pub mod dsp;
pub mod fluidsynth;
pub mod metrics;
pub mod midi_file;

use std::fmt;
use std::str::FromStr;

/// Highest MIDI note number.
pub const MAX_MIDI_PITCH: u8 = 127;
/// Lowest velocity of a sounding note (MIDI velocity 0 means note off).
pub const MIN_VELOCITY: u8 = 1;
/// Highest MIDI velocity.
pub const MAX_VELOCITY: u8 = 127;

/// One note of a source recording.
///
/// Times are seconds (f64) from the recording's first sample, independent of any sample rate:
/// the recording may be stored, resampled or analysed at several rates, and Basic Pitch and
/// MIDI files both give seconds. `pitch` is a MIDI note number (0..=127, 60 = middle C);
/// `velocity` is a MIDI velocity, 1..=127 (a sounding note never has velocity 0, which MIDI
/// reads as note off).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoteEvent {
    /// Start, seconds from the recording's first sample.
    pub onset_s: f64,
    /// End, seconds; strictly after `onset_s`.
    pub offset_s: f64,
    /// MIDI note number, 0..=127.
    pub pitch: u8,
    /// MIDI velocity, 1..=127.
    pub velocity: u8,
}

impl NoteEvent {
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.offset_s - self.onset_s
    }

    /// Frequency of the pitch in Hz (equal temperament, A4 = MIDI 69 = 440 Hz).
    pub fn pitch_hz(&self) -> f64 {
        midi_to_hz(f64::from(self.pitch))
    }
}

/// Hz of a (possibly fractional) MIDI note number: `440 * 2^((m - 69) / 12)`, as
/// `mir_eval.util.midi_to_hz` computes it.
pub fn midi_to_hz(midi: f64) -> f64 {
    440.0 * 2f64.powf((midi - 69.0) / 12.0)
}

/// Where a recording's notes came from. Its [`NoteSource::id`] is the stable name stored in
/// files and printed by the CLI; serde reads and writes that name, not a variant index, so the
/// variants may be reordered without breaking stored corpora.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteSource {
    /// Basic Pitch posteriors decoded by [`basic_pitch`] (`"basic-pitch"`).
    BasicPitch,
    /// The built-in DSP pitch tracker (`"dsp"`).
    Dsp,
    /// Notes given with the recording, e.g. its MIDI file (`"given"`).
    Given,
}

impl NoteSource {
    /// Every source, in a fixed order.
    pub const ALL: [NoteSource; 3] = [NoteSource::BasicPitch, NoteSource::Dsp, NoteSource::Given];

    /// The stable string id: `"basic-pitch"`, `"dsp"` or `"given"`.
    pub fn id(self) -> &'static str {
        match self {
            NoteSource::BasicPitch => "basic-pitch",
            NoteSource::Dsp => "dsp",
            NoteSource::Given => "given",
        }
    }
}

impl fmt::Display for NoteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A note source id that is none of [`NoteSource::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown note source {id:?}: use one of \"basic-pitch\", \"dsp\", \"given\"")]
pub struct UnknownNoteSource {
    /// The id that was given.
    pub id: String,
}

impl FromStr for NoteSource {
    type Err = UnknownNoteSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NoteSource::ALL
            .into_iter()
            .find(|source| source.id() == s)
            .ok_or_else(|| UnknownNoteSource { id: s.to_owned() })
    }
}

impl serde::Serialize for NoteSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for NoteSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a note list is not valid corpus notes. `index` is the note's position in the list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoteError {
    /// A time is NaN or infinite.
    #[error("note {index}: onset {onset_s} s / offset {offset_s} s is not a finite time; drop or fix that note")]
    NonFiniteTime {
        index: usize,
        onset_s: f64,
        offset_s: f64,
    },
    /// The note starts before the recording.
    #[error("note {index} starts at {onset_s} s, before the recording; times count from its first sample")]
    NegativeOnset { index: usize, onset_s: f64 },
    /// The note does not end after it starts.
    #[error("note {index} ends at {offset_s} s, not after its onset at {onset_s} s; a note needs a positive length")]
    NotAfterOnset {
        index: usize,
        onset_s: f64,
        offset_s: f64,
    },
    /// The pitch is not a MIDI note number.
    #[error("note {index} has pitch {pitch}, outside MIDI 0..=127")]
    PitchOutOfRange { index: usize, pitch: u8 },
    /// The velocity is 0 (note off) or above 127.
    #[error("note {index} has velocity {velocity}, outside 1..=127 (0 is a note off in MIDI)")]
    VelocityOutOfRange { index: usize, velocity: u8 },
}

/// Checks every note: finite times, `0 <= onset < offset`, pitch 0..=127, velocity 1..=127.
/// Returns the first problem found.
pub fn validate(notes: &[NoteEvent]) -> Result<(), NoteError> {
    for (index, n) in notes.iter().enumerate() {
        if !n.onset_s.is_finite() || !n.offset_s.is_finite() {
            return Err(NoteError::NonFiniteTime {
                index,
                onset_s: n.onset_s,
                offset_s: n.offset_s,
            });
        }
        if n.onset_s < 0.0 {
            return Err(NoteError::NegativeOnset {
                index,
                onset_s: n.onset_s,
            });
        }
        if n.offset_s <= n.onset_s {
            return Err(NoteError::NotAfterOnset {
                index,
                onset_s: n.onset_s,
                offset_s: n.offset_s,
            });
        }
        if n.pitch > MAX_MIDI_PITCH {
            return Err(NoteError::PitchOutOfRange {
                index,
                pitch: n.pitch,
            });
        }
        if !(MIN_VELOCITY..=MAX_VELOCITY).contains(&n.velocity) {
            return Err(NoteError::VelocityOutOfRange {
                index,
                velocity: n.velocity,
            });
        }
    }
    Ok(())
}

/// Sorts notes into the canonical order: onset, then pitch, then offset, then velocity
/// (times compared with `total_cmp`, so the order is total even for NaN).
pub fn sort_notes(notes: &mut [NoteEvent]) {
    notes.sort_by(|a, b| {
        a.onset_s
            .total_cmp(&b.onset_s)
            .then(a.pitch.cmp(&b.pitch))
            .then(a.offset_s.total_cmp(&b.offset_s))
            .then(a.velocity.cmp(&b.velocity))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(onset_s: f64, offset_s: f64, pitch: u8, velocity: u8) -> NoteEvent {
        NoteEvent {
            onset_s,
            offset_s,
            pitch,
            velocity,
        }
    }

    #[test]
    fn source_ids_round_trip_and_are_stable() {
        assert_eq!(NoteSource::BasicPitch.id(), "basic-pitch");
        assert_eq!(NoteSource::Dsp.id(), "dsp");
        assert_eq!(NoteSource::Given.id(), "given");
        for source in NoteSource::ALL {
            assert_eq!(source.id().parse::<NoteSource>(), Ok(source));
            assert_eq!(source.to_string(), source.id());
        }
        let err = "BasicPitch".parse::<NoteSource>().unwrap_err();
        assert_eq!(err.id, "BasicPitch");
        assert!(err.to_string().contains("\"basic-pitch\""), "{err}");
    }

    #[test]
    fn source_serialises_as_its_id_in_json_and_postcard() {
        assert_eq!(
            serde_json::to_string(&NoteSource::BasicPitch).unwrap(),
            "\"basic-pitch\""
        );
        assert_eq!(
            serde_json::from_str::<NoteSource>("\"given\"").unwrap(),
            NoteSource::Given
        );
        assert!(serde_json::from_str::<NoteSource>("\"midi\"").is_err());
        // postcard: a length-prefixed string, not a variant index.
        let bytes = postcard::to_stdvec(&NoteSource::Dsp).unwrap();
        assert_eq!(bytes, [3, b'd', b's', b'p']);
        assert_eq!(
            postcard::from_bytes::<NoteSource>(&bytes).unwrap(),
            NoteSource::Dsp
        );
    }

    #[test]
    fn validate_accepts_good_notes_and_names_the_first_bad_one() {
        let good = [note(0.0, 0.5, 60, 1), note(0.25, 0.26, 127, 127)];
        assert_eq!(validate(&good), Ok(()));
        assert_eq!(validate(&[]), Ok(()));

        let cases = [
            (
                note(f64::NAN, 1.0, 60, 64),
                NoteError::NonFiniteTime {
                    index: 1,
                    onset_s: f64::NAN,
                    offset_s: 1.0,
                },
            ),
            (
                note(-0.001, 1.0, 60, 64),
                NoteError::NegativeOnset {
                    index: 1,
                    onset_s: -0.001,
                },
            ),
            (
                note(1.0, 1.0, 60, 64),
                NoteError::NotAfterOnset {
                    index: 1,
                    onset_s: 1.0,
                    offset_s: 1.0,
                },
            ),
            (
                note(1.0, 0.5, 60, 64),
                NoteError::NotAfterOnset {
                    index: 1,
                    onset_s: 1.0,
                    offset_s: 0.5,
                },
            ),
            (
                note(0.0, 1.0, 128, 64),
                NoteError::PitchOutOfRange {
                    index: 1,
                    pitch: 128,
                },
            ),
            (
                note(0.0, 1.0, 60, 0),
                NoteError::VelocityOutOfRange {
                    index: 1,
                    velocity: 0,
                },
            ),
            (
                note(0.0, 1.0, 60, 128),
                NoteError::VelocityOutOfRange {
                    index: 1,
                    velocity: 128,
                },
            ),
        ];
        for (bad, want) in cases {
            let got = validate(&[good[0], bad, bad]).unwrap_err();
            match (&got, &want) {
                // NaN != NaN: compare the variant and index.
                (
                    NoteError::NonFiniteTime { index: a, .. },
                    NoteError::NonFiniteTime { index: b, .. },
                ) => assert_eq!(a, b),
                _ => assert_eq!(got, want),
            }
            assert!(got.to_string().starts_with("note 1"), "{got}");
        }
    }

    #[test]
    fn sort_orders_by_onset_then_pitch_then_offset() {
        let mut notes = vec![
            note(1.0, 2.0, 60, 10),
            note(0.5, 0.7, 72, 10),
            note(0.5, 0.9, 64, 10),
            note(0.5, 0.6, 64, 20),
            note(1.0, 1.5, 60, 30),
        ];
        sort_notes(&mut notes);
        let order: Vec<(f64, u8, f64)> = notes
            .iter()
            .map(|n| (n.onset_s, n.pitch, n.offset_s))
            .collect();
        assert_eq!(
            order,
            [
                (0.5, 64, 0.6),
                (0.5, 64, 0.9),
                (0.5, 72, 0.7),
                (1.0, 60, 1.5),
                (1.0, 60, 2.0)
            ]
        );
    }

    #[test]
    fn note_helpers() {
        let a4 = note(1.0, 1.75, 69, 100);
        assert_eq!(a4.duration_s(), 0.75);
        assert_eq!(a4.pitch_hz(), 440.0);
        assert!((midi_to_hz(60.0) - 261.625_565_300_598_6).abs() < 1e-9);
        assert!((midi_to_hz(81.0) - 880.0).abs() < 1e-12);
    }
}
