//! MusicHal: a CLAP/VST3 plugin that listens to the audio played through it and answers in MIDI
//! learned from a corpus, and colours that audio with a neural EQ steered by words.
//!
//! Module map, by thread (see `docs/DESIGN.md`):
//! - plugin glue, the only code importing nice-plug: this file (`process()`), [`params`],
//!   [`editor`];
//! - plain libraries, testable without a host: [`onnx`] (ONNX Runtime loading, worker/CLI only),
//!   [`telemetry`] (atomics shared with the GUI).

use nice_plug::prelude::*;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod dsp;
pub mod editor;
pub mod onnx;
pub mod params;
pub mod rt;
pub mod telemetry;

use params::MusicHalParams;
use telemetry::Telemetry;

/// The plugin instance. Created by the host on its main thread; `process()` runs on the audio
/// thread.
pub struct MusicHal {
    params: Arc<MusicHalParams>,
    telemetry: Arc<Telemetry>,
    editor_state: Arc<nice_plug_egui::EguiEditorState>,
}

impl Default for MusicHal {
    fn default() -> Self {
        Self {
            params: Arc::new(MusicHalParams::default()),
            telemetry: Arc::new(Telemetry::default()),
            editor_state: editor::default_state(),
        }
    }
}

impl Plugin for MusicHal {
    const NAME: &'static str = "MusicHal";
    const VENDOR: &'static str = "MusicHal";
    const URL: &'static str = "https://github.com/musichal/musichal";
    const EMAIL: &'static str = "musichal@users.noreply.github.com";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    /// The answers are notes; `Basic` gives note on/off (and CCs) on the MIDI/note port.
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;
    /// The morph lane is automated; it must land on the sample, not on the block boundary.
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = nice_plug_egui::EguiEditor<editor::MusicHalEditor>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.telemetry.clone(),
            self.editor_state.clone(),
        )
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.telemetry
            .sample_rate_hz
            .store(buffer_config.sample_rate.round() as u32, Ordering::Relaxed);
        self.telemetry
            .max_block_size
            .store(buffer_config.max_buffer_size, Ordering::Relaxed);
        self.telemetry.blocks_processed.store(0, Ordering::Relaxed);
        true
    }

    fn reset(&mut self) {
        self.params.output_gain.smoothed.reset(self.params.output_gain.value());
    }

    fn deactivate(&mut self) {
        self.telemetry.sample_rate_hz.store(0, Ordering::Relaxed);
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // No panic may reach the host. Unwinding out of `process_inner` would leave half-written
        // audio; silence is the safe answer, and the counter tells the GUI something went wrong.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| self.process_inner(buffer)));
        if result.is_err() {
            for channel in buffer.as_slice() {
                channel.fill(0.0);
            }
            self.telemetry.count_bad_input();
        }
        self.telemetry.count_block();
        ProcessStatus::Normal
    }
}

impl MusicHal {
    /// Real-time safe: no alloc, no locks.
    fn process_inner(&mut self, buffer: &mut Buffer) {
        // Non-finite input must never reach the output or any filter state: silence this block.
        let mut bad = false;
        for channel in buffer.as_slice_immutable() {
            if channel.iter().any(|s| !s.is_finite()) {
                bad = true;
                break;
            }
        }
        if bad {
            for channel in buffer.as_slice() {
                channel.fill(0.0);
            }
            self.telemetry.count_bad_input();
        }

        for mut frame in buffer.iter_samples() {
            let gain = self.params.output_gain.smoothed.next();
            for sample in frame.iter_mut() {
                *sample *= gain;
            }
        }
    }
}

impl ClapPlugin for MusicHal {
    const CLAP_ID: &'static str = "com.musichal.musichal";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Answers the audio it hears with MIDI learned from a corpus; word-steered neural EQ");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::NoteEffect,
        ClapFeature::Equalizer,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for MusicHal {
    const VST3_CLASS_ID: [u8; 16] = *b"MusicHalNeuralEQ";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Eq, Vst3SubCategory::Generator];
}

nice_export_clap!(MusicHal);
nice_export_vst3!(MusicHal);
