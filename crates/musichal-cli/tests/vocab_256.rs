//! K = 256, end to end (README: `musichal train ... --vocab 16|64|256`; DESIGN: "K = 64 by
//! default, 16 and 256 supported"): the command line trains a corpus with 256 gesture tokens per
//! stream, the file loads with all of them, `inspect --json` reports them, the library's
//! answerer quantises live audio into that vocabulary and answers, and the built plugin, given
//! the file as its corpus, answers from it.
//!
//! What makes each step specific to 256 (a vocabulary quietly capped at 64, or a corpus the
//! plugin refuses and replaces with the embedded one, fails here):
//! - the trained streams use more than 64 distinct tokens and carry more than log2(64) = 6 bits
//!   of token entropy, which no 64-token vocabulary can;
//! - live audio is quantised to tokens above 63;
//! - the plugin's answer differs from its answer with the embedded corpus for the same input,
//!   and plays only pitches the 256-token corpus holds.
//!
//! The plugin part loads the built `libmusichal.so` (`cargo build --lib` first, as for every
//! host test).

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::checks::{assert_balanced, assert_clean, notes};
use common::clap_host::{plugin_path, BlockSizes, ClapHost};
use musichal::corpus::CorpusModel;
use musichal::engine::{AnswerSettings, Answerer};
use musichal::limits::segment_len;
use musichal::perception::synth::render_music;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_musichal");
const RATE: u32 = 48_000;

fn musichal(args: &[&str]) -> Vec<u8> {
    let out = Command::new(EXE)
        .args(args)
        .output()
        .expect("musichal runs");
    assert!(
        out.status.success(),
        "musichal {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The plugin's notes for `music` (then 2 s of silence), offline, with `corpus` if given.
fn plugin_answer(music: &[f32], corpus: Option<&std::path::Path>) -> Vec<(u64, u8, u8, bool)> {
    let path = plugin_path();
    let mut host =
        ClapHost::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    host.set_offline_render(true).unwrap();
    if let Some(c) = corpus {
        host.set_persisted_field("corpus-path", &Some(c.display().to_string()))
            .unwrap();
    }
    host.activate(RATE as f64, 1, 1024).unwrap();
    let mut x = music.to_vec();
    x.extend(std::iter::repeat_n(0.0, 2 * RATE as usize));
    let out = host
        .process_signal(&[x.clone(), x], &BlockSizes::Fixed(1024), &[])
        .unwrap();
    host.deactivate().unwrap();
    assert_clean(&host);
    let events = notes(&out);
    assert_balanced(&events);
    events
}

#[test]
fn a_256_token_corpus_is_trained_loaded_inspected_and_answered_with() {
    let dir = std::env::temp_dir().join(format!("musichal-k256-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("band.wav");
    let mhc = dir.join("k256.mhc");
    let wav_s = wav.to_str().unwrap();
    let mhc_s = mhc.to_str().unwrap();

    // Train: 60 s of the synthetic band (seed 3; the embedded corpus is seed 1), 4,500 frames.
    musichal(&[
        "synth",
        "-o",
        wav_s,
        "--seconds",
        "60",
        "--seed",
        "3",
        "--rate",
        "44100",
    ]);
    let report: Value = serde_json::from_slice(&musichal(&[
        "train", wav_s, "--vocab", "256", "--json", "-o", mhc_s,
    ]))
    .expect("train --json prints JSON");
    let corpus_report = &report["corpus"];
    assert_eq!(corpus_report["vocab_size"], 256, "{corpus_report}");
    for stream in ["harmonic", "percussive"] {
        let s = &corpus_report[stream];
        let active = s["active_tokens"].as_u64().unwrap();
        let bits = s["entropy_bits"].as_f64().unwrap();
        assert_eq!(s["max_entropy_bits"].as_f64(), Some(8.0), "{stream}: {s}");
        assert!(
            active > 64 && bits > 6.0,
            "{stream}: {active} active tokens, {bits:.2} bits: no more than a 64-token vocabulary"
        );
    }

    // Load: every frame has both tokens, all below 256, and both codebooks have 256 rows.
    let corpus = CorpusModel::load(&mhc).expect("the K = 256 corpus loads");
    assert_eq!(corpus.vocab_size, 256);
    let dim = corpus.dim as usize;
    assert_eq!(corpus.centroids_harmonic.len(), 256 * dim);
    assert_eq!(corpus.centroids_percussive.len(), 256 * dim);
    let (h, p): (BTreeSet<u16>, BTreeSet<u16>) = corpus
        .frames
        .iter()
        .map(|f| f.tokens().expect("both tokens"))
        .unzip();
    assert!(h.iter().chain(&p).all(|&t| t < 256));
    assert!(
        h.len() > 64 && p.len() > 64,
        "{} / {} distinct tokens",
        h.len(),
        p.len()
    );
    assert_eq!(
        corpus_report["harmonic"]["active_tokens"].as_u64(),
        Some(h.len() as u64)
    );

    // Inspect: the file's own report, 256 tokens per stream.
    let inspected: Value = serde_json::from_slice(&musichal(&["inspect", mhc_s, "--json"]))
        .expect("inspect --json prints JSON");
    assert_eq!(inspected["vocab_size"], 256);
    assert_eq!(inspected["report"], *corpus_report);
    assert_eq!(
        inspected["frames"].as_array().unwrap().len(),
        corpus.frames.len()
    );

    // Answer (library): another piece, quantised into the 256-token vocabulary and answered.
    let corpus_pitches: BTreeSet<u8> = corpus
        .frames
        .iter()
        .flat_map(|f| f.pitches.iter().copied())
        .collect();
    let music = render_music(8.0, RATE, 8);
    let mut answerer = Answerer::new(&corpus, 1).unwrap();
    let settings = AnswerSettings::default();
    let l = segment_len(RATE as f64);
    let mut heard = BTreeSet::new();
    let mut answer = Vec::new();
    for (k, seg) in music.chunks_exact(l).enumerate() {
        let a = answerer
            .answer(seg, (k * l) as u64, RATE, &settings, &mut answer)
            .unwrap();
        heard.extend(a.harmonic.iter().chain(&a.percussive).copied());
    }
    assert!(
        heard.iter().any(|&t| t >= 64) && heard.iter().all(|&t| t < 256),
        "live tokens {heard:?}"
    );
    assert!(answer.len() > 10, "{} notes for 8 s of music", answer.len());
    assert!(answer.iter().all(|n| corpus_pitches.contains(&n.note)));

    // Answer (plugin): the corpus as the plugin's corpus file.
    let with_k256 = plugin_answer(&music, Some(&mhc));
    let embedded = plugin_answer(&music, None);
    let ons: Vec<u8> = with_k256.iter().filter(|e| e.3).map(|e| e.2).collect();
    assert!(ons.len() > 10, "the plugin answered {} notes", ons.len());
    assert!(
        ons.iter().all(|k| corpus_pitches.contains(k)),
        "the plugin played pitches the 256-token corpus does not hold"
    );
    assert_ne!(
        with_k256, embedded,
        "the plugin answered as with its embedded corpus: the 256-token file was not used"
    );
    std::fs::remove_dir_all(&dir).ok();
}
