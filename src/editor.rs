//! The egui editor. Reads parameters, telemetry and worker status; writes only through
//! `ParamSetter`.

use crate::dsp::{Eq5, EqParams};
use crate::params::MusicHalParams;
use crate::telemetry::Telemetry;
use crate::worker::WorkerShared;
use egui::{Color32, Pos2, Stroke, Vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug_egui::{
    create_egui_editor, widgets, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp,
    RepaintNotifier,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Initial window size, logical pixels.
pub const EDITOR_WIDTH: f32 = 960.0;
pub const EDITOR_HEIGHT: f32 = 745.0;
/// Width of the parameter sliders, logical pixels.
const SLIDER_WIDTH: f32 = 170.0;
/// Points on the drawn EQ curve.
const CURVE_POINTS: usize = 256;
/// Vertical range of the curve plot, ±dB.
const PLOT_RANGE_DB: f32 = 15.0;

/// Window size and open flag, shared with the plugin (which checks `is_open()` before computing
/// GUI-only data).
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(EDITOR_WIDTH, EDITOR_HEIGHT), 1.0)
}

pub fn create(
    params: Arc<MusicHalParams>,
    telemetry: Arc<Telemetry>,
    worker: Arc<WorkerShared>,
    state: Arc<EguiEditorState>,
) -> Option<EguiEditor<MusicHalEditor>> {
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new().with_tile("MusicHal"),
        MusicHalEditor {
            params,
            telemetry,
            worker,
            gui_context: None,
            curve_freqs: log_grid(CURVE_POINTS),
            curve_db: vec![0.0; CURVE_POINTS],
            model_path_text: String::new(),
            corpus_path_text: String::new(),
        },
    )
}

/// `n` log-spaced frequencies from 20 Hz to 20 kHz.
fn log_grid(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 20.0 * 1000f32.powf(i as f32 / (n - 1) as f32))
        .collect()
}

pub struct MusicHalEditor {
    params: Arc<MusicHalParams>,
    telemetry: Arc<Telemetry>,
    worker: Arc<WorkerShared>,
    /// Handed over by nice-plug in `build`; dropped when the window closes.
    gui_context: Option<GuiContext>,
    curve_freqs: Vec<f32>,
    curve_db: Vec<f32>,
    /// Text of the user EQ model path field.
    model_path_text: String,
    /// Text of the corpus path field.
    corpus_path_text: String,
}

/// A labelled slider for any parameter.
fn param_row<P: nice_plug::prelude::Param>(
    ui: &mut egui::Ui,
    label: &str,
    param: &P,
    setter: &nice_plug::context::gui::ParamSetter,
) {
    param_row_width(ui, label, param, setter, SLIDER_WIDTH);
}

/// [`param_row`] with a slider `width` wide (the narrower timing columns).
fn param_row_width<P: nice_plug::prelude::Param>(
    ui: &mut egui::Ui,
    label: &str,
    param: &P,
    setter: &nice_plug::context::gui::ParamSetter,
    width: f32,
) {
    ui.label(label);
    ui.add(widgets::ParamSlider::for_param(param, setter).with_width(width));
    ui.add_space(2.0);
}

/// A button that flips a bool parameter, showing `on` / `off` text.
fn toggle(
    ui: &mut egui::Ui,
    param: &nice_plug::prelude::BoolParam,
    setter: &nice_plug::context::gui::ParamSetter,
    on: &str,
    off: &str,
) {
    let value = param.value();
    if ui
        .add(egui::Button::new(if value { on } else { off }).selected(value))
        .clicked()
    {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, !value);
        setter.end_set_parameter(param);
    }
}

/// A token histogram as bars, `width` x `height`, with its entropy.
fn histogram(ui: &mut egui::Ui, title: &str, hist: &[u64], current: &[u16], colour: Color32) {
    let entropy = crate::perception::entropy_bits(hist.iter().copied()).max(0.0);
    let active = hist.iter().filter(|&&c| c > 0).count();
    ui.label(format!(
        "{title}: {active}/{} tokens active, {entropy:.2} bits",
        hist.len()
    ));
    let (rect, _) = ui.allocate_exact_size(Vec2::new(300.0, 40.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_rgb(24, 28, 36));
    let max = hist.iter().copied().max().unwrap_or(0).max(1) as f32;
    let n = hist.len().max(1) as f32;
    let w = rect.width() / n;
    for (i, &c) in hist.iter().enumerate() {
        let h = (rect.height() - 4.0) * c as f32 / max;
        let x = rect.left() + i as f32 * w;
        let lit = current.contains(&(i as u16));
        painter.rect_filled(
            egui::Rect::from_min_max(
                Pos2::new(x, rect.bottom() - h),
                Pos2::new(x + (w - 1.0).max(1.0), rect.bottom()),
            ),
            0.0,
            if lit { Color32::WHITE } else { colour },
        );
    }
}

impl NiceEguiApp for MusicHalEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(nice_gui_ctx);
        self.model_path_text = self.params.eq_model_path.read().clone().unwrap_or_default();
        self.corpus_path_text = self.params.corpus_path.read().clone().unwrap_or_default();
        Ok(())
    }

    fn editor_closed(&mut self) {
        self.gui_context = None;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui_context) = self.gui_context.clone() else {
            return;
        };
        let setter = &gui_context.param_setter();
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(33));
        egui::Frame::new()
            .fill(Color32::from_rgb(32, 36, 44))
            .inner_margin(egui::Margin::same(14))
            .show(ui, |ui| {
                ui.set_min_size(ui.available_size());
                ui.horizontal(|ui| {
                    ui.heading("MusicHal");
                    ui.label("listens, answers in MIDI, colours the sound with words");
                });
                ui.add_space(6.0);
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        ui.set_width(SLIDER_WIDTH + 40.0);
                        ui.strong("Colour");
                        param_row(ui, "Term A", &self.params.term_a, setter);
                        param_row(ui, "Morph  A <-> B", &self.params.morph, setter);
                        param_row(ui, "Term B", &self.params.term_b, setter);
                        param_row(ui, "Intensity", &self.params.intensity, setter);
                        param_row(ui, "Output gain", &self.params.output_gain, setter);
                        ui.add_space(4.0);
                        let p = &self.params.eq_bypass;
                        toggle(
                            ui,
                            p,
                            setter,
                            "EQ bypassed: click to engage",
                            "EQ engaged: click to bypass",
                        );
                        toggle(
                            ui,
                            &self.params.auto_gain,
                            setter,
                            "Auto gain on (level-matched)",
                            "Auto gain off",
                        );
                    });
                    ui.vertical(|ui| {
                        ui.set_width(400.0);
                        self.draw_curve(ui);
                        ui.add_space(6.0);
                        ui.strong("Timing and key");
                        ui.horizontal_top(|ui| {
                            ui.vertical(|ui| {
                                ui.set_width(195.0);
                                let p = &self.params;
                                param_row_width(ui, "Answer mode", &p.answer_mode, setter, 105.0);
                                param_row_width(ui, "Grid (beat mode)", &p.grid, setter, 105.0);
                                param_row_width(ui, "Swing", &p.swing, setter, 105.0);
                                toggle(
                                    ui,
                                    &p.onset_reaction,
                                    setter,
                                    "Onset reaction on",
                                    "Onset reaction off",
                                );
                                toggle(
                                    ui,
                                    &p.follow_changes,
                                    setter,
                                    "Follow changes on",
                                    "Follow changes off",
                                );
                            });
                            ui.vertical(|ui| {
                                ui.set_width(195.0);
                                let p = &self.params;
                                param_row_width(ui, "Tempo without host", &p.tempo, setter, 105.0);
                                param_row_width(
                                    ui,
                                    "Key search",
                                    &p.transpose_search,
                                    setter,
                                    105.0,
                                );
                                param_row_width(ui, "Novelty", &p.novelty, setter, 105.0);
                                toggle(
                                    ui,
                                    &p.novelty_dial,
                                    setter,
                                    "Novelty dial sets continuity",
                                    "Novelty dial off",
                                );
                            });
                        });
                    });
                    ui.vertical(|ui| {
                        ui.set_width(SLIDER_WIDTH + 40.0);
                        ui.strong("Answer");
                        toggle(
                            ui,
                            &self.params.listen,
                            setter,
                            "Listening: click to stop",
                            "Not answering: click to listen",
                        );
                        param_row(ui, "Density", &self.params.density, setter);
                        param_row(ui, "Continuity", &self.params.continuity, setter);
                        param_row(ui, "Drive", &self.params.drive, setter);
                        param_row(ui, "MIDI channel", &self.params.midi_channel, setter);
                        param_row(ui, "Transpose", &self.params.transpose, setter);
                        param_row(ui, "Note length", &self.params.note_length, setter);
                        param_row(ui, "Velocity", &self.params.velocity, setter);
                        param_row(ui, "Taboo", &self.params.taboo, setter);
                        toggle(
                            ui,
                            &self.params.live_learning,
                            setter,
                            "Live learning on",
                            "Live learning off",
                        );
                    });
                });
                ui.separator();
                let status = self.worker.engine.status.lock().clone();
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        ui.set_width(430.0);
                        ui.strong("Corpus");
                        ui.label(format!(
                            "{}: {} frames, {} oracle states",
                            status.corpus_name, status.corpus_frames, status.oracle_states
                        ));
                        if !status.corpus_message.is_empty() {
                            ui.colored_label(
                                Color32::from_rgb(230, 160, 60),
                                &status.corpus_message,
                            );
                        }
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut self.corpus_path_text)
                                    .hint_text("path to a .mhc corpus (musichal train)")
                                    .desired_width(250.0),
                            );
                            if ui.button("Load").clicked() {
                                let path = self.corpus_path_text.trim();
                                let path = (!path.is_empty()).then(|| path.to_owned());
                                // Persisted in the host's project; the worker follows it.
                                *self.params.corpus_path.write() = path.clone();
                                self.worker.engine.set_corpus_path(path.map(Into::into));
                            }
                            if ui.button("Embedded").clicked() {
                                self.corpus_path_text.clear();
                                *self.params.corpus_path.write() = None;
                                self.worker.engine.set_corpus_path(None);
                            }
                        });
                        ui.add_space(4.0);
                        ui.strong("EQ model");
                        ui.label(self.worker.eq.status.lock().clone());
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut self.model_path_text)
                                    .hint_text("embedded (or model.onnx, its .json beside it)")
                                    .desired_width(250.0),
                            );
                            if ui.button("Load").clicked() {
                                let path = self.model_path_text.trim();
                                let path = (!path.is_empty()).then(|| path.to_owned());
                                *self.params.eq_model_path.write() = path.clone();
                                self.worker.eq.set_model_path(path.map(Into::into));
                            }
                            if ui.button("Embedded").clicked() {
                                self.model_path_text.clear();
                                *self.params.eq_model_path.write() = None;
                                self.worker.eq.set_model_path(None);
                            }
                        });
                    });
                    ui.vertical(|ui| {
                        ui.strong("Listening");
                        histogram(
                            ui,
                            "harmonic",
                            &status.harmonic_hist,
                            &status.harmonic,
                            Color32::from_rgb(105, 221, 190),
                        );
                        histogram(
                            ui,
                            "percussive",
                            &status.percussive_hist,
                            &status.percussive,
                            Color32::from_rgb(230, 160, 60),
                        );
                        ui.label(format!(
                            "input peak {:.0} dB, answer moved {:+} st by the key search",
                            status.peak_db.max(-120.0),
                            status.interval
                        ));
                    });
                });
                ui.separator();
                let rate = self.telemetry.sample_rate_hz.load(Ordering::Relaxed);
                let c = &self.worker.engine.counters;
                ui.horizontal(|ui| {
                    ui.label(if rate > 0 {
                        format!("Active at {rate} Hz")
                    } else {
                        "Inactive".to_owned()
                    });
                    ui.separator();
                    ui.label(format!(
                        "MIDI: {} notes out",
                        self.telemetry.notes_out.load(Ordering::Relaxed)
                    ));
                    ui.separator();
                    ui.label(format!(
                        "answer delay {:.0} ms ({} early)",
                        c.answer_delay_us.load(Ordering::Relaxed) as f64 / 1000.0,
                        c.early_answers.load(Ordering::Relaxed),
                    ))
                    .on_hover_text(
                        "measured on the latest answer after silence: from its onset (early answer) or the \
                         start of the segment it answers, to its first note",
                    );
                    ui.separator();
                    ui.label(format!(
                        "worker {:.1} ms per segment (worst {:.1}), {} late, {} segments dropped",
                        c.last_latency_us.load(Ordering::Relaxed) as f64 / 1000.0,
                        c.max_latency_us.load(Ordering::Relaxed) as f64 / 1000.0,
                        c.deadline_misses.load(Ordering::Relaxed),
                        c.segments_dropped.load(Ordering::Relaxed),
                    ));
                });
                let bad = self.telemetry.bad_input_blocks.load(Ordering::Relaxed);
                if bad > 0 {
                    ui.colored_label(
                        Color32::from_rgb(230, 160, 60),
                        format!("{bad} blocks had NaN/Inf input and were silenced"),
                    );
                }
            });
    }
}

impl MusicHalEditor {
    /// The response of the EQ as currently applied, log frequency axis, with the five bands
    /// marked.
    fn draw_curve(&mut self, ui: &mut egui::Ui) {
        let size = Vec2::new(ui.available_width().max(300.0), 310.0);
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, Color32::from_rgb(24, 28, 36));
        let rate = self
            .telemetry
            .sample_rate_hz
            .load(Ordering::Relaxed)
            .max(44_100) as f32;
        let bypassed = self.params.eq_bypass.value();
        let params = if bypassed {
            EqParams::FLAT
        } else {
            self.telemetry.eq()
        };
        let params = if params.to_array().iter().all(|v| *v == 0.0) {
            EqParams::FLAT
        } else {
            params
        };
        Eq5::magnitude_response_db(&params, rate, &self.curve_freqs, &mut self.curve_db);
        let x_of = |f: f32| rect.left() + rect.width() * (f / 20.0).log10() / 3.0;
        let y_of =
            |db: f32| rect.center().y - rect.height() * 0.5 * (db / PLOT_RANGE_DB).clamp(-1.0, 1.0);
        let grid = Stroke::new(1.0, Color32::from_gray(60));
        let label_font = egui::FontId::proportional(11.0);
        let label_colour = Color32::from_gray(150);
        for (f, text) in [(100.0, "100 Hz"), (1000.0, "1 kHz"), (10000.0, "10 kHz")] {
            painter.line_segment(
                [
                    Pos2::new(x_of(f), rect.top()),
                    Pos2::new(x_of(f), rect.bottom()),
                ],
                grid,
            );
            painter.text(
                Pos2::new(x_of(f) + 3.0, rect.bottom() - 3.0),
                egui::Align2::LEFT_BOTTOM,
                text,
                label_font.clone(),
                label_colour,
            );
        }
        for db in [-12.0f32, -6.0, 0.0, 6.0, 12.0] {
            painter.line_segment(
                [
                    Pos2::new(rect.left(), y_of(db)),
                    Pos2::new(rect.right(), y_of(db)),
                ],
                grid,
            );
            painter.text(
                Pos2::new(rect.left() + 3.0, y_of(db) - 1.0),
                egui::Align2::LEFT_BOTTOM,
                format!("{db:+.0} dB"),
                label_font.clone(),
                label_colour,
            );
        }
        let points: Vec<Pos2> = self
            .curve_freqs
            .iter()
            .zip(&self.curve_db)
            .map(|(f, db)| Pos2::new(x_of(*f), y_of(*db)))
            .collect();
        let colour = if bypassed {
            Color32::from_gray(120)
        } else {
            Color32::from_rgb(105, 221, 190)
        };
        painter.add(egui::Shape::line(points, Stroke::new(2.0, colour)));
        // Band markers sit on the drawn curve at each band's frequency (the cascade's level
        // there, not the band's own gain, which would float off the line where bands overlap).
        let a = params.to_array();
        let band_freqs = [a[1], a[3], a[6], a[9], a[12]];
        let mut band_db = [0.0f32; 5];
        Eq5::magnitude_response_db(&params, rate, &band_freqs, &mut band_db);
        for (f, db) in band_freqs.iter().zip(band_db) {
            painter.circle_filled(Pos2::new(x_of(*f), y_of(db)), 4.5, colour);
            painter.circle_stroke(
                Pos2::new(x_of(*f), y_of(db)),
                4.5,
                Stroke::new(1.0, Color32::from_gray(20)),
            );
        }
    }
}
