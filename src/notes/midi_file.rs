//! Notes of a Standard MIDI File in seconds, as pretty_midi 0.2.11 reads them.
//!
//! A small reader of our own (no crate): the notes need pretty_midi's exact rules, and the
//! format is a few dozen lines. What it does:
//! - formats 0, 1 (and 2, read like 1); every `MTrk` chunk is a track, other chunks are
//!   skipped;
//! - delta times as variable-length numbers (at most 4 bytes), running status for channel
//!   messages (meta events keep it; sysex and system messages cancel it, as the SMF spec says);
//! - the tempo map from the **first track's** set-tempo events, as pretty_midi builds it:
//!   120 BPM until the first one, a tempo at tick 0 replaces the start, a repeated tempo is
//!   ignored; tick `t` in a stretch starting at tick `s` with time `T` is
//!   `T + (60 / ((6e7 / tempo) * ticks_per_quarter)) * (t - s)`, the same f64 operations;
//!   SMPTE divisions (negative) are fixed seconds per tick, without tempo;
//! - notes per track and `(channel, key)`: a note on with velocity 0 is a note off; a note off
//!   closes *every* open note of that key that started on an earlier tick; notes started on
//!   the note off's own tick stay open if an earlier one was closed, and are dropped
//!   otherwise (so a note on and off on one tick gives no note); a note off with nothing open
//!   is ignored; notes never closed are dropped; a note's program is its channel's program at
//!   the note off.
//!
//! Differences from pretty_midi, all on files it cannot read: unknown chunks are skipped
//! (mido raises), a message running past its chunk is an error (mido reads on into the next
//! chunk), SMPTE timing works (pretty_midi gives negative times), ticks above 10^7 are fine
//! (pretty_midi raises).
//!
//! `tests/python/test_notes_midi.py` compares this with pretty_midi on a committed fixture.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{sort_notes, NoteEvent};

/// The MIDI channel General MIDI uses for drums (channel 10, numbered from 0).
pub const DRUM_CHANNEL: u8 = 9;

/// A note read from a MIDI file, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MidiNote {
    /// The note in seconds from the start of the file.
    pub note: NoteEvent,
    /// Channel, 0..=15.
    pub channel: u8,
    /// Program (GM instrument - 1) on that channel when the note ended.
    pub program: u8,
    /// Index of the `MTrk` chunk it is in.
    pub track: usize,
}

impl MidiNote {
    /// True on the General MIDI drum channel.
    pub fn is_drum(&self) -> bool {
        self.channel == DRUM_CHANNEL
    }
}

/// Why a MIDI file could not be read. Byte offsets count from the start of the file.
#[derive(Debug, thiserror::Error)]
pub enum MidiError {
    /// The file could not be read.
    #[error("cannot read MIDI file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No `MThd` header.
    #[error("not a Standard MIDI File (no MThd header); give a .mid file")]
    NotMidi,
    /// The file ends inside a header, chunk or event.
    #[error("MIDI file is truncated: it ends inside {what} at byte {offset}")]
    Truncated { what: &'static str, offset: usize },
    /// The header declares more tracks than the file holds.
    #[error("MIDI file declares {declared} tracks but holds {found}; the file is cut short")]
    MissingTracks { declared: usize, found: usize },
    /// Ticks per quarter note of 0.
    #[error("MIDI file has a time division of 0 ticks per quarter note; the header is corrupt")]
    ZeroDivision,
    /// A variable-length number longer than 4 bytes.
    #[error("MIDI track {track}: variable-length number at byte {offset} is longer than 4 bytes; the track is corrupt")]
    BadVarLen { track: usize, offset: usize },
    /// A data byte where a status byte is needed and no channel status to repeat.
    #[error("MIDI track {track}: data byte {byte:#04x} at byte {offset} without a running status; the track is corrupt")]
    NoRunningStatus {
        track: usize,
        offset: usize,
        byte: u8,
    },
    /// A status byte MIDI does not define.
    #[error("MIDI track {track}: undefined status byte {status:#04x} at byte {offset}")]
    UndefinedStatus {
        track: usize,
        offset: usize,
        status: u8,
    },
    /// A channel message data byte above 127.
    #[error("MIDI track {track}: data byte {byte:#04x} at byte {offset} is above 127; the track is corrupt")]
    DataByteOutOfRange {
        track: usize,
        offset: usize,
        byte: u8,
    },
    /// A set-tempo event that is not 3 bytes or is 0.
    #[error("MIDI track {track}: set-tempo event at byte {offset} is invalid ({reason})")]
    BadTempo {
        track: usize,
        offset: usize,
        reason: &'static str,
    },
    /// An event runs past the end of its track chunk.
    #[error("MIDI track {track}: an event at byte {offset} runs past the end of the track chunk")]
    EventPastChunk { track: usize, offset: usize },
}

/// Reads the notes of the MIDI file at `path` ([`parse_midi_notes`]).
pub fn read_midi_notes(path: &Path) -> Result<Vec<MidiNote>, MidiError> {
    let bytes = std::fs::read(path).map_err(|source| MidiError::Io {
        path: path.into(),
        source,
    })?;
    parse_midi_notes(&bytes)
}

/// The notes without their origin, drums left out unless `include_drums`, in the canonical
/// order ([`sort_notes`]).
pub fn note_events(notes: &[MidiNote], include_drums: bool) -> Vec<NoteEvent> {
    let mut events: Vec<NoteEvent> = notes
        .iter()
        .filter(|n| include_drums || !n.is_drum())
        .map(|n| n.note)
        .collect();
    sort_notes(&mut events);
    events
}

/// One event of a track that matters for notes and tempo, at an absolute tick.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    NoteOn { channel: u8, key: u8, velocity: u8 },
    NoteOff { channel: u8, key: u8 },
    Program { channel: u8, program: u8 },
    Tempo { micros_per_quarter: u32 },
}

/// Time division of the header.
#[derive(Debug, Clone, Copy)]
enum Division {
    TicksPerQuarter(u16),
    /// Seconds per tick (SMPTE).
    SecondsPerTick(f64),
}

/// A byte cursor over the whole file.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], MidiError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(MidiError::Truncated {
                what,
                offset: self.bytes.len(),
            });
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, MidiError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, MidiError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// A cursor over one track chunk.
struct TrackReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// File offset of `data[0]`.
    base: usize,
    track: usize,
}

impl TrackReader<'_> {
    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn byte(&mut self) -> Result<u8, MidiError> {
        let b = *self.data.get(self.pos).ok_or(MidiError::EventPastChunk {
            track: self.track,
            offset: self.offset(),
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<(), MidiError> {
        if self.data.len() - self.pos < n {
            return Err(MidiError::EventPastChunk {
                track: self.track,
                offset: self.offset(),
            });
        }
        self.pos += n;
        Ok(())
    }

    fn var_len(&mut self) -> Result<u32, MidiError> {
        let start = self.offset();
        let mut value = 0u32;
        for _ in 0..4 {
            let b = self.byte()?;
            value = (value << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(MidiError::BadVarLen {
            track: self.track,
            offset: start,
        })
    }

    fn data_byte(&mut self) -> Result<u8, MidiError> {
        let offset = self.offset();
        let byte = self.byte()?;
        if byte > 0x7f {
            return Err(MidiError::DataByteOutOfRange {
                track: self.track,
                offset,
                byte,
            });
        }
        Ok(byte)
    }
}

/// Data bytes of a channel message with status `status` (0x80..=0xEF).
fn channel_data_len(status: u8) -> usize {
    match status & 0xf0 {
        0xc0 | 0xd0 => 1,
        _ => 2,
    }
}

/// Data bytes of a system common / real-time message, `None` for undefined ones.
fn system_data_len(status: u8) -> Option<usize> {
    match status {
        0xf1 | 0xf3 => Some(1),
        0xf2 => Some(2),
        0xf6 | 0xf8 | 0xfa | 0xfb | 0xfc | 0xfe => Some(0),
        _ => None,
    }
}

/// The events of one track chunk with absolute ticks.
fn parse_track(track: usize, data: &[u8], base: usize) -> Result<Vec<(u64, Event)>, MidiError> {
    let mut r = TrackReader {
        data,
        pos: 0,
        base,
        track,
    };
    let mut tick = 0u64;
    let mut running: Option<u8> = None;
    let mut events = Vec::new();
    while r.pos < data.len() {
        tick += u64::from(r.var_len()?);
        let offset = r.offset();
        let first = r.byte()?;
        let (status, first_data) = if first < 0x80 {
            let status = running.ok_or(MidiError::NoRunningStatus {
                track,
                offset,
                byte: first,
            })?;
            (status, Some(first))
        } else {
            (first, None)
        };
        match status {
            0xff => {
                let kind = r.byte()?;
                let len = r.var_len()? as usize;
                let start = r.pos;
                r.skip(len)?;
                if kind == 0x51 {
                    if len != 3 {
                        return Err(MidiError::BadTempo {
                            track,
                            offset,
                            reason: "not 3 bytes long",
                        });
                    }
                    let b = &data[start..start + 3];
                    let micros_per_quarter =
                        u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
                    if micros_per_quarter == 0 {
                        return Err(MidiError::BadTempo {
                            track,
                            offset,
                            reason: "0 microseconds per quarter note",
                        });
                    }
                    events.push((tick, Event::Tempo { micros_per_quarter }));
                }
            }
            0xf0 | 0xf7 => {
                running = None;
                let len = r.var_len()? as usize;
                r.skip(len)?;
            }
            0x80..=0xef => {
                running = Some(status);
                let mut d = [0u8; 2];
                let n = channel_data_len(status);
                for (i, slot) in d.iter_mut().take(n).enumerate() {
                    *slot = match (i, first_data) {
                        (0, Some(b)) => b,
                        _ => r.data_byte()?,
                    };
                }
                let channel = status & 0x0f;
                match status & 0xf0 {
                    0x90 if d[1] > 0 => events.push((
                        tick,
                        Event::NoteOn {
                            channel,
                            key: d[0],
                            velocity: d[1],
                        },
                    )),
                    0x80 | 0x90 => events.push((tick, Event::NoteOff { channel, key: d[0] })),
                    0xc0 => events.push((
                        tick,
                        Event::Program {
                            channel,
                            program: d[0],
                        },
                    )),
                    _ => {}
                }
            }
            _ => {
                running = None;
                let n = system_data_len(status).ok_or(MidiError::UndefinedStatus {
                    track,
                    offset,
                    status,
                })?;
                for _ in 0..n {
                    r.data_byte()?;
                }
            }
        }
    }
    Ok(events)
}

/// pretty_midi's tick -> seconds map: stretches `(start tick, seconds at start, seconds/tick)`.
struct TempoMap {
    stretches: Vec<(u64, f64, f64)>,
}

impl TempoMap {
    fn new(division: Division, first_track: &[(u64, Event)]) -> Self {
        let ticks_per_quarter = match division {
            Division::SecondsPerTick(s) => {
                return Self {
                    stretches: vec![(0, 0.0, s)],
                }
            }
            Division::TicksPerQuarter(t) => f64::from(t),
        };
        // (tick, scale) as pretty_midi's `_tick_scales`.
        let mut scales: Vec<(u64, f64)> = vec![(0, 60.0 / (120.0 * ticks_per_quarter))];
        for &(tick, event) in first_track {
            let Event::Tempo { micros_per_quarter } = event else {
                continue;
            };
            let bpm = 6e7 / f64::from(micros_per_quarter);
            let scale = 60.0 / (bpm * ticks_per_quarter);
            if tick == 0 {
                scales = vec![(0, scale)];
            } else if scales.last().is_some_and(|&(_, last)| last != scale) {
                scales.push((tick, scale));
            }
        }
        let mut stretches = Vec::with_capacity(scales.len());
        let mut seconds = 0.0f64;
        for (i, &(start, scale)) in scales.iter().enumerate() {
            if i > 0 {
                let (prev_start, _, prev_scale) = stretches[i - 1];
                seconds += prev_scale * (start - prev_start) as f64;
            }
            stretches.push((start, seconds, scale));
        }
        Self { stretches }
    }

    fn seconds(&self, tick: u64) -> f64 {
        // The last stretch starting at or before `tick` (the later one of two on one tick).
        let i = self
            .stretches
            .partition_point(|&(start, _, _)| start <= tick);
        let (start, seconds, scale) = self.stretches[i.saturating_sub(1)];
        seconds + scale * (tick - start) as f64
    }
}

/// Reads the notes of a Standard MIDI File held in `bytes` (module docs), in the order they
/// end (per track); use [`note_events`] for sorted [`NoteEvent`]s.
pub fn parse_midi_notes(bytes: &[u8]) -> Result<Vec<MidiNote>, MidiError> {
    let mut r = Reader { bytes, pos: 0 };
    if bytes.len() < 4 || &bytes[..4] != b"MThd" {
        return Err(MidiError::NotMidi);
    }
    r.pos = 4;
    let header_len = r.u32("the header")? as usize;
    if header_len < 6 {
        return Err(MidiError::Truncated {
            what: "the header",
            offset: r.pos,
        });
    }
    let header_start = r.pos;
    let _format = r.u16("the header")?;
    let declared = usize::from(r.u16("the header")?);
    let raw_division = r.u16("the header")?;
    r.pos = header_start;
    r.take(header_len, "the header")?;
    let division = if raw_division & 0x8000 == 0 {
        if raw_division == 0 {
            return Err(MidiError::ZeroDivision);
        }
        Division::TicksPerQuarter(raw_division)
    } else {
        // High byte: -frames per second (two's complement); low byte: ticks per frame.
        let fps = match (raw_division >> 8) as u8 as i8 {
            -29 => 30.0 / 1.001,
            f => -f64::from(f),
        };
        let ticks_per_frame = f64::from(raw_division & 0xff);
        if fps <= 0.0 || ticks_per_frame == 0.0 {
            return Err(MidiError::ZeroDivision);
        }
        Division::SecondsPerTick(1.0 / (fps * ticks_per_frame))
    };

    let mut tracks = Vec::new();
    while r.pos < bytes.len() {
        let id = r.take(4, "a chunk header")?;
        let is_track = id == b"MTrk";
        let len = r.u32("a chunk header")? as usize;
        let base = r.pos;
        let data = r.take(len, if is_track { "a track" } else { "a chunk" })?;
        if is_track {
            tracks.push(parse_track(tracks.len(), data, base)?);
        }
    }
    if tracks.len() < declared {
        return Err(MidiError::MissingTracks {
            declared,
            found: tracks.len(),
        });
    }

    let tempo = TempoMap::new(division, tracks.first().map_or(&[][..], Vec::as_slice));
    let mut notes = Vec::new();
    for (track, events) in tracks.iter().enumerate() {
        let mut open: HashMap<(u8, u8), Vec<(u64, u8)>> = HashMap::new();
        let mut programs = [0u8; 16];
        for &(tick, event) in events {
            match event {
                Event::Program { channel, program } => programs[usize::from(channel)] = program,
                Event::NoteOn {
                    channel,
                    key,
                    velocity,
                } => open
                    .entry((channel, key))
                    .or_default()
                    .push((tick, velocity)),
                Event::NoteOff { channel, key } => {
                    let Some(started) = open.remove(&(channel, key)) else {
                        continue;
                    };
                    let (keep, close): (Vec<_>, Vec<_>) =
                        started.into_iter().partition(|&(start, _)| start == tick);
                    for &(start, velocity) in &close {
                        notes.push(MidiNote {
                            note: NoteEvent {
                                onset_s: tempo.seconds(start),
                                offset_s: tempo.seconds(tick),
                                pitch: key,
                                velocity,
                            },
                            channel,
                            program: programs[usize::from(channel)],
                            track,
                        });
                    }
                    if !close.is_empty() && !keep.is_empty() {
                        open.insert((channel, key), keep);
                    }
                }
                Event::Tempo { .. } => {}
            }
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variable-length number.
    fn vlq(mut v: u32) -> Vec<u8> {
        let mut out = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            out.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        out.reverse();
        out
    }

    /// A track chunk from `(delta, raw event bytes)`, end-of-track appended.
    fn track(events: &[(u32, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (delta, raw) in events {
            body.extend(vlq(*delta));
            body.extend_from_slice(raw);
        }
        body.extend([0x00, 0xff, 0x2f, 0x00]);
        let mut out = b"MTrk".to_vec();
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
        out
    }

    fn file(format: u16, division: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"MThd".to_vec();
        out.extend(6u32.to_be_bytes());
        out.extend(format.to_be_bytes());
        out.extend((tracks.len() as u16).to_be_bytes());
        out.extend(division.to_be_bytes());
        for t in tracks {
            out.extend(t);
        }
        out
    }

    fn tempo(micros: u32) -> Vec<u8> {
        let b = micros.to_be_bytes();
        vec![0xff, 0x51, 0x03, b[1], b[2], b[3]]
    }

    /// (onset, offset, pitch, velocity, channel, program, track), sorted.
    fn summary(notes: &[MidiNote]) -> Vec<(f64, f64, u8, u8, u8, u8, usize)> {
        let mut out: Vec<_> = notes
            .iter()
            .map(|n| {
                (
                    n.note.onset_s,
                    n.note.offset_s,
                    n.note.pitch,
                    n.note.velocity,
                    n.channel,
                    n.program,
                    n.track,
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        out
    }

    fn assert_times(notes: &[MidiNote], want: &[(f64, f64, u8)]) {
        let got = summary(notes);
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.0 - w.0).abs() < 1e-12 && (g.1 - w.1).abs() < 1e-12 && g.2 == w.2,
                "got {g:?}, want {w:?}"
            );
        }
    }

    /// Format 1, 480 ticks per quarter: 120 BPM, then 60 BPM from tick 960 (1.0 s), then
    /// 240 BPM from tick 1920 (3.0 s). One quarter is 0.5 s, 1 s, 0.25 s in the three parts.
    fn tempo_file() -> Vec<u8> {
        let conductor = track(&[
            (0, &tempo(500_000)),
            (960, &tempo(1_000_000)),
            (960, &tempo(250_000)),
        ]);
        let notes = track(&[
            (0, &[0xc0, 40]),                     // program 40 on channel 0
            (0, &[0x90, 60, 100]),                // C4 on at 0
            (480, &[60, 0]),                      // running status, velocity 0: off at 0.5 s
            (480, &[62, 90]),                     // running status: D4 on at tick 960 = 1.0 s
            (0, &[0xff, 0x01, 0x02, b'h', b'i']), // a text event keeps the running status
            (480, &[62, 0]),                      // off at tick 1440 = 2.0 s
            (480, &[0x80, 64, 64]),               // a note off with nothing open: ignored
            (0, &[0x90, 64, 80]),                 // E4 on at tick 1920 = 3.0 s
            (480, &[0x80, 64, 0]),                // off at tick 2400 = 3.25 s
            (0, &[0x99, 36, 127]),                // kick on the drum channel at 3.25 s
            (120, &[0x89, 36, 0]),                // off at 3.3125 s
        ]);
        file(1, 480, &[conductor, notes])
    }

    #[test]
    fn tempo_changes_give_exact_seconds() {
        let notes = parse_midi_notes(&tempo_file()).unwrap();
        assert_times(
            &notes,
            &[
                (0.0, 0.5, 60),
                (1.0, 2.0, 62),
                (3.0, 3.25, 64),
                (3.25, 3.3125, 36),
            ],
        );
        let s = summary(&notes);
        assert_eq!((s[0].3, s[0].4, s[0].5, s[0].6), (100, 0, 40, 1));
        assert_eq!((s[1].3, s[2].3), (90, 80));
        assert_eq!((s[3].4, s[3].3), (9, 127));
        assert!(notes.iter().filter(|n| n.is_drum()).count() == 1);
        let events = note_events(&notes, false);
        assert_eq!(
            events.iter().map(|e| e.pitch).collect::<Vec<_>>(),
            [60, 62, 64]
        );
        assert_eq!(note_events(&notes, true).len(), 4);
    }

    #[test]
    fn only_the_first_track_sets_the_tempo() {
        // The same notes, with a 60 BPM tempo in the second track: ignored (pretty_midi).
        let conductor = track(&[(0, &tempo(500_000))]);
        let notes = track(&[
            (0, &tempo(1_000_000)),
            (0, &[0x90, 60, 100]),
            (960, &[0x80, 60, 0]),
        ]);
        let parsed = parse_midi_notes(&file(1, 480, &[conductor, notes])).unwrap();
        assert_times(&parsed, &[(0.0, 1.0, 60)]);
        // No tempo at all: 120 BPM.
        let plain = track(&[(0, &[0x90, 60, 100]), (240, &[0x80, 60, 0])]);
        assert_times(
            &parse_midi_notes(&file(0, 480, &[plain])).unwrap(),
            &[(0.0, 0.25, 60)],
        );
        // A tempo repeated at a later tick changes nothing; two on one tick: the later wins.
        let repeated = track(&[
            (0, &tempo(500_000)),
            (0, &tempo(1_000_000)), // tick 0 again: replaces, 60 BPM from the start
            (480, &tempo(1_000_000)),
            (0, &[0x90, 60, 100]),
            (480, &tempo(500_000)),
            (0, &tempo(250_000)),
            (480, &[0x80, 60, 0]),
        ]);
        // On at tick 480 = 1 s (60 BPM from the start); off at tick 1440: 480 more ticks at
        // 60 BPM (1 s) and 480 at 240 BPM (0.25 s), since the later of the two tempos at
        // tick 960 wins.
        assert_times(
            &parse_midi_notes(&file(0, 480, &[repeated])).unwrap(),
            &[(1.0, 2.25, 60)],
        );
    }

    #[test]
    fn overlapping_notes_of_one_key_close_together_like_pretty_midi() {
        let t = track(&[
            (0, &[0x90, 64, 10]),   // tick 0: E4 on
            (240, &[0x90, 64, 20]), // tick 240: E4 on again (overlapping)
            (240, &[0x80, 64, 0]),  // tick 480: one off closes both
            (0, &[0x90, 64, 30]),   // tick 480: on again, after the off
            (240, &[0x80, 64, 0]),  // tick 720: closes it
            (0, &[0x90, 67, 40]),   // tick 720: G4 on
            (240, &[0x90, 67, 50]), // tick 960: G4 on ...
            (0, &[0x80, 67, 0]),    // ... and off on the same tick: closes the 720 note only
            (480, &[0x80, 67, 0]),  // tick 1440: closes the 960 note
            (0, &[0x90, 69, 60]),   // tick 1440: A4 on and off on one tick: no note
            (0, &[0x80, 69, 0]),
            (0, &[0x90, 71, 70]), // B4 never closed: dropped
        ]);
        let notes = parse_midi_notes(&file(0, 480, &[t])).unwrap();
        let q = 0.5 / 480.0; // seconds per tick at 120 BPM
        assert_times(
            &notes,
            &[
                (0.0, 480.0 * q, 64),
                (240.0 * q, 480.0 * q, 64),
                (480.0 * q, 720.0 * q, 64),
                (720.0 * q, 960.0 * q, 67),
                (960.0 * q, 1440.0 * q, 67),
            ],
        );
        let vel: Vec<u8> = summary(&notes).iter().map(|s| s.3).collect();
        assert_eq!(vel, [10, 20, 30, 40, 50]);
    }

    #[test]
    fn long_delta_times_sysex_and_smpte() {
        // A 3-byte delta (20,000 ticks), a sysex, a running status after a meta event.
        let t = track(&[
            (0, &[0xf0, 0x03, 0x7e, 0x09, 0xf7]),
            (20_000, &[0x90, 48, 1]),
            (100, &[48, 0]),
        ]);
        let notes = parse_midi_notes(&file(0, 480, &[t])).unwrap();
        let q = 0.5 / 480.0;
        assert_times(&notes, &[(20_000.0 * q, 20_100.0 * q, 48)]);
        // SMPTE: 25 frames/s, 40 ticks per frame = 1 ms per tick; tempo does not apply.
        let t = track(&[
            (0, &tempo(1_000_000)),
            (250, &[0x90, 50, 64]),
            (500, &[0x80, 50, 0]),
        ]);
        let division = u16::from_be_bytes([(-25i8) as u8, 40]);
        let notes = parse_midi_notes(&file(0, division, &[t])).unwrap();
        assert_times(&notes, &[(0.25, 0.75, 50)]);
    }

    #[test]
    fn unknown_chunks_are_skipped() {
        let mut bytes = file(0, 480, &[]);
        bytes[10..12].copy_from_slice(&1u16.to_be_bytes());
        bytes.extend(b"XFIH");
        bytes.extend(3u32.to_be_bytes());
        bytes.extend([1, 2, 3]);
        bytes.extend(track(&[(0, &[0x90, 60, 100]), (480, &[0x80, 60, 0])]));
        assert_times(&parse_midi_notes(&bytes).unwrap(), &[(0.0, 0.5, 60)]);
    }

    #[test]
    fn corrupt_files_are_typed_errors() {
        assert!(matches!(
            parse_midi_notes(b"RIFF...."),
            Err(MidiError::NotMidi)
        ));
        let good = tempo_file();
        // Cut anywhere inside: truncated or missing tracks, never a panic.
        for cut in 4..good.len() {
            let e = parse_midi_notes(&good[..cut]).unwrap_err();
            assert!(
                matches!(
                    e,
                    MidiError::Truncated { .. } | MidiError::MissingTracks { .. }
                ),
                "cut at {cut}: {e}"
            );
        }
        let running = track(&[(0, &[60, 100])]);
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[running])),
            Err(MidiError::NoRunningStatus { byte: 60, .. })
        ));
        // A sysex cancels running status.
        let after_sysex = track(&[
            (0, &[0x90, 60, 100]),
            (0, &[0xf0, 0x01, 0xf7]),
            (0, &[60, 0]),
        ]);
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[after_sysex])),
            Err(MidiError::NoRunningStatus { .. })
        ));
        let bad_data = track(&[(0, &[0x90, 0x80, 100])]);
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[bad_data])),
            Err(MidiError::DataByteOutOfRange { byte: 0x80, .. })
        ));
        let undefined = track(&[(0, &[0xf4])]);
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[undefined])),
            Err(MidiError::UndefinedStatus { status: 0xf4, .. })
        ));
        let zero_tempo = track(&[(0, &tempo(0))]);
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[zero_tempo])),
            Err(MidiError::BadTempo { .. })
        ));
        let long_vlq = track(&[(0, &[0xff, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01])]);
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[long_vlq])),
            Err(MidiError::BadVarLen { .. })
        ));
        // A meta event claiming more bytes than the chunk holds.
        let mut past = track(&[]);
        past.truncate(8);
        past.extend([0x00, 0xff, 0x01, 0x10, b'x']);
        let len = (past.len() - 8) as u32;
        past[4..8].copy_from_slice(&len.to_be_bytes());
        assert!(matches!(
            parse_midi_notes(&file(0, 480, &[past])),
            Err(MidiError::EventPastChunk { .. })
        ));
        assert!(matches!(
            parse_midi_notes(&file(0, 0, &[])),
            Err(MidiError::ZeroDivision)
        ));
        let missing = read_midi_notes(Path::new("/nonexistent/musichal/x.mid")).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/musichal/x.mid"),
            "{missing}"
        );
    }
}
