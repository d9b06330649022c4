//! `.mhc` corpus files: round trip, typed errors for every kind of damage, and a property test
//! over random mutations.

use musichal::corpus::{
    consonance, CorpusError, CorpusModel, FrameRecord, RecordingNotes, TokenStream, FORMAT_VERSION,
    HEADER_LEN,
};
use musichal::notes::{NoteError, NoteEvent, NoteSource};
use musichal::oracle::{DriveStream, Oracle, OracleError};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;

/// A synthetic corpus: `n` frames whose tokens repeat motifs (so the oracle has structure),
/// random payloads, two source files.
fn synthetic_corpus(n: usize, seed: u64) -> CorpusModel {
    let mut rng = Pcg32::seed_from_u64(seed);
    let vocab_size = 16u16;
    let dim = 8u32;
    let mut model = CorpusModel::new(
        "spectral",
        r#"{"n_mels":64,"hop":320}"#,
        24_000,
        75.0,
        vocab_size,
        dim,
        DriveStream::Harmonic,
    );
    let centroids = |rng: &mut Pcg32| -> Vec<f32> {
        let mut c: Vec<f32> = (0..vocab_size as usize * dim as usize)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        for row in c.chunks_mut(dim as usize) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            row.iter_mut().for_each(|x| *x /= norm);
        }
        c
    };
    model.centroids_harmonic = centroids(&mut rng);
    model.centroids_percussive = centroids(&mut rng);
    model.source_files = vec!["take1.wav".into(), "take2.flac".into()];
    let motif: Vec<u16> = (0..12).map(|_| rng.random_range(0..vocab_size)).collect();
    for i in 0..n {
        let harmonic = if rng.random_bool(0.7) {
            motif[i % motif.len()]
        } else {
            rng.random_range(0..vocab_size)
        };
        let mut chroma = [0.0f32; 12];
        chroma
            .iter_mut()
            .for_each(|c| *c = rng.random_range(0.0..1.0));
        let pitches: Vec<u8> = (0..rng.random_range(0..4usize))
            .map(|_| rng.random_range(36..96u8))
            .collect();
        model.frames.push(FrameRecord {
            time_s: (i % (n / 2).max(1)) as f32 / 75.0,
            duration_s: 1.0 / 75.0,
            harmonic_token: Some(harmonic),
            percussive_token: Some(rng.random_range(0..vocab_size)),
            loudness_db: rng.random_range(-60.0..0.0),
            chroma,
            pitches: musichal::perception::FramePitches::from_slice(&pitches),
            onset: i % 4 == 0,
            consonance: consonance(&chroma),
            source_idx: (i >= n / 2) as u16,
        });
    }
    // Each recording's notes: a few random ones, sorted, as the trainer stores them.
    for (k, source) in [NoteSource::Dsp, NoteSource::Given].into_iter().enumerate() {
        let mut notes: Vec<NoteEvent> = (0..rng.random_range(1..20usize))
            .map(|_| {
                let onset_s = rng.random_range(0.0..3.0);
                NoteEvent {
                    onset_s,
                    offset_s: onset_s + rng.random_range(0.01..2.0),
                    pitch: rng.random_range(21..109u8),
                    velocity: rng.random_range(1..128u8),
                }
            })
            .collect();
        musichal::notes::sort_notes(&mut notes);
        model.recordings.push(RecordingNotes {
            source,
            duration_s: 4.0 + k as f64,
            notes,
        });
    }
    model.build_factor_oracle(DriveStream::Harmonic).unwrap();
    model
}

/// A file image of `model` without validation (as a buggy or older writer would produce),
/// with a correct header and checksum.
fn raw_file(model: &CorpusModel) -> Vec<u8> {
    let body = postcard::to_stdvec(model).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(b"MHCORPUS");
    out.extend_from_slice(&model.format_version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A fresh directory for one test, removed when dropped (also when the test panics), so no
/// two tests of this binary see each other's files.
fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("musichal-corpus-test-")
        .tempdir()
        .unwrap()
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn save_load_round_trip_is_identical() {
    let model = synthetic_corpus(600, 1);
    let dir = temp_dir();
    let path = dir.path().join("round_trip.mhc");
    model.save(&path).unwrap();
    let loaded = CorpusModel::load(&path).unwrap();
    assert_eq!(model, loaded);
    assert!(loaded
        .frames
        .iter()
        .all(|f| f.harmonic_token.is_some() && f.percussive_token.is_some()));
    // No temporary file is left next to it: the directory holds the model only.
    assert_eq!(files_in(dir.path()), ["round_trip.mhc"]);
    // The loaded oracle is the one the tokens give, and navigable.
    let (h, p) = loaded.token_streams().unwrap();
    assert_eq!(
        loaded.oracle().unwrap(),
        Oracle::from_tokens(DriveStream::Harmonic, &h, &p)
    );
    assert_eq!(
        CorpusModel::from_bytes(&model.to_bytes().unwrap()).unwrap(),
        model
    );
    // Saving again over the file replaces it.
    let mut other = synthetic_corpus(50, 2);
    other.created_by = "test".into();
    other.save(&path).unwrap();
    assert_eq!(CorpusModel::load(&path).unwrap(), other);
    assert_eq!(files_in(dir.path()), ["round_trip.mhc"]);
}

#[test]
fn both_drive_streams_round_trip() {
    let mut model = synthetic_corpus(300, 3);
    model.build_factor_oracle(DriveStream::Both).unwrap();
    let back = CorpusModel::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.oracle().unwrap().drive(), DriveStream::Both);
}

#[test]
fn missing_token_is_rejected_with_a_retrain_message() {
    let mut model = synthetic_corpus(100, 4);
    model.frames[17].percussive_token = None;
    // The writer refuses...
    assert!(matches!(
        model.to_bytes(),
        Err(CorpusError::MissingTokens {
            frame: 17,
            stream: TokenStream::Percussive
        })
    ));
    // ...and a file written without validation is rejected at load.
    let err = CorpusModel::from_bytes(&raw_file(&model)).unwrap_err();
    assert!(
        matches!(
            err,
            CorpusError::MissingTokens {
                frame: 17,
                stream: TokenStream::Percussive
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("lack tokens") && message.contains("retrain"),
        "{message}"
    );
    let mut model = synthetic_corpus(100, 4);
    model.frames[0].harmonic_token = None;
    assert!(matches!(
        CorpusModel::from_bytes(&raw_file(&model)),
        Err(CorpusError::MissingTokens {
            frame: 0,
            stream: TokenStream::Harmonic
        })
    ));
}

#[test]
fn truncated_files_are_truncated() {
    let bytes = synthetic_corpus(200, 5).to_bytes().unwrap();
    for cut in [
        0,
        1,
        7,
        8,
        12,
        20,
        HEADER_LEN - 1,
        HEADER_LEN,
        HEADER_LEN + 1,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        match CorpusModel::from_bytes(&bytes[..cut]) {
            Err(CorpusError::Truncated { actual, .. }) => assert_eq!(actual, cut as u64),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        CorpusModel::from_bytes(&longer),
        Err(CorpusError::TrailingBytes { extra: 1 })
    ));
}

#[test]
fn wrong_magic_and_versions() {
    let bytes = synthetic_corpus(50, 6).to_bytes().unwrap();
    let mut b = bytes.clone();
    b[..8].copy_from_slice(b"RIFFWAVE");
    assert!(matches!(
        CorpusModel::from_bytes(&b),
        Err(CorpusError::BadMagic { .. })
    ));
    for version in [0u32, FORMAT_VERSION + 1, u32::MAX] {
        let mut b = bytes.clone();
        b[8..12].copy_from_slice(&version.to_le_bytes());
        match CorpusModel::from_bytes(&b) {
            Err(CorpusError::UnsupportedVersion { found, supported }) => {
                assert_eq!((found, supported), (version, FORMAT_VERSION))
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
    // Header and body versions must agree.
    let mut model = synthetic_corpus(50, 6);
    model.format_version = 7;
    let mut b = raw_file(&model);
    b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    assert!(matches!(
        CorpusModel::from_bytes(&b),
        Err(CorpusError::VersionMismatch {
            header: FORMAT_VERSION,
            body: 7
        })
    ));
}

#[test]
fn a_corpus_from_before_notes_gives_the_retrain_error() {
    // A version 1 file (frames without notes): refused by its header, before the body is read,
    // with a message that says to retrain. Checked on a file whose body is otherwise valid.
    let mut b = synthetic_corpus(50, 6).to_bytes().unwrap();
    b[8..12].copy_from_slice(&1u32.to_le_bytes());
    let err = CorpusModel::from_bytes(&b).unwrap_err();
    assert!(
        matches!(
            err,
            CorpusError::OldFormat {
                found: 1,
                supported: FORMAT_VERSION
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("retrain") && text.contains("musichal train"),
        "{text}"
    );
    // Through load, the message names the file.
    let dir = temp_dir();
    let path = dir.path().join("old.mhc");
    std::fs::write(&path, &b).unwrap();
    let err = CorpusModel::load(&path).unwrap_err();
    assert!(
        matches!(err.root(), CorpusError::OldFormat { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("old.mhc"), "{err}");
}

#[test]
fn a_corpus_from_before_events_gives_the_retrain_error() {
    // A version 2 file (notes, but no musical events or event oracle): refused by its header
    // with a message that says to retrain, also through load (which names the file).
    let mut b = synthetic_corpus(50, 6).to_bytes().unwrap();
    b[8..12].copy_from_slice(&2u32.to_le_bytes());
    let err = CorpusModel::from_bytes(&b).unwrap_err();
    assert!(
        matches!(
            err,
            CorpusError::BeforeEvents {
                found: 2,
                supported: FORMAT_VERSION
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("musical events") && text.contains("musichal train"),
        "{text}"
    );
    let dir = temp_dir();
    let path = dir.path().join("v2.mhc");
    std::fs::write(&path, &b).unwrap();
    let err = CorpusModel::load(&path).unwrap_err();
    assert!(
        matches!(err.root(), CorpusError::BeforeEvents { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("v2.mhc"), "{err}");
}

#[test]
fn events_round_trip_and_damaged_events_are_refused() {
    let model = synthetic_corpus(400, 11);
    // The events cover every frame once, each inside one recording, and the event oracle has
    // one state per event.
    assert!(model.events.len() >= 4, "{} events", model.events.len());
    let covered: u32 = model.events.iter().map(|e| e.frames).sum();
    assert_eq!(covered as usize, model.frames.len());
    assert_eq!(model.event_oracle().unwrap().len(), model.events.len());
    let back = CorpusModel::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(back.events, model.events);
    assert_eq!(back.event_oracle, model.event_oracle);

    let refused = |m: &CorpusModel| CorpusModel::from_bytes(&raw_file(m)).unwrap_err();
    // A gap between two events.
    let mut m = model.clone();
    m.events[1].first_frame += 1;
    assert!(
        matches!(refused(&m), CorpusError::InvalidEvent { event: 1, .. }),
        "{:?}",
        refused(&m)
    );
    // Events that stop before the last frame.
    let mut m = model.clone();
    m.events.pop();
    m.event_oracle = {
        let (h, p): (Vec<u16>, Vec<u16>) = m
            .events
            .iter()
            .map(|e| (e.harmonic_label, e.percussive_label))
            .unzip();
        Oracle::from_tokens(DriveStream::Harmonic, &h, &p).to_data()
    };
    assert!(
        matches!(refused(&m), CorpusError::InvalidEvent { .. }),
        "{:?}",
        refused(&m)
    );
    // An event running across the two recordings.
    let mut m = model.clone();
    let k = m
        .events
        .iter()
        .position(|e| e.start == musichal::corpus::EventStart::Recording && e.first_frame > 0)
        .unwrap();
    let merged = m.events.remove(k);
    m.events[k - 1].frames += merged.frames;
    assert!(
        matches!(refused(&m), CorpusError::InvalidEvent { .. }),
        "{:?}",
        refused(&m)
    );
    // A label that is not its frames' most frequent token.
    let mut m = model.clone();
    m.events[2].harmonic_label = (m.events[2].harmonic_label + 1) % 16;
    assert!(
        matches!(
            refused(&m),
            CorpusError::EventLabelMismatch {
                event: 2,
                stream: TokenStream::Harmonic,
                ..
            }
        ),
        "{:?}",
        refused(&m)
    );
    // An event oracle over other symbols, or of another length.
    let mut m = model.clone();
    m.event_oracle = model.oracle.clone();
    assert!(
        matches!(refused(&m), CorpusError::EventOracle { .. }),
        "{:?}",
        refused(&m)
    );
    let mut m = model.clone();
    let mut symbols = m.event_oracle.symbols.clone();
    symbols[0] = (symbols[0] + 1) % 16;
    m.event_oracle = Oracle::from_symbols(DriveStream::Harmonic, &symbols).to_data();
    let err = refused(&m);
    assert!(
        matches!(err, CorpusError::EventOracle { .. }) && err.to_string().contains("event 0"),
        "{err:?}"
    );
}

#[test]
fn notes_of_every_recording_round_trip_and_are_validated() {
    let model = synthetic_corpus(120, 3);
    assert_eq!(model.recordings.len(), 2);
    let back = CorpusModel::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(back.recordings, model.recordings);
    assert_eq!(back.recordings[1].source, NoteSource::Given);
    // One note list per source file.
    let mut m = model.clone();
    m.recordings.pop();
    assert!(matches!(
        CorpusModel::from_bytes(&raw_file(&m)),
        Err(CorpusError::RecordingCount {
            recordings: 1,
            sources: 2
        })
    ));
    // A note that ends before it starts, a velocity 0, a NaN length.
    let mut m = model.clone();
    m.recordings[1].notes[0].offset_s = m.recordings[1].notes[0].onset_s - 0.1;
    assert!(matches!(
        CorpusModel::from_bytes(&raw_file(&m)),
        Err(CorpusError::InvalidNote {
            recording: 1,
            error: NoteError::NotAfterOnset { index: 0, .. }
        })
    ));
    let mut m = model.clone();
    m.recordings[0].notes[0].velocity = 0;
    assert!(matches!(
        CorpusModel::from_bytes(&raw_file(&m)),
        Err(CorpusError::InvalidNote {
            recording: 0,
            error: NoteError::VelocityOutOfRange { .. }
        })
    ));
    let mut m = model;
    m.recordings[0].duration_s = f64::NAN;
    assert!(matches!(
        CorpusModel::from_bytes(&raw_file(&m)),
        Err(CorpusError::InvalidRecordingLength { recording: 0, .. })
    ));
}

#[test]
fn bad_checksum_is_caught() {
    let bytes = synthetic_corpus(200, 7).to_bytes().unwrap();
    for at in [HEADER_LEN, HEADER_LEN + 100, bytes.len() - 1, 20] {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        assert!(
            matches!(
                CorpusModel::from_bytes(&b),
                Err(CorpusError::ChecksumMismatch { .. })
            ),
            "byte {at}"
        );
    }
}

#[test]
fn invalid_contents_give_typed_errors() {
    let base = synthetic_corpus(120, 8);
    let check =
        |mutate: &dyn Fn(&mut CorpusModel), expect: &dyn Fn(&CorpusError) -> bool, what: &str| {
            let mut m = base.clone();
            mutate(&mut m);
            let err = CorpusModel::from_bytes(&raw_file(&m)).expect_err(what);
            assert!(expect(&err), "{what}: got {err:?}");
            // The writer refuses the same model.
            assert!(m.to_bytes().is_err(), "{what}: writer accepted it");
        };
    check(
        &|m| m.frames[3].harmonic_token = Some(16),
        &|e| {
            matches!(
                e,
                CorpusError::TokenOutOfRange {
                    frame: 3,
                    token: 16,
                    vocab_size: 16,
                    ..
                }
            )
        },
        "token >= vocab",
    );
    check(
        &|m| m.centroids_percussive.pop().map(|_| ()).unwrap_or(()),
        &|e| {
            matches!(
                e,
                CorpusError::CentroidLength {
                    stream: TokenStream::Percussive,
                    expected: 128,
                    actual: 127
                }
            )
        },
        "centroid length",
    );
    check(
        &|m| m.centroids_harmonic[20] = f32::NAN,
        &|e| {
            matches!(
                e,
                CorpusError::NonFiniteCentroid {
                    stream: TokenStream::Harmonic,
                    token: 2
                }
            )
        },
        "NaN centroid",
    );
    check(
        &|m| m.vocab_size = 32,
        &|e| matches!(e, CorpusError::UnsupportedVocabSize { vocab_size: 32 }),
        "vocab 32",
    );
    check(
        &|m| m.sample_rate_hz = 0,
        &|e| matches!(e, CorpusError::InvalidSampleRate),
        "sample rate 0",
    );
    check(
        &|m| m.frames_per_s = f32::NAN,
        &|e| {
            matches!(
                e,
                CorpusError::InvalidParameter {
                    field: "frames_per_s",
                    ..
                }
            )
        },
        "frame rate NaN",
    );
    check(
        &|m| m.dim = 0,
        &|e| matches!(e, CorpusError::ZeroDimension),
        "dim 0",
    );
    check(
        &|m| m.encoder_config = "{not json".into(),
        &|e| matches!(e, CorpusError::InvalidEncoderConfig { .. }),
        "config",
    );
    check(
        &|m| m.source_files[1] = "/home/me/take2.flac".into(),
        &|e| matches!(e, CorpusError::SourceIsPath { index: 1, .. }),
        "path",
    );
    check(
        &|m| m.frames[5].source_idx = 2,
        &|e| matches!(e, CorpusError::SourceOutOfRange { frame: 5, .. }),
        "source idx",
    );
    check(
        &|m| {
            m.frames[9].pitches.push(200);
        },
        &|e| {
            matches!(
                e,
                CorpusError::PitchOutOfRange {
                    frame: 9,
                    note: 200
                }
            )
        },
        "pitch",
    );
    check(
        &|m| m.frames[2].loudness_db = f32::NEG_INFINITY,
        &|e| {
            matches!(
                e,
                CorpusError::InvalidFrameField {
                    frame: 2,
                    field: "loudness_db",
                    ..
                }
            )
        },
        "loudness",
    );
    check(
        &|m| m.frames[2].consonance = 1.5,
        &|e| {
            matches!(
                e,
                CorpusError::InvalidFrameField {
                    field: "consonance",
                    ..
                }
            )
        },
        "consonance",
    );
    check(
        &|m| m.frames[2].chroma[4] = -1.0,
        &|e| {
            matches!(
                e,
                CorpusError::InvalidFrameField {
                    field: "chroma",
                    ..
                }
            )
        },
        "chroma",
    );
    // Oracle arrays.
    check(
        &|m| m.oracle.sfx[10] = 10,
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::SuffixLinkOutOfRange { state: 10, sfx: 10 })
            )
        },
        "sfx[i] >= i",
    );
    check(
        &|m| m.oracle.construction_sfx[10] = 50,
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::SuffixLinkOutOfRange { state: 10, .. })
            )
        },
        "construction sfx",
    );
    check(
        &|m| {
            let s = m.oracle.sfx[40];
            m.oracle.lrs[40] = s + 1
        },
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::LrsOutOfRange { state: 40, .. })
            )
        },
        "lrs > sfx",
    );
    check(
        &|m| m.oracle.lrs[0] = 1,
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::LrsOutOfRange { state: 0, .. })
            )
        },
        "lrs[0]",
    );
    check(
        &|m| {
            let k = m.oracle.trn_targets.len() - 1;
            m.oracle.trn_targets[k] = 121
        },
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::TransitionOutOfRange { target: 121, .. })
            )
        },
        "trn target > n",
    );
    check(
        &|m| m.oracle.trn_targets[0] = 0,
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::TransitionOutOfRange {
                    state: 0,
                    target: 0
                })
            )
        },
        "trn target backwards",
    );
    check(
        &|m| {
            let k = m.oracle.trn_offsets.len() - 1;
            m.oracle.trn_offsets[k] += 5
        },
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::BadTransitionOffsets { .. })
            )
        },
        "offsets",
    );
    check(
        &|m| m.oracle.trn_offsets[3] = m.oracle.trn_offsets[2] + 100,
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::BadTransitionOffsets { .. })
            )
        },
        "offsets jump",
    );
    check(
        &|m| {
            m.oracle.lrs.pop();
        },
        &|e| {
            matches!(
                e,
                CorpusError::Oracle(OracleError::LengthMismatch { array: "lrs", .. })
            )
        },
        "lrs length",
    );
    check(
        &|m| {
            m.frames.pop();
        },
        &|e| {
            matches!(
                e,
                CorpusError::OracleLength {
                    oracle_frames: 120,
                    frames: 119
                }
            )
        },
        "oracle vs frames",
    );
    check(
        &|m| {
            let t = m.frames[30].harmonic_token.unwrap();
            m.frames[30].harmonic_token = Some((t + 1) % 16)
        },
        &|e| matches!(e, CorpusError::OracleSymbolMismatch { frame: 30, .. }),
        "symbol mismatch",
    );
}

#[test]
fn random_bytes_give_errors_not_panics() {
    let mut rng = Pcg32::seed_from_u64(9);
    for k in 0..2000 {
        let len = rng.random_range(0..400usize);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if k % 2 == 0 && len >= HEADER_LEN {
            // A valid header over a random body: exercises the decoder and the validation.
            bytes[..8].copy_from_slice(b"MHCORPUS");
            bytes[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
            bytes[12..20].copy_from_slice(&((len - HEADER_LEN) as u64).to_le_bytes());
            let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
            bytes[20..24].copy_from_slice(&crc.to_le_bytes());
        }
        assert!(CorpusModel::from_bytes(&bytes).is_err());
    }
}

#[test]
fn io_errors_are_typed_and_invalid_models_are_not_written() {
    let dir = temp_dir();
    let missing = dir.path().join("no-such-dir").join("x").join("model.mhc");
    assert!(matches!(
        CorpusModel::load(&missing),
        Err(CorpusError::Io { op: "read", .. })
    ));
    assert!(matches!(
        synthetic_corpus(20, 10).save(&missing),
        Err(CorpusError::Io { .. })
    ));
    let mut bad = synthetic_corpus(20, 10);
    bad.sample_rate_hz = 0;
    let path = dir.path().join("invalid.mhc");
    assert!(bad.save(&path).is_err());
    // Nothing written: neither the model nor a temporary file.
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

fn valid_file() -> &'static [u8] {
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| synthetic_corpus(300, 11).to_bytes().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any mutation (byte changes anywhere, header included, and/or a truncation) either is a
    /// no-op and loads the same model, or is reported as an error; never a panic, never a
    /// different model that passes validation.
    #[test]
    fn mutated_files_never_load_as_different_models(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let original = valid_file();
        let mut bytes = original.to_vec();
        for (at, value) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        match CorpusModel::from_bytes(&bytes) {
            Ok(model) => {
                prop_assert_eq!(&bytes[..], original, "a changed file loaded");
                prop_assert_eq!(model, CorpusModel::from_bytes(original).unwrap());
            }
            Err(_) => prop_assert_ne!(&bytes[..], original, "the valid file was rejected"),
        }
    }
}
