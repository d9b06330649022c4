//! The README's Novelty row: "with the dial on, Novelty replaces Continuity with a setting
//! calibrated on the corpus: 50 % replays about as long as the corpus repeats itself (the mean
//! block of its oracle's compror parse ...), 0 % sixteen times longer, 100 % jumps at every
//! frame ... (its typical run 10.9)" for the embedded corpus.
//!
//! The navigator continues linearly with probability `continuity` and jumps otherwise, so the
//! expected run between jumps is the geometric mean length `1 / (1 - continuity)`: the dial's
//! continuity must give 16 typical runs at 0 %, one at 50 % and one frame at 100 %. (The runs
//! actually walked on live input are measured by `tests/engine_answer.rs::the_novelty_dial_*`.)

use musichal::corpus::CorpusModel;
use musichal::engine::{Answerer, EMBEDDED_CORPUS};

fn expected_run(continuity: f32) -> f64 {
    1.0 / (1.0 - f64::from(continuity))
}

#[test]
fn the_novelty_dial_means_sixteen_one_and_no_typical_runs() {
    let corpus = CorpusModel::from_bytes(EMBEDDED_CORPUS).expect("the embedded corpus loads");
    let a = Answerer::new(&corpus, 1).unwrap();
    let typical = a.typical_run();
    // README: "its typical run 10.9" (frames per block of the compror parse).
    assert_eq!((typical * 10.0).round(), 109.0, "typical run {typical}");
    // continuity is an f32 near 1: a relative error of ~1e-7 / (1 - c) in the run.
    let close = |got: f64, want: f64| (got / want - 1.0).abs() < 1e-3;
    let at_0 = expected_run(a.continuity_for_novelty(0.0));
    let at_half = expected_run(a.continuity_for_novelty(0.5));
    let at_1 = expected_run(a.continuity_for_novelty(1.0));
    assert!(
        close(at_0, 16.0 * typical),
        "0 %: {at_0:.2} frames, typical {typical:.2}"
    );
    assert!(
        close(at_half, typical),
        "50 %: {at_half:.2} frames, typical {typical:.2}"
    );
    assert_eq!(a.continuity_for_novelty(1.0), 0.0, "100 %: {at_1} frames");
    // Log-linear in between, so monotonic: more novelty, shorter runs.
    let runs: Vec<f64> = (0..=20)
        .map(|i| expected_run(a.continuity_for_novelty(i as f32 / 20.0)))
        .collect();
    assert!(runs.windows(2).all(|w| w[1] < w[0]), "{runs:?}");
}
