//! Exact decimal numbers.
//!
//! Invoice sums (BR-CO-10 … BR-CO-17) must be checked the way `xs:decimal` computes them:
//! without binary floating point, where `0.1 + 0.2` is not `0.3`.
//!
//! - [`Decimal`]: an `i128` mantissa scaled by a power of ten (38 significant digits), `Copy`;
//!   the amounts of the EN 16931 model ([`crate::model::Amount`]).
//! - [`XsDecimal`]: the `xs:decimal` and `xs:integer` of the XPath evaluator, unbounded as
//!   Saxon's (Java's `BigDecimal`) up to [`MAX_DIGITS`] digits: a [`Decimal`] while the value
//!   fits one, a big integer of base-10⁹ limbs (`big.rs`) beyond. Every operation gives
//!   Saxon's result, also where Saxon's choices are its own: how many fraction digits a
//!   division keeps and how it rounds ([`XsDecimal::div`], [`Kind`]).

mod big;

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use big::BigUint;

/// An exact decimal: `mantissa × 10^-scale`, of at most 38 significant digits.
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
        const EXACT: u128 = 1 << 53;
        match pow10(self.scale) {
            #[allow(clippy::cast_precision_loss)]
            Some(power) if self.mantissa.unsigned_abs() <= EXACT && self.scale <= 22 => {
                self.mantissa as f64 / power as f64
            }
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
        self.checked_add(Decimal { mantissa: other.mantissa.checked_neg()?, scale: other.scale })
    }

    /// `self × other`, `None` on overflow.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let mantissa = self.mantissa.checked_mul(other.mantissa)?;
        Some(Decimal { mantissa, scale: self.scale + other.scale }.normalized())
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

/// The most digits an [`XsDecimal`] holds: the number of digits of its plain notation (its
/// significant digits, or its fraction digits where there are more of them: `1E-4000` has
/// 4,000). Beyond it a value is an evaluation error ([`NumberError::TooLong`]) instead of a
/// computation whose time grows with the square of its length: within it a multiplication or
/// division costs at most about 200,000 limb operations (a fraction of a millisecond), and
/// reading a text first checks its length. Every double's exact value (at most 1,074 fraction
/// digits) fits, and no amount of an invoice comes near it.
pub const MAX_DIGITS: u32 = 4000;

/// Fraction digits that a decimal division keeps at least (Saxon's `DIVIDE_PRECISION`).
const DIV_PRECISION: i64 = 18;

/// How Saxon holds a number, which decides how many fraction digits a division keeps
/// (`Calculator.decimalDivide`: `max(18, scale(a) − scale(b) + 18)` of the `BigDecimal`s).
/// Saxon strips a `BigDecimal`'s trailing zeros, also those of its integer part (`3000.00`
/// becomes `3E+3`, scale −3), except where it makes one from a Java `long` or `double`; an
/// integer (`Int64Value`) enters a decimal division with scale 0, and an integer division
/// (`xs:integer div xs:integer`, chosen by the static types) strips both operands unless both
/// lie in `0 ..= 2³¹−1`. Found by experiment with SaxonC-HE 13.1 (see the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An `xs:integer`: a literal without a point, `count()` and the like, `xs:integer()`,
    /// `idiv`, and `+`, `-`, `*`, `mod` of two of them.
    Integer,
    /// An `xs:integer` Saxon holds as a `BigIntegerValue` although it fits a `long`:
    /// `xs:integer()` of a text of more than 16 characters (`'00000000000000003000'`), and its
    /// negation, `abs()`, `floor()`, `ceiling()` and `round()`. It is stripped where a
    /// `BigIntegerValue` is (in an integer division, by `xs:decimal()`).
    BigInteger,
    /// An `xs:decimal` that Saxon holds as an integer: the cast of a string without a point
    /// of fewer than 16 characters counting a minus sign (`xs:decimal('3000')`), and `+`,
    /// `-`, `*`, `mod` of such values with integers.
    IntegerValued,
    /// An `xs:decimal` Saxon holds as a `BigDecimal` with its trailing zeros stripped: every
    /// other cast from a string, decimal literals, and every other result.
    Stripped,
    /// An `xs:decimal` Saxon holds as a `BigDecimal` of the scale it was made with:
    /// `xs:decimal()` of an integer that fits a `long`, or of a double.
    Unstripped,
}

impl Kind {
    /// Saxon holds the value as an integer (`IntegerValue`).
    pub fn is_integer_class(self) -> bool {
        matches!(self, Kind::Integer | Kind::BigInteger | Kind::IntegerValued)
    }

    /// The static type is `xs:integer`.
    fn is_integer_type(self) -> bool {
        matches!(self, Kind::Integer | Kind::BigInteger)
    }

    /// The kind of `a op b` for `+`, `-`, `*` and `mod`: integer arithmetic when Saxon holds
    /// both as integers, else a stripped `BigDecimal`.
    fn of_arithmetic(a: Kind, b: Kind) -> Kind {
        match (a, b) {
            (a, b) if a.is_integer_type() && b.is_integer_type() => Kind::Integer,
            (a, b) if a.is_integer_class() && b.is_integer_class() => Kind::IntegerValued,
            _ => Kind::Stripped,
        }
    }
}

/// Why a number could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// Not the lexical form of the type.
    Invalid,
    /// A division (`div`, `idiv`, `mod`) by zero.
    DivisionByZero,
    /// A value or result of more than [`MAX_DIGITS`] digits.
    TooLong,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Invalid => f.write_str("not a number"),
            NumberError::DivisionByZero => f.write_str("division by zero"),
            NumberError::TooLong => write!(
                f,
                "a decimal of more than {MAX_DIGITS} digits, the most this validator computes with \
                 (Saxon's decimals are unbounded)"
            ),
        }
    }
}

/// The `xs:decimal` (and `xs:integer`) of the XPath evaluator: exact and unbounded up to
/// [`MAX_DIGITS`], with the results Saxon (Java's `BigDecimal`) gives. A value is
/// `mantissa × 10^-scale` in an `i128` while it fits — the fast path every invoice takes — and
/// in a big integer of base-10⁹ limbs beyond. Normalized: the fraction has no trailing zero,
/// and the `i128` is used whenever the magnitude fits one. The [`Kind`] records how Saxon
/// would hold the value, for the one operation where that shows (division).
#[derive(Debug, Clone)]
pub struct XsDecimal {
    /// The mantissa of a small value; for a big one its sign (`-1` or `1`).
    mantissa: i128,
    scale: u32,
    kind: Kind,
    /// The magnitude of a value beyond an `i128`.
    big: Option<Arc<BigUint>>,
}

/// A value as sign, magnitude and scale, for the arithmetic beyond an `i128`.
struct Wide {
    negative: bool,
    magnitude: BigUint,
    scale: u32,
}

impl Wide {
    /// `self`'s magnitude at a larger scale.
    fn magnitude_at(&self, scale: u32) -> BigUint {
        self.magnitude.mul_pow10((scale - self.scale) as usize)
    }
}

/// `|a| + |b|` or `|a| − |b|` with signs: the signed sum of two magnitudes.
fn signed_sum(a_neg: bool, a: BigUint, b_neg: bool, b: BigUint) -> (bool, BigUint) {
    if a_neg == b_neg {
        (a_neg, a.add(&b))
    } else if a >= b {
        (a_neg, a.sub(&b))
    } else {
        (b_neg, b.sub(&a))
    }
}

/// `n` without up to `max` trailing decimal zeros, and how many it lost: in steps of 16, 8, 4,
/// 2 and 1 zeros, a few divisions instead of one per zero.
fn strip_zeros(mut n: u128, max: u32) -> (u128, u32) {
    let mut stripped = 0;
    if n == 0 {
        return (0, max);
    }
    for step in [16u32, 8, 4, 2, 1] {
        let unit = 10u128.pow(step);
        while stripped + step <= max && n.is_multiple_of(unit) {
            n /= unit;
            stripped += step;
        }
    }
    (n, stripped)
}

impl XsDecimal {
    /// The integer zero.
    pub const ZERO: XsDecimal = XsDecimal { mantissa: 0, scale: 0, kind: Kind::Integer, big: None };

    /// An integer (`count()`, `position()`, `string-length()`, …).
    pub fn from_int(value: i64) -> XsDecimal {
        XsDecimal { mantissa: i128::from(value), scale: 0, kind: Kind::Integer, big: None }
    }

    /// A [`Decimal`] with the given kind.
    pub fn from_decimal(value: Decimal, kind: Kind) -> XsDecimal {
        XsDecimal { mantissa: value.mantissa, scale: value.scale, kind, big: None }
    }

    /// The kind (Saxon's representation) of the value.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The value with another kind.
    pub fn with_kind(mut self, kind: Kind) -> XsDecimal {
        self.kind = kind;
        self
    }

    /// A small value, normalized by the caller.
    fn small(mantissa: i128, scale: u32, kind: Kind) -> XsDecimal {
        XsDecimal { mantissa, scale, kind, big: None }
    }

    fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// `true` for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// The number of digits after the decimal point (trailing zeros are never kept).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The size of a value beyond an `i128` in limbs of nine digits (what its arithmetic
    /// costs); 0 for a value in an `i128`.
    pub fn limbs(&self) -> usize {
        self.big.as_deref().map_or(0, BigUint::len)
    }

    fn wide(&self) -> Wide {
        match &self.big {
            Some(magnitude) => {
                Wide { negative: self.is_negative(), magnitude: BigUint::clone(magnitude), scale: self.scale }
            }
            None => Wide {
                negative: self.is_negative(),
                magnitude: BigUint::from_u128(self.mantissa.unsigned_abs()),
                scale: self.scale,
            },
        }
    }

    /// Normalizes a wide value (drops the fraction's trailing zeros), checks [`MAX_DIGITS`]
    /// and keeps it in an `i128` where it fits.
    fn from_wide(wide: Wide, kind: Kind) -> Result<XsDecimal, NumberError> {
        let Wide { negative, mut magnitude, mut scale } = wide;
        if magnitude.is_zero() {
            return Ok(XsDecimal::small(0, 0, kind));
        }
        let zeros = u32::try_from(magnitude.trailing_zeros()).unwrap_or(u32::MAX).min(scale);
        if zeros > 0 {
            magnitude = magnitude.div_pow10(zeros as usize);
            scale -= zeros;
        }
        if magnitude.digits().max(scale as usize) > MAX_DIGITS as usize {
            return Err(NumberError::TooLong);
        }
        if let Some(small) = magnitude.to_u128().and_then(|m| i128::try_from(m).ok()) {
            return Ok(XsDecimal::small(if negative { -small } else { small }, scale, kind));
        }
        Ok(XsDecimal { mantissa: if negative { -1 } else { 1 }, scale, kind, big: Some(Arc::new(magnitude)) })
    }

    /// A small result of an operation on small values: normalized already, but its scale
    /// (the sum of two scales in a product) may exceed [`MAX_DIGITS`].
    fn checked_small(value: Decimal, kind: Kind) -> Result<XsDecimal, NumberError> {
        if value.scale > MAX_DIGITS {
            return Err(NumberError::TooLong);
        }
        Ok(XsDecimal::from_decimal(value, kind))
    }

    /// The small value as a [`Decimal`], if it is one.
    #[inline]
    fn as_small(&self) -> Option<Decimal> {
        self.big.is_none().then_some(Decimal { mantissa: self.mantissa, scale: self.scale })
    }

    /// Reads an `xs:decimal` as Saxon casts a string to one (`-12.50`, `+3`, `.5`, `5.`,
    /// surrounding XML whitespace allowed), of any length up to [`MAX_DIGITS`].
    pub fn parse(text: &str) -> Result<XsDecimal, NumberError> {
        Self::parse_lexical(text).map(|(value, _)| value)
    }

    /// Reads an `xs:integer` as Saxon casts a string to one: digits with an optional sign, no
    /// point. A text of more than 16 characters becomes a `BigIntegerValue`
    /// (`IntegerValue.stringToInteger`), whatever its value.
    pub fn parse_integer(text: &str) -> Result<XsDecimal, NumberError> {
        let kind = if crate::xpath::xml_trim(text).len() <= 16 { Kind::Integer } else { Kind::BigInteger };
        match Self::parse_lexical(text)? {
            (value, false) => Ok(value.with_kind(kind)),
            (_, true) => Err(NumberError::Invalid),
        }
    }

    /// A numeric literal of an expression: an integer (`100`), a decimal (`0.5`), or a double
    /// in exponent form (`1E3`), which is held as a decimal of at most 38 digits.
    pub fn parse_literal(text: &str) -> Result<XsDecimal, NumberError> {
        if text.contains(['e', 'E']) {
            return Decimal::parse(text, true)
                .map(|d| XsDecimal::from_decimal(d, Kind::Stripped))
                .ok_or(NumberError::Invalid);
        }
        match Self::parse_lexical(text)? {
            (value, false) => Ok(value.with_kind(Kind::Integer)),
            (value, true) => Ok(value.with_kind(Kind::Stripped)),
        }
    }

    /// The value of an `xs:decimal` lexical form and whether it has a point.
    fn parse_lexical(text: &str) -> Result<(XsDecimal, bool), NumberError> {
        let text = crate::xpath::xml_trim(text);
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            Some(_) => (false, text),
            None => return Err(NumberError::Invalid),
        };
        let (int_part, frac_part, point) = match body.split_once('.') {
            Some((int, frac)) => (int, frac, true),
            None => (body, "", false),
        };
        if int_part.is_empty() && frac_part.is_empty()
            || !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(NumberError::Invalid);
        }
        // BigDecimalValue.parse: a string without a point of fewer than 16 characters (its
        // digits and a minus sign) becomes an integer.
        let kind =
            if !point && int_part.len() + usize::from(negative) < 16 { Kind::IntegerValued } else { Kind::Stripped };
        let frac_part = frac_part.trim_end_matches('0');
        let int_part = int_part.trim_start_matches('0');
        let (digits, scale) = (int_part.len() + frac_part.len(), frac_part.len());
        if digits.max(scale) > MAX_DIGITS as usize {
            return Err(NumberError::TooLong);
        }
        #[allow(clippy::cast_possible_truncation)] // at most MAX_DIGITS
        let scale = scale as u32;
        let mut bytes = int_part.bytes().chain(frac_part.bytes());
        if digits <= 38 {
            // Eighteen digits fit a u64, where a step is cheaper than with an i128.
            let mut short: u64 = 0;
            for b in bytes.by_ref().take(18) {
                short = short * 10 + u64::from(b - b'0');
            }
            let mut mantissa = i128::from(short);
            for b in bytes {
                mantissa = mantissa * 10 + i128::from(b - b'0');
            }
            return Ok((XsDecimal::small(if negative { -mantissa } else { mantissa }, scale, kind), point));
        }
        let all: Vec<u8> = bytes.collect();
        let wide = Wide { negative, magnitude: BigUint::from_digits(&all), scale };
        Ok((XsDecimal::from_wide(wide, kind)?, point))
    }

    /// The exact value of a finite double, as Java's `new BigDecimal(double)` (`xs:decimal()` of
    /// a double: `0.1e0` is 0.1000000000000000055511151231257827021181583404541015625).
    pub fn from_f64(x: f64) -> Option<XsDecimal> {
        if !x.is_finite() {
            return None;
        }
        if x == 0.0 {
            return Some(XsDecimal::small(0, 0, Kind::Unstripped));
        }
        let bits = x.to_bits();
        let biased = (bits >> 52) & 0x7ff;
        let fraction = bits & ((1 << 52) - 1);
        // x = mantissa × 2^exponent
        let (mut mantissa, mut exponent) =
            if biased == 0 { (fraction, -1074i64) } else { (fraction | (1 << 52), i64::try_from(biased).ok()? - 1075) };
        let shift = mantissa.trailing_zeros().min(u32::try_from(exponent.unsigned_abs()).unwrap_or(u32::MAX));
        if exponent < 0 {
            mantissa >>= shift;
            exponent += i64::from(shift);
        }
        let mut magnitude = BigUint::from_u128(u128::from(mantissa));
        let scale = if exponent >= 0 {
            // × 2^exponent, in steps of 2^29 (below the limb base).
            let mut left = exponent;
            while left > 0 {
                let step = left.min(29);
                magnitude = magnitude.mul_small(1 << step);
                left -= step;
            }
            0
        } else {
            // m × 2^-k = m × 5^k × 10^-k, in steps of 5^12 (below the limb base).
            let mut left = -exponent;
            while left > 0 {
                let step = left.min(12);
                magnitude = magnitude.mul_small(5u32.pow(u32::try_from(step).ok()?));
                left -= step;
            }
            u32::try_from(-exponent).ok()?
        };
        XsDecimal::from_wide(Wide { negative: x < 0.0, magnitude, scale }, Kind::Unstripped).ok()
    }

    /// The nearest `f64` (infinite beyond a double's range), as Java's
    /// `BigDecimal.doubleValue()`.
    pub fn to_f64(&self) -> f64 {
        match self.as_small() {
            Some(small) => small.to_f64(),
            None => self.to_string().parse().unwrap_or(f64::NAN),
        }
    }

    /// `xs:decimal()` of the value: an integer Saxon holds in a `long` becomes a `BigDecimal`
    /// of scale 0, a `BigIntegerValue` a stripped `BigDecimal`; a decimal stays as it is.
    pub fn to_decimal(self) -> XsDecimal {
        match self.kind {
            Kind::Integer => {
                let fits_long = self.as_small().is_some_and(|d| i64::try_from(d.mantissa).is_ok());
                self.with_kind(if fits_long { Kind::Unstripped } else { Kind::Stripped })
            }
            Kind::BigInteger => self.with_kind(Kind::Stripped),
            _ => self,
        }
    }

    /// The value as Saxon types a constant it computed when compiling: by the class of the
    /// value, so that a number it holds as an integer is an `xs:integer` (`Int64Value`, a
    /// `BigIntegerValue` reduced to one where it fits a `long`).
    pub fn folded(self) -> XsDecimal {
        let kind = if self.kind.is_integer_class() { Kind::Integer } else { self.kind };
        self.with_kind(kind)
    }

    /// `xs:integer()` of the value: the integer part (truncated toward zero).
    pub fn to_integer(&self) -> XsDecimal {
        if self.kind == Kind::BigInteger {
            return self.clone();
        }
        let truncated = if self.scale == 0 {
            self.clone()
        } else if let Some(small) = self.as_small() {
            let mantissa = pow10(small.scale).map_or(0, |unit| small.mantissa / unit);
            XsDecimal::small(mantissa, 0, Kind::Integer)
        } else {
            let wide = self.wide();
            let magnitude = wide.magnitude.div_pow10(wide.scale as usize);
            // Cannot exceed MAX_DIGITS: the integer part is shorter than the value.
            XsDecimal::from_wide(Wide { negative: wide.negative, magnitude, scale: 0 }, Kind::Integer)
                .unwrap_or(XsDecimal::ZERO)
        };
        truncated.with_kind(Kind::Integer)
    }

    /// `self + other`.
    pub fn add(&self, other: &XsDecimal) -> Result<XsDecimal, NumberError> {
        let kind = Kind::of_arithmetic(self.kind, other.kind);
        if let (Some(a), Some(b)) = (self.as_small(), other.as_small())
            && let Some(sum) = a.checked_add(b)
        {
            return Ok(XsDecimal::from_decimal(sum, kind));
        }
        let (a, b) = (self.wide(), other.wide());
        let scale = a.scale.max(b.scale);
        let (negative, magnitude) = signed_sum(a.negative, a.magnitude_at(scale), b.negative, b.magnitude_at(scale));
        XsDecimal::from_wide(Wide { negative, magnitude, scale }, kind)
    }

    /// `self − other`.
    pub fn sub(&self, other: &XsDecimal) -> Result<XsDecimal, NumberError> {
        self.add(&other.negated().with_kind(other.kind))
    }

    /// `self × other`.
    pub fn mul(&self, other: &XsDecimal) -> Result<XsDecimal, NumberError> {
        let kind = Kind::of_arithmetic(self.kind, other.kind);
        if let (Some(a), Some(b)) = (self.as_small(), other.as_small())
            && let Some(product) = a.checked_mul(b)
        {
            return XsDecimal::checked_small(product, kind);
        }
        let (a, b) = (self.wide(), other.wide());
        let magnitude = a.magnitude.mul(&b.magnitude);
        XsDecimal::from_wide(Wide { negative: a.negative != b.negative, magnitude, scale: a.scale + b.scale }, kind)
    }

    /// The scale of Saxon's `BigDecimal` of the value in a decimal division: the fraction
    /// digits, or for an integral value 0 or, stripped, minus its trailing zeros.
    fn saxon_scale(&self, stripped: bool) -> i64 {
        if self.scale > 0 {
            return i64::from(self.scale);
        }
        if !stripped || self.is_zero() {
            return 0;
        }
        let zeros = match &self.big {
            Some(magnitude) => magnitude.trailing_zeros(),
            None => strip_zeros(self.mantissa.unsigned_abs(), u32::MAX).1 as usize,
        };
        -i64::try_from(zeros).unwrap_or(i64::MAX)
    }

    /// `self div other` as Saxon divides decimals: `max(18, scale(a) − scale(b) + 18)`
    /// fraction digits of the scales of its `BigDecimal`s ([`Kind`]), the last rounded half
    /// down (a remainder of exactly half is dropped, `RoundingMode.HALF_DOWN`). So `2 div 3`
    /// is 0.666666666666666667, `1.5 div 7` keeps 19 digits, `1 div 524288` (…2812|5) ends in
    /// 2, and `1 div xs:decimal('3000.0')` keeps 21.
    pub fn div(&self, other: &XsDecimal) -> Result<XsDecimal, NumberError> {
        if other.is_zero() {
            return Err(NumberError::DivisionByZero);
        }
        // `xs:integer div xs:integer` (Int64Value.div): operands both in 0 ..= 2³¹−1 are
        // divided with scale 0 (and an exact quotient is an integer), others stripped
        // (BigIntegerValue.div). Otherwise Calculator.decimalDivide on the operands' BigDecimals.
        let small_int = |v: &XsDecimal| v.as_small().is_some_and(|d| (0..=i128::from(i32::MAX)).contains(&d.mantissa));
        let integers = self.kind.is_integer_type() && other.kind.is_integer_type();
        let int_path = self.kind == Kind::Integer && other.kind == Kind::Integer && small_int(self) && small_int(other);
        let stripped = |v: &XsDecimal| if integers { !int_path } else { v.kind == Kind::Stripped };
        let sb = other.saxon_scale(stripped(other));
        // An integral dividend's scale (0 or less) only counts against a stripped divisor.
        let sa = if self.scale > 0 || sb < 0 { self.saxon_scale(stripped(self)) } else { 0 };
        let scale = (sa - sb + DIV_PRECISION).max(DIV_PRECISION);
        if scale > i64::from(MAX_DIGITS) {
            return Err(NumberError::TooLong);
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 18 ..= MAX_DIGITS
        let scale = scale as u32;
        // a ÷ b × 10^scale = (ma × 10^shift) ÷ mb, shift ≥ 18.
        let shift = scale + other.scale - self.scale;
        let negative = self.is_negative() != other.is_negative();
        let small = match (self.as_small(), other.as_small()) {
            (Some(a), Some(b)) => pow10(shift)
                .and_then(|p| a.mantissa.unsigned_abs().checked_mul(p.unsigned_abs()))
                .map(|n| (n, b.mantissa.unsigned_abs())),
            _ => None,
        };
        let (quotient, exact) = if let Some((n, d)) = small {
            let (q, r) = (n / d, n % d);
            // Half down: up only when the remainder is more than half the divisor.
            let q = q + u128::from(r > d - r);
            let quotient = match i128::try_from(q) {
                Ok(_) => {
                    let (q, zeros) = strip_zeros(q, scale);
                    #[allow(clippy::cast_possible_wrap)] // below i128::MAX, checked above
                    let q = q as i128;
                    XsDecimal::small(if negative { -q } else { q }, scale - zeros, Kind::Stripped)
                }
                Err(_) => {
                    XsDecimal::from_wide(Wide { negative, magnitude: BigUint::from_u128(q), scale }, Kind::Stripped)?
                }
            };
            (quotient, r == 0)
        } else {
            let (a, b) = (self.wide(), other.wide());
            // The quotient has at most digits(a) + shift − digits(b) + 1 digits, of which the
            // normalization may drop up to `scale`: refuse more before computing them.
            let digits = a.magnitude.digits() + shift as usize;
            if digits > b.magnitude.digits() + (MAX_DIGITS + scale) as usize {
                return Err(NumberError::TooLong);
            }
            let (q, r) = a.magnitude.mul_pow10(shift as usize).divrem(&b.magnitude);
            let q = if r.mul_small(2) > b.magnitude { q.add_one() } else { q };
            (XsDecimal::from_wide(Wide { negative, magnitude: q, scale }, Kind::Stripped)?, r.is_zero())
        };
        // Int64Value.div answers an exact quotient of integers as an integer.
        Ok(if int_path && exact && quotient.scale == 0 { quotient.with_kind(Kind::IntegerValued) } else { quotient })
    }

    /// The operands at their common scale, for `idiv` and `mod`, both small if they fit.
    fn aligned_wide(&self, other: &XsDecimal) -> (Wide, Wide, u32) {
        let (a, b) = (self.wide(), other.wide());
        let scale = a.scale.max(b.scale);
        let a = Wide { negative: a.negative, magnitude: a.magnitude_at(scale), scale };
        let b = Wide { negative: b.negative, magnitude: b.magnitude_at(scale), scale };
        (a, b, scale)
    }

    /// `self idiv other`: the quotient truncated toward zero, an integer.
    pub fn idiv(&self, other: &XsDecimal) -> Result<XsDecimal, NumberError> {
        if other.is_zero() {
            return Err(NumberError::DivisionByZero);
        }
        if let (Some(a), Some(b)) = (self.as_small(), other.as_small())
            && let Some((a, b, _)) = a.aligned(b)
            && let Some(q) = a.checked_div(b)
        {
            return Ok(XsDecimal::small(q, 0, Kind::Integer));
        }
        let (a, b, _) = self.aligned_wide(other);
        let (q, _) = a.magnitude.divrem(&b.magnitude);
        XsDecimal::from_wide(Wide { negative: a.negative != b.negative, magnitude: q, scale: 0 }, Kind::Integer)
    }

    /// `self mod other`: the remainder of `idiv`, with the sign of the dividend.
    pub fn rem(&self, other: &XsDecimal) -> Result<XsDecimal, NumberError> {
        if other.is_zero() {
            return Err(NumberError::DivisionByZero);
        }
        let kind = Kind::of_arithmetic(self.kind, other.kind);
        if let (Some(a), Some(b)) = (self.as_small(), other.as_small())
            && let Some((x, y, scale)) = a.aligned(b)
            && let Some(r) = x.checked_rem(y)
        {
            return Ok(XsDecimal::from_decimal(Decimal { mantissa: r, scale }.normalized(), kind));
        }
        let (a, b, scale) = self.aligned_wide(other);
        let (_, r) = a.magnitude.divrem(&b.magnitude);
        XsDecimal::from_wide(Wide { negative: a.negative, magnitude: r, scale }, kind)
    }

    /// `-self`.
    pub fn negated(&self) -> XsDecimal {
        let kind = if self.kind.is_integer_class() { self.kind } else { Kind::Stripped };
        match (&self.big, self.mantissa.checked_neg()) {
            (None, Some(mantissa)) => XsDecimal::small(mantissa, self.scale, kind),
            _ => {
                let mut wide = self.wide();
                wide.negative = !wide.negative;
                // The same digits: within MAX_DIGITS.
                XsDecimal::from_wide(wide, kind).unwrap_or(XsDecimal::ZERO)
            }
        }
    }

    /// `abs()`.
    pub fn abs(&self) -> XsDecimal {
        if self.mantissa > 0 || (self.is_zero() && self.kind.is_integer_class()) {
            return self.clone();
        }
        self.negated()
    }

    /// `floor()`: the largest integer not above the value.
    pub fn floor(&self) -> XsDecimal {
        let kind = if self.kind.is_integer_class() { self.kind } else { Kind::Stripped };
        if self.scale == 0 {
            return self.clone().with_kind(kind);
        }
        if let Some(small) = self.as_small() {
            let mantissa = match pow10(small.scale) {
                Some(unit) => small.mantissa.div_euclid(unit),
                // Beyond 10^38 the fraction holds the whole value: |value| < 1.
                None => -i128::from(small.mantissa < 0),
            };
            return XsDecimal::small(mantissa, 0, kind);
        }
        let wide = self.wide();
        let whole = wide.magnitude.div_pow10(wide.scale as usize);
        // Toward minus infinity: one more for a negative value with a fraction.
        let magnitude = if wide.negative { whole.add_one() } else { whole };
        XsDecimal::from_wide(Wide { negative: wide.negative, magnitude, scale: 0 }, kind).unwrap_or(XsDecimal::ZERO)
    }

    /// `ceiling()`: the smallest integer not below the value.
    pub fn ceiling(&self) -> XsDecimal {
        let kind = if self.kind.is_integer_class() { self.kind } else { Kind::Stripped };
        self.negated().floor().negated().with_kind(kind)
    }

    /// XPath `round()`: to the nearest integer, halves toward positive infinity
    /// (`round(-2.5)` is -2), as Saxon rounds (`HALF_UP` above zero, `HALF_DOWN` below).
    pub fn round(&self) -> XsDecimal {
        if self.scale == 0 {
            return self.clone();
        }
        let kind = if self.kind.is_integer_class() { self.kind } else { Kind::Stripped };
        if let Some(small) = self.as_small()
            && let Some(unit) = pow10(small.scale)
            && let Some(shifted) = small.mantissa.checked_add(unit / 2)
        {
            return XsDecimal::small(shifted.div_euclid(unit), 0, kind);
        }
        let wide = self.wide();
        let whole = wide.magnitude.div_pow10(wide.scale as usize);
        let fraction = wide.magnitude.sub(&whole.mul_pow10(wide.scale as usize));
        let unit = BigUint::from_u128(1).mul_pow10(wide.scale as usize);
        let twice = fraction.mul_small(2);
        let up = if wide.negative { twice > unit } else { twice >= unit };
        let magnitude = if up { whole.add_one() } else { whole };
        XsDecimal::from_wide(Wide { negative: wide.negative, magnitude, scale: 0 }, kind).unwrap_or(XsDecimal::ZERO)
    }

    /// [`Ord::cmp`] where one side is big.
    fn cmp_wide(&self, other: &Self) -> Ordering {
        let signs = self.mantissa.signum().cmp(&other.mantissa.signum());
        if signs != Ordering::Equal {
            return signs;
        }
        let (a, b) = (self.wide(), other.wide());
        let scale = a.scale.max(b.scale);
        let magnitude = a.magnitude_at(scale).cmp(&b.magnitude_at(scale));
        if a.negative { magnitude.reverse() } else { magnitude }
    }
}

impl From<Decimal> for XsDecimal {
    /// A decimal as Saxon holds a `BigDecimal` it made: stripped.
    fn from(value: Decimal) -> XsDecimal {
        XsDecimal::from_decimal(value, Kind::Stripped)
    }
}

impl PartialEq for XsDecimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for XsDecimal {}

impl PartialOrd for XsDecimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for XsDecimal {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some(a), Some(b)) = (self.as_small(), other.as_small()) {
            return a.cmp(&b);
        }
        self.cmp_wide(other)
    }
}

impl fmt::Display for XsDecimal {
    /// The canonical form: no exponent, no trailing zeros, no point for an integer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(magnitude) = &self.big else {
            return Decimal { mantissa: self.mantissa, scale: self.scale }.fmt(f);
        };
        let mut digits = String::with_capacity(magnitude.digits() + 2);
        magnitude.write_digits(&mut digits);
        let sign = if self.is_negative() { "-" } else { "" };
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

    /// An XPath numeric literal (`100` an xs:integer, `0.5` an xs:decimal), as Saxon reads it.
    fn x(text: &str) -> XsDecimal {
        XsDecimal::parse_literal(text).expect("a literal")
    }

    /// The canonical string of a result.
    fn s(value: Result<XsDecimal, NumberError>) -> String {
        value.map_or_else(|e| format!("error: {e}"), |v| v.to_string())
    }

    const A38: &str = "99999999999999999999999999999999999999";
    const A39: &str = "999999999999999999999999999999999999999";
    const I128_MAX: &str = "170141183460469231731687303715884105727";
    const I128_MAX_1: &str = "170141183460469231731687303715884105728";

    #[test]
    fn decimal_sums_are_exact() {
        assert_eq!(d("0.1").checked_add(d("0.2")), Some(d("0.3")));
        assert_eq!(d("1250.01").checked_sub(d("1000.00")).map(|v| v.to_string()), Some("250.01".into()));
        assert_eq!(d("100").checked_mul(d("0.19")), Some(d("19")));
        assert_eq!(x("19").div(&x("100")), Ok(x("0.19")));
    }

    #[test]
    fn rounding_follows_xpath() {
        assert_eq!(x("2.5").round(), x("3"));
        assert_eq!(x("-2.5").round(), x("-2"));
        assert_eq!(x("-2.51").round(), x("-3"));
        assert_eq!(x("1234.5649").mul(&x("100")).map(|v| v.round()), Ok(x("123456")));
    }

    #[test]
    fn a_long_dividend_is_divided_exactly() {
        // 9999999999999999999999 × 10^18 does not fit in an i128: the big path divides it.
        assert_eq!(x("9999999999999999999999").div(&x("100")), Ok(x("99999999999999999999.99")));
        assert_eq!(x("99999999999999999999.99").div(&x("2")), Ok(x("49999999999999999999.995")));
        assert_eq!(x("1").div(&x("3")).map(|q| q.scale()), Ok(18));
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

    // Beyond an i128: every expected value below is Saxon's (SaxonC-HE 13.1) for the XPath
    // expression in the comment beside it.

    #[test]
    fn values_of_any_length_are_read_and_written_exactly() {
        for text in [
            A38,
            A39,
            I128_MAX,
            I128_MAX_1,
            "-170141183460469231731687303715884105728",
            "9999999999999999999999999999999999999.99",
            "123456789012345678901234567890123456789012345678901234567890.000000000000000000001",
            "-0.00000000000000000000000000000000000000000000000000000000000000000000000001",
        ] {
            // string(xs:decimal('…')) is the text itself
            assert_eq!(XsDecimal::parse(text).map(|v| v.to_string()), Ok(text.to_string()), "{text}");
        }
        // string(xs:decimal(' +000123456789012345678901234567890123456789.1200 ')) → 123456789012345678901234567890123456789.12
        assert_eq!(
            s(XsDecimal::parse(" +000123456789012345678901234567890123456789.1200 ")),
            "123456789012345678901234567890123456789.12"
        );
        // string(xs:decimal('-0000000000000000000000000000000000000000000.000')) → 0
        assert_eq!(s(XsDecimal::parse("-0000000000000000000000000000000000000000000.000")), "0");
        // xs:integer('-1234567890123456789012345678901234567890') → -1234567890123456789012345678901234567890
        assert_eq!(
            s(XsDecimal::parse_integer("-1234567890123456789012345678901234567890")),
            "-1234567890123456789012345678901234567890"
        );
        // xs:integer('1234567890123456789012345678901234567890.0'): FORG0001
        assert_eq!(XsDecimal::parse_integer("1234567890123456789012345678901234567890.0"), Err(NumberError::Invalid));
        for bad in ["", ".", "-", "1e5", "12a", "1 2", "--1", "1.2.3"] {
            assert_eq!(XsDecimal::parse(bad), Err(NumberError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn addition_and_subtraction_across_the_i128_boundary() {
        // 99999999999999999999999999999999999999 + 1 → 100000000000000000000000000000000000000
        assert_eq!(s(x(A38).add(&x("1"))), "100000000000000000000000000000000000000");
        // 170141183460469231731687303715884105727 + 1 → 170141183460469231731687303715884105728
        assert_eq!(s(x(I128_MAX).add(&x("1"))), I128_MAX_1);
        // -170141183460469231731687303715884105727 - 2 → -170141183460469231731687303715884105729
        assert_eq!(s(x(I128_MAX).negated().sub(&x("2"))), "-170141183460469231731687303715884105729");
        // 999999999999999999999999999999999999999 + 1 - 1000000000000000000000000000000000000000 → 0
        let back = x(A39).add(&x("1")).and_then(|v| v.sub(&x("1000000000000000000000000000000000000000")));
        assert_eq!(back.as_ref().map(|v| (v.to_string(), v.big.is_none())), Ok(("0".to_string(), true)));
        // xs:decimal('99999999999999999999999999999999999999.5') + 0.5 → 100000000000000000000000000000000000000
        assert_eq!(s(x(&format!("{A38}.5")).add(&x("0.5"))), "100000000000000000000000000000000000000");
        // 1E-50 + 1E50 as decimals: 1 followed by 100 digits of which the last is 1
        let tiny = XsDecimal::parse(&format!("0.{}1", "0".repeat(49))).expect("tiny");
        let huge = XsDecimal::parse(&format!("1{}", "0".repeat(50))).expect("huge");
        assert_eq!(s(huge.add(&tiny)), format!("1{}.{}1", "0".repeat(50), "0".repeat(49)));
        // (1E50 + 1E-50) - 1E50 = 1E-50, small again
        let diff = huge.add(&tiny).and_then(|v| v.sub(&huge)).expect("difference");
        assert!(diff == tiny && diff.big.is_none());
    }

    #[test]
    fn multiplication_of_big_and_small_operands() {
        // 12345678901234567890 * 98765432109876543210 → 1219326311370217952237463801111263526900
        assert_eq!(
            s(x("12345678901234567890").mul(&x("98765432109876543210"))),
            "1219326311370217952237463801111263526900"
        );
        // 9999999999999999999999999999999999999.99 * 2 → 19999999999999999999999999999999999999.98
        assert_eq!(
            s(x("9999999999999999999999999999999999999.99").mul(&x("2"))),
            "19999999999999999999999999999999999999.98"
        );
        // -170141183460469231731687303715884105728 * 3 → -510423550381407695195061911147652317184
        assert_eq!(s(x(I128_MAX_1).negated().mul(&x("3"))), "-510423550381407695195061911147652317184");
        // 0.000000000000000000000000000015 * 0.000000000000000000000000000002 → 0.(58 zeros)3
        assert_eq!(
            s(x("0.000000000000000000000000000015").mul(&x("0.000000000000000000000000000002"))),
            format!("0.{}3", "0".repeat(58))
        );
        // 1234567890123456789012345678901234567890.5 * -0.2 → -246913578024691357802469135780246913578.1
        assert_eq!(
            s(x("1234567890123456789012345678901234567890.5").mul(&x("0.2").negated())),
            "-246913578024691357802469135780246913578.1"
        );
    }

    #[test]
    fn division_keeps_saxons_fraction_digits_and_rounds_half_down() {
        for (a, b, quotient) in [
            // 2 div 3, -2 div 3: 18 digits, the last rounded
            ("2", "3", "0.666666666666666667"),
            ("-2", "3", "-0.666666666666666667"),
            // 1 div 524288, 3 div 524288: the 19th digit is a final 5, dropped (half down)
            ("1", "524288", "0.000001907348632812"),
            ("-1", "524288", "-0.000001907348632812"),
            ("3", "524288", "0.000005722045898437"),
            ("-3", "524288", "-0.000005722045898437"),
            // 1.5 div 7: 18 + 1 digits (the dividend's scale counts)
            ("1.5", "7", "0.2142857142857142857"),
            // 1.5 div 0.7: max(18, 1 - 1 + 18)
            ("1.5", "0.7", "2.142857142857142857"),
            // 1 div 30, 1 div -30: an integer divisor in 0..2^31 has scale 0, a negative one is stripped (3E+1)
            ("1", "30", "0.033333333333333333"),
            ("1", "-30", "-0.0333333333333333333"),
            // 1 div 3000.0: a decimal literal is stripped (3E+3), scale 18 + 3
            ("1", "3000.0", "0.000333333333333333333"),
            // 1 div -3000000000
            ("1", "-3000000000", "-0.000000000333333333333333333"),
            // 99999999999999999999999999999999999999 div 3, 999999999999999999999999999999999999999 div 3
            (A38, "3", "33333333333333333333333333333333333333"),
            (A39, "3", "333333333333333333333333333333333333333"),
            // 170141183460469231731687303715884105728 div 7 (and negated)
            (I128_MAX_1, "7", "24305883351495604533098186245126300818.285714285714285714"),
            (
                "-170141183460469231731687303715884105728",
                "7",
                "-24305883351495604533098186245126300818.285714285714285714",
            ),
            // 99999999999999999999999999999999999999999 div 7: rounded up in the 18th digit
            (
                "99999999999999999999999999999999999999999",
                "7",
                "14285714285714285714285714285714285714285.571428571428571429",
            ),
            // 1 div 3000000000000000000000000000000000000000: two integers beyond 2^31, stripped (3E+39)
            (
                "1",
                "3000000000000000000000000000000000000000",
                "0.000000000000000000000000000000000000000333333333333333333",
            ),
            // 1.5 div 170141183460469231731687303715884105727: 19 digits are all zero
            ("1.5", I128_MAX, "0"),
            // 999999999999999999999999999999999999999.123 div 0.7
            (
                "999999999999999999999999999999999999999.123",
                "0.7",
                "1428571428571428571428571428571428571427.31857142857142857143",
            ),
        ] {
            assert_eq!(s(x(a).div(&x(b))), quotient, "{a} div {b}");
        }
        // 1 div 0: FOAR0001
        assert_eq!(x("1").div(&x("0")), Err(NumberError::DivisionByZero));
    }

    #[test]
    fn division_reads_the_kind_of_its_operands() {
        let amount = |text: &str| XsDecimal::parse(text).expect("an amount");
        // xs:decimal(A) div xs:decimal(B) with texts A = 1, B = 3000 (an Int64Value, scale 0),
        // B = 3000.00 (a BigDecimal 3E+3) and B = -3000 (an Int64Value again):
        // 0.000333333333333333, 0.000333333333333333333, -0.000333333333333333
        assert_eq!(s(amount("1").div(&amount("3000"))), "0.000333333333333333");
        assert_eq!(s(amount("1").div(&amount("3000.00"))), "0.000333333333333333333");
        assert_eq!(s(amount("1").div(&amount("-3000"))), "-0.000333333333333333");
        // B = 3000000000000000 (16 characters: a BigDecimal): 0.000000000000000333333333333333333
        assert_eq!(s(amount("1").div(&amount("3000000000000000"))), "0.000000000000000333333333333333333");
        // xs:integer(A) div xs:integer(B), B = -3000: an integer division, both stripped
        let int = |text: &str| XsDecimal::parse_integer(text).expect("an integer");
        assert_eq!(s(int("1").div(&int("-3000"))), "-0.000333333333333333333");
        // count(…10 items) div xs:integer(B), B = -3000: 10 is stripped too (1E+1): 20 digits
        assert_eq!(s(int("10").div(&int("-3000"))), "-0.00333333333333333333");
        // xs:decimal(xs:integer(B)) is made from a long (scale 0): 1 div it keeps 18 digits
        assert_eq!(s(x("1").div(&int("-3000").to_decimal())), "-0.000333333333333333");
        // … but a sum with it is stripped again: sum((xs:decimal(xs:integer(B)), 0))
        let sum = int("-3000").to_decimal().add(&x("0")).expect("sum");
        assert_eq!(s(x("1").div(&sum)), "-0.000333333333333333333");
        // An exact quotient of two small integers is an integer (6 div 3 → 2), of others a decimal.
        assert_eq!(x("6").div(&x("3")).map(|q| q.kind()), Ok(Kind::IntegerValued));
        assert_eq!(x("6").div(&x("-3")).map(|q| q.kind()), Ok(Kind::Stripped));
    }

    #[test]
    fn integer_division_and_remainder_of_big_values() {
        for (a, b, quotient, remainder) in [
            // 999999999999999999999999999999999999999 idiv 7, mod 97 (with the signs of the dividend)
            (A39, "7", "142857142857142857142857142857142857142", "5"),
            (A39, "97", "10309278350515463917525773195876288659", "76"),
            // 999999999999999999999999999999999999999 idiv -99999999999999999999999999999999999999 → -10, mod → 9
            (A39, "-99999999999999999999999999999999999999", "-10", "9"),
            // 123456789012345678901234567890123456789.9 idiv 0.3 → 411522630041152263004115226300411522633
            ("123456789012345678901234567890123456789.9", "0.3", "411522630041152263004115226300411522633", "0"),
            // -123456789012345678901234567890123456789.75 mod 0.5 → -0.25
            ("-123456789012345678901234567890123456789.75", "0.5", "-246913578024691357802469135780246913579", "-0.25"),
        ] {
            assert_eq!(s(x(a).idiv(&x(b))), quotient, "{a} idiv {b}");
            assert_eq!(s(x(a).rem(&x(b))), remainder, "{a} mod {b}");
        }
        // -999999999999999999999999999999999999999 idiv 7, mod 97
        assert_eq!(s(x(A39).negated().idiv(&x("7"))), "-142857142857142857142857142857142857142");
        assert_eq!(s(x(A39).negated().rem(&x("97"))), "-76");
        assert_eq!(x(A39).idiv(&x("0")), Err(NumberError::DivisionByZero));
        assert_eq!(x(A39).rem(&x("0.0")), Err(NumberError::DivisionByZero));
        assert_eq!(x(A39).idiv(&x("7")).map(|q| q.kind()), Ok(Kind::Integer));
    }

    #[test]
    fn rounding_floor_ceiling_and_abs_of_big_values() {
        let big = "123456789012345678901234567890123456789";
        // round(123456789012345678901234567890123456789.5) → …790
        assert_eq!(x(&format!("{big}.5")).round().to_string(), "123456789012345678901234567890123456790");
        // round(-123456789012345678901234567890123456789.5) → -…789 (halves toward positive infinity)
        assert_eq!(x(&format!("-{big}.5")).round().to_string(), "-123456789012345678901234567890123456789");
        // round(-123456789012345678901234567890123456789.51) → -…790
        assert_eq!(x(&format!("-{big}.51")).round().to_string(), "-123456789012345678901234567890123456790");
        // round(0.0000000000000000000000000000000000000000005), and negative: 0
        let half_tiny = format!("0.{}5", "0".repeat(42));
        assert_eq!(
            (x(&half_tiny).round().to_string(), x(&format!("-{half_tiny}")).round().to_string()),
            ("0".into(), "0".into())
        );
        // floor(-123456789012345678901234567890123456789.1) → -…790, ceiling → -…789
        assert_eq!(x(&format!("-{big}.1")).floor().to_string(), "-123456789012345678901234567890123456790");
        assert_eq!(x(&format!("-{big}.1")).ceiling().to_string(), "-123456789012345678901234567890123456789");
        // floor / ceiling of ±1E-44: 0, -1, 1, 0
        let tiny = format!("0.{}1", "0".repeat(43));
        let neg_tiny = format!("-{tiny}");
        assert_eq!(
            [x(&tiny).floor(), x(&neg_tiny).floor(), x(&tiny).ceiling(), x(&neg_tiny).ceiling()].map(|v| v.to_string()),
            ["0", "-1", "1", "0"]
        );
        // abs(-170141183460469231731687303715884105728.25) → 170141183460469231731687303715884105728.25
        assert_eq!(x(&format!("-{I128_MAX_1}.25")).abs().to_string(), format!("{I128_MAX_1}.25"));
        // xs:integer(-123456789012345678901234567890123456789.99) → -123456789012345678901234567890123456789
        assert_eq!(x(&format!("-{big}.99")).to_integer().to_string(), format!("-{big}"));
        // -(-170141183460469231731687303715884105728): the i128 minimum negated
        let min = XsDecimal::parse("-170141183460469231731687303715884105728").expect("min");
        assert_eq!(min.negated().to_string(), I128_MAX_1);
    }

    #[test]
    fn big_values_compare_exactly_with_each_other_and_as_doubles_with_doubles() {
        // 999999999999999999999999999999999999999 > 99999999999999999999999999999999999999, and negated
        assert!(x(A39) > x(A38) && x(A39).negated() < x(A38).negated());
        // 170141183460469231731687303715884105728 = 170141183460469231731687303715884105727 + 1
        assert_eq!(x(I128_MAX).add(&x("1")), Ok(x(I128_MAX_1)));
        assert!(x(I128_MAX_1) > x(I128_MAX) && x("0.5") < x(A39) && x(A39).negated() < x("-0.5"));
        let tiny = XsDecimal::parse(&format!("0.{}1", "0".repeat(60))).expect("tiny");
        assert!(tiny > XsDecimal::ZERO && tiny < x("0.000000000000000000000000000000000000001"));
        // 1000000000000000000000000000000000000001 = 1e39 and not > 1e39: promoted to a double
        assert_eq!(x("1000000000000000000000000000000000000001").to_f64(), 1e39);
        // -999999999999999999999999999999999999999 * 1e0 → -1.0E39
        assert_eq!(x(A39).negated().to_f64(), -1e39);
        // xs:decimal('1' || 400 zeros) * 1e0 → INF
        assert_eq!(XsDecimal::parse(&format!("1{}", "0".repeat(400))).map(|v| v.to_f64()), Ok(f64::INFINITY));
    }

    #[test]
    fn doubles_convert_to_their_exact_decimal() {
        for (double, decimal) in [
            // xs:decimal(0.1e0), xs:decimal(10.95e0), xs:decimal(1e-5)
            (0.1, "0.1000000000000000055511151231257827021181583404541015625"),
            (10.95, "10.949999999999999289457264239899814128875732421875"),
            (1e-5, "0.000010000000000000000818030539140313095458623138256371021270751953125"),
            (-2.5, "-2.5"),
            (3e9, "3000000000"),
            (0.0, "0"),
        ] {
            assert_eq!(XsDecimal::from_f64(double).map(|v| v.to_string()), Some(decimal.to_string()), "{double}");
        }
        // xs:decimal(1e300): the 301 digits of the double nearest 1e300
        let e300 = XsDecimal::from_f64(1e300).expect("1e300").to_string();
        assert!(e300.starts_with("1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160"));
        assert_eq!(e300.len(), 301);
        // string-length(string(xs:decimal(5e-324))) → 1076 ("0." and 1,074 digits)
        assert_eq!(XsDecimal::from_f64(5e-324).map(|v| v.to_string().len()), Some(1076));
        assert!(XsDecimal::from_f64(f64::NAN).is_none() && XsDecimal::from_f64(f64::INFINITY).is_none());
        assert_eq!(XsDecimal::from_f64(0.1).map(|v| v.kind()), Some(Kind::Unstripped));
    }

    #[test]
    fn beyond_max_digits_a_value_is_an_error() {
        let limit = MAX_DIGITS as usize;
        assert!(XsDecimal::parse(&"9".repeat(limit)).is_ok());
        assert_eq!(XsDecimal::parse(&"9".repeat(limit + 1)), Err(NumberError::TooLong));
        assert_eq!(XsDecimal::parse(&format!("0.{}", "1".repeat(limit + 1))), Err(NumberError::TooLong));
        // Leading zeros of the integer part and trailing zeros of the fraction do not count.
        assert!(XsDecimal::parse(&format!("{}1.5{}", "0".repeat(limit), "0".repeat(limit))).is_ok());
        // A text of millions of digits is refused after one pass over it.
        assert_eq!(XsDecimal::parse(&"7".repeat(3_000_000)), Err(NumberError::TooLong));
        let half = XsDecimal::parse(&"9".repeat(limit / 2 + 1)).expect("half");
        assert_eq!(half.mul(&half), Err(NumberError::TooLong));
        let tiny = XsDecimal::parse(&format!("0.{}1", "0".repeat(limit - 2))).expect("tiny");
        assert_eq!(tiny.mul(&tiny), Err(NumberError::TooLong));
        // 1 div 1E-3999 = 1E3999 has 4,000 digits, 10 div it one more.
        assert_eq!(x("1").div(&tiny).map(|q| q.to_string()), Ok(format!("1{}", "0".repeat(limit - 1))));
        assert_eq!(x("10").div(&tiny), Err(NumberError::TooLong));
        assert_eq!(XsDecimal::parse(&"9".repeat(limit)).and_then(|v| v.div(&tiny)), Err(NumberError::TooLong));
        assert!(NumberError::TooLong.to_string().contains("4000 digits"));
        // The exponent forms keep Decimal's limits (38 digits, exponents up to 400).
        assert!(XsDecimal::parse_literal("1E400").is_err() && XsDecimal::parse_literal("1E-400").is_ok());
    }

    #[test]
    fn an_xs_decimal_takes_no_more_room_than_a_decimal() {
        // Sign, scale, kind and the pointer to a big magnitude fit beside the i128.
        assert_eq!(std::mem::size_of::<XsDecimal>(), std::mem::size_of::<Decimal>());
    }

    #[test]
    fn the_kinds_follow_saxons_classes() {
        // xs:decimal('3000') is an integer value, xs:decimal('3000.0') and xs:decimal of 16
        // characters are BigDecimals, literals are what they look like.
        let kind = |text: &str| XsDecimal::parse(text).map(|v| v.kind());
        assert_eq!(kind("3000"), Ok(Kind::IntegerValued));
        // xs:decimal('-30000000000000') instance of xs:integer → true, with one 0 more → false
        assert_eq!(kind("-30000000000000"), Ok(Kind::IntegerValued));
        assert_eq!(kind("-300000000000000"), Ok(Kind::Stripped));
        assert_eq!(kind("3000."), Ok(Kind::Stripped));
        assert_eq!((x("3000").kind(), x("3000.0").kind()), (Kind::Integer, Kind::Stripped));
        // integer + integer stays an integer, with an integer-valued decimal an integer value,
        // with any other decimal a BigDecimal.
        let int_valued = XsDecimal::parse("7").expect("7");
        assert_eq!(x("1").add(&x("2")).map(|v| v.kind()), Ok(Kind::Integer));
        assert_eq!(x("1").mul(&int_valued).map(|v| v.kind()), Ok(Kind::IntegerValued));
        assert_eq!(x("1").sub(&x("2.0")).map(|v| v.kind()), Ok(Kind::Stripped));
        assert_eq!(x("3000").to_decimal().kind(), Kind::Unstripped);
        assert_eq!(x(A39).to_decimal().kind(), Kind::Stripped);
        assert_eq!(x("3000").to_decimal().negated().kind(), Kind::Stripped);
        assert_eq!(x("3000").to_decimal().round().kind(), Kind::Unstripped);
        assert_eq!(x("3000").to_decimal().floor().kind(), Kind::Stripped);
        // xs:integer() of a text of more than 16 characters is a BigIntegerValue even where it
        // fits a long: 1.0 div xs:decimal(xs:integer(T)) with T = 00000000000000003000 keeps
        // 21 digits, with T = 0000000000003000 (16 characters) 18; so does abs() of it, not + 0.
        let long_text = XsDecimal::parse_integer("00000000000000003000").expect("integer");
        let short_text = XsDecimal::parse_integer("0000000000003000").expect("integer");
        assert_eq!(s(x("1.0").div(&long_text.clone().to_decimal())), "0.000333333333333333333");
        assert_eq!(s(x("1.0").div(&short_text.to_decimal())), "0.000333333333333333");
        assert_eq!(s(x("1.0").div(&long_text.abs().to_decimal())), "0.000333333333333333333");
        assert_eq!(s(x("1.0").div(&long_text.add(&x("0")).expect("sum").to_decimal())), "0.000333333333333333");
        // 1 div xs:integer(T), T = 00000000000000000030: an integer division, stripped → 19 digits
        let thirty = XsDecimal::parse_integer("00000000000000000030").expect("integer");
        assert_eq!(s(x("1").div(&thirty)), "0.0333333333333333333");
    }
}
