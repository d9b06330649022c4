//! The plugin's editor (`clap.gui`), driven from the main thread.

use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, PluginGui, Window as GuiWindow,
};
use std::ffi::CString;
use std::thread;
use std::time::{Duration, Instant};

use super::ClapHost;
use crate::error::{HostError, Result};
use crate::handlers::{lock, GuiRequest};

impl ClapHost {
    /// Answers the plugin's main-thread requests for `duration`, polling every 2 ms, as a host's
    /// idle main loop would (an open editor asks for `on_main_thread` to run its host callbacks).
    pub fn pump_main_thread(&mut self, duration: Duration) {
        let end = Instant::now() + duration;
        loop {
            self.service_main_thread();
            let now = Instant::now();
            if now >= end {
                break;
            }
            thread::sleep((end - now).min(Duration::from_millis(2)));
        }
    }

    fn gui_ext(&self) -> Result<PluginGui> {
        self.exts
            .gui
            .ok_or(HostError::MissingExtension { extension: "gui" })
    }

    /// Whether the plugin offers the `gui` extension.
    pub fn has_gui(&self) -> bool {
        self.exts.gui.is_some()
    }

    /// `clap_plugin_gui.is_api_supported` (`api`: `"x11"`, `"win32"`, `"cocoa"`, `"wayland"`).
    pub fn gui_is_api_supported(&mut self, api: &str, floating: bool) -> bool {
        let (Ok(gui), Ok(api)) = (self.gui_ext(), CString::new(api)) else {
            return false;
        };
        let handle = self.instance.plugin_handle();
        gui.is_api_supported(
            &handle,
            GuiConfiguration {
                api_type: GuiApiType(&api),
                is_floating: floating,
            },
        )
    }

    /// `clap_plugin_gui.get_preferred_api`: `(api, is_floating)`.
    pub fn gui_preferred_api(&mut self) -> Option<(String, bool)> {
        let gui = self.gui_ext().ok()?;
        let handle = self.instance.plugin_handle();
        gui.get_preferred_api(&handle)
            .map(|c| (c.api_type.0.to_string_lossy().into_owned(), c.is_floating))
    }

    /// `clap_plugin_gui.create`. Undo with [`Self::gui_destroy`] (also done on drop).
    pub fn gui_create(&mut self, api: &str, floating: bool) -> Result<()> {
        if self.gui_created {
            return Err(HostError::GuiAlreadyCreated);
        }
        let gui = self.gui_ext()?;
        let api_c = CString::new(api).map_err(|_| HostError::TextHasNul {
            text: api.to_owned(),
        })?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.create(
                &handle,
                GuiConfiguration {
                    api_type: GuiApiType(&api_c),
                    is_floating: floating,
                },
            )
        };
        self.service_main_thread();
        result.map_err(|e| gui_failed(format!("gui.create({api:?}, floating: {floating})"), e))?;
        self.gui_created = true;
        Ok(())
    }

    /// `clap_plugin_gui.set_scale`. `Ok(false)` if the plugin declined (e.g. it asks the OS).
    pub fn gui_set_scale(&mut self, scale: f64) -> Result<bool> {
        let gui = self.gui_ext()?;
        let ok = {
            let handle = self.instance.plugin_handle();
            gui.set_scale(&handle, scale).is_ok()
        };
        self.service_main_thread();
        Ok(ok)
    }

    /// `clap_plugin_gui.get_size`: the editor's size in the API's units (X11: physical pixels).
    pub fn gui_size(&mut self) -> Result<(u32, u32)> {
        let gui = self.gui_ext()?;
        let handle = self.instance.plugin_handle();
        gui.get_size(&handle)
            .map(|s| (s.width, s.height))
            .ok_or(HostError::GuiSizeUnavailable)
    }

    /// `clap_plugin_gui.can_resize`.
    pub fn gui_can_resize(&mut self) -> bool {
        let Ok(gui) = self.gui_ext() else {
            return false;
        };
        let handle = self.instance.plugin_handle();
        gui.can_resize(&handle)
    }

    /// `clap_plugin_gui.set_size`.
    pub fn gui_set_size(&mut self, width: u32, height: u32) -> Result<()> {
        let gui = self.gui_ext()?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.set_size(&handle, GuiSize { width, height })
        };
        self.service_main_thread();
        result.map_err(|e| gui_failed(format!("gui.set_size({width}, {height})"), e))
    }

    /// `clap_plugin_gui.set_parent` with an X11 window id (embedded GUI).
    ///
    /// # Safety
    ///
    /// `window` must be a window on the X display the plugin connects to (`DISPLAY`) and must
    /// stay alive until [`Self::gui_destroy`] (or the drop of this host) has run.
    pub unsafe fn gui_set_parent_x11(&mut self, window: u64) -> Result<()> {
        let gui = self.gui_ext()?;
        let parent = GuiWindow::from_x11_handle(window as std::ffi::c_ulong);
        let result = {
            let handle = self.instance.plugin_handle();
            // SAFETY: the caller guarantees the window outlives the plugin's GUI.
            unsafe { gui.set_parent(&handle, parent) }
        };
        self.service_main_thread();
        result.map_err(|e| gui_failed(format!("gui.set_parent(x11 window {window:#x})"), e))
    }

    /// `clap_plugin_gui.show`.
    pub fn gui_show(&mut self) -> Result<()> {
        let gui = self.gui_ext()?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.show(&handle)
        };
        self.service_main_thread();
        result.map_err(|e| gui_failed("gui.show".into(), e))
    }

    /// `clap_plugin_gui.hide`.
    pub fn gui_hide(&mut self) -> Result<()> {
        let gui = self.gui_ext()?;
        let result = {
            let handle = self.instance.plugin_handle();
            gui.hide(&handle)
        };
        self.service_main_thread();
        result.map_err(|e| gui_failed("gui.hide".into(), e))
    }

    /// `clap_plugin_gui.destroy`, if the GUI is created (no-op otherwise).
    pub fn gui_destroy(&mut self) {
        if !self.gui_created {
            return;
        }
        self.gui_created = false;
        if let Ok(gui) = self.gui_ext() {
            let handle = self.instance.plugin_handle();
            gui.destroy(&handle);
        }
        self.service_main_thread();
    }

    /// Whether the GUI is created (between [`Self::gui_create`] and [`Self::gui_destroy`]).
    pub fn gui_is_created(&self) -> bool {
        self.gui_created
    }

    /// Everything the plugin asked through `clap_host_gui` so far, in order.
    pub fn gui_requests(&self) -> Vec<GuiRequest> {
        self.shared(|s| lock(&s.gui_requests).clone())
    }
}

fn gui_failed(call: String, error: impl std::fmt::Display) -> HostError {
    HostError::GuiCallFailed {
        call,
        reason: error.to_string(),
    }
}
