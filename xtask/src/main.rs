//! `cargo xtask`: everything between a fresh clone and a result.
//!
//! - `cargo xtask demo`: the main job. Fetches ONNX Runtime, builds the release bundles
//!   (`target/bundled/MusicHal.clap`, `MusicHal.vst3`) and renders an example the project makes
//!   through the plugin on the embedded defaults: `target/demo/out.wav`, `answer.mid`,
//!   `report.html`.
//! - `cargo xtask test`: every test the project has, in stages (each one's time is printed at
//!   the end):
//!   1. Rust unit + integration tests (`cargo test --workspace`);
//!   2. every bench compiled and run once in criterion's test mode (`cargo test --bench '*'`), so
//!      a bench that no longer builds or panics fails here;
//!   3. the CLAP host tests against a debug build whose `process()` aborts on any allocation
//!      (`assert_process_allocs`);
//!   4. the guard shown active: one host test against a build with `plant_process_alloc` too
//!      (a planted allocation in `process()`) must abort naming that allocation; the stage fails
//!      if it passes. It shares the dependency artifacts; stage 5's default-feature build
//!      replaces its plugin binary in `target/debug/deps/`, and it never touches the bundles;
//!   5. the CLAP host tests against the release bundle users install, and the VST3 bundle in a
//!      real VST3 host (JUCE's, through pedalboard: `tests/vst3`);
//!   6. the Python training tests.
//! - `cargo xtask setup`: system packages (apt, when root), the Python venv, ONNX Runtime, the
//!   Basic Pitch model.
//! - `cargo xtask fetch-ort`: only the ONNX Runtime library.
//! - `cargo xtask fetch-basic-pitch`: only the Basic Pitch model (`target/bundled/nmp.onnx`).
//! - `cargo xtask bundle <package> [--release]`: nice-plug's bundler.
//! - `cargo xtask install [--prefix DIR]`, `cargo xtask package`: see [`install`].

mod install;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ONNX Runtime release matching `ort`'s `api-31` feature.
const ORT_VERSION: &str = "1.31.1";
const ORT_LIBRARY_FILE: &str = "libonnxruntime.so.1.31.1";
/// Basic Pitch release whose wheel carries the note model (`nmp.onnx`).
const BASIC_PITCH_VERSION: &str = "0.4.0";
/// The model's file name in `target/bundled/` (as `musichal::perception::basic_pitch` expects).
const BASIC_PITCH_MODEL_FILE: &str = "nmp.onnx";
/// The model's path inside the wheel.
const BASIC_PITCH_WHEEL_MEMBER: &str = "basic_pitch/saved_models/icassp_2022/nmp.onnx";
/// Environment variable the tests read the model path from.
const BASIC_PITCH_PATH_ENV: &str = "MUSICHAL_BASIC_PITCH_PATH";

/// Debian packages the build and the tests need. The X11/xcb/GL headers link the egui editor
/// (baseview); fluidsynth and the GM soundfont render test music; xvfb draws the editor headless;
/// python3-venv makes the training environment; libatomic1 is the one system library the VST3
/// host test's pedalboard wheel links that it does not carry (usually there already with gcc).
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "libx11-dev",
    "libx11-xcb-dev",
    "libxcb1-dev",
    "libxcb-dri2-0-dev",
    "libxcb-icccm4-dev",
    "libxcursor-dev",
    "libxkbcommon-dev",
    "libxcb-shape0-dev",
    "libxcb-xfixes0-dev",
    "libgl-dev",
    "fluidsynth",
    "fluid-soundfont-gm",
    "xvfb",
    "xauth",
    "libgl1-mesa-dri",
    "libglx-mesa0",
    "python3-venv",
    "libatomic1",
    "unzip",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup(&root),
        Some("fetch-ort") => fetch_ort(&root).map(|_| ()),
        Some("fetch-basic-pitch") => fetch_basic_pitch(&root).map(|_| ()),
        Some("demo") => demo(&root),
        Some("test") => test(&root, &args[1..]),
        Some("bundle") | Some("bundle-universal") => {
            nice_plug_xtask::main_with_args("cargo xtask", args)
        }
        Some("install") => install_command(&root, &args[1..]),
        Some("package") => {
            let version = install::package_version(&std::fs::read_to_string("Cargo.toml")?)?;
            let archive = install::package(&payload(&root)?, &version, &root.join("target/dist"))?;
            println!("wrote {}", archive.display());
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <demo | test | setup | fetch-ort | fetch-basic-pitch | \
                 bundle <package> [--release] | install [--prefix DIR] | package>"
            );
            std::process::exit(2);
        }
    }
}

/// What `install` and `package` ship, from `target/bundled/`: the release bundles are built
/// and ONNX Runtime fetched first if they are missing; the Basic Pitch model goes along if it
/// was fetched.
fn payload(root: &Path) -> Result<install::Payload> {
    let bundled = root.join("target/bundled");
    if !bundled.join(install::CLAP_BUNDLE).is_file() || !bundled.join(install::VST3_BUNDLE).is_dir()
    {
        bundle_release()?;
    }
    fetch_ort(root)?;
    install::Payload::find(&bundled, ORT_LIBRARY_FILE, BASIC_PITCH_MODEL_FILE)
}

/// `cargo xtask install [--prefix DIR]`: into `DIR/.clap` and `DIR/.vst3` (default `$HOME`).
fn install_command(root: &Path, args: &[String]) -> Result<()> {
    let prefix = match args {
        [] => {
            PathBuf::from(std::env::var_os("HOME").context("HOME is not set; pass --prefix DIR")?)
        }
        [flag, dir] if flag == "--prefix" => PathBuf::from(dir),
        [arg] if arg.starts_with("--prefix=") => PathBuf::from(&arg["--prefix=".len()..]),
        _ => bail!("usage: cargo xtask install [--prefix DIR]"),
    };
    for file in install::install(&payload(root)?, &prefix)? {
        println!("installed {}", file.display());
    }
    println!("Rescan plugins in your host.");
    Ok(())
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .context("xtask has no parent directory")?
        .to_path_buf())
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {:?}", cmd);
    let status = cmd
        .status()
        .with_context(|| format!("could not start {:?}", cmd))?;
    if !status.success() {
        bail!("{:?} failed with {}", cmd, status);
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// System packages: installed when we are root and they are missing; otherwise we stop with the
/// exact line to run.
fn ensure_apt_packages() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|pkg| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", pkg])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        bail!("missing system packages; run as root:\n  apt-get update && {line}");
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("sh").args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {line}")]))
}

fn venv_python(root: &Path) -> PathBuf {
    root.join(".venv/bin/python")
}

/// Python requirement files installed into `.venv/`: training and its tests, then the VST3 host
/// test's (`pedalboard`).
const PYTHON_REQUIREMENTS: &[&str] = &["training/requirements.txt", "tests/requirements.txt"];

/// The Python environment for training, its tests and the VST3 host test
/// ([`PYTHON_REQUIREMENTS`]).
fn ensure_venv(root: &Path) -> Result<()> {
    let python = venv_python(root);
    if !python.exists() {
        run(Command::new("python3")
            .args(["-m", "venv"])
            .arg(root.join(".venv")))?;
    }
    let reqs: Vec<PathBuf> = PYTHON_REQUIREMENTS.iter().map(|r| root.join(r)).collect();
    let stamp = root.join(".venv/.requirements.installed");
    let wanted: String = reqs
        .iter()
        .map(|r| std::fs::read_to_string(r).unwrap_or_default())
        .collect();
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    run(Command::new(&python).args(["-m", "pip", "install", "-q", "--upgrade", "pip"]))?;
    for reqs in reqs.iter().filter(|r| r.exists()) {
        run(Command::new(&python)
            .args(["-m", "pip", "install", "-q", "-r"])
            .arg(reqs))?;
    }
    std::fs::write(stamp, wanted)?;
    Ok(())
}

/// Fetch `libonnxruntime.so.1.31.1` out of the `onnxruntime==1.31.1` wheel on PyPI (the only
/// source we use) and place it in `target/bundled/`, beside the bundles. Returns its path.
fn fetch_ort(root: &Path) -> Result<PathBuf> {
    let dest = root.join("target/bundled").join(ORT_LIBRARY_FILE);
    fetch_from_wheel(
        &format!("onnxruntime=={ORT_VERSION}"),
        &root.join("target/ort-wheel"),
        &format!("/{ORT_LIBRARY_FILE}"),
        &dest,
    )?;
    eprintln!("ONNX Runtime {ORT_VERSION}: {}", dest.display());
    Ok(dest)
}

/// Fetch Spotify's Basic Pitch note model (`nmp.onnx`, Apache-2.0, 230 KB) out of the
/// `basic-pitch==0.4.0` wheel on PyPI and place it in `target/bundled/`, beside the ONNX Runtime
/// library, where `musichal::perception::basic_pitch::default_model_path` looks. Never committed.
/// Returns its path.
fn fetch_basic_pitch(root: &Path) -> Result<PathBuf> {
    let dest = root.join("target/bundled").join(BASIC_PITCH_MODEL_FILE);
    fetch_from_wheel(
        &format!("basic-pitch=={BASIC_PITCH_VERSION}"),
        &root.join("target/bp-wheel"),
        BASIC_PITCH_WHEEL_MEMBER,
        &dest,
    )?;
    eprintln!("Basic Pitch {BASIC_PITCH_VERSION}: {}", dest.display());
    Ok(dest)
}

/// Download the wheel of `requirement` (no dependencies) into `cache` unless one is there, and
/// copy its member whose path ends with `member_suffix` to `dest`. Nothing happens when `dest`
/// already exists.
fn fetch_from_wheel(
    requirement: &str,
    cache: &Path,
    member_suffix: &str,
    dest: &Path,
) -> Result<()> {
    if dest.is_file() {
        return Ok(());
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::create_dir_all(cache)?;
    let has_wheel = |dir: &Path| {
        std::fs::read_dir(dir)
            .ok()
            .and_then(|mut it| {
                it.find(|e| {
                    e.as_ref()
                        .map(|e| e.file_name().to_string_lossy().ends_with(".whl"))
                        .unwrap_or(false)
                })
            })
            .and_then(|e| e.ok())
            .map(|e| e.path())
    };
    let wheel = match has_wheel(cache) {
        Some(w) => w,
        None => {
            run(Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--only-binary=:all:",
                ])
                .arg(requirement)
                .arg("-d")
                .arg(cache))?;
            has_wheel(cache).context("pip download left no wheel")?
        }
    };
    // A wheel is a zip file; Python's zipfile is always there when pip is. Written to a
    // temporary name first so an interrupted copy never looks like a finished one.
    let script = "import zipfile,sys,shutil\n\
         z=zipfile.ZipFile(sys.argv[1])\n\
         n=[m for m in z.namelist() if m.endswith(sys.argv[3])]\n\
         assert n, 'no member ending in '+sys.argv[3]+' in '+sys.argv[1]\n\
         with z.open(n[0]) as s, open(sys.argv[2],'wb') as d: shutil.copyfileobj(s,d)\n";
    let partial = dest.with_extension("partial");
    run(Command::new("python3")
        .args(["-c", script])
        .arg(&wheel)
        .arg(&partial)
        .arg(member_suffix))?;
    std::fs::rename(&partial, dest)
        .with_context(|| format!("could not move {} into place", partial.display()))?;
    Ok(())
}

/// The reference implementations our notes are checked against (basic-pitch 0.4.0 on its ONNX
/// backend, mir_eval, pretty_midi), in their own environment `target/venv-bp`: basic-pitch's
/// wheel requires TensorFlow, so it is installed `--no-deps` beside exactly the small
/// dependencies its ONNX path imports (`tests/python/requirements.txt`), whose pins (numba's
/// numpy) differ from training's.
const BASIC_PITCH_REFERENCE: &str = "basic-pitch==0.4.0";

fn ensure_reference_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/venv-bp");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let reqs = root.join("tests/python/requirements.txt");
    let stamp = venv.join(".requirements.installed");
    let wanted = std::fs::read_to_string(&reqs)
        .with_context(|| format!("reading {}", reqs.display()))?
        + BASIC_PITCH_REFERENCE
        + " --no-deps\n";
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new(&python).args(["-m", "pip", "install", "-q", "--upgrade", "pip"]))?;
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            BASIC_PITCH_REFERENCE,
        ]))?;
        run(Command::new(&python)
            .args(["-m", "pip", "install", "-q", "-r"])
            .arg(&reqs))?;
        std::fs::write(&stamp, wanted)?;
    }
    Ok(python)
}

fn setup(root: &Path) -> Result<()> {
    ensure_apt_packages()?;
    ensure_venv(root)?;
    ensure_reference_venv(root)?;
    fetch_ort(root)?;
    fetch_basic_pitch(root)?;
    Ok(())
}

/// Prints the space left on the build's disk and the size of `target/` (a full disk once failed
/// CI half-way through a link, so the log says where the space goes).
fn disk_report(root: &Path, when: &str) {
    let target = root.join("target");
    let df = Command::new("df").arg("-h").arg(&target).output();
    let du = Command::new("du").arg("-sh").arg(&target).output();
    let line = |o: std::io::Result<std::process::Output>| {
        o.ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unavailable".into())
    };
    println!("\n[disk {when}]\n{}\n{}", line(df), line(du));
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn bundle_release() -> Result<()> {
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", "musichal", "--release"].map(String::from),
    )
}

/// The main job: bundles plus the demo on the embedded defaults.
fn demo(root: &Path) -> Result<()> {
    ensure_apt_packages()?;
    let ort = fetch_ort(root)?;
    fetch_basic_pitch(root)?;
    bundle_release()?;
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "musichal-cli",
        "--bin",
        "musichal",
    ]))?;
    let cli = root.join("target/release/musichal");
    run(Command::new(&cli).arg("doctor").env("ORT_DYLIB_PATH", &ort))?;
    // The example: 20 s of the project's synthetic band, through the built plugin on the
    // embedded corpus and EQ model, with the EQ engaged between warm and bright.
    let out = root.join("target/demo");
    std::fs::create_dir_all(&out)?;
    let input = out.join("input.wav");
    run(Command::new(&cli)
        .args(["synth", "--seconds", "20", "--seed", "2026", "-o"])
        .arg(&input))?;
    run(Command::new(&cli)
        .arg("render")
        .arg(&input)
        .arg("-o")
        .arg(out.join("out.wav"))
        .arg("--midi")
        .arg(out.join("answer.mid"))
        .arg("--report")
        .arg(out.join("report.html"))
        .arg("--plugin")
        .arg(root.join("target/bundled/MusicHal.clap"))
        .args([
            "EQ Bypass=Off",
            "Term A=warm",
            "Term B=bright",
            "Morph=35 %",
        ])
        .env("ORT_DYLIB_PATH", &ort))?;
    println!("\nBundles: {}", root.join("target/bundled").display());
    println!("Demo:    {}", out.display());
    Ok(())
}

/// The tests that load the built plugin through the CLAP host: run again under the allocation
/// guard and against the release bundle. The plugin package's own host tests, then the command
/// line's (`crates/musichal-cli/tests/`), which run `musichal render` on the same binary.
const HOST_TESTS: &[&str] = &[
    "clap_host",
    "engine_host",
    "engine_lifecycle",
    "engine_no_answerer",
    "engine_transport",
    "listen_off",
];
const CLI_HOST_TESTS: &[&str] = &["demo", "render"];

/// `cargo test` arguments selecting [`HOST_TESTS`] and [`CLI_HOST_TESTS`] in their packages,
/// with the plugin's `features` (the CLI tests load the plugin library built for that run).
fn host_test_args(features: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = ["-p", "musichal", "-p", "musichal-cli"]
        .map(String::from)
        .to_vec();
    if let Some(features) = features {
        args.push("--features".into());
        args.push(
            features
                .split(',')
                .map(|f| format!("musichal/{f}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    for test in HOST_TESTS.iter().chain(CLI_HOST_TESTS) {
        args.push("--test".into());
        args.push((*test).into());
    }
    args
}

/// The host test run against the build with a planted allocation: it processes audio at every
/// rate and block size, so `process()` runs many times.
const PLANTED_TEST: [&str; 2] = [
    "clap_host",
    "neutral_settings_pass_audio_through_at_every_rate_and_block_size",
];
/// What the planted allocation's abort prints: `plant_process_alloc` allocates 12345 bytes
/// (src/lib.rs), and the guard hands that allocation to the allocation-error handler.
const PLANTED_ABORT: &str = "memory allocation of 12345 bytes failed";

/// Stage 4: the allocation guard is live in the plugin the host tests load. A build with
/// `assert_process_allocs` and `plant_process_alloc` must abort in the first `process()` call.
fn planted_allocation_aborts(ort: &Path) -> Result<()> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--features",
        "assert_process_allocs,plant_process_alloc",
        "--test",
        PLANTED_TEST[0],
        "--",
        "--exact",
        PLANTED_TEST[1],
    ])
    .env("ORT_DYLIB_PATH", ort);
    eprintln!("$ {:?}   (expected to abort)", cmd);
    let out = cmd
        .output()
        .with_context(|| format!("could not start {:?}", cmd))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    if out.status.success() {
        bail!(
            "the host test passed against a plugin that allocates in process(): the allocation \
             guard (feature assert_process_allocs) is not active in the built plugin"
        );
    }
    if !text.contains(PLANTED_ABORT) {
        bail!(
            "the planted-allocation run failed ({}) without the guard's abort ({PLANTED_ABORT:?}); \
             see its output above",
            out.status
        );
    }
    eprintln!("planted allocation: aborted as it must ({})", out.status);
    Ok(())
}

/// Runs one stage of `cargo xtask test` and notes its wall time for the summary.
fn stage(
    times: &mut Vec<(&'static str, f64)>,
    name: &'static str,
    f: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let start = std::time::Instant::now();
    let result = f();
    times.push((name, start.elapsed().as_secs_f64()));
    result
}

/// Every test the project has.
fn test(root: &Path, extra: &[String]) -> Result<()> {
    let mut times = Vec::new();
    let result = test_stages(root, extra, &mut times);
    println!("\n[stage times]");
    for (name, secs) in &times {
        println!("  {secs:7.1} s  {name}");
    }
    result
}

fn test_stages(root: &Path, extra: &[String], times: &mut Vec<(&'static str, f64)>) -> Result<()> {
    stage(
        times,
        "0 setup: apt packages, .venv, ONNX Runtime, Basic Pitch",
        || setup(root),
    )?;
    let ort = fetch_ort(root)?;
    let basic_pitch = fetch_basic_pitch(root)?;
    // Every test runs, whatever resource it needs: a missing ONNX Runtime, Basic Pitch model,
    // fluidsynth or display fails the test instead of skipping it (tests/common's
    // `resource_missing`). Set before any thread is spawned; every child process inherits it.
    std::env::set_var("MUSICHAL_REQUIRE_ALL", "1");
    if std::env::var_os("CI").is_some() {
        // A one-shot build gains nothing from the incremental cache, which costs gigabytes.
        // Set before any thread is spawned; every child process inherits it.
        std::env::set_var("CARGO_INCREMENTAL", "0");
    }
    disk_report(root, "before the tests");
    // 1. All Rust tests, with the library the tests load. The editor test may not skip here:
    //    setup installed Xvfb, so a missing display server is a failure, not a skip.
    stage(times, "1 workspace tests", || {
        run(cargo()
            .args(["test", "--workspace"])
            .args(extra)
            .env("ORT_DYLIB_PATH", &ort)
            .env(BASIC_PITCH_PATH_ENV, &basic_pitch)
            .env("MUSICHAL_REQUIRE_GUI_TEST", "1"))
    })?;
    disk_report(root, "after the workspace tests");
    // 2. Every bench target (not the lib's unit tests again, which `--benches` would include),
    //    compiled with the test profile (stage 1's artifacts) and run once in
    //    criterion's test mode: untimed, but a bench that panics fails. The Basic Pitch benches
    //    get the model path, so they cannot leave themselves out.
    stage(times, "2 benches in test mode", || {
        run(cargo()
            .args(["test", "--bench", "*"])
            .env("ORT_DYLIB_PATH", &ort)
            .env(BASIC_PITCH_PATH_ENV, &basic_pitch))
    })?;
    // 3. The CLAP host tests (and `render`, which loads the same binary) against a debug build
    //    whose `process()` aborts on any allocation.
    stage(times, "3 allocation guard", || {
        run(cargo()
            .arg("test")
            .args(host_test_args(Some("assert_process_allocs")))
            .env("ORT_DYLIB_PATH", &ort))
    })?;
    disk_report(root, "after the allocation-guard tests");
    // 4. The guard is really there: a planted allocation in process() must abort a host test.
    stage(times, "4 planted allocation aborts", || {
        planted_allocation_aborts(&ort)
    })?;
    // 5. The CLAP host tests against the release bundle users install (their default-feature
    //    build also replaces stage 4's plugin binary in target/debug/deps/), then the VST3
    //    bundle in JUCE's VST3 host, finding ONNX Runtime beside the bundle as a DAW install does.
    stage(
        times,
        "5 release bundle: CLAP host tests, VST3 host test",
        || {
            bundle_release()?;
            run(cargo()
                .arg("test")
                .args(host_test_args(None))
                .env(
                    "MUSICHAL_CLAP_PATH",
                    root.join("target/bundled/MusicHal.clap"),
                )
                .env("ORT_DYLIB_PATH", &ort))?;
            run(Command::new(venv_python(root))
                .args(["-m", "pytest", "tests/vst3", "-q"])
                .env(
                    "MUSICHAL_VST3_PATH",
                    root.join("target/bundled/MusicHal.vst3"),
                )
                .env_remove("ORT_DYLIB_PATH"))
        },
    )?;
    disk_report(root, "after the release-bundle tests");
    // 6. The EQ model's training tests.
    stage(times, "6 training tests", || {
        run(Command::new(venv_python(root))
            .args(["-m", "pytest", "training/tests", "-q"])
            .env("ORT_DYLIB_PATH", &ort))
    })?;
    // 7. Our notes against the reference implementations: basic-pitch's note creation and
    //    transcription, mir_eval's metrics (also through `musichal evaluate`), pretty_midi's
    //    MIDI reading.
    stage(
        times,
        "7 notes parity with basic-pitch, mir_eval, pretty_midi",
        || {
            run(cargo().args(["build", "--example", "notes_tool"]))?;
            run(cargo().args(["build", "-p", "musichal-cli"]))?;
            run(Command::new(ensure_reference_venv(root)?)
                .args(["-m", "pytest", "tests/python", "-q"])
                .env("ORT_DYLIB_PATH", &ort)
                .env(BASIC_PITCH_PATH_ENV, &basic_pitch)
                .env(
                    "MUSICHAL_NOTES_TOOL",
                    root.join("target/debug/examples/notes_tool"),
                )
                .env("MUSICHAL_BIN", root.join("target/debug/musichal")))
        },
    )?;
    println!("\nAll test suites passed.");
    Ok(())
}
