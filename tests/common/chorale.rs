//! Four-voice chorales written in code and rendered by FluidSynth with the GM soundfont: the
//! polyphonic test music of the perception tests (`tests/deep_chroma.rs`,
//! `tests/perception_basicpitch.rs`). Method in `docs/PERCEPTION.md`.

use musichal::perception::{decode_file, DecodedAudio};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;
use std::path::Path;
use std::process::Command;

pub const SEED: u64 = 2026;
pub const SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
pub const RENDER_RATE_HZ: u32 = 22_050;
/// (GM program, name) of each piece.
pub const PROGRAMS: [(u8, &str); 4] =
    [(0, "piano"), (19, "organ"), (24, "guitar"), (48, "strings")];
pub const CHORDS_PER_PIECE: usize = 9;
/// Chord lengths drawn from, seconds.
pub const CHORD_LENGTHS_S: [f64; 5] = [0.5, 0.75, 1.0, 1.25, 1.5];
/// Voice ranges, MIDI, inclusive: bass, tenor, alto, soprano.
pub const RANGES: [(u8, u8); 4] = [(40, 55), (48, 62), (55, 69), (60, 79)];
/// Silence before the first chord, seconds.
pub const LEAD_IN_S: f64 = 0.25;
/// Frames this close to a chord change are not scored, seconds.
pub const GUARD_S: f64 = 0.06;
pub const MAJOR_SCALE: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];

#[derive(Debug, Clone, Copy)]
pub struct Note {
    pub on_s: f64,
    pub off_s: f64,
    pub midi: u8,
}

pub struct Piece {
    pub program: u8,
    pub name: &'static str,
    pub notes: Vec<Note>,
    /// Chord change times, including the first onset and the last release.
    pub changes_s: Vec<f64>,
}

/// Nearest pitch to `prev` in `range` whose pitch class is in `pcs`.
pub fn nearest_chord_tone(pcs: &[u8], (lo, hi): (u8, u8), prev: u8, rng: &mut Pcg32) -> u8 {
    let mut best: Vec<u8> = Vec::new();
    let mut best_dist = u8::MAX;
    for m in lo..=hi {
        if !pcs.contains(&(m % 12)) {
            continue;
        }
        let d = m.abs_diff(prev);
        if d < best_dist {
            best_dist = d;
            best.clear();
        }
        if d == best_dist {
            best.push(m);
        }
    }
    best[rng.random_range(0..best.len())]
}

pub fn compose(program: u8, name: &'static str, rng: &mut Pcg32) -> Piece {
    compose_chords(program, name, CHORDS_PER_PIECE, Progression::Random, rng)
}

/// How a piece's chords follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progression {
    /// Any of I..vi after any chord: pieces share a key's chords, not a harmonic style.
    Random,
    /// Common-practice tendencies ([`FUNCTIONAL`]): V goes home, ii and IV lead to V, vi to
    /// ii or IV; pieces share a style a corpus can carry.
    Functional,
}

/// Chance of each next degree (I ii iii IV V vi) after each degree, for
/// [`Progression::Functional`].
pub const FUNCTIONAL: [[f64; 6]; 6] = [
    [0.0, 0.1, 0.1, 0.3, 0.3, 0.2],   // I
    [0.1, 0.0, 0.0, 0.1, 0.7, 0.1],   // ii
    [0.0, 0.1, 0.0, 0.3, 0.0, 0.6],   // iii
    [0.3, 0.2, 0.0, 0.0, 0.4, 0.1],   // IV
    [0.7, 0.0, 0.0, 0.1, 0.0, 0.2],   // V
    [0.0, 0.35, 0.1, 0.35, 0.2, 0.0], // vi
];

/// A piece of `chords` chords in a random major key, starting on the tonic, the progression
/// drawn as `progression` says; four voices each moving to the nearest chord tone.
pub fn compose_chords(
    program: u8,
    name: &'static str,
    chords: usize,
    progression: Progression,
    rng: &mut Pcg32,
) -> Piece {
    let key: u8 = rng.random_range(0..12);
    let mut prev = [47u8, 55, 62, 69];
    let mut t = LEAD_IN_S;
    let mut notes = Vec::new();
    let mut changes_s = vec![t];
    let mut previous = 0usize;
    for c in 0..chords {
        // Start on the tonic; then any of I..vi (vii° left out), or the style's next chord.
        let degree = match (c, progression) {
            (0, _) => 0,
            (_, Progression::Random) => rng.random_range(0..6),
            (_, Progression::Functional) => {
                let row = &FUNCTIONAL[previous];
                let mut u: f64 = rng.random::<f64>() * row.iter().sum::<f64>();
                row.iter()
                    .position(|&p| {
                        u -= p;
                        u < 0.0
                    })
                    .unwrap_or(0)
            }
        };
        previous = degree;
        let pcs: Vec<u8> = [0, 2, 4]
            .iter()
            .map(|step| (key + MAJOR_SCALE[(degree + step) % 7]) % 12)
            .collect();
        let len = CHORD_LENGTHS_S[rng.random_range(0..CHORD_LENGTHS_S.len())];
        for (voice, &range) in RANGES.iter().enumerate() {
            let allowed = if voice == 0 { &pcs[..1] } else { &pcs[..] };
            let midi = nearest_chord_tone(allowed, range, prev[voice], rng);
            prev[voice] = midi;
            notes.push(Note {
                on_s: t,
                off_s: t + len,
                midi,
            });
        }
        t += len;
        changes_s.push(t);
    }
    Piece {
        program,
        name,
        notes,
        changes_s,
    }
}

pub fn var_len(mut v: u32, out: &mut Vec<u8>) {
    let mut bytes = vec![(v & 0x7f) as u8];
    v >>= 7;
    while v > 0 {
        bytes.push(0x80 | (v & 0x7f) as u8);
        v >>= 7;
    }
    out.extend(bytes.iter().rev());
}

/// A format-0 MIDI file: 480 ticks per quarter at 120 BPM (960 ticks/s), one program.
pub fn smf(piece: &Piece) -> Vec<u8> {
    const TICKS_PER_S: f64 = 960.0;
    // (tick, is_on, key): offs sort before ons at the same tick.
    let mut events: Vec<(u32, bool, u8)> = piece
        .notes
        .iter()
        .flat_map(|n| {
            [
                ((n.on_s * TICKS_PER_S).round() as u32, true, n.midi),
                ((n.off_s * TICKS_PER_S).round() as u32, false, n.midi),
            ]
        })
        .collect();
    events.sort();
    let mut track = vec![0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20]; // 500,000 us per quarter
    track.extend([0x00, 0xc0, piece.program]);
    let mut last = 0;
    for (tick, on, key) in events {
        var_len(tick - last, &mut track);
        last = tick;
        track.extend(if on { [0x90, key, 90] } else { [0x80, key, 0] });
    }
    track.extend([0x00, 0xff, 0x2f, 0x00]);
    let mut out = b"MThd".to_vec();
    out.extend(6u32.to_be_bytes());
    out.extend([0, 0, 0, 1, 0x01, 0xe0]); // format 0, one track, 480 ticks per quarter
    out.extend(b"MTrk");
    out.extend((track.len() as u32).to_be_bytes());
    out.extend(track);
    out
}

/// Renders `mid` to `wav` with fluidsynth. `Err` only when fluidsynth is not installed; a
/// fluidsynth that runs and fails is a test failure (panic), never "unavailable".
pub fn render(mid: &Path, wav: &Path) -> Result<(), String> {
    let out = match Command::new("fluidsynth")
        .args(["-ni", "-g", "0.5", "-F"])
        .arg(wav)
        .args(["-r", &RENDER_RATE_HZ.to_string(), SOUNDFONT])
        .arg(mid)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("fluidsynth is not installed (apt-get install fluidsynth)".into())
        }
        Err(e) => panic!("cannot run fluidsynth: {e}"),
    };
    assert!(
        out.status.success() && wav.is_file(),
        "fluidsynth failed on {}: {}",
        mid.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Set by `cargo xtask test` (the README's test command): every resource a test needs must be
/// there.
pub const REQUIRE_ALL_ENV: &str = "MUSICHAL_REQUIRE_ALL";

/// A prerequisite (fluidsynth, the soundfont, the Basic Pitch model) is not installed: fails
/// the test under `cargo xtask test` ([`REQUIRE_ALL_ENV`] set), says so and passes under a bare
/// `cargo test`. Only for "not installed": a resource that is present but fails is a test
/// failure everywhere. (Here rather than in `common`, so `examples/notes_tool.rs` can include
/// this file alone.)
pub fn unavailable(why: &str) {
    assert!(
        std::env::var_os(REQUIRE_ALL_ENV).is_none(),
        "{why} (required: {REQUIRE_ALL_ENV} is set, as `cargo xtask test` does)"
    );
    eprintln!("skipped: {why}");
}

pub fn truth_at(piece: &Piece, t: f64, guard_s: f64) -> Option<Vec<u8>> {
    let last = *piece.changes_s.last()?;
    if t > last - guard_s || piece.changes_s.iter().any(|c| (t - c).abs() < guard_s) {
        return None;
    }
    let mut notes: Vec<u8> = piece
        .notes
        .iter()
        .filter(|n| n.on_s <= t && t < n.off_s)
        .map(|n| n.midi)
        .collect();
    notes.sort_unstable();
    notes.dedup();
    Some(notes)
}

pub fn classes_of(notes: &[u8]) -> Vec<u8> {
    let mut pcs: Vec<u8> = notes.iter().map(|n| n % 12).collect();
    pcs.sort_unstable();
    pcs.dedup();
    pcs
}

/// Composes one piece per `(program, name)` from `seed` and renders each at
/// [`RENDER_RATE_HZ`]. `Err` says what is missing (fluidsynth, the soundfont).
pub fn render_pieces(
    programs: &[(u8, &'static str)],
    seed: u64,
) -> Result<Vec<(Piece, DecodedAudio)>, String> {
    if !Path::new(SOUNDFONT).is_file() {
        return Err(format!(
            "no soundfont at {SOUNDFONT} (apt-get install fluid-soundfont-gm)"
        ));
    }
    // One directory per call: two tests rendering the same seed must not share (and delete)
    // each other's files.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "musichal-chorale-{}-{seed}-{call}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut rng = Pcg32::seed_from_u64(seed);
    let mut out = Vec::new();
    for &(program, name) in programs {
        let piece = compose(program, name, &mut rng);
        let mid = dir.join(format!("{name}.mid"));
        let wav = dir.join(format!("{name}.wav"));
        std::fs::write(&mid, smf(&piece)).map_err(|e| e.to_string())?;
        if let Err(e) = render(&mid, &wav) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let audio = decode_file(&wav)
            .unwrap_or_else(|e| panic!("fluidsynth wrote an unreadable {}: {e}", wav.display()));
        out.push((piece, audio));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
