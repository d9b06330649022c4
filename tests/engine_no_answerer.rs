//! An offline render when the worker has no corpus to answer with: the plugin must not wait for
//! early answers that will never come. Here the answer seed variable holds no number, so no
//! corpus can be installed (the status says why); before the fix the audio thread waited the
//! full offline limit (120 s) at every onset after silence and then logged an error.
//!
//! One test in this binary on purpose: it sets `MUSICHAL_ANSWER_SEED` before the plugin is
//! loaded, and no other test may read the environment meanwhile.

mod common;

use common::checks::*;
use common::clap_host::*;
use musichal::perception::synth::add_tone;

const RATE: f64 = 48_000.0;

#[test]
fn without_a_corpus_an_offline_render_passes_the_audio_and_answers_nothing() {
    std::env::set_var(musichal::engine::listener::ANSWER_SEED_ENV, "not a number");
    let path = plugin_path();
    let mut host =
        ClapHost::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    host.set_offline_render(true).unwrap();
    host.activate(RATE, 1, 4096).unwrap();
    // Two plucks after silence, each an onset the early answer would take.
    let len = 4 * RATE as usize;
    let mut x = vec![0.0f32; len];
    for start in [RATE as usize / 2, 2 * RATE as usize] {
        add_tone(
            &mut x,
            RATE as u32,
            start,
            RATE as usize,
            64.0,
            0.3,
            8,
            1.0,
            0.005,
            0.8,
            0.0,
        );
    }
    let out = host
        .process_signal(&[x.clone(), x.clone()], &BlockSizes::Fixed(512), &[])
        .unwrap();
    host.deactivate().unwrap();
    assert!(notes(&out).is_empty(), "answered without a corpus");
    // The audio flows through (the EQ is bypassed by default): same length, the plucks there.
    assert_eq!(out.audio[0].len(), len);
    let energy = |v: &[f32]| v.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
    let (e_in, e_out) = (energy(&x), energy(&out.audio[0]));
    assert!(
        e_out > 0.5 * e_in && e_out.is_finite(),
        "output energy {e_out} against input {e_in}"
    );
    // The worker decided on each onset (unanswered) instead of leaving the render waiting:
    // a wait that ran out would have logged an error.
    assert_clean(&host);
}
