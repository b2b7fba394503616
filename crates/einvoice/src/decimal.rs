//! An exact decimal number: an `i128` mantissa scaled by a power of ten.
//!
//! Invoice sums (BR-CO-10 … BR-CO-17) must be checked the way `xs:decimal` computes them:
//! without binary floating point, where `0.1 + 0.2` is not `0.3`.

use std::cmp::Ordering;
use std::fmt;

/// Most fractional digits kept by a division; more than any amount, rate or quantity carries.
const DIV_SCALE: u32 = 18;

/// An exact decimal: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// The largest exponent (`1E400`, `1E-400`) read: beyond it a double is infinite or zero and a
/// decimal would need a power of ten per unit of exponent (a loop or a string as long).
const MAX_EXPONENT: u32 = 400;

/// 10⁰ … 10³⁸, every power of ten an `i128` holds.
const POWERS_OF_TEN: [i128; 39] = {
    let mut powers = [1i128; 39];
    let mut i = 1;
    while i < powers.len() {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

fn pow10(exp: u32) -> Option<i128> {
    POWERS_OF_TEN.get(exp as usize).copied()
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };

    /// An integer as a decimal.
    pub fn from_int(value: i64) -> Decimal {
        Decimal { mantissa: i128::from(value), scale: 0 }
    }

    /// Parses the `xs:decimal` lexical form (`-12.50`, `+3`, `.5`), surrounding whitespace
    /// allowed. With `allow_exponent`, also the `xs:double` forms `1E3` and `2.5e-2`.
    pub fn parse(text: &str, allow_exponent: bool) -> Option<Decimal> {
        let text = crate::xpath::xml_trim(text);
        let (body, exponent) = match text.find(['e', 'E']) {
            Some(at) if allow_exponent => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            Some(_) => return None,
            None => (text, 0),
        };
        let (negative, digits) = match body.as_bytes().first()? {
            b'-' => (true, &body[1..]),
            b'+' => (false, &body[1..]),
            _ => (false, body),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty()
            || !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let frac_part = frac_part.trim_end_matches('0');
        let mut digits = int_part.bytes().chain(frac_part.bytes());
        // Eighteen digits fit a u64, where a step is cheaper than with i128's overflow checks.
        let mut short: u64 = 0;
        for b in digits.by_ref().take(18) {
            short = short * 10 + u64::from(b - b'0');
        }
        let mut mantissa = i128::from(short);
        for b in digits {
            mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        if mantissa == 0 {
            return Some(Decimal::ZERO); // `0E2000000000`: zero whatever the exponent
        }
        if exponent.unsigned_abs() > MAX_EXPONENT {
            return None;
        }
        let mut scale = i64::try_from(frac_part.len()).ok()? - i64::from(exponent);
        while scale < 0 {
            mantissa = mantissa.checked_mul(10)?;
            scale += 1;
        }
        let value =
            Decimal { mantissa: if negative { -mantissa } else { mantissa }, scale: u32::try_from(scale).ok()? };
        // The fraction's trailing zeros are gone, so only a negative exponent can leave some
        // (`10E-1`); skipping the check saves an i128 division on every amount read.
        Some(if exponent < 0 { value.normalized() } else { value })
    }

    /// The nearest `f64`: directly when mantissa and power of ten are exact doubles (then one
    /// correctly rounded division is the nearest double), else through the decimal string.
    pub fn to_f64(self) -> f64 {
        const EXACT: i128 = 1 << 53;
        match pow10(self.scale) {
            #[allow(clippy::cast_precision_loss)]
            Some(power) if self.mantissa.abs() <= EXACT && self.scale <= 22 => self.mantissa as f64 / power as f64,
            _ => self.to_string().parse().unwrap_or(f64::NAN),
        }
    }

    fn normalized(mut self) -> Decimal {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        self.mantissa.checked_mul(pow10(scale.checked_sub(self.scale)?)?)
    }

    fn aligned(self, other: Decimal) -> Option<(i128, i128, u32)> {
        if self.scale == other.scale {
            return Some((self.mantissa, other.mantissa, self.scale));
        }
        let scale = self.scale.max(other.scale);
        Some((self.rescaled(scale)?, other.rescaled(scale)?, scale))
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other)?;
        Some(Decimal { mantissa: a.checked_add(b)?, scale }.normalized())
    }

    /// `self - other`, `None` on overflow.
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(other.negated())
    }

    /// `self × other`, `None` on overflow.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let mantissa = self.mantissa.checked_mul(other.mantissa)?;
        Some(Decimal { mantissa, scale: self.scale + other.scale }.normalized())
    }

    /// `self ÷ other`, truncated after 18 fractional digits; `None` when dividing by zero.
    pub fn checked_div(self, other: Decimal) -> Option<Decimal> {
        if other.mantissa == 0 {
            return None;
        }
        // self/other = (m1 / m2) × 10^(s2 - s1); compute m1 × 10^k / m2 with k chosen for DIV_SCALE digits,
        // or fewer where m1 × 10^k would overflow (a dividend of more than 20 digits).
        let mut k = DIV_SCALE + other.scale;
        let numerator = loop {
            if let Some(numerator) = pow10(k).and_then(|p| self.mantissa.checked_mul(p)) {
                break numerator;
            }
            if k == 0 || k + self.scale <= other.scale {
                return None;
            }
            k -= 1;
        };
        let mantissa = numerator / other.mantissa;
        Some(Decimal { mantissa, scale: (k + self.scale).checked_sub(other.scale)? }.normalized())
    }

    /// Integer division truncated toward zero (`idiv`).
    pub fn checked_idiv(self, other: Decimal) -> Option<Decimal> {
        let (a, b, _) = self.aligned(other)?;
        (b != 0).then(|| Decimal { mantissa: a / b, scale: 0 })
    }

    /// Remainder with the sign of the dividend (`mod`).
    pub fn checked_rem(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other)?;
        (b != 0).then(|| Decimal { mantissa: a % b, scale }.normalized())
    }

    /// Negation.
    pub fn negated(self) -> Decimal {
        Decimal { mantissa: -self.mantissa, scale: self.scale }
    }

    /// Absolute value.
    pub fn abs(self) -> Decimal {
        Decimal { mantissa: self.mantissa.abs(), scale: self.scale }
    }

    /// The largest integer not above `self`.
    pub fn floor(self) -> Decimal {
        let Some(unit) = pow10(self.scale) else { return self };
        Decimal { mantissa: self.mantissa.div_euclid(unit), scale: 0 }
    }

    /// XPath `round`: to the nearest integer, halves toward positive infinity (`round(-2.5)` is -2).
    pub fn round(self) -> Decimal {
        if self.scale == 0 {
            return self;
        }
        let half = Decimal { mantissa: 5, scale: 1 };
        self.checked_add(half).map_or(self, Decimal::floor)
    }

    /// `true` for zero.
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// The number of digits after the decimal point once trailing zeros are dropped.
    pub fn scale(self) -> u32 {
        self.scale
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        // Different signs decide without rescaling (`cbc:Amount >= 0`, the most common test).
        let signs = self.mantissa.signum().cmp(&other.mantissa.signum());
        if signs != Ordering::Equal {
            return signs;
        }
        match self.aligned(*other) {
            Some((a, b, _)) => a.cmp(&b),
            // The side with the smaller scale is too large to rescale, so its magnitude is the
            // larger one; both have the same sign.
            None => {
                let magnitude = other.scale.cmp(&self.scale);
                if self.mantissa < 0 { magnitude.reverse() } else { magnitude }
            }
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (0, Ok(small)) = (self.scale, i64::try_from(self.mantissa)) {
            return write!(f, "{small}");
        }
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text, true).expect("a decimal")
    }

    #[test]
    fn decimal_sums_are_exact() {
        assert_eq!(d("0.1").checked_add(d("0.2")), Some(d("0.3")));
        assert_eq!(d("1250.01").checked_sub(d("1000.00")).map(|v| v.to_string()), Some("250.01".into()));
        assert_eq!(d("19").checked_div(d("100")), Some(d("0.19")));
        assert_eq!(d("100").checked_mul(d("0.19")), Some(d("19")));
    }

    #[test]
    fn rounding_follows_xpath() {
        assert_eq!(d("2.5").round(), d("3"));
        assert_eq!(d("-2.5").round(), d("-2"));
        assert_eq!(d("-2.51").round(), d("-3"));
        assert_eq!(d("1234.5649").checked_mul(d("100")).map(Decimal::round), Some(d("123456")));
    }

    #[test]
    fn a_long_dividend_is_divided_with_fewer_fraction_digits_instead_of_overflowing() {
        // 9999999999999999999999 × 10^18 does not fit in an i128.
        assert_eq!(d("9999999999999999999999").checked_div(d("100")), Some(d("99999999999999999999.99")));
        assert_eq!(d("99999999999999999999.99").checked_div(d("2")), Some(d("49999999999999999999.995")));
        assert_eq!(d("1").checked_div(d("3")).map(|q| q.scale()), Some(18));
    }

    #[test]
    fn lexical_forms() {
        assert_eq!(d(" +.5 "), d("0.50"));
        assert_eq!(d("1E3"), d("1000"));
        assert_eq!(d("25e-1"), d("2.5"));
        assert!(Decimal::parse("1E3", false).is_none());
        assert!(Decimal::parse("abc", true).is_none());
        assert!(Decimal::parse(".", true).is_none());
        assert!(Decimal::parse("", true).is_none());
        assert_eq!(d("-0.050").to_string(), "-0.05");
        assert_eq!(d("12.00").scale(), 0);
        assert_eq!((d("10E-1"), d("10E-1").scale(), d("100e-1").to_string()), (d("1"), 0, "10".to_string()));
        assert_eq!(
            (d("1.50E1").to_string(), d("-0.0").to_string(), d("2.50e-1").to_string()),
            ("15".into(), "0".into(), "0.25".into())
        );
    }

    #[test]
    fn the_nearest_double_is_found_directly_where_it_is_exact_and_through_the_string_elsewhere() {
        for text in [
            "0",
            "-0.5",
            "0.1",
            "0.3",
            "1.005",
            "12.50",
            "-12345.678",
            "9007199254740993",
            "0.30000000000000001",
            "99999999999999999999.99",
            "123456789.123456789",
            "1E22",
            "1E-22",
            "25e-24",
            "-7.0000000000000000001",
        ] {
            let expected: f64 = text.parse().expect("a double");
            assert_eq!(d(text).to_f64().to_bits(), expected.to_bits(), "{text}");
        }
    }

    #[test]
    fn exponents_beyond_a_doubles_range_are_refused_and_zero_is_zero_at_once() {
        assert_eq!(d("0E2000000000"), Decimal::ZERO);
        assert_eq!(d("-0.00e-2147483648"), Decimal::ZERO);
        assert!(Decimal::parse("1E-2000000000", true).is_none() && Decimal::parse("1E401", true).is_none());
        assert_eq!(d("1E-400").scale(), 400);
    }

    #[test]
    fn order_by_sign_and_by_magnitude_beyond_what_rescaling_holds() {
        let huge = "99999999999999999999999999999999999999";
        assert!(d(huge) > d("1.5") && d("1.5") < d(huge));
        assert!(d(&format!("-{huge}")) < d("-1.5") && d("-1.5") > d(&format!("-{huge}")));
        assert!(d("0.000000000000000000000000000001") < d(huge));
        assert!(d("-0.5") < d("0") && d("0") < d("0.5") && d("-0.00") == d("0") && d("-3") < d("2"));
    }

    #[test]
    fn long_digit_strings_keep_every_digit_up_to_what_an_i128_holds() {
        for text in [
            "123456789012345678",
            "1234567890123456789",
            "-12345678901234567890.12",
            "000000000000000000000000012.5",
            "99999999999999999999999999999999999999",
        ] {
            assert_eq!(d(text).to_string(), text.trim_start_matches('0'), "{text}");
        }
        assert!(Decimal::parse("999999999999999999999999999999999999999999", true).is_none());
        assert_eq!(
            d("0.000000000000000000001").checked_add(d("1")).map(|v| v.to_string()),
            Some("1.000000000000000000001".into())
        );
        assert!(d("1.5") > d("1.25") && d("-1.5") < d("-1.25") && d("2") == d("2.000"));
    }
}
