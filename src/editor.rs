//! The egui editor. Reads parameters and telemetry; writes only through `ParamSetter`.

use crate::params::MusicHalParams;
use crate::telemetry::Telemetry;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;

use nice_plug_egui::{
    create_egui_editor, widgets, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp,
    RepaintNotifier,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Initial window size, logical pixels.
pub const EDITOR_WIDTH: f32 = 720.0;
pub const EDITOR_HEIGHT: f32 = 480.0;

/// Window size and open flag, shared with the plugin (which checks `is_open()` before computing
/// GUI-only data).
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(EDITOR_WIDTH, EDITOR_HEIGHT), 1.0)
}

pub fn create(
    params: Arc<MusicHalParams>,
    telemetry: Arc<Telemetry>,
    state: Arc<EguiEditorState>,
) -> Option<EguiEditor<MusicHalEditor>> {
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new().with_tile("MusicHal"),
        MusicHalEditor {
            params,
            telemetry,
            gui_context: None,
        },
    )
}

pub struct MusicHalEditor {
    params: Arc<MusicHalParams>,
    telemetry: Arc<Telemetry>,
    /// Handed over by nice-plug in `build`; dropped when the window closes.
    gui_context: Option<GuiContext>,
}

impl NiceEguiApp for MusicHalEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(nice_gui_ctx);
        Ok(())
    }

    fn editor_closed(&mut self) {
        self.gui_context = None;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui_context) = self.gui_context.clone() else {
            return;
        };
        let setter = gui_context.param_setter();
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(50));
        ui.heading("MusicHal");
        ui.label("Listens, answers in MIDI, colours the sound with words.");
        ui.separator();
        ui.label("Output gain");
        ui.add(widgets::ParamSlider::for_param(&self.params.output_gain, &setter));
        let mut bypass = self.params.eq_bypass.value();
        if ui.checkbox(&mut bypass, "EQ bypass").changed() {
            setter.begin_set_parameter(&self.params.eq_bypass);
            setter.set_parameter(&self.params.eq_bypass, bypass);
            setter.end_set_parameter(&self.params.eq_bypass);
        }
        ui.separator();
        let rate = self.telemetry.sample_rate_hz.load(Ordering::Relaxed);
        let bad = self.telemetry.bad_input_blocks.load(Ordering::Relaxed);
        ui.label(if rate > 0 {
            format!("Active at {rate} Hz")
        } else {
            "Inactive".to_owned()
        });
        if bad > 0 {
            ui.colored_label(
                egui::Color32::from_rgb(230, 160, 60),
                format!("{bad} blocks had NaN/Inf input and were silenced"),
            );
        }
    }
}
