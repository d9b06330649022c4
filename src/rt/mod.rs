//! Real-time hand-offs between the audio thread and the worker. Plain Rust, no nice-plug
//! import, testable without a host.
//!
//! - [`segment`]: audio -> worker. The audio thread pushes the mono-summed input into a
//!   wait-free SPSC ring; the worker assembles gap-free 350 ms [`Segment`]s stamped with their
//!   absolute start sample.
//! - [`midi`]: worker -> audio. The worker queues timed [`NoteEvent`]s; the audio thread's
//!   [`MidiScheduler`] emits sample-accurate note on/off per block.
//!
//! Both share one clock: [`SegmentWriter::clock`] (samples processed since the pair was
//! created) is the block start the plugin passes to [`MidiScheduler::process_block`], so
//! the worker can answer "at sample N" in the same units its segments were stamped with.
//! Every audio-thread method is bounded and never waits; overflows drop and count.

pub mod clock;
pub mod midi;
pub mod segment;

pub use midi::{
    midi_channel, BeatSpan, BeatTime, MidiCounters, MidiOut, MidiScheduler, MidiStats, NoteEvent,
    NoteSender, Revoice, MAX_ACTIVE, MAX_PENDING,
};
pub use segment::{
    segment_channel, Segment, SegmentAssembler, SegmentCounters, SegmentError, SegmentStats,
    SegmentWriter, CHUNK_LEN, ONSET_FLOOR,
};
