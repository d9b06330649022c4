//! The embedded corpus is reproducible: the commands in `assets/README.md` rebuild it exactly.

use std::process::Command;

#[test]
fn embedded_corpus_is_rebuilt_exactly_by_the_documented_commands() {
    let dir = std::env::temp_dir().join(format!("musichal-assets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = env!("CARGO_BIN_EXE_musichal");
    let wav = dir.join("band.wav");
    let mhc = dir.join("default_corpus.mhc");
    let ok = Command::new(exe)
        .args(["synth", "--seconds", "60", "--seed", "1", "-o"])
        .arg(&wav)
        .status()
        .unwrap();
    assert!(ok.success());
    let ok = Command::new(exe)
        .arg("train")
        .arg(&wav)
        .arg("-o")
        .arg(&mhc)
        .arg("--force")
        .status()
        .unwrap();
    assert!(ok.success());
    let mut rebuilt = musichal::corpus::CorpusModel::load(&mhc).unwrap();
    let embedded = musichal::corpus::CorpusModel::from_bytes(musichal::engine::EMBEDDED_CORPUS)
        .expect("the embedded corpus loads");
    // Only the writer's version string may differ.
    rebuilt.created_by = embedded.created_by.clone();
    assert_eq!(rebuilt, embedded);
    assert!(embedded.frames.iter().all(|f| f.tokens().is_some()));
    std::fs::remove_dir_all(&dir).ok();
}
