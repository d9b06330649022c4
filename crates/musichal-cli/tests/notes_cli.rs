//! Corpus notes from the command line (issue #16): `train song.mid` and `train take.wav
//! --notes take.mid` keep the MIDI file's notes exactly; a missing FluidSynth or soundfont is one
//! sentence that says what to install; `inspect` shows each file's notes; `evaluate` scores a
//! corpus' notes and a recording's against MIDI.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::chorale::{compose, smf, unavailable, SOUNDFONT};
use musichal::corpus::CorpusModel;
use musichal::notes::midi_file::{note_events, read_midi_notes};
use musichal::notes::NoteSource;
use rand::SeedableRng;
use rand_pcg::Pcg32;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn musichal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_musichal"))
}

/// Runs `cmd`, which must fail, and returns its error message.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("musichal runs");
    assert!(!out.status.success(), "{cmd:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("musichal runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Two chorales (piano, strings) as MIDI files in `dir`; returns their paths.
fn chorale_midis(dir: &Path) -> Vec<PathBuf> {
    let mut rng = Pcg32::seed_from_u64(41);
    [(0u8, "piano"), (48, "strings")]
        .iter()
        .map(|&(program, name)| {
            let piece = compose(program, name, &mut rng);
            let path = dir.join(format!("{name}.mid"));
            std::fs::write(&path, smf(&piece)).unwrap();
            path
        })
        .collect()
}

fn fluidsynth_ready() -> bool {
    let found = Command::new("fluidsynth").arg("--version").output().is_ok();
    if !found {
        unavailable("fluidsynth is not installed (apt-get install fluidsynth)");
    } else if !Path::new(SOUNDFONT).is_file() {
        unavailable("no GM soundfont (apt-get install fluid-soundfont-gm)");
    }
    found && Path::new(SOUNDFONT).is_file()
}

#[test]
fn midi_inputs_and_notes_files_keep_the_midi_notes_exactly() {
    if !fluidsynth_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mids = chorale_midis(dir.path());
    // An audio take with its own MIDI file: the project's synthetic band stands in for the
    // recording (the notes need not be its notes; they must be stored as given).
    let take = dir.path().join("take.wav");
    run(musichal()
        .args(["synth", "--seconds", "8", "--seed", "3", "-o"])
        .arg(&take));
    let take_mid = dir.path().join("take.mid");
    std::fs::copy(&mids[1], &take_mid).unwrap();
    let mhc = dir.path().join("c.mhc");
    run(musichal()
        .arg("train")
        .arg(&mids[0])
        .arg(&take)
        .arg("--notes")
        .arg(&take_mid)
        .arg("-o")
        .arg(&mhc));
    let model = CorpusModel::load(&mhc).unwrap();
    assert_eq!(model.source_files, ["piano.mid", "take.wav"]);
    for (recording, mid) in model.recordings.iter().zip([&mids[0], &take_mid]) {
        let want = note_events(&read_midi_notes(mid).unwrap(), false);
        assert!(want.len() >= 30, "{} notes", want.len());
        assert_eq!(recording.source, NoteSource::Given);
        assert_eq!(recording.notes, want, "{}", mid.display());
    }
    // The rendered MIDI file is real audio: its frames exist and span its notes.
    let last_note = model.recordings[0]
        .notes
        .iter()
        .map(|n| n.offset_s)
        .fold(0.0, f64::max);
    assert!(
        model.recordings[0].duration_s >= last_note,
        "render {} s, notes to {last_note} s",
        model.recordings[0].duration_s
    );
    let frames_of_render = model.frames.iter().filter(|f| f.source_idx == 0).count();
    assert!(frames_of_render as f64 >= 0.9 * last_note * 75.0);
    // inspect: notes per second, median length and source, per file.
    let out = run(musichal().arg("inspect").arg(&mhc));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("notes") && l.contains("take.wav"))
        .unwrap_or_else(|| panic!("no notes line for take.wav:\n{text}"));
    let n = model.recordings[1].notes.len();
    assert!(line.contains(&format!("{n} notes from given")), "{line}");

    // evaluate: a corpus holding the MIDI's own notes scores 1.
    let out = run(musichal()
        .args(["evaluate", "--json", "--corpus"])
        .arg(&mhc)
        .arg("--midi")
        .arg(&mids[0])
        .arg("--midi")
        .arg(&take_mid));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v}");
    for f in files {
        assert_eq!(f["note_f1"], 1.0, "{f}");
        assert_eq!(f["frame_f1"], 1.0, "{f}");
        assert_eq!(f["estimate"]["notes"], f["reference"]["notes"], "{f}");
    }
    // ... and against the other piece's MIDI it does not.
    let other = dir.path().join("piano_other.mid");
    std::fs::copy(&mids[1], dir.path().join("piano_other.mid")).unwrap();
    let one = dir.path().join("one.mhc");
    run(musichal().arg("train").arg(&mids[0]).arg("-o").arg(&one));
    let out = run(musichal()
        .args(["evaluate", "--json", "--corpus"])
        .arg(&one)
        .arg("--midi")
        .arg(&other));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f1 = v["files"][0]["note_f1"].as_f64().unwrap();
    assert!(f1 < 0.5, "{v}");
}

#[test]
fn a_missing_fluidsynth_or_soundfont_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let mids = chorale_midis(dir.path());
    let err = fails(
        musichal()
            .arg("train")
            .arg(&mids[0])
            .arg("-o")
            .arg(dir.path().join("a.mhc"))
            .env("MUSICHAL_FLUIDSYNTH", dir.path().join("no-such-fluidsynth")),
    );
    assert!(
        err.contains("FluidSynth is not installed") && err.contains("apt install fluidsynth"),
        "{err}"
    );
    assert!(err.contains("piano.mid"), "{err}");
    let err = fails(
        musichal()
            .arg("train")
            .arg(&mids[0])
            .arg("--soundfont")
            .arg(dir.path().join("none.sf2"))
            .arg("-o")
            .arg(dir.path().join("a.mhc")),
    );
    assert!(
        err.contains("fluid-soundfont-gm") && err.contains("none.sf2"),
        "{err}"
    );
    assert!(!dir.path().join("a.mhc").exists());
}

#[test]
fn basic_pitch_notes_without_the_model_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let take = dir.path().join("take.wav");
    run(musichal()
        .args(["synth", "--seconds", "3", "-o"])
        .arg(&take));
    let missing = dir.path().join("nmp.onnx");
    let err = fails(
        musichal()
            .arg("train")
            .arg(&take)
            .args(["--note-source", "basic-pitch", "-o"])
            .arg(dir.path().join("c.mhc"))
            .env("MUSICHAL_BASIC_PITCH_PATH", &missing),
    );
    assert!(
        err.contains("Basic Pitch model")
            && err.contains("not found")
            && err.contains("--note-source dsp"),
        "{err}"
    );
    assert_eq!(err.matches("not found").count(), 1, "said twice: {err}");
    assert!(!dir.path().join("c.mhc").exists());
}

#[test]
fn notes_files_pair_with_their_recordings_or_say_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let mids = chorale_midis(dir.path());
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    for (p, seed) in [(&a, "1"), (&b, "2")] {
        run(musichal()
            .args(["synth", "--seconds", "3", "--seed", seed, "-o"])
            .arg(p));
    }
    // Two recordings, a notes file named after neither.
    let err = fails(
        musichal()
            .arg("train")
            .arg(&a)
            .arg(&b)
            .arg("--notes")
            .arg(&mids[0])
            .arg("-o")
            .arg(dir.path().join("x.mhc")),
    );
    assert!(err.contains("no audio input is named piano"), "{err}");
    // Named after one of them: that one gets the notes, the other is transcribed.
    let b_mid = dir.path().join("b.mid");
    std::fs::copy(&mids[0], &b_mid).unwrap();
    let mhc = dir.path().join("y.mhc");
    run(musichal()
        .arg("train")
        .arg(&a)
        .arg(&b)
        .arg("--notes")
        .arg(&b_mid)
        .arg("-o")
        .arg(&mhc));
    let model = CorpusModel::load(&mhc).unwrap();
    assert_eq!(model.recordings[0].source, NoteSource::Dsp);
    assert_eq!(model.recordings[1].source, NoteSource::Given);
    // A notes file that is not MIDI.
    let err = fails(
        musichal()
            .arg("train")
            .arg(&a)
            .arg("--notes")
            .arg(&b)
            .arg("-o")
            .arg(dir.path().join("z.mhc")),
    );
    assert!(err.contains("expected a MIDI file"), "{err}");
}

/// `evaluate` with a corpus and a recording plays the recording through the plugin and judges
/// the answer: the input's figures are the MIDI file's (checked here independently), the
/// answer's are in range, and the piano roll is drawn at the documented size.
#[test]
fn evaluate_judges_the_answer_to_a_recording_and_draws_it() {
    if !fluidsynth_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mids = chorale_midis(dir.path());
    // The input: the strings chorale rendered by FluidSynth; the corpus: the piano chorale.
    let take = dir.path().join("strings.wav");
    let out = Command::new("fluidsynth")
        .args(["-ni", "-q", "-g", "0.5", "-F"])
        .arg(&take)
        .args(["-r", "44100", SOUNDFONT])
        .arg(&mids[1])
        .output()
        .unwrap();
    assert!(out.status.success() && take.is_file());
    let mhc = dir.path().join("piano.mhc");
    run(musichal().arg("train").arg(&mids[0]).arg("-o").arg(&mhc));
    let rolls = dir.path().join("rolls");
    let out = run(musichal()
        .args(["evaluate", "--json", "--corpus"])
        .arg(&mhc)
        .arg(&take)
        .arg("--midi")
        .arg(&mids[1])
        .arg("--piano-roll")
        .arg(&rolls)
        .arg("--plugin")
        .arg(common::clap_host::plugin_path()));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &v["answers"][0];
    // The input's figures from its MIDI file: a chord is one onset.
    let notes = note_events(&read_midi_notes(&mids[1]).unwrap(), false);
    let mut onsets: Vec<f64> = notes.iter().map(|n| n.onset_s).collect();
    onsets.sort_by(f64::total_cmp);
    onsets.dedup_by(|b, a| *b - *a < 0.05);
    let duration = a["duration_s"].as_f64().unwrap();
    assert!(duration > notes.iter().map(|n| n.offset_s).fold(0.0, f64::max));
    let want = onsets.len() as f64 / duration;
    assert!(
        (a["input_onsets_per_s"].as_f64().unwrap() - want).abs() < 1e-9,
        "{a} vs {want}"
    );
    assert!(a["answer_notes"].as_u64().unwrap() > 0, "{a}");
    for key in ["in_key_share", "harmony_share", "harmony_null_share"] {
        let x = a[key].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&x), "{key}: {a}");
    }
    // The plugin marked where its quoted notes come from, and the run is read from the marks.
    assert_eq!(a["quoted_run_source"], "marks", "{a}");
    let (run, read_back) = (
        a["mean_quoted_run_events"].as_f64().unwrap(),
        a["mean_quoted_run_read_back"].as_f64().unwrap(),
    );
    assert!(run >= 1.0 && read_back >= 1.0, "{a}");
    // What the plugin sent and left out is counted: a share below one (the answer plays),
    // and the runs as sent read from the same marks.
    let unheard = a["quoted_notes_unheard_share"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&unheard), "{a}");
    assert!(a["mean_quoted_run_as_sent"].as_f64().unwrap() >= 1.0, "{a}");
    assert!(
        a["input_key"].as_str().unwrap().ends_with("major")
            || a["input_key"].as_str().unwrap().ends_with("minor")
    );
    // The piano roll: 60 px a second over the input and the render's tail, 5 px a semitone.
    let png = rolls.join("strings.png");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!(info.width as f64, ((duration + 1.5) * 60.0).ceil());
    assert_eq!(info.height % 5, 0);
}
