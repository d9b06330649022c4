//! Listen off costs nothing: in an offline render (bounce) with Listen and Live Learning off,
//! the worker analyses no segment and `process()` never waits for it. Live Learning alone
//! still has every segment analysed (learning needs it), and Listen on answers as before.
//! Switching Listen on in the middle of a render answers from the first whole segment after
//! the switch, the same way every time.
//!
//! What the worker did is read from the plugin library's process-wide diagnostic totals
//! (`common::plugin_diagnostics`); the tests take turns (one lock for the file) so that no other
//! instance adds to them, and read them after `deactivate`, which joins the worker.

mod common;

use common::checks::*;
use common::clap_host::*;
use musichal::perception::synth::render_music;
use std::sync::Mutex;

const RATE: u32 = 48_000;
const BLOCK: usize = 512;
/// 350 ms at 48 kHz.
const SEGMENT: u64 = 16_800;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn music(seconds: f32, seed: u64) -> Vec<Vec<f32>> {
    let left = render_music(seconds, RATE, seed);
    let right = left.iter().map(|s| 0.7 * s).collect();
    vec![left, right]
}

/// What one offline render did: the worker's and `process()`'s counts, and the notes.
struct Run {
    analysed: u64,
    early: u64,
    waits: u64,
    notes: Vec<(u64, u8, u8, bool)>,
}

/// Renders `signal` offline with `params` (display texts), `events` at absolute samples.
fn render(signal: &[Vec<f32>], params: &[(&str, &str)], events: &[(u64, InputEvent)]) -> Run {
    let mut host = ClapHost::load(plugin_path()).unwrap();
    host.set_offline_render(true).unwrap();
    for (name, text) in params {
        host.set_param_text(name, text).unwrap();
    }
    let before = common::plugin_diagnostics(&host);
    host.activate(RATE as f64, 1, BLOCK as u32).unwrap();
    let out = host
        .process_signal(signal, &BlockSizes::Fixed(BLOCK), events)
        .unwrap();
    // Joins the worker: every count below is final.
    host.deactivate().unwrap();
    let after = common::plugin_diagnostics(&host);
    assert_clean(&host);
    Run {
        analysed: after.segments_analysed - before.segments_analysed,
        early: after.early_analyses - before.early_analyses,
        waits: after.offline_waits - before.offline_waits,
        notes: notes(&out),
    }
}

#[test]
fn an_offline_render_with_listen_off_analyses_nothing_and_never_waits() {
    let _turn = serial();
    let signal = music(6.0, 14);
    let complete = signal[0].len() as u64 / SEGMENT;
    assert_eq!(complete, 17);

    let off = render(&signal, &[("Listen", "Off"), ("Live Learning", "Off")], &[]);
    assert_eq!(off.analysed, 0, "segments analysed with Listen off");
    assert_eq!(off.early, 0, "early answers encoded with Listen off");
    assert_eq!(
        off.waits, 0,
        "process() waited for the worker with Listen off"
    );
    assert!(off.notes.is_empty());

    // The same render with something that needs the analysis: every complete segment is
    // analysed and process() waits for each (and for the onsets it answers early).
    let on = render(&signal, &[("Listen", "On")], &[]);
    assert_eq!(on.analysed, complete);
    assert!(on.waits >= complete, "{} waits", on.waits);
    assert!(!on.notes.is_empty());

    let learning = render(&signal, &[("Listen", "Off"), ("Live Learning", "On")], &[]);
    assert_eq!(
        learning.analysed, complete,
        "Live Learning needs every segment"
    );
    assert_eq!(learning.early, 0, "nothing is answered, early or not");
    assert!(learning.waits >= complete, "{} waits", learning.waits);
    assert!(learning.notes.is_empty());
}

/// Listen switched on 2.5 s into a render (inside segment 7): segments 0-7 are skipped,
/// segments 8.. analysed, the answers start after the switch, and two renders give the same
/// notes (whether a segment is analysed does not depend on when the worker gets to it).
#[test]
fn listen_switched_on_mid_render_answers_from_the_next_whole_segment() {
    let _turn = serial();
    let signal = music(6.0, 15);
    let switch_at = (2.5 * RATE as f64) as u64;
    let first_whole = switch_at.div_ceil(SEGMENT);
    assert_eq!(first_whole, 8);
    let listen = {
        let host = ClapHost::load(plugin_path()).unwrap();
        host.param_id("Listen").unwrap()
    };
    let events = [(
        switch_at,
        InputEvent::ParamValue {
            param_id: listen,
            value: 1.0,
        },
    )];
    let runs: Vec<Run> = (0..2)
        .map(|_| render(&signal, &[("Listen", "Off")], &events))
        .collect();
    let complete = signal[0].len() as u64 / SEGMENT;
    for run in &runs {
        assert_eq!(run.analysed, complete - first_whole);
        let first_on = run
            .notes
            .iter()
            .find(|n| n.3)
            .map(|n| n.0)
            .expect("answers after the switch");
        assert!(
            first_on >= first_whole * SEGMENT,
            "a note at {first_on}, before the first whole segment heard ends"
        );
    }
    assert_eq!(runs[0].notes, runs[1].notes);
    assert_eq!(runs[0].waits, runs[1].waits);
}
