//! The host's main-thread API: one plugin instance, loaded and driven from the thread that
//! created it.

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::gui::PluginGui;
use clack_extensions::latency::PluginLatency;
use clack_extensions::note_ports::PluginNotePorts;
use clack_extensions::params::{ParamRescanFlags, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::prelude::*;
use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::audio_thread::AudioThread;
use crate::error::{HostError, Result};
use crate::events::{TimedEvent, Transport};
use crate::handlers::{lock, ClapHostHandlers, HostMain, HostShared, LogEntry};
use crate::locate::plugin_path;
use crate::ports_config::PluginAudioPortsConfig;
use crate::types::{ActiveConfig, ParamInfo, PluginDescriptorInfo};

mod gui;
mod params;
mod ports;
mod process;
mod state;

pub use process::block_plan;

/// The plugin extensions the harness uses (queried once after instantiation).
#[derive(Clone, Copy)]
struct PluginExts {
    params: Option<PluginParams>,
    state: Option<PluginState>,
    audio_ports: Option<PluginAudioPorts>,
    note_ports: Option<PluginNotePorts>,
    ports_config: Option<PluginAudioPortsConfig>,
    gui: Option<PluginGui>,
    render: Option<clack_extensions::render::PluginRender>,
    latency: Option<PluginLatency>,
}

/// A CLAP host for one plugin instance. See the module docs for the thread rules.
pub struct ClapHost {
    // Declared first so that, should `Drop` be skipped, the audio thread handle goes first.
    audio: Option<AudioThread>,
    active: Option<ActiveConfig>,
    instance: PluginInstance<ClapHostHandlers>,
    exts: PluginExts,
    params: Vec<ParamInfo>,
    /// Events queued for the next `process()` call.
    pending: Vec<TimedEvent>,
    steady_time: u64,
    transport: Option<Transport>,
    path: PathBuf,
    plugin_id: String,
    plugin_name: String,
    descriptor: PluginDescriptorInfo,
    /// Whether `clap_plugin_gui.create` succeeded and `destroy` has not been called yet.
    gui_created: bool,
    /// Keeps the library loaded for as long as the instance lives.
    _entry: PluginEntry,
}

impl ClapHost {
    /// Loads the CLAP binary at `path` and instantiates its first plugin.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_plugin(path, None)
    }

    /// Loads the binary under test ([`plugin_path`]) and instantiates its first plugin.
    pub fn load_default() -> Result<Self> {
        Self::load(plugin_path())
    }

    /// Loads `path` and instantiates the plugin with CLAP id `plugin_id`, or the first one.
    pub fn load_plugin(path: impl AsRef<Path>, plugin_id: Option<&str>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        // SAFETY: loading a dynamic library runs its initialisers. The file is the plugin under
        // test, built by this workspace (or named explicitly via MUSICHAL_CLAP_PATH); trusting its
        // code is the point of the test. clack keeps the library loaded while `PluginEntry`
        // (held by `ClapHost` and by the instance) lives.
        let entry = unsafe { PluginEntry::load(&path) }.map_err(|e| HostError::LoadFailed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        // Never unload the library. Code in it registers pthread TLS destructors on the threads
        // that call into it (test threads, audio threads); if the last `PluginEntry` dropped
        // first, the library would be dlclose'd and those destructors would jump into unmapped
        // memory when the thread exits (SIGSEGV under parallel `cargo test`). clack caches one
        // entry per library, so this leaks one reference count, not a copy.
        std::mem::forget(entry.clone());
        let factory = entry
            .get_plugin_factory()
            .ok_or_else(|| HostError::NoFactory { path: path.clone() })?;
        let mut descriptors = Vec::new();
        for d in factory.plugin_descriptors() {
            let text = |s: Option<&std::ffi::CStr>| s.map(|s| s.to_string_lossy().into_owned());
            let Some(id) = d.id().map(|s| s.to_owned()) else {
                continue;
            };
            let info = PluginDescriptorInfo {
                id: id.to_string_lossy().into_owned(),
                name: text(d.name()).unwrap_or_default(),
                vendor: text(d.vendor()),
                url: text(d.url()),
                manual_url: text(d.manual_url()),
                support_url: text(d.support_url()),
                version: text(d.version()),
                description: text(d.description()),
            };
            descriptors.push((id, info));
        }
        let (id_c, descriptor) = match plugin_id {
            Some(want) => descriptors
                .iter()
                .find(|(id, _)| id.to_bytes() == want.as_bytes())
                .cloned()
                .ok_or_else(|| HostError::NoSuchPlugin {
                    path: path.clone(),
                    id: want.to_owned(),
                })?,
            None => descriptors
                .first()
                .cloned()
                .ok_or_else(|| HostError::NoPlugins { path: path.clone() })?,
        };
        let host_info = HostInfo::new(
            "MusicHal test host",
            "MusicHal",
            "https://example.invalid",
            "0.1.0",
        )
        .map_err(|e| HostError::HostInfo {
            reason: e.to_string(),
        })?;
        let mut instance = PluginInstance::<ClapHostHandlers>::new(
            |_| HostShared::new(),
            |shared| HostMain { shared },
            &entry,
            &id_c,
            &host_info,
        )
        .map_err(|e| HostError::InstantiateFailed {
            id: id_c.to_string_lossy().into_owned(),
            reason: e.to_string(),
        })?;
        let handle = instance.plugin_handle();
        let exts = PluginExts {
            params: handle.get_extension(),
            state: handle.get_extension(),
            audio_ports: handle.get_extension(),
            note_ports: handle.get_extension(),
            ports_config: handle.get_extension(),
            gui: handle.get_extension(),
            render: handle.get_extension(),
            latency: handle.get_extension(),
        };
        let mut host = Self {
            audio: None,
            active: None,
            instance,
            exts,
            params: Vec::new(),
            pending: Vec::new(),
            steady_time: 0,
            transport: None,
            path,
            plugin_id: id_c.to_string_lossy().into_owned(),
            plugin_name: descriptor.name.clone(),
            descriptor,
            gui_created: false,
            _entry: entry,
        };
        host.rescan_params()?;
        host.service_main_thread();
        Ok(host)
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }
    pub fn plugin_name(&self) -> &str {
        &self.plugin_name
    }
    /// The loaded plugin's descriptor (vendor, URLs, version, ...).
    pub fn descriptor(&self) -> &PluginDescriptorInfo {
        &self.descriptor
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shared<R>(&self, f: impl FnOnce(&HostShared) -> R) -> R {
        self.instance.access_shared_handler(f)
    }

    /// Messages the plugin logged through the `log` extension so far.
    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.shared(|s| lock(&s.log).clone())
    }

    /// A function that the loaded plugin binary exports under the C symbol `name`, looked up in
    /// the library this host loaded (with `dlopen(RTLD_NOLOAD)` + `dlsym`), not in the caller's
    /// own copy of the plugin's crate, if it links one: a test that reads a plugin's statics
    /// through such a function reads the plugin's, not its own.
    ///
    /// The library is never unloaded (see [`Self::load_plugin`]), so the pointer stays valid for
    /// the life of the process.
    ///
    /// # Safety
    ///
    /// `F` must be the function pointer type of the symbol as the plugin defines it (its
    /// arguments, result and ABI, e.g. `extern "C" fn() -> Diagnostics` with the same
    /// `#[repr(C)]` result type); calling a pointer of any other type is undefined behaviour.
    pub unsafe fn plugin_function<F: Copy>(&self, name: &CStr) -> Result<F> {
        const {
            assert!(
                std::mem::size_of::<F>() == std::mem::size_of::<*mut c_void>(),
                "plugin_function::<F>: F must be a function pointer type"
            )
        };
        let path = CString::new(self.path.as_os_str().as_encoded_bytes()).map_err(|_| {
            HostError::PathHasNul {
                path: self.path.clone(),
            }
        })?;
        // SAFETY: RTLD_NOLOAD only looks up the library this host already loaded (and never
        // unloads); the handle is released again below, which leaves the library loaded.
        let symbol = unsafe {
            let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            if handle.is_null() {
                return Err(HostError::NotLoaded {
                    path: self.path.clone(),
                });
            }
            let symbol = libc::dlsym(handle, name.as_ptr());
            libc::dlclose(handle);
            symbol
        };
        if symbol.is_null() {
            return Err(HostError::MissingSymbol {
                path: self.path.clone(),
                symbol: name.to_string_lossy().into_owned(),
            });
        }
        // SAFETY: `F` is pointer-sized (checked above) and, as the caller guarantees, the type of
        // the function at this address.
        Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&symbol) })
    }

    /// Main-thread-only host functions the plugin called from another thread (should be empty).
    pub fn thread_violations(&self) -> Vec<String> {
        self.shared(|s| lock(&s.violations).clone())
    }

    /// How many `request_callback()`s the harness answered with `on_main_thread()`.
    pub fn callbacks_serviced(&self) -> u64 {
        self.shared(|s| s.callbacks_serviced.load(Ordering::SeqCst))
    }

    /// Whether the plugin called `clap_host_state.mark_dirty` (and resets the flag).
    pub fn take_state_dirty(&self) -> bool {
        self.shared(|s| s.state_dirty.swap(false, Ordering::SeqCst))
    }

    /// Whether the plugin asked for a restart (deactivate + activate).
    pub fn restart_requested(&self) -> bool {
        self.shared(|s| s.restart_requested.load(Ordering::SeqCst))
    }

    /// Answers pending plugin requests that belong on the main thread: `request_callback()` →
    /// `on_main_thread()`, and, while inactive, `request_flush()` → `params.flush()`, and a
    /// parameter info rescan. Called automatically around every harness operation.
    pub fn service_main_thread(&mut self) {
        if self.shared(|s| s.callback_requested.swap(false, Ordering::SeqCst)) {
            self.instance.call_on_main_thread_callback();
            self.shared(|s| s.callbacks_serviced.fetch_add(1, Ordering::SeqCst));
        }
        if self.active.is_none() && self.shared(|s| s.flush_requested.swap(false, Ordering::SeqCst))
        {
            let _ = self.flush_inactive(&[]);
        }
        let rescan = self.shared(|s| s.param_rescan_flags.swap(0, Ordering::SeqCst));
        if rescan & ParamRescanFlags::INFO.bits() != 0 || rescan & ParamRescanFlags::ALL.bits() != 0
        {
            let _ = self.rescan_params();
        }
    }
}

impl Drop for ClapHost {
    fn drop(&mut self) {
        // Stop and deactivate on the main thread before the instance is destroyed; clack would
        // otherwise leak an instance whose processor is still alive. An editor still open is
        // destroyed first, as a host closing a project would.
        self.gui_destroy();
        let _ = self.deactivate();
    }
}
