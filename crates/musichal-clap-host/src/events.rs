//! Events into and out of `process()`, the host transport, and their conversion to and from
//! clack's event buffers.

use clack_host::events::event_types::{
    MidiEvent, NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::events::{EventFlags, EventHeader, Match};
use clack_host::prelude::*;
use clack_host::utils::FixedPoint;

/// An event the host sends into one `process()` call.
#[derive(Debug, Clone, PartialEq)]
pub enum InputEvent {
    /// Set a parameter to a CLAP value (see the module docs).
    ParamValue { param_id: u32, value: f64 },
    NoteOn {
        channel: u16,
        key: u16,
        velocity: f64,
    },
    NoteOff {
        channel: u16,
        key: u16,
        velocity: f64,
    },
    /// A MIDI 1.0 message on note port 0.
    Midi([u8; 3]),
}

/// An [`InputEvent`] at a sample offset inside its block.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub time: u32,
    pub event: InputEvent,
}

impl TimedEvent {
    pub fn new(time: u32, event: InputEvent) -> Self {
        Self { time, event }
    }
}

/// What kind of CLAP note event the plugin emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    On,
    Off,
    Choke,
    End,
}

/// A note or MIDI event the plugin emitted, in either CLAP dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum MidiOrNoteEvent {
    /// A CLAP note event. `note_id`, `port`, `channel`, `key` are -1 for "any".
    Note {
        kind: NoteKind,
        port: i16,
        channel: i16,
        key: i16,
        note_id: i32,
        velocity: f64,
    },
    /// A raw MIDI 1.0 message.
    Midi { port: u16, data: [u8; 3] },
    /// A SysEx message.
    SysEx { port: u16, data: Vec<u8> },
}

impl MidiOrNoteEvent {
    /// `Some((channel, key, velocity 0..=1))` if this is a note-on in either dialect. A MIDI
    /// note-on with velocity 0 counts as a note-off, as MIDI defines.
    pub fn note_on(&self) -> Option<(u8, u8, f64)> {
        match *self {
            Self::Note {
                kind: NoteKind::On,
                channel,
                key,
                velocity,
                ..
            } => Some((channel.max(0) as u8, key.max(0) as u8, velocity)),
            Self::Midi {
                data: [status, key, vel],
                ..
            } if status & 0xF0 == 0x90 && vel > 0 => {
                Some((status & 0x0F, key, f64::from(vel) / 127.0))
            }
            _ => None,
        }
    }

    /// `Some((channel, key))` if this is a note-off (or choke) in either dialect.
    pub fn note_off(&self) -> Option<(u8, u8)> {
        match *self {
            Self::Note {
                kind: NoteKind::Off | NoteKind::Choke,
                channel,
                key,
                ..
            } => Some((channel.max(0) as u8, key.max(0) as u8)),
            Self::Midi {
                data: [status, key, vel],
                ..
            } if status & 0xF0 == 0x80 || (status & 0xF0 == 0x90 && vel == 0) => {
                Some((status & 0x0F, key))
            }
            _ => None,
        }
    }
}

/// Any other event the plugin emitted (parameter output, gestures, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum OtherOutputEvent {
    ParamValue {
        param_id: u32,
        value: f64,
    },
    ParamGestureBegin {
        param_id: u32,
    },
    ParamGestureEnd {
        param_id: u32,
    },
    /// Anything else: its CLAP event space id and type id.
    Unknown {
        space_id: Option<u16>,
        type_id: u16,
    },
}

/// A basic host transport, sent with every block while set.
#[derive(Debug, Clone, PartialEq)]
pub struct Transport {
    pub playing: bool,
    pub tempo_bpm: f64,
    pub time_sig_num: u16,
    pub time_sig_denom: u16,
    /// Song position of the next block's first sample, in quarter-note beats; advanced by the
    /// harness after every block while `playing`.
    pub song_pos_beats: f64,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            playing: true,
            tempo_bpm: 120.0,
            time_sig_num: 4,
            time_sig_denom: 4,
            song_pos_beats: 0.0,
        }
    }
}

impl Transport {
    fn beats_per_bar(&self) -> f64 {
        f64::from(self.time_sig_num) * 4.0 / f64::from(self.time_sig_denom.max(1))
    }

    pub(crate) fn to_event(&self) -> TransportEvent {
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        let bpb = self.beats_per_bar();
        let bar_number = (self.song_pos_beats / bpb).floor();
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: FixedPoint::from_float(self.song_pos_beats),
            song_pos_seconds: FixedPoint::from_float(self.song_pos_beats * 60.0 / self.tempo_bpm),
            tempo: self.tempo_bpm,
            tempo_inc: 0.0,
            loop_start_beats: FixedPoint::from_int(0),
            loop_end_beats: FixedPoint::from_int(0),
            loop_start_seconds: FixedPoint::from_int(0),
            loop_end_seconds: FixedPoint::from_int(0),
            bar_start: FixedPoint::from_float(bar_number * bpb),
            bar_number: bar_number as i32,
            time_signature_numerator: self.time_sig_num,
            time_signature_denominator: self.time_sig_denom,
        }
    }
}

pub(crate) fn build_input_events(events: &[TimedEvent]) -> EventBuffer {
    let mut sorted: Vec<&TimedEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.time); // stable: equal times keep the caller's order
    let mut buf = EventBuffer::with_capacity(sorted.len());
    for e in sorted {
        match e.event {
            InputEvent::ParamValue { param_id, value } => buf.push(&ParamValueEvent::new(
                e.time,
                ClapId::new(param_id),
                Pckn::match_all(),
                value,
            )),
            InputEvent::NoteOn {
                channel,
                key,
                velocity,
            } => buf.push(&NoteOnEvent::new(
                e.time,
                Pckn::new(0u16, channel, key, Match::All),
                velocity,
            )),
            InputEvent::NoteOff {
                channel,
                key,
                velocity,
            } => buf.push(&NoteOffEvent::new(
                e.time,
                Pckn::new(0u16, channel, key, Match::All),
                velocity,
            )),
            InputEvent::Midi(data) => buf.push(&MidiEvent::new(e.time, 0, data)),
        }
    }
    buf
}

pub(crate) fn collect_output_events(
    out: &EventBuffer,
    offset: u64,
    midi: &mut Vec<(u64, MidiOrNoteEvent)>,
    other: &mut Vec<(u64, OtherOutputEvent)>,
) {
    for ev in out.iter() {
        let t = offset + u64::from(ev.header().time());
        let note = |kind, p: Pckn, velocity| MidiOrNoteEvent::Note {
            kind,
            port: p.raw_port_index(),
            channel: p.raw_channel(),
            key: p.raw_key(),
            note_id: p.raw_note_id(),
            velocity,
        };
        match ev.as_core_event() {
            Some(CoreEventSpace::NoteOn(e)) => {
                midi.push((t, note(NoteKind::On, e.pckn(), e.velocity())))
            }
            Some(CoreEventSpace::NoteOff(e)) => {
                midi.push((t, note(NoteKind::Off, e.pckn(), e.velocity())))
            }
            Some(CoreEventSpace::NoteChoke(e)) => {
                midi.push((t, note(NoteKind::Choke, e.pckn(), 0.0)))
            }
            Some(CoreEventSpace::NoteEnd(e)) => midi.push((t, note(NoteKind::End, e.pckn(), 0.0))),
            Some(CoreEventSpace::Midi(e)) => midi.push((
                t,
                MidiOrNoteEvent::Midi {
                    port: e.port_index(),
                    data: e.data(),
                },
            )),
            Some(CoreEventSpace::MidiSysEx(e)) => {
                // SAFETY: the payload of an output event is valid until the host clears the
                // output buffer; we copy it right away, before `out` is cleared or dropped.
                let data = unsafe { e.data() }.to_vec();
                midi.push((
                    t,
                    MidiOrNoteEvent::SysEx {
                        port: e.port_index(),
                        data,
                    },
                ))
            }
            Some(CoreEventSpace::ParamValue(e)) => other.push((
                t,
                OtherOutputEvent::ParamValue {
                    param_id: e.param_id().map_or(u32::MAX, ClapId::get),
                    value: e.value(),
                },
            )),
            Some(CoreEventSpace::ParamGestureBegin(e)) => other.push((
                t,
                OtherOutputEvent::ParamGestureBegin {
                    param_id: e.param_id().map_or(u32::MAX, ClapId::get),
                },
            )),
            Some(CoreEventSpace::ParamGestureEnd(e)) => other.push((
                t,
                OtherOutputEvent::ParamGestureEnd {
                    param_id: e.param_id().map_or(u32::MAX, ClapId::get),
                },
            )),
            _ => other.push((
                t,
                OtherOutputEvent::Unknown {
                    space_id: ev.header().space_id().map(|s| s.id()),
                    type_id: ev.header().type_id(),
                },
            )),
        }
    }
}
