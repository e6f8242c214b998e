//! Elementary functions computed with `+ - * /` and bit manipulation only.
//!
//! The platform `libm` behind `f64::exp` and `f64::ln` is not required to
//! round correctly and differs between systems in the last bit. The
//! simulator compares a conversion probability with a uniform draw, so a
//! one-ulp difference could flip a journey's outcome on another platform.
//! These versions use only IEEE-754 basic operations (which are exactly
//! specified, and Rust never fuses them), so they return the same bits
//! everywhere. Relative error is below 1e-15 over the ranges used.

/// ln 2 rounded to 32 significant bits (fdlibm's `ln2_hi`): `k * LN2_HI` is exact.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// ln 2 - LN2_HI (fdlibm's `ln2_lo`).
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LN2: f64 = core::f64::consts::LN_2;

/// `1 / i` for `i < 32` (IEEE division is exactly rounded, so these are the
/// same bits everywhere).
const INV: [f64; 32] = {
    let mut a = [0.0; 32];
    let mut i = 1;
    while i < 32 {
        a[i] = 1.0 / i as f64;
        i += 1;
    }
    a
};

/// `2^k` for an integer `k` in the normal range.
fn pow2i(k: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `e^x`. Returns `0` below -745 and `+inf` above 709.78.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.78 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    // x = k ln2 + r, |r| <= ln2 / 2
    let k = (x / LN2 + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    let kf = k as f64;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // Taylor series of e^r to degree 17: |r|^18/18! < 1e-18 for |r| <= 0.347.
    let mut p = 1.0;
    for inv in INV[1..=17].iter().rev() {
        p = 1.0 + p * r * inv;
    }
    // scale by 2^k in two steps to stay in the normal range
    let k1 = k / 2;
    let k2 = k - k1;
    p * pow2i(k1) * pow2i(k2)
}

/// Natural logarithm of `x > 0` (`-inf` at 0, NaN below 0).
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let mut x = x;
    let mut e: i64 = 0;
    if x < f64::MIN_POSITIVE {
        x *= pow2i(54);
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000); // [1, 2)
    if m > core::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut t = 0.0;
    for inv in INV[3..=27].iter().step_by(2).rev() {
        t = s2 * (inv + t);
    }
    let ef = e as f64;
    ef * LN2_HI + (2.0 * s * (1.0 + t) + ef * LN2_LO)
}

/// `log2(1 + n)` for a count `n`.
pub(crate) fn log2_1p(n: u32) -> f64 {
    ln(1.0 + f64::from(n)) / LN2
}

/// The logistic function `1 / (1 + e^-x)`.
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b { 0.0 } else { ((a - b) / b).abs() }
    }

    #[test]
    fn exp_matches_std() {
        let mut x = -700.0;
        while x < 700.0 {
            assert!(rel(exp(x), x.exp()) < 4e-15, "exp({x})");
            x += 0.37;
        }
        for x in [0.0, 1e-10, -1e-10, 0.5, -0.5, 1.0, -3.2, 2.0] {
            assert!(rel(exp(x), x.exp()) < 4e-16, "exp({x})");
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(800.0), f64::INFINITY);
    }

    #[test]
    fn ln_matches_std() {
        let mut x = 1e-300;
        while x < 1e300 {
            assert!(
                (ln(x) - x.ln()).abs() <= 4e-16 * x.ln().abs().max(1.0),
                "ln({x})"
            );
            x *= 1.37;
        }
        for x in [0.5, 0.999_999, 1.000_001, 2.0, 10.0, 5e-324] {
            assert!(
                (ln(x) - x.ln()).abs() <= 1e-15 * x.ln().abs().max(1.0),
                "ln({x})"
            );
        }
        assert_eq!(ln(1.0), 0.0);
        assert!(ln(-1.0).is_nan());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!((log2_1p(1) - 1.0).abs() < 1e-15);
        assert!((log2_1p(3) - 2.0).abs() < 1e-15);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-16);
    }
}
