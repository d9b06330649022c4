//! Host callbacks: the `clap_host` object and the host extensions the plugin may call.

use clack_extensions::audio_ports::{AudioPortRescanFlags, HostAudioPorts, HostAudioPortsImpl};
use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl};
use clack_extensions::latency::{HostLatency, HostLatencyImpl};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::note_ports::{
    HostNotePorts, HostNotePortsImpl, NoteDialects, NotePortRescanFlags,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamRescanFlags,
};
use clack_extensions::state::{HostState, HostStateImpl};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_host::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread::{self, ThreadId};

static NEXT_HOST_KEY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Key of the [`ClapHost`](crate::ClapHost) whose audio thread this is (0: none). `const` init: reading it
    /// never allocates, so `is_audio_thread()` is safe to call from `process()`.
    pub(crate) static AUDIO_THREAD_OF: Cell<u64> = const { Cell::new(0) };
}

/// One message the plugin sent through the `log` extension.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub severity: String,
    pub message: String,
}

/// Host state shared by all threads (the CLAP `clap_host` object's thread-safe part).
pub struct HostShared {
    pub(crate) key: u64,
    pub(crate) main_thread: ThreadId,
    pub(crate) echo_log: bool,
    pub(crate) callback_requested: AtomicBool,
    pub(crate) flush_requested: AtomicBool,
    pub(crate) restart_requested: AtomicBool,
    pub(crate) process_requested: AtomicBool,
    pub(crate) state_dirty: AtomicBool,
    pub(crate) param_rescan_flags: AtomicU32,
    pub(crate) param_clears: AtomicU32,
    pub(crate) audio_ports_rescans: AtomicU32,
    pub(crate) note_ports_rescans: AtomicU32,
    pub(crate) latency_changes: AtomicU32,
    pub(crate) callbacks_serviced: AtomicU64,
    pub(crate) log: Mutex<Vec<LogEntry>>,
    pub(crate) violations: Mutex<Vec<String>>,
    pub(crate) gui_requests: Mutex<Vec<GuiRequest>>,
}

impl HostShared {
    pub(crate) fn new() -> Self {
        Self {
            key: NEXT_HOST_KEY.fetch_add(1, Ordering::Relaxed),
            main_thread: thread::current().id(),
            echo_log: std::env::var_os("MUSICHAL_HOST_QUIET").is_none(),
            callback_requested: AtomicBool::new(false),
            flush_requested: AtomicBool::new(false),
            restart_requested: AtomicBool::new(false),
            process_requested: AtomicBool::new(false),
            state_dirty: AtomicBool::new(false),
            param_rescan_flags: AtomicU32::new(0),
            param_clears: AtomicU32::new(0),
            audio_ports_rescans: AtomicU32::new(0),
            note_ports_rescans: AtomicU32::new(0),
            latency_changes: AtomicU32::new(0),
            callbacks_serviced: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            gui_requests: Mutex::new(Vec::new()),
        }
    }

    fn on_main_thread(&self) -> bool {
        thread::current().id() == self.main_thread
    }

    fn on_audio_thread(&self) -> bool {
        AUDIO_THREAD_OF.with(|k| k.get()) == self.key
    }

    /// Records a call of a main-thread-only host function from another thread.
    fn require_main_thread(&self, what: &str) {
        if !self.on_main_thread() {
            let name = thread::current().name().unwrap_or("<unnamed>").to_owned();
            lock(&self.violations).push(format!(
                "{what} called on thread {name}, not the main thread"
            ));
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data inconsistent (push only).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<'a> SharedHandler<'a> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }
    fn request_process(&self) {
        self.process_requested.store(true, Ordering::SeqCst);
    }
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        if self.echo_log {
            eprintln!("[plugin log {severity:?}] {message}");
        }
        lock(&self.log).push(LogEntry {
            severity: format!("{severity:?}"),
            message: message.to_owned(),
        });
    }
}

impl HostThreadCheckImpl for HostShared {
    fn is_main_thread(&self) -> bool {
        self.on_main_thread()
    }
    fn is_audio_thread(&self) -> bool {
        self.on_audio_thread()
    }
}

/// What the plugin asked of the host through `clap_host_gui` (see [`ClapHost::gui_requests`](crate::ClapHost::gui_requests)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuiRequest {
    ResizeHintsChanged,
    /// `request_resize(width, height)`; the harness accepts every request (it returns `true`)
    /// and leaves resizing the parent window, if wanted, to the test.
    Resize {
        width: u32,
        height: u32,
    },
    Show,
    Hide,
    Closed {
        was_destroyed: bool,
    },
}

impl HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {
        lock(&self.gui_requests).push(GuiRequest::ResizeHintsChanged);
    }
    fn request_resize(&self, new_size: GuiSize) -> Result<(), clack_host::prelude::HostError> {
        lock(&self.gui_requests).push(GuiRequest::Resize {
            width: new_size.width,
            height: new_size.height,
        });
        Ok(())
    }
    fn request_show(&self) -> Result<(), clack_host::prelude::HostError> {
        lock(&self.gui_requests).push(GuiRequest::Show);
        Ok(())
    }
    fn request_hide(&self) -> Result<(), clack_host::prelude::HostError> {
        lock(&self.gui_requests).push(GuiRequest::Hide);
        Ok(())
    }
    fn closed(&self, was_destroyed: bool) {
        self.require_main_thread("clap_host_gui.closed");
        lock(&self.gui_requests).push(GuiRequest::Closed { was_destroyed });
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// Host state only touched on the main thread.
pub struct HostMain<'a> {
    pub(crate) shared: &'a HostShared,
}

impl<'a> MainThreadHandler<'a> for HostMain<'a> {}

impl HostParamsImplMainThread for HostMain<'_> {
    fn rescan(&self, flags: ParamRescanFlags) {
        self.shared.require_main_thread("clap_host_params.rescan");
        self.shared
            .param_rescan_flags
            .fetch_or(flags.bits(), Ordering::SeqCst);
    }
    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        self.shared.require_main_thread("clap_host_params.clear");
        self.shared.param_clears.fetch_add(1, Ordering::SeqCst);
    }
}

impl HostStateImpl for HostMain<'_> {
    fn mark_dirty(&self) {
        self.shared
            .require_main_thread("clap_host_state.mark_dirty");
        self.shared.state_dirty.store(true, Ordering::SeqCst);
    }
}

impl HostAudioPortsImpl for HostMain<'_> {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        self.shared
            .require_main_thread("clap_host_audio_ports.is_rescan_flag_supported");
        true
    }
    fn rescan(&self, _flags: AudioPortRescanFlags) {
        self.shared
            .require_main_thread("clap_host_audio_ports.rescan");
        self.shared
            .audio_ports_rescans
            .fetch_add(1, Ordering::SeqCst);
    }
}

impl HostNotePortsImpl for HostMain<'_> {
    fn supported_dialects(&self) -> NoteDialects {
        self.shared
            .require_main_thread("clap_host_note_ports.supported_dialects");
        NoteDialects::CLAP | NoteDialects::MIDI
    }
    fn rescan(&self, _flags: NotePortRescanFlags) {
        self.shared
            .require_main_thread("clap_host_note_ports.rescan");
        self.shared
            .note_ports_rescans
            .fetch_add(1, Ordering::SeqCst);
    }
}

impl HostLatencyImpl for HostMain<'_> {
    fn changed(&self) {
        self.shared.require_main_thread("clap_host_latency.changed");
        self.shared.latency_changes.fetch_add(1, Ordering::SeqCst);
    }
}

/// The [`HostHandlers`] of [`ClapHost`](crate::ClapHost).
pub struct ClapHostHandlers;

impl HostHandlers for ClapHostHandlers {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMain<'a>;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostThreadCheck>()
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostAudioPorts>()
            .register::<HostNotePorts>()
            .register::<HostLatency>()
            .register::<HostGui>();
    }
}
