//! Where the answer's quoted notes come from: one [`QuoteMark`] per note the answer quotes,
//! written as a line of text to the file named by [`PROVENANCE_ENV`] when it is set.
//!
//! A MIDI answer carries no provenance, so a figure such as "the mean run of consecutive corpus
//! events the answer quotes" read back from the notes alone has to guess which corpus event a
//! note plays; a single pitch matches many events at one of many intervals, and the guess
//! joins fragments into runs they are not. `musichal evaluate` sets this variable for its own
//! renders and reads the quotes' runs from the marks instead (Free timing: a mark names the
//! sample the note was sent for, which is where a Beat or Bar mode answer is not played).
//!
//! Written on the worker thread only, and only when asked for; a sink that fails is dropped
//! with a warning and the answer goes on.

use std::io::Write;

/// Environment variable naming a file the answer appends a [`QuoteMark`] line to for each
/// quoted note it sends (evaluation only; unset, nothing is recorded).
pub const PROVENANCE_ENV: &str = "MUSICHAL_PROVENANCE";

/// One quoted note of the answer and the corpus note it plays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuoteMark {
    /// Host sample the note was sent to start at (Free timing: where it plays).
    pub start_sample: u64,
    /// The MIDI note sent (transposed).
    pub note: u8,
    /// The corpus recording quoted (its index in the corpus' recordings).
    pub recording: u16,
    /// Where in that recording the quoted note starts, seconds; for a held note the walk
    /// entered where it jumped, the time it entered at.
    pub corpus_time_s: f64,
    /// The corpus note's pitch (before transposition).
    pub corpus_pitch: u8,
}

impl QuoteMark {
    /// The mark as one line: `start_sample note recording corpus_time_s corpus_pitch`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {:.6} {}",
            self.start_sample, self.note, self.recording, self.corpus_time_s, self.corpus_pitch
        )
    }

    /// Reads a line written by [`Self::line`]; `None` for anything else.
    pub fn parse(line: &str) -> Option<Self> {
        let mut f = line.split_ascii_whitespace();
        let mark = Self {
            start_sample: f.next()?.parse().ok()?,
            note: f.next()?.parse().ok()?,
            recording: f.next()?.parse().ok()?,
            corpus_time_s: f.next()?.parse().ok().filter(|t: &f64| t.is_finite())?,
            corpus_pitch: f.next()?.parse().ok()?,
        };
        f.next().is_none().then_some(mark)
    }
}

/// The marks of the answer being made and where they go.
pub struct Provenance {
    /// Marks of the phrases not yet written (an early answer's attempts that are undone
    /// take theirs back).
    pub(crate) marks: Vec<QuoteMark>,
    sink: Box<dyn Write + Send>,
}

impl Provenance {
    pub fn new(sink: Box<dyn Write + Send>) -> Self {
        Self {
            marks: Vec::new(),
            sink,
        }
    }

    /// Writes and forgets the pending marks; an error is returned for the caller to report.
    pub fn write_pending(&mut self) -> std::io::Result<()> {
        if self.marks.is_empty() {
            return Ok(());
        }
        for m in self.marks.drain(..) {
            writeln!(self.sink, "{}", m.line())?;
        }
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_from_its_line_and_nothing_else_reads() {
        let m = QuoteMark {
            start_sample: 123_456,
            note: 67,
            recording: 3,
            corpus_time_s: 12.345678,
            corpus_pitch: 62,
        };
        assert_eq!(QuoteMark::parse(&m.line()), Some(m));
        for bad in [
            "",
            "1 2 3 4",
            "1 2 3 4 5 6",
            "1 2 3 nan 5",
            "1 300 3 4.0 5",
            "x 2 3 4 5",
        ] {
            assert_eq!(QuoteMark::parse(bad), None, "{bad:?}");
        }
    }
}
