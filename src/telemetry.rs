//! Numbers the audio thread and the worker publish for the GUI and the log: lock-free atomics,
//! written with `Relaxed` ordering because each value stands alone and a stale read is harmless.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Shared between the plugin (writer) and the editor (reader) behind an `Arc`.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Blocks in which non-finite input or filter state was caught and the block was sanitised.
    pub bad_input_blocks: AtomicU64,
    /// Current sample rate in Hz (0 while inactive).
    pub sample_rate_hz: AtomicU32,
    /// Largest block size the host announced.
    pub max_block_size: AtomicU32,
    /// Blocks processed since activation.
    pub blocks_processed: AtomicU64,
    /// The EQ parameters currently applied (f32 bits, in `EqParams::to_array` order), for the
    /// editor's curve. Written by the audio thread while the editor is open.
    pub eq_params: [AtomicU32; 13],
    /// MIDI events the host's output queue refused.
    pub midi_send_failures: AtomicU64,
    /// Note ons sent to the host (the editor's MIDI activity light).
    pub notes_out: AtomicU64,
    /// Offline rendering: completed segments and onsets for which `process()` had to wait for
    /// the worker (counted once each, whether or not the worker had already finished, so the
    /// count depends only on the input and the settings). Zero when nothing needs analysis.
    pub offline_waits: AtomicU64,
}

impl Telemetry {
    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn count_offline_wait(&self) {
        self.offline_waits.fetch_add(1, Ordering::Relaxed);
        crate::diagnostics::count_offline_wait();
    }

    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn count_block(&self) {
        self.blocks_processed.fetch_add(1, Ordering::Relaxed);
    }

    /// Real-time safe: no alloc, no locks.
    pub fn publish_eq(&self, params: &crate::dsp::EqParams) {
        for (slot, v) in self.eq_params.iter().zip(params.to_array()) {
            slot.store(v.to_bits(), Ordering::Relaxed);
        }
    }

    /// The last published EQ parameters (all zeros before the first publication).
    pub fn eq(&self) -> crate::dsp::EqParams {
        let mut a = [0.0f32; 13];
        for (v, slot) in a.iter_mut().zip(&self.eq_params) {
            *v = f32::from_bits(slot.load(Ordering::Relaxed));
        }
        crate::dsp::EqParams::from_array(a)
    }

    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn count_bad_input(&self) {
        self.bad_input_blocks.fetch_add(1, Ordering::Relaxed);
    }

    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn count_midi_send_failure(&self) {
        self.midi_send_failures.fetch_add(1, Ordering::Relaxed);
    }
}
