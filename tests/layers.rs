//! The plugin crate's rooms stand on floors, and a room only uses rooms on lower floors: no
//! import runs back up, and rooms on one floor do not use each other. This test reads every
//! `crate::<module>` path in `src/` (comments and `#[cfg(test)]` modules left out) and fails on
//! any that breaks the plan, which docs/DESIGN.md ("Layout") draws.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Floor of each top-level module of `src/` (1 = the ground). `lib.rs`, the plugin itself, is
/// above them all.
const FLOORS: &[(&str, u8)] = &[
    // Shared facts and services that know nothing of the rest.
    ("limits", 1),
    ("diagnostics", 1),
    ("onnx", 1),
    // Signal processing, the oracle, and perception (audio -> frames, features, tokens).
    ("dsp", 2),
    ("oracle", 2),
    ("perception", 2),
    // What is built on those: the real-time hand-offs, note events, the EQ model, the GUI's
    // telemetry.
    ("rt", 3),
    ("notes", 3),
    ("eq_morph", 3),
    ("telemetry", 3),
    // Corpora: frames, tokens, the oracle, and each recording's note events.
    ("corpus", 4),
    // The two jobs that use a corpus: training one (offline) and answering with it (live).
    ("trainer", 5),
    ("engine", 5),
    // The worker thread (runs the engine and the EQ decoder) and the parameters.
    ("worker", 6),
    ("params", 6),
    // The editor.
    ("editor", 7),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)]` module (tests may reach
/// anywhere).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names as `crate::x` or `crate::{x, y::z}`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn no_import_runs_back_up() {
    let floors: BTreeMap<&str, u8> = FLOORS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut seen = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let room = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if room == "lib" {
            continue; // the plugin: above every room
        }
        let floor = *floors
            .get(room.as_str())
            .unwrap_or_else(|| panic!("src/{} is not on the plan: give it a floor", rel.display()));
        for target in crate_paths(&code(&std::fs::read_to_string(file).unwrap())) {
            if target == room {
                continue;
            }
            seen += 1;
            match floors.get(target.as_str()) {
                Some(&f) if f < floor => {}
                Some(&f) => wrong.push(format!(
                    "src/{} (floor {floor}) uses crate::{target} (floor {f})",
                    rel.display()
                )),
                None => wrong.push(format!(
                    "src/{} uses crate::{target}, which is not on the plan",
                    rel.display()
                )),
            }
        }
    }
    assert!(
        seen > 30,
        "only {seen} crate:: paths found: is the reader broken?"
    );
    assert!(
        wrong.is_empty(),
        "imports against the plan:\n{}",
        wrong.join("\n")
    );
}

/// The reader finds what it must: a plain path, a group, and nothing in a comment.
#[test]
fn the_reader_sees_paths_and_groups_but_not_comments() {
    let text = "use crate::rt::clock;\nuse crate::{dsp::Eq5, limits};\n// crate::editor\nfn f() { crate::onnx::x(); }\n";
    assert_eq!(crate_paths(&code(text)), ["rt", "dsp", "limits", "onnx"]);
}
