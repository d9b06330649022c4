//! Value parsers for the command line's numbers. Every numeric option goes through one of these,
//! so NaN, infinities, negative seeds and out-of-range values are refused by clap with the
//! option's name and the allowed range, e.g.
//! `error: invalid value 'NaN' for '--morph <MORPH>': must be a number from 0 to 1`,
//! before any work starts.
//!
//! Numeric options also set `allow_hyphen_values`, so `--intensity -1` or `--morph -inf` reaches
//! the parser (and is refused as out of range) instead of being read as an unknown flag.

/// Why a command-line number was refused. The text completes clap's
/// "invalid value 'X' for '--option <OPTION>': ".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NumberError {
    #[error("must be a number from {lo} to {hi}")]
    OutsideClosed { lo: f64, hi: f64 },
    #[error("must be a number above {lo} and at most {hi}")]
    OutsideOpenLow { lo: f64, hi: f64 },
    #[error("must be a whole number from {lo} to {hi}")]
    NotWholeInRange { lo: u64, hi: u64 },
    #[error("must be one of {}", list(.allowed))]
    NotOneOf { allowed: &'static [u64] },
    #[error(
        "must be a time signature like 4/4 or 7/8: 1 to {max_beats} beats over a note value of \
         {}",
        list(.note_values)
    )]
    TimeSignature {
        max_beats: u16,
        note_values: &'static [u64],
    },
}

fn list(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finite number (not NaN, not ±inf) in `[lo, hi]`.
pub fn number_in(
    lo: f64,
    hi: f64,
) -> impl Fn(&str) -> Result<f64, NumberError> + Clone + Send + Sync + 'static {
    move |s| match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        _ => Err(NumberError::OutsideClosed { lo, hi }),
    }
}

/// [`number_in`] for `f32` options (the range is checked on the `f64` value, before rounding).
pub fn number_in_f32(
    lo: f32,
    hi: f32,
) -> impl Fn(&str) -> Result<f32, NumberError> + Clone + Send + Sync + 'static {
    let check = number_in(lo.into(), hi.into());
    move |s| check(s).map(|v| v as f32)
}

/// A finite number in `(lo, hi]`: above `lo`, at most `hi` (e.g. a length in seconds).
pub fn number_above_f32(
    lo: f32,
    hi: f32,
) -> impl Fn(&str) -> Result<f32, NumberError> + Clone + Send + Sync + 'static {
    let (lo64, hi64) = (f64::from(lo), f64::from(hi));
    move |s| match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > lo64 && v <= hi64 => Ok(v as f32),
        _ => Err(NumberError::OutsideOpenLow { lo: lo64, hi: hi64 }),
    }
}

/// A whole number in `[lo, hi]` (no sign, no fraction, no exponent).
pub fn whole_in<T>(
    lo: T,
    hi: T,
) -> impl Fn(&str) -> Result<T, NumberError> + Clone + Send + Sync + 'static
where
    T: Copy + Into<u64> + TryFrom<u64> + Send + Sync + 'static,
{
    let (lo, hi) = (lo.into(), hi.into());
    move |s| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .and_then(|v| T::try_from(v).ok())
            .ok_or(NumberError::NotWholeInRange { lo, hi })
    }
}

/// A seed: any whole number from 0 to `u64::MAX`.
pub fn seed(s: &str) -> Result<u64, NumberError> {
    whole_in(0, u64::MAX)(s)
}

/// One of a few whole numbers (e.g. the vocabulary sizes).
pub fn one_of<T>(
    allowed: &'static [u64],
) -> impl Fn(&str) -> Result<T, NumberError> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64> + Send + Sync + 'static,
{
    move |s| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|v| allowed.contains(v))
            .and_then(|v| T::try_from(v).ok())
            .ok_or(NumberError::NotOneOf { allowed })
    }
}

/// Most beats a bar of `--time-sig` may have.
pub const MAX_BEATS_PER_BAR: u16 = 32;
/// Note values `--time-sig` accepts as its denominator.
pub const NOTE_VALUES: &[u64] = &[1, 2, 4, 8, 16, 32];

/// A time signature `N/D`: 1 to [`MAX_BEATS_PER_BAR`] beats of a note value in [`NOTE_VALUES`].
pub fn time_signature(s: &str) -> Result<(u16, u16), NumberError> {
    s.split_once('/')
        .and_then(|(n, d)| Some((n.trim().parse::<u16>().ok()?, d.trim().parse::<u16>().ok()?)))
        .filter(|&(n, d)| (1..=MAX_BEATS_PER_BAR).contains(&n) && NOTE_VALUES.contains(&d.into()))
        .ok_or(NumberError::TimeSignature {
            max_beats: MAX_BEATS_PER_BAR,
            note_values: NOTE_VALUES,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_in_refuses_non_finite_and_out_of_range() {
        let p = number_in(0.0, 1.0);
        for bad in [
            "NaN", "nan", "inf", "-inf", "infinity", "1e400", "-0.01", "1.0001", "x", "",
        ] {
            assert_eq!(
                p(bad),
                Err(NumberError::OutsideClosed { lo: 0.0, hi: 1.0 }),
                "{bad}"
            );
        }
        assert_eq!(p("0"), Ok(0.0));
        assert_eq!(p("1"), Ok(1.0));
        assert_eq!(p(" 0.25 "), Ok(0.25));
        assert_eq!(
            NumberError::OutsideClosed { lo: 0.0, hi: 1.0 }.to_string(),
            "must be a number from 0 to 1"
        );
    }

    #[test]
    fn number_above_excludes_its_low_end() {
        let p = number_above_f32(0.0, 3600.0);
        assert!(p("0").is_err());
        assert!(p("-1").is_err());
        assert!(p("3600.5").is_err());
        assert!(p("NaN").is_err());
        assert_eq!(p("0.5"), Ok(0.5));
        assert_eq!(p("3600"), Ok(3600.0));
    }

    #[test]
    fn whole_numbers_and_sets() {
        let p = whole_in::<u32>(8_000, 192_000);
        assert!(p("7999").is_err());
        assert!(p("48000.5").is_err());
        assert!(p("-48000").is_err());
        assert_eq!(p("48000"), Ok(48_000));
        assert!(seed("-1").is_err());
        assert!(seed("1.5").is_err());
        assert!(seed("18446744073709551616").is_err());
        assert_eq!(seed("18446744073709551615"), Ok(u64::MAX));
        let v = one_of::<u16>(&[16, 64, 256]);
        assert!(v("17").is_err());
        assert!(v("65536").is_err());
        assert_eq!(v("64"), Ok(64));
        assert_eq!(
            v("0").unwrap_err().to_string(),
            "must be one of 16, 64, 256"
        );
    }

    #[test]
    fn time_signatures() {
        assert_eq!(time_signature("7/8"), Ok((7, 8)));
        assert_eq!(time_signature(" 4 / 4 "), Ok((4, 4)));
        for bad in [
            "0/4", "33/4", "4/3", "4/0", "4", "4/4/4", "NaN/4", "-4/4", "4/inf",
        ] {
            assert!(time_signature(bad).is_err(), "{bad}");
        }
    }
}
