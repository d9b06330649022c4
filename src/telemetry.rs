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
}

impl Telemetry {
    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn count_block(&self) {
        self.blocks_processed.fetch_add(1, Ordering::Relaxed);
    }

    /// Real-time safe: no alloc, no locks.
    #[inline]
    pub fn count_bad_input(&self) {
        self.bad_input_blocks.fetch_add(1, Ordering::Relaxed);
    }
}
