//! Audio-thread DSP: the 5-band EQ (low shelf, three peaking bands, high shelf) that the
//! semantic EQ morph drives. Plain Rust, no nice-plug import, testable without a host.
//!
//! - [`params`]: [`EqParams`], the 13 decoded parameters, their ranges and clamping.
//! - [`svf`]: one trapezoidal (Simper/Cytomic) state-variable filter band, its coefficients in
//!   the RBJ Audio EQ Cookbook parameterisation, and its exact frequency response.
//! - [`eq`]: [`Eq5`], the per-channel cascade with parameter gliding, bad-input protection and a
//!   click-free bypass.
//! - [`loudness`]: BS.1770 K-weighted loudness and the auto-gain that level-matches the EQ.
//! - `fastmath` and `simd` (private): four-lane `exp`/`ln`/`tan` and the SSE vector type the
//!   stereo kernel and the coefficient update use.
//!
//! Why a trapezoidal SVF rather than direct-form biquads: its frequency response is *identical*
//! to the cookbook's bilinear-transform biquads (same analog prototype, same `tan(w0/2)`
//! pre-warp), but its state holds integrator values (`ic1eq`, `ic2eq`) instead of past
//! outputs, so changing coefficients mid-stream does not inject energy the way a direct-form
//! biquad does when its poles move quickly; it also keeps its precision at 20 Hz and 192 kHz
//! in `f32`, where direct form I/II loses several bits. See `eq.rs` for the smoothing policy.

pub mod eq;
mod fastmath;
pub mod loudness;
pub mod params;
mod simd;
pub mod svf;

pub use eq::{Eq5, EqError, MAX_CHANNELS, SUB_BLOCK_LEN};
pub use loudness::{AutoGain, LoudnessMeter};
pub use params::EqParams;
pub use svf::{BandKind, SvfCoefficients};
