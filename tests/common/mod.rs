//! Shared helpers for integration tests. Each `tests/*.rs` file that needs them says `mod common;`
//! and uses what it needs; unused items in a given test binary are expected.
#![allow(dead_code)]

/// The CLAP host (`crates/musichal-clap-host`): shared with `musichal render`.
#[allow(unused_imports)]
pub use musichal_clap_host as clap_host;

/// The loaded plugin binary's own diagnostics (live worker threads and their ids, errors and
/// warnings logged), read through its exported `musichal_diagnostics`, from the library the
/// host loaded rather than from this test binary's copy of the crate. Panics if the binary does
/// not export it.
pub fn plugin_diagnostics(
    host: &musichal_clap_host::ClapHost,
) -> musichal::diagnostics::Diagnostics {
    // SAFETY: `musichal_diagnostics` is the plugin crate's `extern "C" fn() -> Diagnostics`
    // (src/diagnostics.rs), and `Diagnostics` is `#[repr(C)]`, the same type as ours.
    let f = unsafe {
        host.plugin_function::<extern "C" fn() -> musichal::diagnostics::Diagnostics>(
            c"musichal_diagnostics",
        )
    }
    .unwrap_or_else(|e| panic!("the plugin binary exports its diagnostics: {e}"));
    f()
}

/// Deterministic test signals (noise, sines) and sample comparisons for the host tests.
pub mod signals;

/// Four-voice chorales rendered by FluidSynth (perception tests).
pub mod chorale;

/// A resource this test needs is not installed: under `cargo xtask test` the test fails;
/// under a bare `cargo test` it says what is missing and passes ([`chorale::unavailable`]).
pub fn resource_missing(what: &str) {
    chorale::unavailable(what);
}

/// The Basic Pitch model through the project's loader: `None` only when it is not installed
/// and not required (see [`resource_missing`]); a present but unusable model fails.
pub fn basic_pitch_model() -> Option<musichal::perception::basic_pitch::BasicPitch> {
    match musichal::perception::basic_pitch::BasicPitch::load_default() {
        Ok(m) => Some(m),
        Err(e) if e.is_not_installed() => {
            resource_missing(&format!("Basic Pitch model: {e}"));
            None
        }
        Err(e) => panic!("Basic Pitch model unusable: {e}"),
    }
}

/// Checks every host test makes after running the plugin.
pub mod checks {
    use musichal_clap_host::{ClapHost, ProcessOutput};

    /// No CLAP thread-rule violations and nothing logged at error level or worse: neither
    /// through the CLAP log extension nor through the plugin's own log (counted in the loaded
    /// binary; process-wide, so an error logged by any instance in this test binary fails it —
    /// no test provokes one on purpose except `tests/plugin_log.rs`, alone in its binary).
    pub fn assert_clean(host: &ClapHost) {
        let violations = host.thread_violations();
        assert!(
            violations.is_empty(),
            "plugin broke CLAP thread rules: {violations:?}"
        );
        let bad: Vec<_> = host
            .log_entries()
            .into_iter()
            .filter(|e| {
                matches!(
                    e.severity.as_str(),
                    "Error" | "Fatal" | "HostMisbehaving" | "PluginMisbehaving"
                )
            })
            .collect();
        assert!(bad.is_empty(), "plugin logged errors: {bad:?}");
        let diagnostics = super::plugin_diagnostics(host);
        assert_eq!(
            diagnostics.errors_logged, 0,
            "the plugin logged {} error(s) (see its log on stderr)",
            diagnostics.errors_logged
        );
    }

    /// Sets the EQ to colour, not listen: EQ on, warm (A) to bright (B) at intensity 1, no
    /// MIDI answers. The morph is left to the caller.
    pub fn set_warm_bright_eq(host: &mut ClapHost) {
        for (name, value) in [
            ("EQ Bypass", "Off"),
            ("Term A", "warm"),
            ("Term B", "bright"),
            ("Intensity", "1"),
            ("Listen", "Off"),
        ] {
            host.set_param_text(name, value).unwrap();
        }
    }

    /// Every note on is followed by its note off, a key is not started twice without a note
    /// off between, and no note off comes without its note on; returns the number of notes.
    /// Events are (time, channel, key, is_on), in time order.
    pub fn assert_balanced(events: &[(u64, u8, u8, bool)]) -> usize {
        let mut open: std::collections::HashMap<(u8, u8), u64> = Default::default();
        let mut count = 0;
        for &(t, c, k, on) in events {
            if on {
                count += 1;
                if let Some(t0) = open.insert((c, k), t) {
                    panic!("key {k} on channel {c} started at {t} while sounding since {t0}");
                }
            } else {
                assert!(
                    open.remove(&(c, k)).is_some(),
                    "note off of key {k} on channel {c} at {t} without a note on"
                );
            }
        }
        assert!(open.is_empty(), "hanging notes: {open:?}");
        count
    }

    /// (time, channel, key, is_on) of every note event.
    pub fn notes(out: &ProcessOutput) -> Vec<(u64, u8, u8, bool)> {
        out.midi
            .iter()
            .filter_map(|(t, e)| {
                e.note_on()
                    .map(|(c, k, _)| (*t, c, k, true))
                    .or_else(|| e.note_off().map(|(c, k)| (*t, c, k, false)))
            })
            .collect()
    }

    /// Trains a K = 16 corpus on `seconds` of the project's synthetic music (`seed`) with the
    /// project's trainer and saves it to `path`: a second corpus for swap tests.
    pub fn train_other_corpus(path: &std::path::Path, seconds: f32, seed: u64) {
        let (model, _) = musichal::trainer::train_sources(
            &[musichal::trainer::Source {
                name: "other.wav".into(),
                samples: musichal::perception::synth::render_music(seconds, 44_100, seed),
                rate_hz: 44_100,
                notes: None,
            }],
            &musichal::trainer::TrainConfig {
                vocab_size: 16,
                ..Default::default()
            },
            &mut |_| {},
        )
        .unwrap();
        model.save(path).unwrap();
    }

    /// A state like `base` (a saved CLAP state: a little-endian u64 length, then nice-plug's
    /// JSON) with `corpus-path` set to `path`.
    pub fn state_with_corpus(base: &[u8], path: &std::path::Path) -> Vec<u8> {
        let mut state: serde_json::Value = serde_json::from_slice(&base[8..]).expect("JSON state");
        state["fields"]["corpus-path"] = serde_json::Value::String(
            serde_json::to_string(&Some(path.display().to_string())).unwrap(),
        );
        let json = serde_json::to_vec(&state).unwrap();
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend(json);
        out
    }
}

/// Standard MIDI files as `musichal render` writes them.
pub mod smf {
    /// Note events of a format-0 SMF as (tick, status, key, velocity).
    pub fn parse_smf(bytes: &[u8]) -> Vec<(u64, u8, u8, u8)> {
        assert_eq!(&bytes[..4], b"MThd");
        let division = u16::from_be_bytes([bytes[12], bytes[13]]);
        assert_eq!(division, 480);
        assert_eq!(&bytes[14..18], b"MTrk");
        let len = u32::from_be_bytes(bytes[18..22].try_into().unwrap()) as usize;
        let track = &bytes[22..22 + len];
        let mut i = 0;
        let mut tick = 0u64;
        let mut out = Vec::new();
        while i < track.len() {
            let mut delta = 0u64;
            loop {
                let b = track[i];
                i += 1;
                delta = (delta << 7) | (b & 0x7f) as u64;
                if b & 0x80 == 0 {
                    break;
                }
            }
            tick += delta;
            let status = track[i];
            if status == 0xff {
                let len = track[i + 2] as usize;
                i += 3 + len;
            } else {
                out.push((tick, status, track[i + 1], track[i + 2]));
                i += 3;
            }
        }
        out
    }
}
