//! A minimal 4-lane `f32` vector for the stereo kernel: left and right travel in lanes 0 and
//! 1 (lanes 2 and 3 are idle), so one SSE instruction advances both channels. SSE2 is part of
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
    }
}

pub use imp::F32x4;
