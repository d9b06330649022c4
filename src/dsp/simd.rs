//! A minimal 4-lane `f32` vector for the stereo kernel: left and right travel in lanes 0 and
//! 1 (lanes 2 and 3 are idle), so one SSE instruction advances both channels. The coefficient
//! update ([`crate::dsp::eq`]) computes four bands per vector with the approximations of
//! [`crate::dsp::fastmath`], which need a few more operations: division, comparison masks and
//! selection, and 32-bit integer arithmetic on the bit patterns ([`I32x4`]). SSE2 is part of
//! the x86_64 baseline, so no run-time detection is needed; other targets get a plain array
//! version that LLVM vectorises where it can.

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::*;

    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub struct F32x4(__m128);

    impl F32x4 {
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            // SAFETY: SSE2 is always available on x86_64.
            unsafe { F32x4(_mm_set1_ps(v)) }
        }
        #[inline(always)]
        pub fn pair(a: f32, b: f32) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_setr_ps(a, b, 0.0, 0.0)) }
        }
        #[inline(always)]
        pub fn lanes(self) -> [f32; 4] {
            let mut out = [0.0f32; 4];
            // SAFETY: `out` is 16 bytes; unaligned store.
            unsafe { _mm_storeu_ps(out.as_mut_ptr(), self.0) };
            out
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_add_ps(self.0, o.0)) }
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_sub_ps(self.0, o.0)) }
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_mul_ps(self.0, o.0)) }
        }
        #[inline(always)]
        pub fn from_array(a: [f32; 4]) -> Self {
            // SAFETY: `a` is 16 bytes; unaligned load.
            unsafe { F32x4(_mm_loadu_ps(a.as_ptr())) }
        }
        #[inline(always)]
        pub fn div(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_div_ps(self.0, o.0)) }
        }
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_min_ps(self.0, o.0)) }
        }
        /// All-ones lanes where `self > o`, zero lanes elsewhere (a mask for [`F32x4::select`]).
        #[inline(always)]
        pub fn gt(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_cmpgt_ps(self.0, o.0)) }
        }
        /// `if_true` in the lanes where `mask` (from [`F32x4::gt`]) is set, `if_false` elsewhere.
        #[inline(always)]
        pub fn select(mask: Self, if_true: Self, if_false: Self) -> Self {
            // SAFETY: as above.
            unsafe {
                F32x4(_mm_or_ps(
                    _mm_and_ps(mask.0, if_true.0),
                    _mm_andnot_ps(mask.0, if_false.0),
                ))
            }
        }
        /// The lanes' bit patterns as integers.
        #[inline(always)]
        pub fn to_bits(self) -> I32x4 {
            // SAFETY: as above.
            unsafe { I32x4(_mm_castps_si128(self.0)) }
        }
        /// Lane 0 in every lane.
        #[inline(always)]
        pub fn lane0(self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_shuffle_ps::<0x00>(self.0, self.0)) }
        }
        /// Lane 1 in every lane.
        #[inline(always)]
        pub fn lane1(self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_shuffle_ps::<0x55>(self.0, self.0)) }
        }
        /// Lane 2 in every lane.
        #[inline(always)]
        pub fn lane2(self) -> Self {
            // SAFETY: as above.
            unsafe { F32x4(_mm_shuffle_ps::<0xaa>(self.0, self.0)) }
        }
        /// Bit `i` set where lane `i` of `self` and `o` differ in any bit.
        #[inline(always)]
        pub fn bits_differ(self, o: Self) -> u32 {
            // SAFETY: as above.
            unsafe {
                let same = _mm_cmpeq_epi32(_mm_castps_si128(self.0), _mm_castps_si128(o.0));
                !(_mm_movemask_ps(_mm_castsi128_ps(same)) as u32) & 0xf
            }
        }
    }

    /// Four `i32` lanes: the bit patterns of an [`F32x4`], for exponent arithmetic.
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub struct I32x4(__m128i);

    impl I32x4 {
        #[inline(always)]
        pub fn splat(v: i32) -> Self {
            // SAFETY: as above.
            unsafe { I32x4(_mm_set1_epi32(v)) }
        }
        /// Wrapping lane-wise addition.
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { I32x4(_mm_add_epi32(self.0, o.0)) }
        }
        /// Wrapping lane-wise subtraction.
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            // SAFETY: as above.
            unsafe { I32x4(_mm_sub_epi32(self.0, o.0)) }
        }
        /// Shift left by 23 (into an `f32`'s exponent field).
        #[inline(always)]
        pub fn shl23(self) -> Self {
            // SAFETY: as above.
            unsafe { I32x4(_mm_slli_epi32::<23>(self.0)) }
        }
        /// Arithmetic shift right by 23 (out of an `f32`'s exponent field).
        #[inline(always)]
        pub fn shr23(self) -> Self {
            // SAFETY: as above.
            unsafe { I32x4(_mm_srai_epi32::<23>(self.0)) }
        }
        /// The lanes converted to `f32` (exact below 2^24).
        #[inline(always)]
        pub fn to_f32(self) -> F32x4 {
            // SAFETY: as above.
            unsafe { F32x4(_mm_cvtepi32_ps(self.0)) }
        }
        /// The lanes reinterpreted as `f32` bit patterns.
        #[inline(always)]
        pub fn as_f32(self) -> F32x4 {
            // SAFETY: as above.
            unsafe { F32x4(_mm_castsi128_ps(self.0)) }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    #[derive(Clone, Copy, Debug)]
    #[repr(align(16))]
    pub struct F32x4([f32; 4]);

    impl F32x4 {
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            F32x4([v; 4])
        }
        #[inline(always)]
        pub fn pair(a: f32, b: f32) -> Self {
            F32x4([a, b, 0.0, 0.0])
        }
        #[inline(always)]
        pub fn lanes(self) -> [f32; 4] {
            self.0
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] + o.0[i]))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] - o.0[i]))
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] * o.0[i]))
        }
        #[inline(always)]
        pub fn from_array(a: [f32; 4]) -> Self {
            F32x4(a)
        }
        #[inline(always)]
        pub fn div(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] / o.0[i]))
        }
        /// As SSE `minps`: `o` when either is NaN.
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| {
                if self.0[i] < o.0[i] {
                    self.0[i]
                } else {
                    o.0[i]
                }
            }))
        }
        /// All-ones lanes where `self > o`, zero lanes elsewhere (a mask for [`F32x4::select`]).
        #[inline(always)]
        pub fn gt(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| {
                f32::from_bits(if self.0[i] > o.0[i] { u32::MAX } else { 0 })
            }))
        }
        /// `if_true` in the lanes where `mask` (from [`F32x4::gt`]) is set, `if_false` elsewhere.
        #[inline(always)]
        pub fn select(mask: Self, if_true: Self, if_false: Self) -> Self {
            F32x4(std::array::from_fn(|i| {
                if mask.0[i].to_bits() != 0 {
                    if_true.0[i]
                } else {
                    if_false.0[i]
                }
            }))
        }
        /// The lanes' bit patterns as integers.
        #[inline(always)]
        pub fn to_bits(self) -> I32x4 {
            I32x4(self.0.map(|v| v.to_bits() as i32))
        }
        /// Lane 0 in every lane.
        #[inline(always)]
        pub fn lane0(self) -> Self {
            F32x4([self.0[0]; 4])
        }
        /// Lane 1 in every lane.
        #[inline(always)]
        pub fn lane1(self) -> Self {
            F32x4([self.0[1]; 4])
        }
        /// Lane 2 in every lane.
        #[inline(always)]
        pub fn lane2(self) -> Self {
            F32x4([self.0[2]; 4])
        }
        /// Bit `i` set where lane `i` of `self` and `o` differ in any bit.
        #[inline(always)]
        pub fn bits_differ(self, o: Self) -> u32 {
            (0..4).fold(0, |m, i| {
                m | (u32::from(self.0[i].to_bits() != o.0[i].to_bits()) << i)
            })
        }
    }

    /// Four `i32` lanes: the bit patterns of an [`F32x4`], for exponent arithmetic.
    #[derive(Clone, Copy, Debug)]
    #[repr(align(16))]
    pub struct I32x4([i32; 4]);

    impl I32x4 {
        #[inline(always)]
        pub fn splat(v: i32) -> Self {
            I32x4([v; 4])
        }
        /// Wrapping lane-wise addition.
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            I32x4(std::array::from_fn(|i| self.0[i].wrapping_add(o.0[i])))
        }
        /// Wrapping lane-wise subtraction.
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            I32x4(std::array::from_fn(|i| self.0[i].wrapping_sub(o.0[i])))
        }
        /// Shift left by 23 (into an `f32`'s exponent field).
        #[inline(always)]
        pub fn shl23(self) -> Self {
            I32x4(self.0.map(|v| v.wrapping_shl(23)))
        }
        /// Arithmetic shift right by 23 (out of an `f32`'s exponent field).
        #[inline(always)]
        pub fn shr23(self) -> Self {
            I32x4(self.0.map(|v| v >> 23))
        }
        /// The lanes converted to `f32` (exact below 2^24).
        #[inline(always)]
        pub fn to_f32(self) -> F32x4 {
            F32x4(self.0.map(|v| v as f32))
        }
        /// The lanes reinterpreted as `f32` bit patterns.
        #[inline(always)]
        pub fn as_f32(self) -> F32x4 {
            F32x4(self.0.map(|v| f32::from_bits(v as u32)))
        }
    }
}

pub use imp::{F32x4, I32x4};
