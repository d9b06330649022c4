//! `cargo xtask install [--prefix DIR]` and `cargo xtask package`.
//!
//! Layout of an installation (the README's "Installing into a DAW"), under `DIR` (default
//! `$HOME`):
//!
//! ```text
//! DIR/.clap/MusicHal.clap
//! DIR/.clap/libonnxruntime.so.1.31.1     beside the .clap file
//! DIR/.clap/nmp.onnx                     beside the library (if fetched)
//! DIR/.vst3/MusicHal.vst3/...            the bundle
//! DIR/.vst3/libonnxruntime.so.1.31.1     beside the bundle
//! DIR/.vst3/nmp.onnx
//! ```
//!
//! The plugin looks for ONNX Runtime beside its binary and up to three folders above it
//! (`src/onnx.rs`), which reaches `DIR/.clap/` from `MusicHal.clap` and `DIR/.vst3/` from
//! `MusicHal.vst3/Contents/x86_64-linux/MusicHal.so`; the Basic Pitch model is looked for
//! beside the library (`src/perception/basic_pitch.rs`).
//!
//! `package` writes `target/dist/musichal-<version>-linux-x86_64.tar.gz`: one folder with both
//! bundles, the library, the model (if fetched), `INSTALL.txt` and `install.sh`, a POSIX shell
//! script that makes the same installation for someone who does not build from source.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The CLAP plugin file nice-plug's bundler writes into `target/bundled/`.
pub const CLAP_BUNDLE: &str = "MusicHal.clap";
/// The VST3 bundle folder.
pub const VST3_BUNDLE: &str = "MusicHal.vst3";
/// Platform part of the package name.
pub const PLATFORM: &str = "linux-x86_64";

/// What gets installed, from a folder like `target/bundled/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub clap: PathBuf,
    pub vst3: PathBuf,
    pub ort: PathBuf,
    /// The Basic Pitch model, when it was fetched.
    pub model: Option<PathBuf>,
}

impl Payload {
    /// The files in `dir`; an error naming the first one missing. `ort_file` is the ONNX
    /// Runtime library's file name, `model_file` the Basic Pitch model's.
    pub fn find(dir: &Path, ort_file: &str, model_file: &str) -> Result<Self> {
        let clap = dir.join(CLAP_BUNDLE);
        let vst3 = dir.join(VST3_BUNDLE);
        let ort = dir.join(ort_file);
        for (path, what) in [
            (&clap, "the CLAP plugin"),
            (&ort, "the ONNX Runtime library"),
        ] {
            if !path.is_file() {
                bail!("{} ({what}) is missing", path.display());
            }
        }
        if !vst3.is_dir() {
            bail!("{} (the VST3 bundle) is missing", vst3.display());
        }
        let model = Some(dir.join(model_file)).filter(|m| m.is_file());
        Ok(Self {
            clap,
            vst3,
            ort,
            model,
        })
    }
}

/// Copies the payload under `prefix` (see the module docs) and returns every file written.
/// An existing `MusicHal.vst3` is replaced, not merged, so no file of an older build stays.
pub fn install(payload: &Payload, prefix: &Path) -> Result<Vec<PathBuf>> {
    let clap_dir = prefix.join(".clap");
    let vst3_dir = prefix.join(".vst3");
    let mut written = Vec::new();
    for dir in [&clap_dir, &vst3_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    written.push(copy_file(&payload.clap, &clap_dir)?);
    let bundle = vst3_dir.join(VST3_BUNDLE);
    if bundle.exists() {
        std::fs::remove_dir_all(&bundle)
            .with_context(|| format!("cannot replace {}", bundle.display()))?;
    }
    copy_tree(&payload.vst3, &bundle, &mut written)?;
    for dir in [&clap_dir, &vst3_dir] {
        written.push(copy_file(&payload.ort, dir)?);
        if let Some(model) = &payload.model {
            written.push(copy_file(model, dir)?);
        }
    }
    Ok(written)
}

fn copy_file(file: &Path, dir: &Path) -> Result<PathBuf> {
    let name = file.file_name().context("a file without a name")?;
    let dest = dir.join(name);
    std::fs::copy(file, &dest)
        .with_context(|| format!("cannot copy {} to {}", file.display(), dest.display()))?;
    Ok(dest)
}

fn copy_tree(from: &Path, to: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()), written)?;
        } else {
            written.push(copy_file(&path, to)?);
        }
    }
    Ok(())
}

/// The package's base name, also the folder inside the archive.
pub fn package_name(version: &str) -> String {
    format!("musichal-{version}-{PLATFORM}")
}

/// Writes `dist/<package_name>.tar.gz` from the payload and returns its path. Uses the
/// system's `tar` (GNU tar on the Linux machines this targets).
pub fn package(payload: &Payload, version: &str, dist: &Path) -> Result<PathBuf> {
    let name = package_name(version);
    let staging = dist.join(format!(".{name}.staging"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let top = staging.join(&name);
    std::fs::create_dir_all(&top)?;
    let mut written = Vec::new();
    copy_file(&payload.clap, &top)?;
    copy_tree(&payload.vst3, &top.join(VST3_BUNDLE), &mut written)?;
    copy_file(&payload.ort, &top)?;
    if let Some(model) = &payload.model {
        copy_file(model, &top)?;
    }
    let ort_file = file_name(&payload.ort)?;
    let model_file = payload.model.as_deref().map(file_name).transpose()?;
    let script = top.join("install.sh");
    std::fs::write(&script, install_script(&ort_file, model_file.as_deref()))?;
    set_executable(&script)?;
    std::fs::write(
        top.join("INSTALL.txt"),
        install_text(version, &ort_file, model_file.as_deref()),
    )?;
    let archive = dist.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .arg(&name)
        .status()
        .context("could not start tar")?;
    std::fs::remove_dir_all(&staging)?;
    if !status.success() {
        bail!("tar failed ({status}) writing {}", archive.display());
    }
    Ok(archive)
}

fn file_name(path: &Path) -> Result<String> {
    Ok(path
        .file_name()
        .context("a file without a name")?
        .to_string_lossy()
        .into_owned())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// `install.sh`: POSIX sh (no bashisms; Debian runs it with dash). Same layout as [`install`].
pub fn install_script(ort_file: &str, model_file: Option<&str>) -> String {
    let model = model_file.unwrap_or("");
    format!(
        r#"#!/bin/sh
# Installs MusicHal's CLAP and VST3 plugins and the ONNX Runtime library beside them:
#   PREFIX/.clap/MusicHal.clap, PREFIX/.vst3/MusicHal.vst3, and {ort_file} (and the
#   Basic Pitch model, if packaged) in both folders. PREFIX is $HOME unless --prefix is given.
set -eu

usage() {{
    echo "usage: sh install.sh [--prefix DIR]   (default DIR: \$HOME)" >&2
    exit 2
}}

prefix="${{HOME:-}}"
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix)
            [ $# -ge 2 ] || usage
            prefix="$2"
            shift 2
            ;;
        --prefix=*)
            prefix="${{1#--prefix=}}"
            shift
            ;;
        -h|--help)
            usage
            ;;
        *)
            echo "install.sh: unknown argument '$1'" >&2
            usage
            ;;
    esac
done
if [ -z "$prefix" ]; then
    echo "install.sh: HOME is not set; pass --prefix DIR" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
ort="{ort_file}"
model="{model}"
missing=""
[ -f "$here/MusicHal.clap" ] || missing="$missing MusicHal.clap"
[ -d "$here/MusicHal.vst3" ] || missing="$missing MusicHal.vst3/"
[ -f "$here/$ort" ] || missing="$missing $ort"
if [ -n "$model" ] && [ ! -f "$here/$model" ]; then
    missing="$missing $model"
fi
if [ -n "$missing" ]; then
    echo "install.sh: missing from $here:$missing; unpack the whole package again" >&2
    exit 1
fi

mkdir -p "$prefix/.clap" "$prefix/.vst3"
cp "$here/MusicHal.clap" "$here/$ort" "$prefix/.clap/"
rm -rf "$prefix/.vst3/MusicHal.vst3"
cp -R "$here/MusicHal.vst3" "$prefix/.vst3/"
cp "$here/$ort" "$prefix/.vst3/"
if [ -n "$model" ]; then
    cp "$here/$model" "$prefix/.clap/"
    cp "$here/$model" "$prefix/.vst3/"
fi
echo "MusicHal installed: $prefix/.clap/MusicHal.clap, $prefix/.vst3/MusicHal.vst3"
echo "Rescan plugins in your host."
"#
    )
}

/// `INSTALL.txt`: what the package holds and how to install it.
pub fn install_text(version: &str, ort_file: &str, model_file: Option<&str>) -> String {
    let model = model_file
        .map(|m| format!("  {m:<26} Spotify's Basic Pitch note model (Apache-2.0), for the basicpitch encoder\n"))
        .unwrap_or_default();
    format!(
        "MusicHal {version} for Linux x86_64\n\
         \n\
         A CLAP/VST3 plugin that listens to the audio played through it and answers in MIDI\n\
         learned from a corpus, and colours that audio with a neural EQ steered by words.\n\
         \n\
         This folder holds:\n\
         \x20 MusicHal.clap              the CLAP plugin\n\
         \x20 MusicHal.vst3/             the VST3 plugin\n\
         \x20 {ort_file:<26} ONNX Runtime (MIT), which the plugin loads at run time\n\
         {model}\
         \x20 install.sh                 the installer\n\
         \n\
         Install for your user (into ~/.clap and ~/.vst3):\n\
         \n\
         \x20   sh install.sh\n\
         \n\
         or somewhere else (DIR/.clap and DIR/.vst3):\n\
         \n\
         \x20   sh install.sh --prefix DIR\n\
         \n\
         The ONNX Runtime library is copied beside each plugin, where the plugin looks for it.\n\
         Then rescan plugins in your host. Without the library the plugin still loads and passes\n\
         audio, and says that its neural parts are off.\n\
         \n\
         Licence: GPL-3.0-or-later. The EQ model is trained on SAFE-DB; treat it as research use\n\
         only.\n"
    )
}

/// The `version` of the root package's `[package]` section in `Cargo.toml`.
pub fn package_version(cargo_toml: &str) -> Result<String> {
    let mut in_package = false;
    for line in cargo_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(value) = line
                .strip_prefix("version")
                .map(str::trim_start)
                .and_then(|l| l.strip_prefix('='))
            {
                return Ok(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    bail!("no version in the [package] section of Cargo.toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const ORT: &str = "libonnxruntime.so.1.31.1";
    const MODEL: &str = "nmp.onnx";

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A `target/bundled/` as the bundler and the fetchers leave it, each file with distinct
    /// contents.
    fn fake_bundled(dir: &Path, with_model: bool) -> Payload {
        let so = dir.join("MusicHal.vst3/Contents/x86_64-linux");
        std::fs::create_dir_all(&so).unwrap();
        std::fs::write(dir.join(CLAP_BUNDLE), b"clap plugin binary").unwrap();
        std::fs::write(so.join("MusicHal.so"), b"vst3 plugin binary").unwrap();
        std::fs::write(dir.join(ORT), b"onnx runtime library").unwrap();
        if with_model {
            std::fs::write(dir.join(MODEL), b"basic pitch model").unwrap();
        }
        // Things beside the bundles that are not installed (the standalone, build leftovers).
        std::fs::write(dir.join("MusicHal"), b"standalone").unwrap();
        Payload::find(dir, ORT, MODEL).unwrap()
    }

    /// Every file under `root`, by path relative to it, with its contents.
    fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    let rel = p.strip_prefix(root).unwrap().to_owned();
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    /// Where the plugin binary at `binary` finds ONNX Runtime: the first of its folder and the
    /// three above it that holds the library (`src/onnx.rs`, `search_dirs`).
    fn library_seen_from(binary: &Path) -> Option<PathBuf> {
        binary
            .ancestors()
            .skip(1)
            .take(4)
            .map(|d| d.join(ORT))
            .find(|l| l.is_file())
    }

    /// Checks an installation under `prefix`: both plugins, each finding the library (the
    /// right one: the copy in its own plugin folder) and the model beside it.
    fn assert_installed(prefix: &Path, with_model: bool) {
        let clap = prefix.join(".clap").join(CLAP_BUNDLE);
        let vst3_so = prefix.join(".vst3/MusicHal.vst3/Contents/x86_64-linux/MusicHal.so");
        assert_eq!(std::fs::read(&clap).unwrap(), b"clap plugin binary");
        assert_eq!(std::fs::read(&vst3_so).unwrap(), b"vst3 plugin binary");
        for (binary, folder) in [(&clap, ".clap"), (&vst3_so, ".vst3")] {
            let lib = library_seen_from(binary)
                .unwrap_or_else(|| panic!("{} finds no ONNX Runtime", binary.display()));
            assert_eq!(lib, prefix.join(folder).join(ORT));
            assert_eq!(std::fs::read(&lib).unwrap(), b"onnx runtime library");
            let model = lib.with_file_name(MODEL);
            assert_eq!(model.is_file(), with_model, "{}", model.display());
        }
        assert!(
            !prefix.join(".clap/MusicHal").exists(),
            "the standalone was installed"
        );
    }

    #[test]
    fn install_puts_every_file_where_the_plugin_looks() {
        for with_model in [true, false] {
            let dir = temp(&format!("install-{with_model}"));
            let payload = fake_bundled(&dir.join("bundled"), with_model);
            let prefix = dir.join("home");
            let written = install(&payload, &prefix).unwrap();
            assert_installed(&prefix, with_model);
            assert_eq!(written.len(), if with_model { 6 } else { 4 });
            assert_eq!(tree(&prefix).len(), written.len());
        }
    }

    /// A second install replaces the first: a file only the old VST3 bundle had is gone.
    #[test]
    fn installing_again_replaces_the_old_bundle() {
        let dir = temp("reinstall");
        let payload = fake_bundled(&dir.join("bundled"), true);
        let prefix = dir.join("home");
        install(&payload, &prefix).unwrap();
        let stale = prefix.join(".vst3/MusicHal.vst3/Contents/old-file");
        std::fs::write(&stale, b"from an older build").unwrap();
        install(&payload, &prefix).unwrap();
        assert!(!stale.exists());
        assert_installed(&prefix, true);
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = temp("missing");
        fake_bundled(&dir, false);
        std::fs::remove_file(dir.join(ORT)).unwrap();
        let err = Payload::find(&dir, ORT, MODEL).unwrap_err().to_string();
        assert!(err.contains(ORT) && err.contains("is missing"), "{err}");
        std::fs::remove_dir_all(dir.join(VST3_BUNDLE)).unwrap();
        std::fs::write(dir.join(ORT), b"x").unwrap();
        let err = Payload::find(&dir, ORT, MODEL).unwrap_err().to_string();
        assert!(err.contains(VST3_BUNDLE), "{err}");
    }

    fn sh(script: &Path, args: &[&str], home: Option<&Path>) -> std::process::Output {
        let mut cmd = Command::new("sh");
        cmd.arg(script).args(args);
        match home {
            Some(h) => cmd.env("HOME", h),
            None => cmd.env_remove("HOME"),
        };
        cmd.output().unwrap()
    }

    /// The package holds both bundles, the library, the model, INSTALL.txt and install.sh;
    /// install.sh (run by `sh`, dash on Debian) makes the same installation as
    /// `cargo xtask install`, file for file, with --prefix and with $HOME.
    #[test]
    fn the_package_installs_what_xtask_install_installs() {
        for with_model in [true, false] {
            let dir = temp(&format!("package-{with_model}"));
            let payload = fake_bundled(&dir.join("bundled"), with_model);
            let archive = package(&payload, "1.2.3", &dir.join("dist")).unwrap();
            assert_eq!(archive, dir.join("dist/musichal-1.2.3-linux-x86_64.tar.gz"));
            let unpacked = dir.join("unpacked");
            std::fs::create_dir_all(&unpacked).unwrap();
            let status = Command::new("tar")
                .arg("-xzf")
                .arg(&archive)
                .arg("-C")
                .arg(&unpacked)
                .status()
                .unwrap();
            assert!(status.success());
            let top = unpacked.join("musichal-1.2.3-linux-x86_64");
            let mut names: Vec<String> = tree(&top)
                .into_keys()
                .map(|p| p.display().to_string())
                .collect();
            names.sort();
            let mut expected = vec![
                "INSTALL.txt",
                "MusicHal.clap",
                "MusicHal.vst3/Contents/x86_64-linux/MusicHal.so",
                "install.sh",
                ORT,
            ];
            if with_model {
                expected.push(MODEL);
            }
            expected.sort();
            assert_eq!(names, expected);
            let text = std::fs::read_to_string(top.join("INSTALL.txt")).unwrap();
            assert!(text.contains("1.2.3") && text.contains("sh install.sh --prefix DIR"));

            let by_xtask = dir.join("by-xtask");
            install(&payload, &by_xtask).unwrap();
            let by_script = dir.join("by-script");
            let out = sh(
                &top.join("install.sh"),
                &["--prefix", by_script.to_str().unwrap()],
                None,
            );
            assert!(out.status.success(), "{out:?}");
            assert_eq!(tree(&by_script), tree(&by_xtask));
            assert_installed(&by_script, with_model);

            let home = dir.join("home");
            std::fs::create_dir_all(&home).unwrap();
            let out = sh(&top.join("install.sh"), &[], Some(&home));
            assert!(out.status.success(), "{out:?}");
            assert_eq!(tree(&home), tree(&by_xtask));
        }
    }

    /// install.sh refuses, naming what is missing, and installs nothing; bad arguments get the
    /// usage line.
    #[test]
    fn install_sh_refuses_clearly() {
        let dir = temp("refuse");
        let payload = fake_bundled(&dir.join("bundled"), true);
        let archive = package(&payload, "0.1.0", &dir.join("dist")).unwrap();
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        let top = dir.join("musichal-0.1.0-linux-x86_64");
        let script = top.join("install.sh");
        std::fs::remove_file(top.join(ORT)).unwrap();
        std::fs::remove_file(top.join(MODEL)).unwrap();
        let prefix = dir.join("prefix");
        let out = sh(&script, &["--prefix", prefix.to_str().unwrap()], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("missing from {}: {ORT} {MODEL};", top.display())),
            "{stderr}"
        );
        assert!(
            !prefix.exists(),
            "a refused install wrote {}",
            prefix.display()
        );

        for args in [&["--prefix"][..], &["--frobnicate"][..]] {
            let out = sh(&script, args, None);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("usage: sh install.sh"));
        }
        let out = sh(&script, &[], None);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("HOME is not set"));
    }

    #[test]
    fn the_version_comes_from_the_package_section() {
        let toml = "[workspace]\nmembers = [\"xtask\"]\n\n[package]\nname = \"musichal\"\n\
                    version = \"0.4.2\"\n\n[dependencies]\nfoo = { version = \"9\" }\n";
        assert_eq!(package_version(toml).unwrap(), "0.4.2");
        assert!(package_version("[dependencies]\nversion = \"1\"\n").is_err());
    }
}
