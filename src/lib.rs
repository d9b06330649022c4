//! MusicHal: a CLAP/VST3 plugin that listens to the audio played through it and answers in MIDI
//! learned from a corpus, and colours that audio with a neural EQ steered by words.
//!
//! Module map, by thread (see `docs/DESIGN.md`):
//! - plugin glue, the only code importing nice-plug: this file (`process()`), [`params`],
//!   [`editor`];
//! - the worker thread: [`worker`] (EQ grid decoding, answering with [`engine`]);
//! - plain libraries, testable without a host: [`dsp`] (the 5-band EQ), [`rt`] (audio-thread
//!   hand-offs: segment ring, MIDI scheduler), [`eq_morph`] (the semantic EQ decoder),
//!   [`onnx`] (ONNX Runtime loading, worker/CLI only), [`telemetry`] (atomics for the GUI);
//! - tools around the plugin: [`trainer`] (corpus training). The CLAP host that loads the
//!   built plugin (the tests' harness and `musichal render`) is its own crate,
//!   `crates/musichal-clap-host`.

use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod corpus;
pub mod diagnostics;
pub mod dsp;
pub mod editor;
pub mod engine;
pub mod eq_morph;
pub mod limits;
pub mod notes;
pub mod onnx;
pub mod oracle;
pub mod params;
pub mod perception;
pub mod rt;
pub mod telemetry;
pub mod trainer;
pub mod worker;

use dsp::{Eq5, SUB_BLOCK_LEN};
use engine::EngineIo;
use eq_morph::{apply_intensity, MorphGrid};
use params::MusicHalParams;
use rt::clock::{ClockSnapshot, HostTransport, MusicalClock};
use rt::{BeatSpan, MidiOut, MidiScheduler, SegmentWriter};
use telemetry::Telemetry;
use worker::{Worker, WorkerShared};

/// Longest a real-time `activate` waits for the worker's first EQ grid and corpus (ONNX
/// Runtime's first load): a host's main thread must not hang, so past this the EQ starts flat
/// and glides in when the grid arrives (and a warning says so).
const FIRST_GRID_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The same wait for an offline render, which must sound the same every time whatever the
/// machine's load: long enough never to expire on a working machine (an error if it does).
const FIRST_GRID_TIMEOUT_OFFLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Longest an offline render waits for the worker to answer a completed segment (one segment
/// takes milliseconds; this bounds only a worker that has stopped working: an error then).
const OFFLINE_WAIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Seconds of input the audio -> worker ring holds: the worker may fall this far behind
/// before segments are dropped.
const SEGMENT_RING_SECONDS: f64 = 4.0;

/// Sample rate assumed before the host activates the plugin.
const DEFAULT_SAMPLE_RATE_HZ: f32 = 48_000.0;

/// The plugin instance. Created by the host on its main thread; `process()` runs on the audio
/// thread.
pub struct MusicHal {
    params: Arc<MusicHalParams>,
    telemetry: Arc<Telemetry>,
    editor_state: Arc<nice_plug_egui::EguiEditorState>,
    /// The 5-band EQ; audio thread only.
    eq: Eq5,
    /// Loudness matching around the EQ; audio thread only.
    auto_gain: dsp::AutoGain,
    /// Latest morph grid from the worker; the audio thread reads it without waiting.
    grid_out: triple_buffer::Output<MorphGrid>,
    /// The grid's writing end while no worker holds it.
    grid_in: Option<triple_buffer::Input<MorphGrid>>,
    /// Requests to and reports from the worker.
    worker_shared: Arc<WorkerShared>,
    /// The running worker, between `activate` and `deactivate`.
    worker: Option<Worker>,
    /// Audio end of the input ring (made in `activate` for the host's rate).
    segment_writer: Option<SegmentWriter>,
    /// Audio end of the answer: plays the worker's notes sample-accurately.
    scheduler: Option<MidiScheduler>,
    /// Segment length at the current rate, samples.
    segment_len: u64,
    /// The host renders offline: `process()` waits for the worker's answer to each segment,
    /// so a render is the same every time.
    offline: bool,
    /// Offline: the segment boundary, the onset (sample + 1) and the chord check point
    /// (sample + 1) `process()` last waited for, so each is counted once in
    /// `Telemetry::offline_waits`.
    waited_until: u64,
    waited_onset: u64,
    waited_check: u64,
    /// End every sounding note at the start of the next block (after `reset`).
    all_notes_off_pending: bool,
    /// Beat clock (host transport, or the tempo parameter); audio thread only.
    clock: MusicalClock,
    /// Publishes the clock to the worker (made in `activate` with the worker's end).
    clock_in: Option<triple_buffer::Input<ClockSnapshot>>,
}

impl Default for MusicHal {
    fn default() -> Self {
        let (grid_in, grid_out) = triple_buffer::triple_buffer(&MorphGrid::default());
        let params = Arc::new(MusicHalParams::default());
        let worker_shared = Arc::new(WorkerShared::with_persisted(worker::PersistedPaths {
            corpus: params.corpus_path.clone(),
            eq_model: params.eq_model_path.clone(),
        }));
        Self {
            params,
            telemetry: Arc::new(Telemetry::default()),
            editor_state: editor::default_state(),
            eq: Eq5::new(DEFAULT_SAMPLE_RATE_HZ).expect("48 kHz is a valid EQ rate"),
            auto_gain: dsp::AutoGain::new(DEFAULT_SAMPLE_RATE_HZ),
            grid_out,
            clock: MusicalClock::new(DEFAULT_SAMPLE_RATE_HZ as f64),
            clock_in: None,
            grid_in: Some(grid_in),
            worker_shared,
            worker: None,
            segment_writer: None,
            scheduler: None,
            segment_len: 0,
            offline: false,
            waited_until: 0,
            waited_onset: 0,
            waited_check: 0,
            all_notes_off_pending: false,
        }
    }
}

impl Plugin for MusicHal {
    const NAME: &'static str = "MusicHal";
    const VENDOR: &'static str = "MusicHal";
    // No homepage, support page or public address exists: empty, not made up. nice-plug passes
    // "" through to CLAP (a blank optional field, which hosts show as none) and copies it into
    // VST3's fixed `PFactoryInfo` fields as an empty, NUL-terminated string.
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
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

    fn setup_logger() -> Option<bool> {
        diagnostics::setup_logger()
    }

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.telemetry.clone(),
            self.worker_shared.clone(),
            self.editor_state.clone(),
        )
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // Audio latency for the host's delay compensation: none. The EQ is recursive filters
        // run sample by sample with no look-ahead and the auto gain a smoothed gain, so the
        // audio out is aligned with the audio in; the analysis runs on a copy on the worker. The MIDI
        // answers come late on purpose (one segment plus a margin, or on the next grid
        // point): a musical response, not a delay to compensate.
        context.set_latency_samples(0);
        self.telemetry
            .sample_rate_hz
            .store(buffer_config.sample_rate.round() as u32, Ordering::Relaxed);
        self.telemetry
            .max_block_size
            .store(buffer_config.max_buffer_size, Ordering::Relaxed);
        self.telemetry.blocks_processed.store(0, Ordering::Relaxed);
        if self
            .eq
            .prepare(
                buffer_config.sample_rate,
                buffer_config.max_buffer_size as usize,
            )
            .is_err()
        {
            nice_error!("unsupported sample rate {} Hz", buffer_config.sample_rate);
            return false;
        }
        self.auto_gain = dsp::AutoGain::new(buffer_config.sample_rate);
        self.offline = buffer_config.process_mode == ProcessMode::Offline;
        // The new ring's clock starts at 0.
        self.waited_until = 0;
        self.waited_onset = 0;
        self.waited_check = 0;
        // New hand-offs for this rate (allocating: allowed here, never in process()).
        let io = match rt::segment_channel(buffer_config.sample_rate as f64, SEGMENT_RING_SECONDS) {
            Ok((writer, assembler)) => {
                let (notes, mut scheduler) = rt::midi_channel();
                // Notes still sounding from the last activation end in the first block.
                if let Some(previous) = self.scheduler.as_ref() {
                    scheduler.adopt_sounding(previous);
                    self.all_notes_off_pending |= scheduler.num_active() > 0;
                }
                self.segment_len = assembler.segment_len() as u64;
                self.segment_writer = Some(writer);
                self.scheduler = Some(scheduler);
                self.clock = MusicalClock::new(buffer_config.sample_rate as f64);
                let (clock_in, clock_out) = triple_buffer::triple_buffer(&ClockSnapshot {
                    sample_rate: buffer_config.sample_rate as f64,
                    ..ClockSnapshot::default()
                });
                self.clock_in = Some(clock_in);
                Some(EngineIo {
                    assembler,
                    notes,
                    host_rate_hz: buffer_config.sample_rate.round() as u32,
                    clock: clock_out,
                })
            }
            Err(e) => {
                nice_error!("no MIDI answers at this sample rate: {e}");
                self.segment_writer = None;
                self.scheduler = None;
                None
            }
        };
        // A running worker holds the previous rate's hand-offs: restart it.
        if let Some(worker) = self.worker.take() {
            self.grid_in = worker.stop();
        }
        self.start_worker(io);
        self.sync_eq_immediately();
        true
    }

    fn reset(&mut self) {
        self.params
            .output_gain
            .smoothed
            .reset(self.params.output_gain.value());
        self.params.morph.smoothed.reset(self.params.morph.value());
        self.params
            .intensity
            .smoothed
            .reset(self.params.intensity.value());
        self.eq.reset();
        self.auto_gain.reset();
        self.sync_eq_immediately();
        self.all_notes_off_pending = true;
    }

    fn deactivate(&mut self) {
        self.telemetry.sample_rate_hz.store(0, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            self.grid_in = worker.stop();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // Test-only fault injection (feature `plant_process_alloc`, see Cargo.toml): one heap
        // allocation of a size nothing else asks for (12345 bytes) per block, which the
        // `assert_process_allocs` guard must turn into an abort that names that size.
        #[cfg(feature = "plant_process_alloc")]
        {
            let mut planted: Vec<Vec<u8>> = Vec::new();
            planted.push(Vec::with_capacity(12_345));
            std::hint::black_box(&mut planted);
        }
        // No panic may reach the host. Unwinding out of `process_inner` would leave half-written
        // audio; silence is the safe answer, and the counter tells the GUI something went wrong.
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| self.process_inner(buffer, context)));
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
    /// Start the worker if it is not running (main thread, from `activate`).
    fn start_worker(&mut self, io: Option<EngineIo>) {
        if self.worker.is_some() {
            return;
        }
        let Some(grid_in) = self.grid_in.take() else {
            // A previous worker died holding the writer: make a fresh pair.
            let (grid_in, grid_out) = triple_buffer::triple_buffer(&MorphGrid::default());
            self.grid_out = grid_out;
            return self.spawn_worker(grid_in, io);
        };
        self.spawn_worker(grid_in, io);
    }

    fn spawn_worker(&mut self, grid_in: triple_buffer::Input<MorphGrid>, io: Option<EngineIo>) {
        self.publish_requests();
        let before = self
            .worker_shared
            .eq
            .grids_published
            .load(Ordering::Acquire);
        match Worker::spawn(self.worker_shared.clone(), grid_in, io) {
            Ok(worker) => self.worker = Some(worker),
            Err(e) => {
                nice_error!("could not start the worker thread: {e}");
                return;
            }
        }
        // Wait (bounded) for the first grid, so that processing starts with the EQ the
        // parameters ask for rather than gliding in from flat a few blocks later: the same
        // session then renders the same audio every time. `activate` runs on the main thread
        // and may take this long; the audio thread never waits.
        let limit = if self.offline {
            FIRST_GRID_TIMEOUT_OFFLINE
        } else {
            FIRST_GRID_TIMEOUT
        };
        let deadline = std::time::Instant::now() + limit;
        let shared = &self.worker_shared;
        let eq_ready = || shared.eq.first_grid_settled(before);
        // Likewise for the corpus, so the first segment is answered.
        let corpus_ready = || shared.engine.corpus_attempt_done.load(Ordering::Acquire);
        while !(eq_ready() && corpus_ready()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if !(eq_ready() && corpus_ready()) {
            let what = if eq_ready() { "corpus" } else { "EQ model" };
            if self.offline {
                nice_error!(
                    "offline render: the {what} was not ready after {} s; the render starts \
                     without it",
                    limit.as_secs()
                );
            } else {
                nice_warn!(
                    "the {what} was not ready after {} s; it takes over when loaded",
                    limit.as_secs()
                );
            }
        }
        self.sync_eq_immediately();
    }

    /// Tell the worker which terms the parameters ask for. Real-time safe: atomics only.
    fn publish_requests(&self) {
        let shared = &self.worker_shared;
        shared
            .eq
            .term_a
            .store(self.params.term_a.value().max(0) as u32, Ordering::Relaxed);
        shared
            .eq
            .term_b
            .store(self.params.term_b.value().max(0) as u32, Ordering::Relaxed);
        shared.engine.controls.store(&self.params.answer_settings());
        shared
            .engine
            .controls
            .store_timing(&self.params.timing_settings());
    }

    /// Offline rendering only: wait (bounded) until the worker has answered every segment the
    /// input has completed, so its notes are queued before their time comes.
    fn wait_for_worker(&mut self, clock: u64) {
        if self.segment_len == 0 || self.worker.is_none() {
            return;
        }
        // The ring carries whole chunks: a segment is complete once its last chunk is full.
        let delivered = clock / rt::CHUNK_LEN as u64 * rt::CHUNK_LEN as u64;
        let complete_until = delivered / self.segment_len * self.segment_len;
        if complete_until > self.waited_until {
            self.waited_until = complete_until;
            self.telemetry.count_offline_wait();
        }
        if !self
            .worker_shared
            .engine
            .wait_until_handled(complete_until, OFFLINE_WAIT_TIMEOUT)
        {
            nice_error!("offline render: the worker did not answer in time");
        }
    }

    /// Offline rendering only: when the segment still arriving holds an onset and enough of
    /// the audio after it has been delivered, wait (bounded) until the worker has decided on
    /// its early answer, so a render does not depend on the worker's timing.
    fn wait_for_early_answer(&mut self, clock: u64, onset: Option<u64>) {
        let (Some(onset), true) = (onset, self.segment_len > 0 && self.worker.is_some()) else {
            return;
        };
        let delivered = clock / rt::CHUNK_LEN as u64 * rt::CHUNK_LEN as u64;
        let segment_start = delivered / self.segment_len * self.segment_len;
        let rate = self.telemetry.sample_rate_hz.load(Ordering::Relaxed) as f64;
        let listen = (engine::EARLY_LISTEN_S * rate).round() as u64;
        if !engine::early_onset_pending(onset, segment_start, delivered, listen) {
            return;
        }
        if onset + 1 > self.waited_onset {
            self.waited_onset = onset + 1;
            self.telemetry.count_offline_wait();
        }
        if !self
            .worker_shared
            .engine
            .wait_for_early_decision(onset, OFFLINE_WAIT_TIMEOUT)
        {
            nice_error!("offline render: the worker did not decide on an early answer");
        }
    }

    /// Offline rendering only: when the segment still arriving has passed a chord check point,
    /// wait (bounded) until the worker has handled it (Follow Changes), so a render does not
    /// depend on the worker's timing.
    fn wait_for_chord_check(&mut self, clock: u64) {
        if self.segment_len == 0 || self.worker.is_none() {
            return;
        }
        let delivered = clock / rt::CHUNK_LEN as u64 * rt::CHUNK_LEN as u64;
        let segment_start = delivered / self.segment_len * self.segment_len;
        let Some(point) = engine::chord_check_point(segment_start, delivered, self.segment_len)
        else {
            return;
        };
        if point + 1 > self.waited_check {
            self.waited_check = point + 1;
            self.telemetry.count_offline_wait();
        }
        if !self
            .worker_shared
            .engine
            .wait_for_chord_check(point, OFFLINE_WAIT_TIMEOUT)
        {
            nice_error!("offline render: the worker did not check the chord in time");
        }
    }

    /// The EQ settings the parameters ask for right now, from the latest grid.
    fn eq_target(&mut self, morph: f32, intensity: f32) -> dsp::EqParams {
        apply_intensity(self.grid_out.read().params_at(morph), intensity)
    }

    /// Jump the EQ to the current parameters (no glide): after activation and reset.
    fn sync_eq_immediately(&mut self) {
        let target = self.eq_target(self.params.morph.value(), self.params.intensity.value());
        self.eq.set_params_immediate(target);
        self.eq.set_bypass(self.params.eq_bypass.value());
    }

    /// Real-time safe: no alloc, no locks (offline rendering may wait for the worker).
    fn process_inner(&mut self, buffer: &mut Buffer, context: &mut impl ProcessContext<Self>) {
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

        self.publish_requests();
        let num_samples = buffer.samples();

        // The input (before the EQ) goes to the worker.
        let block_start = self.segment_writer.as_ref().map_or(0, |w| w.clock());
        // The beat clock first: the worker places this block's answers with it.
        let transport = context.transport();
        let host = HostTransport {
            playing: transport.playing,
            tempo_bpm: transport.tempo,
            time_sig: transport
                .time_sig_numerator
                .zip(transport.time_sig_denominator),
            pos_beats: transport.pos_beats(),
            bar_start_beats: transport.bar_start_pos_beats(),
        };
        let beat = self.clock.advance(
            block_start,
            num_samples,
            &host,
            f64::from(self.params.tempo.value()),
        );
        if let Some(clock_in) = self.clock_in.as_mut() {
            clock_in.write(beat.snapshot);
        }
        // Only answering (Listen) and learning (Live Learning) need the input analysed; with
        // both off the worker skips every segment this block touches, and an offline render
        // has nothing to wait for. (The editor's token histograms pause meanwhile.)
        let analyse = self.params.listen.value() || self.params.live_learning.value();
        let mut wait = None;
        if let Some(writer) = self.segment_writer.as_mut() {
            writer.set_analysis(analyse);
            match buffer.as_slice_immutable() {
                [left, right, ..] => writer.push_block(&[&left[..], &right[..]]),
                [mono] => writer.push_block(&[&mono[..]]),
                [] => writer.skip(num_samples as u64),
            }
            if self.offline && analyse {
                let onset = writer
                    .counters()
                    .last_onset
                    .load(Ordering::Acquire)
                    .checked_sub(1);
                wait = Some((writer.clock(), onset));
            }
        }
        if let Some((clock, onset)) = wait {
            self.wait_for_worker(clock);
            self.wait_for_early_answer(clock, onset);
            self.wait_for_chord_check(clock);
        }
        if let Some(scheduler) = self.scheduler.as_mut() {
            let telemetry = &self.telemetry;
            let mut emit = |out: MidiOut| {
                if matches!(out, MidiOut::NoteOn { .. }) {
                    telemetry.notes_out.fetch_add(1, Ordering::Relaxed);
                }
                if context.try_send_event(midi_event(out)).is_err() {
                    telemetry.count_midi_send_failure();
                }
            };
            // A reset or a transport stop ends every note at the block's start.
            if std::mem::take(&mut self.all_notes_off_pending) || beat.stopped {
                scheduler.all_notes_off(0, &mut emit);
            }
            if let Some(delta) = beat.jump {
                scheduler.shift_beats(
                    delta,
                    beat.snapshot.bar_start_beats,
                    beat.snapshot.beats_per_bar,
                );
            }
            let span = BeatSpan {
                beats: beat.snapshot.beats,
                beats_per_sample: beat.snapshot.beats_per_sample(),
                bar_start: beat.snapshot.bar_start_beats,
                beats_per_bar: beat.snapshot.beats_per_bar,
            };
            scheduler.process_block_clocked(block_start, num_samples as u32, Some(span), &mut emit);
        }

        self.eq.set_bypass(self.params.eq_bypass.value());
        let auto_gain = self.params.auto_gain.value() && !self.params.eq_bypass.value();
        let channels = buffer.as_slice();
        let mut start = 0;
        while start < num_samples {
            let len = (num_samples - start).min(SUB_BLOCK_LEN);
            // Parameters are read once per sub-block: sample-accurate to SUB_BLOCK_LEN samples,
            // with nice-plug splitting blocks at automation events.
            let morph = self.params.morph.smoothed.next_step(len as u32);
            let intensity = self.params.intensity.smoothed.next_step(len as u32);
            let target = self.eq_target(morph, intensity);
            self.eq.set_target(target);
            let range = start..start + len;
            match channels {
                [left, right, ..] => {
                    if auto_gain {
                        self.auto_gain
                            .measure_input(&[&left[range.clone()], &right[range.clone()]]);
                    }
                    let (l, r) = (&mut left[range.clone()], &mut right[range]);
                    self.eq.process_stereo(l, r);
                    if auto_gain {
                        self.auto_gain.process_output(&mut [l, r]);
                    } else {
                        self.auto_gain.release(&mut [l, r]);
                    }
                }
                [mono] => {
                    if auto_gain {
                        self.auto_gain.measure_input(&[&mono[range.clone()]]);
                    }
                    let m = &mut mono[range];
                    self.eq.process_mono(m);
                    if auto_gain {
                        self.auto_gain.process_output(&mut [m]);
                    } else {
                        self.auto_gain.release(&mut [m]);
                    }
                }
                [] => {}
            }
            start += len;
        }

        if self.editor_state.is_open() {
            self.telemetry.publish_eq(&self.eq.current_params());
        }

        for mut frame in buffer.iter_samples() {
            let gain = self.params.output_gain.smoothed.next();
            for sample in frame.iter_mut() {
                *sample *= gain;
            }
        }
    }
}

/// The scheduler's output as a nice-plug note event.
fn midi_event(out: MidiOut) -> NoteEvent<()> {
    match out {
        MidiOut::NoteOn {
            timing,
            channel,
            note,
            velocity,
        } => NoteEvent::NoteOn {
            timing,
            voice_id: VoiceID::Wildcard,
            channel: Channel::Number(channel),
            key: Key::Number(note),
            velocity,
        },
        MidiOut::NoteOff {
            timing,
            channel,
            note,
            velocity,
        } => NoteEvent::NoteOff {
            timing,
            voice_id: VoiceID::Wildcard,
            channel: Channel::Number(channel),
            key: Key::Number(note),
            velocity,
        },
    }
}

impl ClapPlugin for MusicHal {
    const CLAP_ID: &'static str = "com.musichal.musichal";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Answers the audio it hears with MIDI learned from a corpus; word-steered neural EQ");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
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
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Eq,
        Vst3SubCategory::Generator,
    ];
}

nice_export_clap!(MusicHal);
nice_export_vst3!(MusicHal);
