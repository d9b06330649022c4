//! Foundation host test: loads the built MusicHal CLAP binary through a real CLAP host
//! (`crates/musichal-clap-host`, on clack-host) and checks parameters, pass-through, output gain,
//! sample-accurate automation, state round trips, the mono layout and the note output port.
//!
//! The binary is `MUSICHAL_CLAP_PATH` if set, else the `libmusichal.so` that `cargo test` builds
//! next to this test (see `common::clap_host::plugin_path`).

mod common;

use common::checks::*;
use common::clap_host::*;
use common::signals::*;

const GAIN: &str = "Output Gain";
const BYPASS: &str = "EQ Bypass";
/// The neutral chain must be bit-exact in practice; this is the contract.
const PASS_TOL: f32 = 1e-6;
const BLOCK_SIZES: [usize; 4] = [1, 64, 1000, 4096];
const SAMPLE_RATES: [f64; 2] = [44_100.0, 96_000.0];

fn load() -> ClapHost {
    let path = plugin_path();
    ClapHost::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
}

/// dB number in a display text like "6.00 dB", "+6 dB", "-24.00 dB"; `-inf` for "-inf dB".
fn db_in_text(text: &str) -> Option<f64> {
    let t = text.trim();
    let t = t.strip_suffix("dB").unwrap_or(t).trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.eq_ignore_ascii_case("-inf") || t == "-∞" {
        return Some(f64::NEG_INFINITY);
    }
    t.parse().ok()
}

fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A deterministic stereo/mono test signal: noise plus a sine, peak < 1.
fn test_signal(channels: usize, len: usize, sample_rate: f64, seed: u64) -> Vec<Vec<f32>> {
    let n = noise(channels, len, 0.4, seed);
    let s = sine(channels, len, 441.0, sample_rate, 0.4);
    n.iter()
        .zip(&s)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + y).collect())
        .collect()
}

/// Checks `out == input * gain` (relative tolerance) on `range`.
fn assert_gain(
    out: &[Vec<f32>],
    input: &[Vec<f32>],
    gain: f64,
    range: std::ops::Range<usize>,
    what: &str,
) {
    for (c, (o, i)) in out.iter().zip(input).enumerate() {
        for k in range.clone() {
            let expected = f64::from(i[k]) * gain;
            let got = f64::from(o[k]);
            let tol = 2e-5 * expected.abs() + 1e-6;
            assert!(
                (got - expected).abs() <= tol,
                "{what}: channel {c} sample {k}: got {got}, expected {expected} (= {} x {gain})",
                i[k]
            );
        }
    }
}

#[test]
fn parameters_are_enumerated_with_sane_ranges_and_defaults() {
    let mut host = load();
    let params = host.params();
    assert!(!params.is_empty(), "the plugin reports no parameters");
    let ids: Vec<u32> = params.iter().map(|p| p.id).collect();
    assert_eq!(
        unique_count(&ids),
        ids.len(),
        "parameter ids are not unique: {params:#?}"
    );
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names.iter().collect::<std::collections::HashSet<_>>().len(),
        names.len(),
        "parameter names are not unique (tests and users find them by name): {names:?}"
    );
    for p in &params {
        assert!(
            p.min.is_finite() && p.max.is_finite() && p.min < p.max,
            "bad range: {p:?}"
        );
        assert!(
            (p.min..=p.max).contains(&p.default),
            "default outside range: {p:?}"
        );
        let now = host.get_param_by_id(p.id).unwrap();
        assert_eq!(
            now, p.default,
            "{}: fresh value {now} is not the default {}",
            p.name, p.default
        );
    }

    // Output Gain: -24..+24 dB, default 0 dB, continuous, automatable.
    let gain = host.param(GAIN).unwrap();
    assert!(
        gain.is_automatable(),
        "{GAIN} must be automatable: {gain:?}"
    );
    assert!(!gain.is_stepped(), "{GAIN} must be continuous: {gain:?}");
    let show = |host: &mut ClapHost, v: f64| {
        let text = host.value_to_text(GAIN, v).unwrap();
        (
            db_in_text(&text).unwrap_or_else(|| panic!("{GAIN}: cannot read dB from {text:?}")),
            text,
        )
    };
    let (db, text) = show(&mut host, gain.default);
    assert!(
        db.abs() < 1e-3,
        "{GAIN} default shows {text:?}, expected 0 dB"
    );
    let (db, text) = show(&mut host, gain.min);
    assert!(
        (db + 24.0).abs() < 1e-3,
        "{GAIN} minimum shows {text:?}, expected -24 dB"
    );
    let (db, text) = show(&mut host, gain.max);
    assert!(
        (db - 24.0).abs() < 1e-3,
        "{GAIN} maximum shows {text:?}, expected +24 dB"
    );
    // Text entry: "6", "6 dB" and "+6 dB" all mean +6 dB.
    let six = host.text_to_value(GAIN, "6").unwrap();
    for t in ["6 dB", "6dB", "+6 dB"] {
        let v = host
            .text_to_value(GAIN, t)
            .unwrap_or_else(|e| panic!("{GAIN}: {t:?} rejected: {e}"));
        assert!(
            (v - six).abs() < 1e-9,
            "{GAIN}: {t:?} -> {v}, but \"6\" -> {six}"
        );
    }
    assert!(
        six > gain.default && six < gain.max,
        "{GAIN}: \"6\" maps to {six}, outside (default, max)"
    );
    let (db, text) = show(&mut host, six);
    assert!(
        (db - 6.0).abs() < 0.01,
        "{GAIN}: text_to_value(\"6\") displays as {text:?}"
    );

    // EQ Bypass: a stepped on/off switch, on by default.
    let bypass = host.param(BYPASS).unwrap();
    assert!(
        bypass.is_stepped(),
        "{BYPASS} must be a stepped (bool) parameter: {bypass:?}"
    );
    assert_eq!(
        (bypass.min, bypass.max),
        (0.0, 1.0),
        "{BYPASS} range: {bypass:?}"
    );
    assert_eq!(
        bypass.default, 1.0,
        "{BYPASS} must default to on: {bypass:?}"
    );
    assert_clean(&host);
}

#[test]
fn audio_ports_are_stereo_by_default_and_a_note_output_port_exists() {
    let mut host = load();
    for is_input in [true, false] {
        let ports = host.audio_ports(is_input);
        let dir = if is_input { "input" } else { "output" };
        let main = ports
            .first()
            .unwrap_or_else(|| panic!("no audio {dir} port: {ports:?}"));
        assert!(
            main.is_main,
            "first audio {dir} port is not the main one: {ports:?}"
        );
        assert_eq!(
            main.channel_count, 2,
            "main audio {dir} port must be stereo by default: {ports:?}"
        );
    }
    let notes_out = host.note_ports(false);
    assert!(
        !notes_out.is_empty(),
        "the plugin must offer a MIDI/note output port"
    );
    let port = &notes_out[0];
    assert!(
        port.supports_clap || port.supports_midi,
        "note output port speaks no known dialect: {port:?}"
    );
    assert_clean(&host);
}

#[test]
fn neutral_settings_pass_audio_through_at_every_rate_and_block_size() {
    let mut host = load();
    for &sr in &SAMPLE_RATES {
        for &bs in &BLOCK_SIZES {
            host.activate(sr, 1, bs as u32).unwrap();
            let len = 3 * 4096 + 123;
            let input = test_signal(2, len, sr, bs as u64);
            let out = host
                .process_signal(&input, &BlockSizes::Fixed(bs), &[])
                .unwrap();
            let what = format!("neutral pass-through at {sr} Hz, blocks of {bs}");
            assert_close(&out.audio, &input, PASS_TOL, &what);
            host.deactivate().unwrap();
        }
    }
    // Irregular block sizes as hosts really send them.
    host.activate(48_000.0, 1, 4096).unwrap();
    let input = test_signal(2, 20_000, 48_000.0, 7);
    let out = host
        .process_signal(
            &input,
            &BlockSizes::Random {
                min: 1,
                max: 4096,
                seed: 42,
            },
            &[],
        )
        .unwrap();
    assert_close(
        &out.audio,
        &input,
        PASS_TOL,
        "neutral pass-through, random block sizes",
    );
    host.deactivate().unwrap();
    assert_clean(&host);
}

/// Sets the gain during processing, after 100 ms of neutral audio, and checks the audio before the
/// change is untouched and the settled tail has the expected gain.
fn check_gain_step(
    host: &mut ClapHost,
    sr: f64,
    bs: usize,
    clap_value: f64,
    expected_gain: f64,
    what: &str,
) {
    host.activate(sr, 1, bs as u32).unwrap();
    let before = (sr * 0.1) as usize;
    let after = (sr * 0.3) as usize;
    let input = test_signal(2, before + after, sr, 11);
    let plan_before: Vec<Vec<f32>> = input.iter().map(|c| c[..before].to_vec()).collect();
    let plan_after: Vec<Vec<f32>> = input.iter().map(|c| c[before..].to_vec()).collect();
    let out1 = host
        .process_signal(&plan_before, &BlockSizes::Fixed(bs), &[])
        .unwrap();
    assert_close(
        &out1.audio,
        &plan_before,
        PASS_TOL,
        &format!("{what}: before the change"),
    );
    host.set_param(GAIN, clap_value).unwrap();
    let out2 = host
        .process_signal(&plan_after, &BlockSizes::Fixed(bs), &[])
        .unwrap();
    // The smoother takes 10-50 ms; judge the last 100 ms.
    let tail = after - (sr * 0.1) as usize..after;
    if expected_gain == 0.0 {
        assert_close(
            &out2
                .audio
                .iter()
                .map(|c| c[tail.clone()].to_vec())
                .collect::<Vec<_>>(),
            &plan_after
                .iter()
                .map(|c| vec![0.0; c[tail.clone()].len()])
                .collect::<Vec<_>>(),
            1e-6,
            &format!("{what}: silence"),
        );
    } else {
        assert_gain(
            &out2.audio,
            &plan_after,
            expected_gain,
            tail,
            &format!("{what}: settled tail"),
        );
    }
    let now = host.get_param(GAIN).unwrap();
    assert!(
        (now - clap_value).abs() < 1e-6,
        "{what}: get_value says {now}, set {clap_value}"
    );
    host.deactivate().unwrap();
}

#[test]
fn output_gain_plus_6_db_multiplies_by_1_9953() {
    let mut host = load();
    let six = host.text_to_value(GAIN, "6").unwrap();
    for &sr in &SAMPLE_RATES {
        for &bs in &BLOCK_SIZES {
            check_gain_step(
                &mut host,
                sr,
                bs,
                six,
                db_to_gain(6.0),
                &format!("+6 dB at {sr} Hz, blocks of {bs}"),
            );
            // Back to neutral for the next round: a fresh activation resets the smoother to the
            // current value, so set it while inactive.
            host.set_param(GAIN, host.param(GAIN).unwrap().default)
                .unwrap();
        }
    }
    assert_clean(&host);
}

#[test]
fn output_gain_minimum_does_what_it_says() {
    let mut host = load();
    let info = host.param(GAIN).unwrap();
    let text = host.value_to_text(GAIN, info.min).unwrap();
    // The README's range, not the plugin's own text: Output Gain goes down to -24 dB.
    let expected = db_to_gain(-24.0);
    for &sr in &SAMPLE_RATES {
        check_gain_step(
            &mut host,
            sr,
            1000,
            info.min,
            expected,
            &format!("minimum ({text}) at {sr} Hz"),
        );
        host.set_param(GAIN, info.default).unwrap();
    }
    // The maximum as well, in one configuration.
    let text = host.value_to_text(GAIN, info.max).unwrap();
    check_gain_step(
        &mut host,
        48_000.0,
        64,
        info.max,
        db_to_gain(24.0),
        &format!("maximum ({text})"),
    );
    assert_clean(&host);
}

#[test]
fn automation_lands_on_the_sample() {
    let mut host = load();
    let six = host.text_to_value(GAIN, "6").unwrap();
    host.activate(48_000.0, 1, 1000).unwrap();
    let input = test_signal(2, 1000, 48_000.0, 3);
    let chans: Vec<&[f32]> = input.iter().map(Vec::as_slice).collect();
    host.set_param_at(GAIN, six, 300).unwrap();
    let out = host.process(&chans, &[]).unwrap();
    let head: Vec<Vec<f32>> = out.audio.iter().map(|c| c[..300].to_vec()).collect();
    let head_in: Vec<Vec<f32>> = input.iter().map(|c| c[..300].to_vec()).collect();
    assert_close(
        &head,
        &head_in,
        PASS_TOL,
        "samples before the automation point",
    );
    // The smoother's first step lands on sample 300 itself (nice-plug splits the block at the
    // event), already far above float rounding.
    assert!(
        (out.audio[0][300] - input[0][300]).abs() > 1e-6,
        "the gain change at sample 300 did not show on sample 300: not sample accurate"
    );
    // After a full second at +6 dB the gain has settled.
    let rest = test_signal(2, 48_000, 48_000.0, 4);
    let out = host
        .process_signal(&rest, &BlockSizes::Fixed(1000), &[])
        .unwrap();
    assert_gain(
        &out.audio,
        &rest,
        db_to_gain(6.0),
        24_000..48_000,
        "after automation",
    );
    host.deactivate().unwrap();
    assert_clean(&host);
}

#[test]
fn saved_state_restores_into_a_new_instance() {
    let mut a = load();
    let gain = a.param(GAIN).unwrap();
    let bypass = a.param(BYPASS).unwrap();
    let g = a.set_param_text(GAIN, "-7.5").unwrap();
    a.set_param(BYPASS, 0.0).unwrap();
    // The EQ morph settings travel with the state too.
    let term_a = a.set_param_text("Term A", "boomy").unwrap();
    let morph = a.set_param_text("Morph", "30").unwrap();
    let intensity = a.set_param_text("Intensity", "1.5").unwrap();
    let (ga, ba) = (a.get_param(GAIN).unwrap(), a.get_param(BYPASS).unwrap());
    assert!(
        (ga - g).abs() < 1e-6 && ga != gain.default,
        "gain did not change: {ga}"
    );
    assert_eq!(ba, 0.0, "bypass did not switch off");
    let text_a = a.value_text(GAIN).unwrap();
    let state = a.save_state().unwrap();
    assert!(!state.is_empty(), "empty state");

    let mut b = load();
    assert_eq!(
        b.get_param(GAIN).unwrap(),
        gain.default,
        "fresh instance is not at defaults"
    );
    assert_eq!(b.get_param(BYPASS).unwrap(), bypass.default);
    b.load_state(&state).unwrap();
    assert_eq!(b.get_param(GAIN).unwrap(), ga, "gain after state load");
    assert_eq!(b.get_param(BYPASS).unwrap(), ba, "bypass after state load");
    assert_eq!(
        b.get_param("Term A").unwrap(),
        term_a,
        "term A after state load"
    );
    assert_eq!(b.value_text("Term A").unwrap(), "boomy");
    assert_eq!(
        b.get_param("Morph").unwrap(),
        morph,
        "morph after state load"
    );
    assert_eq!(
        b.get_param("Intensity").unwrap(),
        intensity,
        "intensity after state load"
    );
    assert_eq!(
        b.value_text(GAIN).unwrap(),
        text_a,
        "displayed gain after state load"
    );

    // Both process the same audio identically, at the restored settings.
    let input = test_signal(2, 48_000, 48_000.0, 5);
    let mut outs = Vec::new();
    for host in [&mut a, &mut b] {
        // Offline: both start from the EQ grid, whatever the machine's load.
        host.set_offline_render(true).unwrap();
        host.activate(48_000.0, 1, 512).unwrap();
        outs.push(
            host.process_signal(&input, &BlockSizes::Fixed(512), &[])
                .unwrap()
                .audio,
        );
        host.deactivate().unwrap();
    }
    assert_close(&outs[1], &outs[0], 0.0, "restored instance vs original");
    // ... and the restored -7.5 dB is really applied: against the same restored EQ at 0 dB
    // (the EQ is linear and the gain comes after it), the output is 7.5 dB lower.
    let mut r = load();
    r.load_state(&state).unwrap();
    r.set_param_text(GAIN, "0").unwrap();
    r.set_offline_render(true).unwrap();
    r.activate(48_000.0, 1, 512).unwrap();
    let reference = r
        .process_signal(&input, &BlockSizes::Fixed(512), &[])
        .unwrap()
        .audio;
    r.deactivate().unwrap();
    assert!(
        max_abs_diff(&reference, &input) > 1e-3,
        "the restored EQ (boomy, intensity 1.5) should colour the sound"
    );
    assert_gain(
        &outs[1],
        &reference,
        db_to_gain(-7.5),
        24_000..48_000,
        "restored gain",
    );

    // The state also round-trips through a second save.
    let again = b.save_state().unwrap();
    let mut c = load();
    c.load_state(&again).unwrap();
    assert_eq!(c.get_param(GAIN).unwrap(), ga);
    assert_eq!(c.get_param(BYPASS).unwrap(), ba);
    for h in [&a, &b, &c] {
        assert_clean(h);
    }
}

/// README: "MusicHal has a stereo and a mono layout" (and `musichal render` plays mono files
/// through the mono one).
#[test]
fn the_mono_layout_is_offered_and_works() {
    let mut host = load();
    let configs = host.audio_ports_configs();
    assert!(
        !configs.is_empty(),
        "the plugin offers no audio-ports-config configurations"
    );
    assert!(
        host.select_channel_layout(1).unwrap(),
        "no 1-in/1-out configuration among {configs:?}"
    );
    assert_eq!(
        host.audio_ports(true)[0].channel_count,
        1,
        "input port after selecting mono"
    );
    assert_eq!(
        host.audio_ports(false)[0].channel_count,
        1,
        "output port after selecting mono"
    );
    let sr = 48_000.0;
    host.activate(sr, 1, 1000).unwrap();
    let input = test_signal(1, 10_000, sr, 9);
    let out = host
        .process_signal(&input, &BlockSizes::Fixed(1000), &[])
        .unwrap();
    assert_eq!(out.audio.len(), 1, "mono output channel count");
    assert_close(&out.audio, &input, PASS_TOL, "mono neutral pass-through");
    host.deactivate().unwrap();
    let six = host.text_to_value(GAIN, "6").unwrap();
    host.set_param(GAIN, six).unwrap();
    host.activate(sr, 1, 1000).unwrap();
    let out = host
        .process_signal(&input, &BlockSizes::Fixed(1000), &[])
        .unwrap();
    assert_gain(
        &out.audio,
        &input,
        db_to_gain(6.0),
        0..10_000,
        "mono +6 dB set before activation",
    );
    host.deactivate().unwrap();
    // Back to stereo.
    assert!(
        host.select_channel_layout(2).unwrap(),
        "cannot go back to stereo"
    );
    assert_eq!(host.audio_ports(true)[0].channel_count, 2);
    assert_clean(&host);
}

/// The project has no homepage, support page or public e-mail address: the descriptor a host
/// shows in its plugin browser must not invent one (issue #14). Name, vendor and version are
/// still there.
#[test]
fn clap_descriptor_has_no_made_up_url_or_email() {
    let host = load();
    let d = host.descriptor();
    assert_eq!(d.id, "com.musichal.musichal");
    assert_eq!(d.name, "MusicHal");
    assert_eq!(d.vendor.as_deref(), Some("MusicHal"));
    assert_eq!(d.version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(d.url, None, "homepage URL in {d:?}");
    assert_eq!(d.manual_url, None, "manual URL in {d:?}");
    assert_eq!(d.support_url, None, "support URL in {d:?}");
    for text in [&d.vendor, &d.description].into_iter().flatten() {
        assert!(
            !text.contains("http") && !text.contains('@'),
            "a URL or address in {text:?}"
        );
    }
}

/// The VST3 side of the same binary: `IPluginFactory::getFactoryInfo` fills vendor, url and
/// email from the plugin's constants; with none set the two must be empty strings (not garbage,
/// not a made-up address), and the call must succeed.
#[test]
fn vst3_factory_info_has_no_made_up_url_or_email() {
    use std::ffi::{c_char, c_void, CStr, CString};

    /// `Steinberg::PFactoryInfo` (pluginterfaces/base/ipluginbase.h).
    #[repr(C)]
    struct PFactoryInfo {
        vendor: [c_char; 64],
        url: [c_char; 256],
        email: [c_char; 128],
        flags: i32,
    }
    /// The start of `IPluginFactory`'s vtable: `FUnknown`'s three methods, then
    /// `getFactoryInfo`.
    #[repr(C)]
    struct FactoryVtbl {
        query_interface: *const c_void,
        add_ref: *const c_void,
        release: unsafe extern "system" fn(*mut c_void) -> u32,
        get_factory_info: unsafe extern "system" fn(*mut c_void, *mut PFactoryInfo) -> i32,
    }

    let path = plugin_path();
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).expect("path without NUL");
    // SAFETY: the library is the plugin under test (see `ClapHost::load_plugin`); it is never
    // closed, as the CLAP host does not close it either. The symbols are the VST3 entry points
    // with the signatures of nice-plug's `nice_export_vst3!`; the factory pointer is a COM
    // object whose first field is its vtable, and `PFactoryInfo` is the SDK's layout.
    unsafe {
        let lib = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW);
        assert!(!lib.is_null(), "dlopen {}", path.display());
        let entry = libc::dlsym(lib, c"ModuleEntry".as_ptr());
        assert!(!entry.is_null(), "no ModuleEntry in {}", path.display());
        let entry: extern "C" fn(*mut c_void) -> bool = std::mem::transmute(entry);
        assert!(entry(lib));
        let get = libc::dlsym(lib, c"GetPluginFactory".as_ptr());
        assert!(!get.is_null(), "no GetPluginFactory in {}", path.display());
        let get: extern "system" fn() -> *mut c_void = std::mem::transmute(get);
        let factory = get();
        assert!(!factory.is_null());
        let vtbl = &**(factory as *mut *const FactoryVtbl);
        // Filled with a non-zero byte so that a field the plugin leaves alone shows up.
        let mut info = PFactoryInfo {
            vendor: [0x55; 64],
            url: [0x55; 256],
            email: [0x55; 128],
            flags: -1,
        };
        assert_eq!((vtbl.get_factory_info)(factory, &mut info), 0, "kResultOk");
        let text = |field: &[c_char]| {
            let bytes: Vec<u8> = field.iter().map(|&c| c as u8).collect();
            CStr::from_bytes_until_nul(&bytes)
                .expect("NUL-terminated")
                .to_str()
                .expect("UTF-8")
                .to_owned()
        };
        assert_eq!(text(&info.vendor), "MusicHal");
        assert_eq!(text(&info.url), "", "VST3 factory url");
        assert_eq!(text(&info.email), "", "VST3 factory email");
        (vtbl.release)(factory);
    }
}
