//! Every failure of a `musichal` command about a file is one clear sentence: it names the file
//! once, says what is wrong in words a user knows, and exits non-zero. Run through the real
//! binary over a table of bad inputs (missing file, directory, empty file, text renamed .wav, a
//! 1-sample WAV, corrupt and missing corpora, unwritable outputs) and every command that reads
//! or writes such a file.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::clap_host::plugin_path;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Shortest clause [`assert_says_it_once`] looks for twice.
const MIN_CLAUSE_CHARS: usize = 12;

/// Fails if any clause of the message (the text between `:`, `;`, `,`, `(` and `)`) of
/// [`MIN_CLAUSE_CHARS`] or more characters appears in it twice: the mark of an error chain
/// that prints a cause its wrapper already printed.
fn repeated_clause(message: &str) -> Option<String> {
    message
        .split([':', ';', ',', '(', ')', '\n'])
        .map(str::trim)
        .filter(|c| c.chars().count() >= MIN_CLAUSE_CHARS)
        .find(|c| message.matches(*c).count() > 1)
        .map(str::to_owned)
}

#[test]
fn the_repeat_check_catches_the_messages_of_issue_14() {
    for old in [
        "musichal: error: one.wav: input too short: 1 samples, need at least 3764: input too \
         short: 1 samples, need at least 3764",
        "musichal: error: X: unsupported audio file X: unsupported feature: core (probe): no \
         suitable format reader found: unsupported audio file X: unsupported feature: core \
         (probe): no suitable format reader found",
        "musichal: error: cannot use a.mhc: read a.mhc: No such file or directory (os error 2): \
         No such file or directory (os error 2)",
    ] {
        assert!(repeated_clause(old).is_some(), "{old}");
    }
    assert_eq!(
        repeated_clause(
            "musichal: error: /tmp/one.wav: 1 sample long; MusicHal needs at least 4096 samples \
             (0.09 s) of audio"
        ),
        None
    );
}

fn musichal(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_musichal"))
        .args(args)
        .env("MUSICHAL_HOST_QUIET", "1")
        .output()
        .expect("running musichal")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("musichal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// One failing command: its arguments, the file it must name, and words its message must hold.
struct Case {
    args: Vec<String>,
    file: PathBuf,
    says: &'static str,
}

fn case(args: &[&str], file: &Path, says: &'static str) -> Case {
    Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        file: file.to_owned(),
        says,
    }
}

/// Runs every case; collects every way a message falls short, then fails with all of them.
fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let out = musichal(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("musichal: error:"))
            .collect();
        let file = c.file.display().to_string();
        let problem = if out.status.success() || out.status.code().is_none() {
            Some(format!("exit {:?}", out.status))
        } else if errors.len() != 1 {
            Some(format!("{} error lines", errors.len()))
        } else if errors[0].matches(&file).count() != 1 {
            Some(format!(
                "names {file} {} times",
                errors[0].matches(&file).count()
            ))
        } else if let Some(clause) = repeated_clause(errors[0]) {
            Some(format!("says {clause:?} twice"))
        } else if !errors[0].contains(c.says) {
            Some(format!("lacks {:?}", c.says))
        } else {
            None
        };
        if let Some(p) = problem {
            failures.push(format!("{args:?}: {p}: {stderr:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} messages wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_files_give_one_clear_sentence_naming_the_file() {
    let dir = scratch("cli-errors");
    let missing = dir.join("missing.wav");
    let directory = dir.join("takes");
    std::fs::create_dir_all(&directory).unwrap();
    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.join("notes.wav");
    std::fs::write(&text, "these are my notes, not audio\n").unwrap();
    let one = dir.join("one.wav");
    write_wav(&one, &[0.5]);
    let good = dir.join("good.wav");
    write_wav(
        &good,
        &musichal::perception::synth::render_music(1.0, 48_000, 2),
    );
    let junk_mhc = dir.join("junk.mhc");
    std::fs::write(&junk_mhc, b"junk").unwrap();
    // The right magic and version, a body whose checksum does not match the header's.
    let corrupt_mhc = dir.join("corrupt.mhc");
    let mut bytes = b"MHCORPUS".to_vec();
    bytes.extend(musichal::corpus::FORMAT_VERSION.to_le_bytes());
    bytes.extend(4u64.to_le_bytes());
    bytes.extend(0u32.to_le_bytes());
    bytes.extend(b"body");
    std::fs::write(&corrupt_mhc, &bytes).unwrap();
    // A corpus from before notes (format version 1): retrain it.
    let old_mhc = dir.join("old.mhc");
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(&old_mhc, &bytes).unwrap();
    let missing_mhc = dir.join("missing.mhc");
    let out_mhc = dir.join("out.mhc");
    let out_npy = dir.join("out.npy");
    let out_wav = dir.join("out.wav");
    let nowhere = dir.join("no-such-dir");
    let plugin = plugin_path();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (plugin_s, out_mhc_s, out_npy_s, out_wav_s, good_s) =
        (s(&plugin), s(&out_mhc), s(&out_npy), s(&out_wav), s(&good));

    let mut cases = Vec::new();
    let audio_inputs: [(&Path, &str, &str); 5] = [
        (
            &missing,
            "does not exist; check the path",
            "does not exist; check the path",
        ),
        (
            &directory,
            "is a directory, not an audio file",
            "is a directory, not an audio file",
        ),
        (
            &empty,
            "is empty (0 bytes), not an audio file",
            "is empty (0 bytes), not an audio file",
        ),
        (
            &text,
            "not a WAV/FLAC/MP3/OGG file we can decode (no WAV, FLAC, MP3 or OGG header",
            "not a WAV file we can read",
        ),
        (
            &one,
            "1 sample long; MusicHal needs at least 4096 samples (0.09 s) of audio",
            // `render` plays any length through the plugin (its output is the input plus the
            // tail), so a 1-sample WAV is not an error there; see the test below.
            "",
        ),
    ];
    for (input, decoded, rendered) in audio_inputs {
        let i = s(input);
        cases.push(case(&["train", &i, "-o", &out_mhc_s], input, decoded));
        cases.push(case(
            &["train", &good_s, &i, "-o", &out_mhc_s],
            input,
            decoded,
        ));
        cases.push(case(&["features", &i, "-o", &out_npy_s], input, decoded));
        if !rendered.is_empty() {
            cases.push(case(
                &["render", &i, "-o", &out_wav_s, "--plugin", &plugin_s],
                input,
                rendered,
            ));
        }
    }
    for (corpus, says) in [
        (
            &junk_mhc,
            "not a MusicHal corpus file: it starts with \"junk\"",
        ),
        (&corrupt_mhc, "corpus file is corrupted"),
        (&old_mhc, "retrain it with `musichal train`"),
        (&missing_mhc, "does not exist; check the path"),
        (&directory, "is a directory, not a corpus file (.mhc)"),
    ] {
        let c = s(corpus);
        cases.push(case(&["inspect", &c], corpus, says));
        cases.push(case(
            &[
                "render", &good_s, "-o", &out_wav_s, "--plugin", &plugin_s, "--corpus", &c,
            ],
            corpus,
            says,
        ));
    }
    let unwritable = |name: &str| nowhere.join(name);
    for (args, out) in [
        (vec!["train", &good_s, "-o"], unwritable("c.mhc")),
        (vec!["features", &good_s, "-o"], unwritable("f.npy")),
        (vec!["synth", "--seconds", "0.1", "-o"], unwritable("s.wav")),
        (
            vec!["render", &good_s, "--plugin", &plugin_s, "-o"],
            unwritable("r.wav"),
        ),
    ] {
        let o = s(&out);
        let mut a = args.clone();
        a.push(&o);
        cases.push(case(&a, &out, "cannot create"));
    }
    cases.push(case(
        &[
            "render",
            &good_s,
            "-o",
            &out_wav_s,
            "--plugin",
            &s(&missing),
        ],
        &missing,
        "does not exist; check the path",
    ));
    cases.push(case(
        &["eq", "--model", &s(&directory)],
        &directory,
        "is a directory, not an ONNX EQ model",
    ));
    check(&cases);
    for written in [&out_mhc, &out_npy, &out_wav] {
        assert!(
            !written.exists(),
            "a failed command wrote {}",
            written.display()
        );
    }
}

/// `render` takes a WAV of any length: a 1-sample file plays through the plugin, and the output
/// is that sample plus the 1.5 s tail.
#[test]
fn render_plays_a_one_sample_wav() {
    let dir = scratch("cli-one-sample");
    let one = dir.join("one.wav");
    write_wav(&one, &[0.5]);
    let out = dir.join("out.wav");
    let o = musichal(&[
        "render",
        one.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--plugin",
        plugin_path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let reader = hound::WavReader::open(&out).unwrap();
    assert_eq!(reader.duration(), 1 + 72_000);
}
