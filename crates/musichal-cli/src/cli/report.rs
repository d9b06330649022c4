//! The demo report: one self-contained HTML file with inline SVG: the EQ morph's curves, the
//! input's gesture-token histograms, and a piano roll of the input against the answer.

use anyhow::Result;
use musichal::corpus::CorpusModel;
use musichal::dsp::Eq5;
use musichal::engine::EMBEDDED_CORPUS;
use musichal::eq_morph::EqMorphModel;
use musichal::perception::decode_file;
use std::fmt::Write as _;
use std::path::Path;

const W: f64 = 860.0;

/// Everything the report shows.
pub struct ReportInput<'a> {
    pub input: &'a Path,
    pub corpus: Option<&'a Path>,
    pub term_a: &'a str,
    pub term_b: &'a str,
    /// (sample, channel, key, velocity or None for off) at `rate`.
    pub notes: &'a [(u64, u8, u8, Option<f64>)],
    pub rate: u32,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn eq_curves(term_a: &str, term_b: &str) -> Result<String> {
    let mut model = EqMorphModel::embedded()?;
    let freqs: Vec<f32> = (0..200)
        .map(|i| 20.0 * 1000f32.powf(i as f32 / 199.0))
        .collect();
    let (h, range) = (260.0, 12.0);
    let x = |f: f32| 50.0 + (W - 70.0) * ((f / 20.0).log10() / 3.0) as f64;
    let y =
        |db: f32| 20.0 + (h - 40.0) * (0.5 - db.clamp(-range, range) as f64 / (2.0 * range as f64));
    let mut svg = format!(r#"<svg width="{W}" height="{h}" style="background:#181c24">"#);
    for db in [-12.0f32, -6.0, 0.0, 6.0, 12.0] {
        let (y0, x1, ty) = (y(db), W - 20.0, y(db) + 4.0);
        let _ = write!(
            svg,
            r##"<line x1="50" x2="{x1}" y1="{y0}" y2="{y0}" stroke="#3a3f4a"/><text x="8" y="{ty}" fill="#999" font-size="11">{db:+} dB</text>"##,
        );
    }
    for (f, label) in [(100.0, "100 Hz"), (1000.0, "1 kHz"), (10000.0, "10 kHz")] {
        let (x0, y1, tx, ty) = (x(f), h - 20.0, x(f) + 3.0, h - 6.0);
        let _ = write!(
            svg,
            r##"<line x1="{x0}" x2="{x0}" y1="20" y2="{y1}" stroke="#3a3f4a"/><text x="{tx}" y="{ty}" fill="#999" font-size="11">{label}</text>"##,
        );
    }
    let mut db = vec![0.0f32; freqs.len()];
    for (i, morph) in [0.0f32, 0.25, 0.5, 0.75, 1.0].into_iter().enumerate() {
        let p = model.decode(term_a, term_b, morph, 1.0)?;
        Eq5::magnitude_response_db(&p, 48_000.0, &freqs, &mut db);
        let pts: Vec<String> = freqs
            .iter()
            .zip(&db)
            .map(|(f, d)| format!("{:.1},{:.1}", x(*f), y(*d)))
            .collect();
        // Warm (A) in orange through to bright (B) in cyan.
        let t = i as f64 / 4.0;
        let colour = format!(
            "rgb({},{},{})",
            (240.0 - 140.0 * t) as u8,
            (150.0 + 70.0 * t) as u8,
            (60.0 + 170.0 * t) as u8
        );
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}" fill="{colour}" font-size="12">morph {morph:.2}</text>"#,
            pts.join(" "),
            W - 110.0,
            30.0 + 16.0 * i as f64
        );
    }
    svg.push_str("</svg>");
    Ok(svg)
}

struct Listening {
    hist: [Vec<u64>; 2],
    /// (time s, pitches) of every input frame with pitches.
    pitches: Vec<(f64, Vec<u8>)>,
    duration_s: f64,
}

fn listen(input: &Path, corpus: Option<&Path>) -> Result<Listening> {
    let model = match corpus {
        Some(p) => CorpusModel::load(p)?,
        None => CorpusModel::from_bytes(EMBEDDED_CORPUS)?,
    };
    let mut perception = model.encoder_config()?.build()?;
    let vocab = model.vocabulary();
    let audio = decode_file(input)?;
    let segments = perception
        .encode_file_segments(&audio.samples, audio.sample_rate_hz)
        .map_err(|source| super::files::FileError::Audio {
            path: input.to_owned(),
            error: source,
        })?;
    let k = model.vocab_size as usize;
    let mut hist = [vec![0u64; k], vec![0u64; k]];
    let mut pitches = Vec::new();
    let fps = perception.frames_per_s();
    for seg in &segments {
        let t = vocab.tokens(seg)?;
        for (i, p) in seg.payload.iter().enumerate() {
            hist[0][t.harmonic[i] as usize] += 1;
            hist[1][t.percussive[i] as usize] += 1;
            if !p.pitches.is_empty() {
                let time = (seg.first_frame_idx + i as u64) as f64 / fps;
                pitches.push((time, p.pitches().to_vec()));
            }
        }
    }
    Ok(Listening {
        hist,
        pitches,
        duration_s: audio.samples.len() as f64 / audio.sample_rate_hz as f64,
    })
}

fn entropy(h: &[u64]) -> f64 {
    musichal::perception::entropy_bits(h.iter().copied())
}

fn histogram_svg(h: &[u64], colour: &str) -> String {
    let (w, ht) = (W / 2.0 - 20.0, 120.0);
    let max = h.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = w / h.len().max(1) as f64;
    let mut svg = format!(r#"<svg width="{w}" height="{ht}" style="background:#181c24">"#);
    for (i, &c) in h.iter().enumerate() {
        let bh = (ht - 6.0) * c as f64 / max;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{colour}"/>"#,
            i as f64 * bw,
            ht - bh,
            (bw - 1.0).max(1.0)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn piano_roll(listening: &Listening, notes: &[(u64, u8, u8, Option<f64>)], rate: u32) -> String {
    let mut answer: Vec<(f64, f64, u8)> = Vec::new();
    let mut open: Vec<(u8, u8, f64)> = Vec::new();
    for &(t, c, k, v) in notes {
        let ts = t as f64 / rate as f64;
        if v.is_some() {
            open.push((c, k, ts));
        } else if let Some(i) = open.iter().position(|o| o.0 == c && o.1 == k) {
            let (_, _, start) = open.swap_remove(i);
            answer.push((start, ts, k));
        }
    }
    let all: Vec<u8> = listening
        .pitches
        .iter()
        .flat_map(|(_, p)| p.iter().copied())
        .chain(answer.iter().map(|a| a.2))
        .collect();
    let lo = all.iter().copied().min().unwrap_or(36).saturating_sub(2);
    let hi = all
        .iter()
        .copied()
        .max()
        .unwrap_or(96)
        .saturating_add(2)
        .max(lo + 12);
    let dur = answer
        .iter()
        .map(|a| a.1)
        .fold(listening.duration_s, f64::max)
        .max(0.1);
    let (h, row) = (360.0, 360.0 / (hi - lo) as f64);
    let x = |t: f64| 40.0 + (W - 50.0) * t / dur;
    let y = |k: u8| h - (k - lo) as f64 * row - row;
    let mut svg = format!(
        r#"<svg width="{W}" height="{}" style="background:#181c24">"#,
        h + 20.0
    );
    for k in lo..hi {
        if k % 12 == 0 {
            let (x1, y0, octave) = (W - 10.0, y(k) + row, k as i32 / 12 - 1);
            let _ = write!(
                svg,
                r##"<line x1="40" x2="{x1}" y1="{y0:.1}" y2="{y0:.1}" stroke="#3a3f4a"/><text x="2" y="{y0:.1}" fill="#999" font-size="10">C{octave}</text>"##,
            );
        }
    }
    let frame_w = (x(1.0 / 75.0) - x(0.0)).max(1.0);
    for (t, ps) in &listening.pitches {
        for &k in ps {
            let _ = write!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="{frame_w:.1}" height="{:.1}" fill="#e6a03c" opacity="0.6"/>"##,
                x(*t),
                y(k),
                row.max(1.0)
            );
        }
    }
    for &(s, e, k) in &answer {
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#69ddbe" stroke="#0e3d33"/>"##,
            x(s),
            y(k),
            (x(e) - x(s)).max(1.0),
            row.max(1.0)
        );
    }
    let mut t = 0.0;
    while t <= dur {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" fill="#999" font-size="10">{t:.0} s</text>"##,
            x(t),
            h + 14.0
        );
        t += 1.0_f64.max((dur / 10.0).ceil());
    }
    svg.push_str("</svg>");
    svg
}

/// Writes the report to `out`.
pub fn write_report(r: &ReportInput, out: &Path) -> Result<()> {
    let eq = match eq_curves(r.term_a, r.term_b) {
        Ok(svg) => svg,
        Err(e) => format!("<p>EQ curves unavailable: {}</p>", esc(&format!("{e:#}"))),
    };
    let listening = listen(r.input, r.corpus)?;
    let ons = r.notes.iter().filter(|n| n.3.is_some()).count();
    let first = r
        .notes
        .iter()
        .find(|n| n.3.is_some())
        .map(|n| n.0 as f64 / r.rate as f64);
    let mut html = String::from(
        "<!doctype html><meta charset=\"utf-8\"><title>MusicHal demo</title>\
         <body style=\"background:#20242c;color:#ddd;font-family:sans-serif;max-width:900px;margin:auto\">",
    );
    let _ = write!(
        html,
        "<h1>MusicHal demo</h1><p>Input <code>{}</code> ({:.1} s) through the built plugin on the \
         embedded defaults: {} notes answered{}.</p>",
        esc(&r.input.display().to_string()),
        listening.duration_s,
        ons,
        first
            .map(|t| format!(", the first at {t:.2} s"))
            .unwrap_or_default()
    );
    let _ = write!(
        html,
        "<h2>Semantic EQ: {} &rarr; {}</h2><p>Decoded response at intensity 1 for five morph \
         values.</p>{eq}",
        esc(r.term_a),
        esc(r.term_b)
    );
    let _ = write!(
        html,
        "<h2>What it heard: gesture tokens</h2><div style=\"display:flex;gap:20px\"><div><p>harmonic: \
         {} of {} tokens, {:.2} bits</p>{}</div><div><p>percussive: {} of {} tokens, {:.2} bits</p>{}</div></div>",
        listening.hist[0].iter().filter(|&&c| c > 0).count(),
        listening.hist[0].len(),
        entropy(&listening.hist[0]),
        histogram_svg(&listening.hist[0], "#69ddbe"),
        listening.hist[1].iter().filter(|&&c| c > 0).count(),
        listening.hist[1].len(),
        entropy(&listening.hist[1]),
        histogram_svg(&listening.hist[1], "#e6a03c"),
    );
    let _ = write!(
        html,
        "<h2>Input pitches (orange) and the answer (green)</h2>{}</body>",
        piano_roll(&listening, r.notes, r.rate)
    );
    std::fs::write(out, html).map_err(super::files::write_error(out))?;
    Ok(())
}
