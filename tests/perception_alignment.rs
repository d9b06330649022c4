//! One perception path: the trainer's `encode_file` and a live-style path (audio arriving in
//! random host blocks, assembled into 350 ms segments, `process_segment` per segment) must give
//! bit-identical features and identical tokens on both streams.
//!
//! The live side runs twice: once assembling segments itself, and once through the real
//! audio-thread hand-off (`rt::segment_channel`: the writer the plugin's `process()` feeds in
//! host blocks, the assembler the worker reads), the path the plugin uses. Early answers (the
//! answerer's second front end, for onsets after silence) leave the full segments' tokens equal
//! to the trainer's.

mod common;

use musichal::perception::synth::render_music;
use musichal::perception::{KMeansConfig, Perception, PerceptionConfig, SegmentFrames, Vocabulary};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// Live-style path: random blocks of 1..=4096 samples (seeded) into a FIFO; every time it holds
/// a whole segment, that segment goes to `process_segment` with its start sample. The last,
/// partial segment is flushed at the end, as the trainer does.
fn live_path(
    audio: &[f32],
    rate_hz: u32,
    seed: u64,
    make: &dyn Fn() -> Perception,
) -> Vec<SegmentFrames> {
    let mut perception = make();
    let seg_len = perception.config().segment_samples(rate_hz);
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut fifo: Vec<f32> = Vec::new();
    let mut next_start = 0u64;
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < audio.len() {
        let block = rng.random_range(1..=4096usize).min(audio.len() - pos);
        fifo.extend_from_slice(&audio[pos..pos + block]);
        pos += block;
        while fifo.len() >= seg_len {
            let seg: Vec<f32> = fifo.drain(..seg_len).collect();
            out.push(
                perception
                    .process_segment(&seg, rate_hz, next_start)
                    .unwrap(),
            );
            next_start += seg_len as u64;
        }
    }
    if !fifo.is_empty() {
        out.push(
            perception
                .process_segment(&fifo, rate_hz, next_start)
                .unwrap(),
        );
    }
    out
}

/// The plugin's path: host blocks of random size (stereo, identical channels, as a mono source
/// on a stereo track) into the real `SegmentWriter`; the worker-side `SegmentAssembler` cuts the
/// segments; `process_segment` per segment.
fn ring_path(
    audio: &[f32],
    rate_hz: u32,
    seed: u64,
    make: &dyn Fn() -> Perception,
) -> Vec<SegmentFrames> {
    let mut perception = make();
    let (mut writer, mut assembler) = musichal::rt::segment_channel(rate_hz as f64, 30.0).unwrap();
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut pos = 0usize;
    let mut out = Vec::new();
    while pos < audio.len() {
        let block = rng.random_range(1..=4096usize).min(audio.len() - pos);
        let b = &audio[pos..pos + block];
        writer.push_block(&[b, b]);
        pos += block;
        while let Some(seg) = assembler.next_segment() {
            out.push(
                perception
                    .process_segment(&seg.samples, rate_hz, seg.start_sample)
                    .unwrap(),
            );
        }
    }
    out
}

fn spectral() -> Perception {
    Perception::new(PerceptionConfig::default()).unwrap()
}

/// The small ONNX waveform encoder of `training/make_test_encoder.py` (16 kHz, 100 frames/s,
/// 2 frames of context): perception rebuilds each stream's waveform for it.
fn onnx() -> Perception {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/onnx_encoder/oscillator_bank.onnx"
    );
    musichal::perception::build(&format!("onnx:{path}"), PerceptionConfig::default())
        .expect("the ONNX test encoder loads (needs ORT_DYLIB_PATH)")
}

fn concat(segs: &[SegmentFrames]) -> (Vec<u64>, Vec<f32>, Vec<f32>) {
    let mut idx = Vec::new();
    let (mut h, mut p) = (Vec::new(), Vec::new());
    for s in segs {
        idx.extend((0..s.n_frames as u64).map(|i| s.first_frame_idx + i));
        h.extend_from_slice(&s.harmonic);
        p.extend_from_slice(&s.percussive);
    }
    (idx, h, p)
}

#[test]
fn training_and_live_paths_give_identical_tokens() {
    for (rate_hz, seed) in [(44_100u32, 1u64), (48_000, 2), (24_000, 3)] {
        let audio = render_music(12.0, rate_hz, 40 + seed);
        let mut trainer = Perception::new(PerceptionConfig::default()).unwrap();
        let train = trainer.encode_file_segments(&audio, rate_hz).unwrap();
        let live = live_path(&audio, rate_hz, seed, &spectral);
        assert_eq!(train.len(), live.len(), "segment count at {rate_hz} Hz");
        for (a, b) in train.iter().zip(&live) {
            assert_eq!(a.first_frame_idx, b.first_frame_idx);
            assert_eq!(a.n_frames, b.n_frames);
        }
        let (idx_t, h_t, p_t) = concat(&train);
        let (idx_l, h_l, p_l) = concat(&live);
        // Every frame exactly once, in order.
        assert!(
            idx_t.windows(2).all(|w| w[1] == w[0] + 1),
            "frames contiguous"
        );
        assert_eq!(idx_t, idx_l);
        // ~75 frames/s.
        let fps = idx_t.len() as f64 / 12.0;
        assert!((fps - 75.0).abs() < 2.0, "{fps} frames/s");
        // Bit-identical features.
        assert!(h_t == h_l, "harmonic features differ at {rate_hz} Hz");
        assert!(p_t == p_l, "percussive features differ at {rate_hz} Hz");
        // Identical tokens.
        let (vocab, _) = Vocabulary::fit(
            trainer.encoder_id(),
            &train,
            &KMeansConfig {
                k: 64,
                ..Default::default()
            },
        )
        .unwrap();
        for (a, b) in train.iter().zip(&live) {
            assert_eq!(vocab.tokens(a).unwrap(), vocab.tokens(b).unwrap());
        }
        // The real ring delivers every complete segment; each equals the trainer's, features,
        // payload (loudness, chroma, pitches) and tokens alike.
        let ring = ring_path(&audio, rate_hz, seed + 100, &spectral);
        let seg_len = trainer.config().segment_samples(rate_hz);
        assert_eq!(
            ring.len(),
            audio.len() / seg_len,
            "complete segments at {rate_hz} Hz"
        );
        for (a, b) in train.iter().zip(&ring) {
            assert_eq!(a, b, "segment {} through the ring", a.segment_idx);
            assert_eq!(vocab.tokens(a).unwrap(), vocab.tokens(b).unwrap());
        }
    }
}

/// The frames depend only on the sample stream, not on the segment length: one call with the
/// whole file gives the same frames as 350 ms segments.
#[test]
fn frames_do_not_depend_on_segmentation() {
    let audio = render_music(5.0, 44_100, 9);
    let mut a = Perception::new(PerceptionConfig::default()).unwrap();
    let segs = a.encode_file_segments(&audio, 44_100).unwrap();
    let mut b = Perception::new(PerceptionConfig::default()).unwrap();
    let whole = b.process_segment(&audio, 44_100, 0).unwrap();
    let (_, h, p) = concat(&segs);
    assert_eq!(whole.harmonic, h);
    assert_eq!(whole.percussive, p);
}

/// The same for an `onnx:<path>` encoder, which reads each stream's rebuilt waveform with past
/// context instead of magnitudes: training, live and the real ring agree bit for bit, and
/// the frames do not depend on the segment length.
#[test]
fn onnx_encoder_training_and_live_paths_agree() {
    let rate_hz = 44_100;
    let audio = render_music(8.0, rate_hz, 77);
    let mut trainer = onnx();
    assert_eq!(trainer.dim(), 16);
    assert!((trainer.frames_per_s() - 100.0).abs() < 1e-9);
    let train = trainer.encode_file_segments(&audio, rate_hz).unwrap();
    let live = live_path(&audio, rate_hz, 5, &onnx);
    let (idx_t, h_t, p_t) = concat(&train);
    let (idx_l, h_l, p_l) = concat(&live);
    assert!(idx_t.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(idx_t, idx_l);
    let fps = idx_t.len() as f64 / 8.0;
    assert!((fps - 100.0).abs() < 3.0, "{fps} frames/s");
    assert!(h_t == h_l, "harmonic features differ");
    assert!(p_t == p_l, "percussive features differ");
    assert!(h_t != p_t, "the two streams must see different waveforms");
    let (vocab, _) = Vocabulary::fit(
        trainer.encoder_id(),
        &train,
        &KMeansConfig {
            k: 16,
            ..Default::default()
        },
    )
    .unwrap();
    let ring = ring_path(&audio, rate_hz, 6, &onnx);
    assert_eq!(
        ring.len(),
        audio.len() / trainer.config().segment_samples(rate_hz)
    );
    for (a, b) in train.iter().zip(&ring) {
        assert_eq!(a, b, "segment {} through the ring", a.segment_idx);
        assert_eq!(vocab.tokens(a).unwrap(), vocab.tokens(b).unwrap());
    }
    // One call with the whole file: the same rows (up to the model's float summation order,
    // which ONNX Runtime may choose by input length).
    let whole = onnx().process_segment(&audio, rate_hz, 0).unwrap();
    assert_eq!(whole.harmonic.len(), h_t.len());
    let worst = whole
        .harmonic
        .iter()
        .zip(&h_t)
        .chain(whole.percussive.iter().zip(&p_t))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "whole-file rows differ by {worst}");
}

/// The same for `basicpitch`, whose rows (and deep chroma payload) come from one Basic Pitch
/// inference per segment on the newest 2 s of harmonic audio: they depend on where segments
/// start, so this is the test that training and live cut them alike. Needs the model
/// (`MUSICHAL_BASIC_PITCH_PATH`, set by `cargo xtask test`, which also makes its absence a
/// failure); under a bare `cargo test` without it the test says so and passes.
#[test]
fn basicpitch_encoder_training_and_live_paths_agree() {
    if common::basic_pitch_model().is_none() {
        return;
    }
    let make = || {
        musichal::perception::build("basicpitch", PerceptionConfig::default())
            .expect("the model loads, so the basicpitch encoder must")
    };
    let mut trainer = make();
    let rate_hz = 48_000;
    let audio = render_music(6.0, rate_hz, 91);
    let train = trainer.encode_file_segments(&audio, rate_hz).unwrap();
    let live = live_path(&audio, rate_hz, 8, &make);
    assert_eq!(train, live, "training and live segments differ");
    let ring = ring_path(&audio, rate_hz, 9, &make);
    assert_eq!(
        ring.len(),
        audio.len() / trainer.config().segment_samples(rate_hz)
    );
    for (a, b) in train.iter().zip(&ring) {
        assert_eq!(a, b, "segment {} through the ring", a.segment_idx);
    }
    // The deep chroma reached the payload: the harmonic frames with pitches carry the
    // model's notes (a DSP payload would too, so check it differs from `spectral`'s).
    let dsp = Perception::new(PerceptionConfig::default())
        .unwrap()
        .encode_file_segments(&audio, rate_hz)
        .unwrap();
    let differs = train
        .iter()
        .zip(&dsp)
        .flat_map(|(a, b)| a.payload.iter().zip(&b.payload))
        .filter(|(a, b)| a.chroma != b.chroma)
        .count();
    assert!(differs > 0, "basicpitch payload equals the DSP payload");
    assert_eq!(
        train[3].dim,
        musichal::perception::bp_encoder::BASICPITCH_DIM
    );
}

/// Music in bursts after silence (0.45 s of silence, then 0.7 s of music, starting abruptly):
/// every burst's start is an onset after silence, the case the early answer is for. Returns the
/// audio and the onsets' samples.
fn bursts(rate_hz: u32, n: usize) -> (Vec<f32>, Vec<usize>) {
    let music = render_music(n as f32 * 0.7 + 1.0, rate_hz, 61);
    let (gap, burst) = (
        (0.45 * rate_hz as f64) as usize,
        (0.7 * rate_hz as f64) as usize,
    );
    let mut audio = Vec::new();
    let mut onsets = Vec::new();
    for k in 0..n {
        audio.resize(audio.len() + gap, 0.0);
        // Start each burst where the music is sounding.
        let from = rate_hz as usize / 2 + k * burst;
        onsets.push(audio.len());
        audio.extend_from_slice(&music[from..from + burst]);
    }
    audio.resize(audio.len() + gap, 0.0);
    (audio, onsets)
}

/// The early answer (an onset after silence answered from the part of its segment that has
/// arrived, through the answerer's second front end) leaves the main path alone: driving an
/// `Answerer` as the worker does, with early answers between the full segments, every full
/// segment's tokens (both streams) equal the trainer's for the same audio. A front end shared
/// between the two, the fault the second one avoids, gives other tokens: the comparison sees it.
#[test]
fn early_answers_leave_the_full_segments_tokens_equal_to_the_trainers() {
    use musichal::corpus::CorpusModel;
    use musichal::engine::{
        AnswerSettings, Answerer, ANSWER_MARGIN_S, EARLY_LISTEN_S, EMBEDDED_CORPUS,
    };
    let corpus = CorpusModel::from_bytes(EMBEDDED_CORPUS).expect("the embedded corpus loads");
    let cfg = corpus.encoder_config().unwrap();
    let vocab = corpus.vocabulary();
    let make = || cfg.build().unwrap();
    for rate_hz in [48_000u32, 44_100] {
        let (audio, onsets) = bursts(rate_hz, 6);
        let l = musichal::limits::segment_len(rate_hz as f64);
        assert_eq!(l, make().config().segment_samples(rate_hz));
        let n_segments = audio.len() / l;
        // The trainer's tokens.
        let train = make().encode_file_segments(&audio, rate_hz).unwrap();
        let train_tokens: Vec<_> = train[..n_segments]
            .iter()
            .map(|s| vocab.tokens(s).unwrap())
            .collect();
        // The answerer, as the worker drives it: for each segment, first the early answer to
        // an onset in it (once `EARLY_LISTEN_S` after the onset has arrived, with the previous
        // segment as context), then the full segment.
        let listen = (EARLY_LISTEN_S * rate_hz as f64).round() as usize;
        let margin = (ANSWER_MARGIN_S * rate_hz as f64).round() as u64;
        let settings = AnswerSettings::default();
        let mut answerer = Answerer::new(&corpus, 4).unwrap();
        let mut notes = Vec::new();
        let (mut early_answers, mut early_notes) = (0, 0);
        // (segment index, the early encode's input) for the shared-front-end fault below.
        let mut early_inputs: Vec<(usize, Vec<f32>)> = Vec::new();
        for k in 0..n_segments {
            let start = k * l;
            let seg = &audio[start..start + l];
            let context = if k > 0 {
                &audio[start - l..start]
            } else {
                &[][..]
            };
            for &onset in onsets
                .iter()
                .filter(|&&o| o >= start && o + listen <= start + l)
            {
                let partial = &audio[start..onset + listen];
                let from = (onset + listen) as u64 + margin;
                let mut until = (start + l) as u64 + margin;
                if until < from + (0.15 * rate_hz as f64) as u64 {
                    until += l as u64;
                }
                let n = answerer
                    .answer_early(
                        context, partial, rate_hz, &settings, from, until, &mut notes,
                    )
                    .unwrap();
                early_answers += usize::from(n > 0);
                early_notes += n;
                let mut input = [context, partial].concat();
                input.resize(input.len() + rate_hz as usize / 4, 0.0);
                early_inputs.push((k, input));
            }
            let heard = answerer
                .answer(seg, start as u64, rate_hz, &settings, &mut notes)
                .unwrap();
            assert_eq!(
                (&heard.harmonic, &heard.percussive),
                (&train_tokens[k].harmonic, &train_tokens[k].percussive),
                "{rate_hz} Hz: segment {k}'s tokens differ from the trainer's"
            );
        }
        eprintln!(
            "{rate_hz} Hz: {n_segments} segments, {} onsets, {early_answers} early answers \
             ({early_notes} notes), every segment's tokens equal the trainer's",
            onsets.len()
        );
        assert!(
            early_answers >= onsets.len() / 2,
            "{rate_hz} Hz: only {early_answers} early answers to {} onsets: the test proves \
             little",
            onsets.len()
        );

        // The fault: one front end for both. The early encodes (a stream of their own) come
        // between the segments, and the segments' tokens no longer all equal the trainer's.
        let mut shared = make();
        let mut differ = 0;
        for k in 0..n_segments {
            for (i, (_, input)) in early_inputs.iter().enumerate().filter(|(_, e)| e.0 == k) {
                shared
                    .process_segment(input, rate_hz, (1u64 << 62) + ((i as u64 + 1) << 32))
                    .unwrap();
            }
            let seg = shared
                .process_segment(&audio[k * l..(k + 1) * l], rate_hz, (k * l) as u64)
                .unwrap();
            differ += usize::from(vocab.tokens(&seg).unwrap() != train_tokens[k]);
        }
        eprintln!("{rate_hz} Hz, one shared front end: {differ} segments' tokens differ");
        assert!(
            differ > 0,
            "{rate_hz} Hz: a shared front end gives the trainer's tokens too"
        );
    }
}
