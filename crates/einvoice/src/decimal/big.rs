//! An unsigned integer of any size, for the mantissas of decimals beyond an `i128`: limbs of
//! nine decimal digits (base 10⁹), least significant first, so that reading and writing
//! decimal digits and multiplying by powers of ten are linear; multiplication and division
//! are the schoolbook algorithms (Knuth, TAOCP vol. 2, 4.3.1, algorithm D), quadratic in the
//! limbs, which the callers bound ([`super::MAX_DIGITS`]).

use std::cmp::Ordering;

/// The limb base.
const BASE: u64 = 1_000_000_000;
/// Decimal digits per limb.
const LIMB_DIGITS: usize = 9;
/// 10⁰ … 10⁹.
const POW10: [u32; 10] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/// An unsigned integer; no most significant zero limb (zero has no limbs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    pub(super) fn from_u128(mut value: u128) -> BigUint {
        let mut limbs = Vec::with_capacity(5);
        while value > 0 {
            #[allow(clippy::cast_possible_truncation)] // below BASE
            limbs.push((value % u128::from(BASE)) as u32);
            value /= u128::from(BASE);
        }
        BigUint { limbs }
    }

    /// The value, when it fits a `u128`.
    pub(super) fn to_u128(&self) -> Option<u128> {
        self.limbs
            .iter()
            .rev()
            .try_fold(0u128, |acc, &limb| acc.checked_mul(u128::from(BASE))?.checked_add(u128::from(limb)))
    }

    /// The integer of a string of ASCII digits (the caller has checked them).
    pub(super) fn from_digits(digits: &[u8]) -> BigUint {
        let mut limbs = Vec::with_capacity(digits.len() / LIMB_DIGITS + 1);
        for chunk in digits.rchunks(LIMB_DIGITS) {
            limbs.push(chunk.iter().fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')));
        }
        let mut n = BigUint { limbs };
        n.trim();
        n
    }

    /// Appends the decimal digits (`0` for zero).
    pub(super) fn write_digits(&self, out: &mut String) {
        let Some((top, rest)) = self.limbs.split_last() else {
            out.push('0');
            return;
        };
        out.push_str(&top.to_string());
        for limb in rest.iter().rev() {
            out.push_str(&format!("{limb:09}"));
        }
    }

    /// The number of limbs.
    pub(super) fn len(&self) -> usize {
        self.limbs.len()
    }

    pub(super) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// The number of decimal digits (0 for zero).
    pub(super) fn digits(&self) -> usize {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() - 1) * LIMB_DIGITS + POW10.iter().take_while(|&&p| p <= top).count(),
        }
    }

    /// How many decimal zeros end the number (0 for zero).
    pub(super) fn trailing_zeros(&self) -> usize {
        let Some(first) = self.limbs.iter().position(|&l| l != 0) else { return 0 };
        let low = self.limbs[first];
        first * LIMB_DIGITS + POW10[1..].iter().take_while(|&&p| low.is_multiple_of(p)).count()
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// `self × 10^exp`.
    pub(super) fn mul_pow10(&self, exp: usize) -> BigUint {
        if self.is_zero() {
            return BigUint::default();
        }
        let mut limbs = vec![0; exp / LIMB_DIGITS];
        limbs.extend_from_slice(&self.limbs);
        let mut n = BigUint { limbs };
        n.mul_small_in_place(POW10[exp % LIMB_DIGITS]);
        n
    }

    /// `self ÷ 10^exp`, truncated.
    pub(super) fn div_pow10(&self, exp: usize) -> BigUint {
        let whole = exp / LIMB_DIGITS;
        if whole >= self.limbs.len() {
            return BigUint::default();
        }
        let n = BigUint { limbs: self.limbs[whole..].to_vec() };
        n.divrem_small(POW10[exp % LIMB_DIGITS]).0
    }

    fn mul_small_in_place(&mut self, factor: u32) {
        if factor == 1 {
            return;
        }
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(factor) + carry;
            #[allow(clippy::cast_possible_truncation)] // below BASE
            {
                *limb = (v % BASE) as u32;
            }
            carry = v / BASE;
        }
        while carry > 0 {
            #[allow(clippy::cast_possible_truncation)] // below BASE
            self.limbs.push((carry % BASE) as u32);
            carry /= BASE;
        }
        self.trim();
    }

    /// `self × factor` for a factor below the base.
    pub(super) fn mul_small(&self, factor: u32) -> BigUint {
        let mut n = self.clone();
        n.mul_small_in_place(factor);
        n
    }

    /// `self + 1`.
    pub(super) fn add_one(&self) -> BigUint {
        self.add(&BigUint { limbs: vec![1] })
    }

    pub(super) fn add(&self, other: &BigUint) -> BigUint {
        let (long, short) = if self.limbs.len() >= other.limbs.len() { (self, other) } else { (other, self) };
        let mut limbs = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = 0u32;
        for (i, &a) in long.limbs.iter().enumerate() {
            let mut v = a + short.limbs.get(i).copied().unwrap_or(0) + carry;
            carry = u32::from(v >= BASE as u32);
            if carry == 1 {
                v -= BASE as u32;
            }
            limbs.push(v);
        }
        if carry == 1 {
            limbs.push(1);
        }
        BigUint { limbs }
    }

    /// `self − other`; `other` must not be larger.
    pub(super) fn sub(&self, other: &BigUint) -> BigUint {
        debug_assert!(*self >= *other);
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = 0u32;
        for (i, &a) in self.limbs.iter().enumerate() {
            let b = other.limbs.get(i).copied().unwrap_or(0) + borrow;
            if a >= b {
                limbs.push(a - b);
                borrow = 0;
            } else {
                limbs.push(a + BASE as u32 - b);
                borrow = 1;
            }
        }
        let mut n = BigUint { limbs };
        n.trim();
        n
    }

    pub(super) fn mul(&self, other: &BigUint) -> BigUint {
        if self.is_zero() || other.is_zero() {
            return BigUint::default();
        }
        // Products of limbs (below 10^18) add up in u128 columns without a carry per step;
        // the carries are propagated once at the end.
        let mut columns = vec![0u128; self.limbs.len() + other.limbs.len()];
        for (i, &a) in self.limbs.iter().enumerate() {
            let a = u64::from(a);
            for (column, &b) in columns[i..].iter_mut().zip(&other.limbs) {
                *column += u128::from(a * u64::from(b));
            }
        }
        let mut limbs = Vec::with_capacity(columns.len());
        let mut carry = 0u128;
        for column in columns {
            let v = column + carry;
            #[allow(clippy::cast_possible_truncation)] // below BASE
            limbs.push((v % u128::from(BASE)) as u32);
            carry = v / u128::from(BASE);
        }
        let mut n = BigUint { limbs };
        n.trim();
        n
    }

    /// `(self ÷ divisor, self mod divisor)` for a divisor in `1..BASE`.
    pub(super) fn divrem_small(&self, divisor: u32) -> (BigUint, u32) {
        debug_assert!(divisor > 0);
        let mut limbs = vec![0u32; self.limbs.len()];
        let mut rem = 0u64;
        for (i, &limb) in self.limbs.iter().enumerate().rev() {
            let cur = rem * BASE + u64::from(limb);
            #[allow(clippy::cast_possible_truncation)] // below BASE: rem < divisor
            {
                limbs[i] = (cur / u64::from(divisor)) as u32;
            }
            rem = cur % u64::from(divisor);
        }
        let mut q = BigUint { limbs };
        q.trim();
        #[allow(clippy::cast_possible_truncation)] // below divisor
        (q, rem as u32)
    }

    /// `(self ÷ divisor, self mod divisor)`; the divisor must not be zero.
    pub(super) fn divrem(&self, divisor: &BigUint) -> (BigUint, BigUint) {
        debug_assert!(!divisor.is_zero());
        if *self < *divisor {
            return (BigUint::default(), self.clone());
        }
        if let [d] = divisor.limbs[..] {
            let (q, r) = self.divrem_small(d);
            return (q, BigUint::from_u128(u128::from(r)));
        }
        // Normalize so that the divisor's top limb is at least BASE / 2; then each estimate
        // of a quotient limb from the top two limbs is at most two too large.
        #[allow(clippy::cast_possible_truncation)] // at most BASE / 2
        let factor = (BASE / (u64::from(*divisor.limbs.last().unwrap_or(&1)) + 1)) as u32;
        let v = divisor.mul_small(factor).limbs;
        let mut u = self.mul_small(factor).limbs;
        if u.len() == self.limbs.len() {
            u.push(0);
        }
        let n = v.len();
        let m = u.len() - n;
        let (v_top, v_next) = (u64::from(v[n - 1]), u64::from(v[n - 2]));
        let mut q = vec![0u32; m];
        for j in (0..m).rev() {
            let top = u64::from(u[j + n]) * BASE + u64::from(u[j + n - 1]);
            let mut qhat = top / v_top;
            let mut rhat = top % v_top;
            while qhat >= BASE || qhat * v_next > rhat * BASE + u64::from(u[j + n - 2]) {
                qhat -= 1;
                rhat += v_top;
                if rhat >= BASE {
                    break;
                }
            }
            // u[j..=j+n] -= qhat × v
            let mut borrow = 0i64;
            let mut carry = 0u64;
            for i in 0..n {
                let p = qhat * u64::from(v[i]) + carry;
                carry = p / BASE;
                #[allow(clippy::cast_possible_wrap)] // both below BASE
                let t = i64::from(u[i + j]) - (p % BASE) as i64 - borrow;
                borrow = i64::from(t < 0);
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in 0..BASE
                {
                    u[i + j] = (t + borrow * BASE as i64) as u32;
                }
            }
            #[allow(clippy::cast_possible_wrap)] // below BASE
            let t = i64::from(u[j + n]) - carry as i64 - borrow;
            if t < 0 {
                // qhat was one too large: add the divisor back.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in 0..BASE
                {
                    u[j + n] = (t + BASE as i64) as u32;
                }
                qhat -= 1;
                let mut carry = 0u32;
                for i in 0..n {
                    let mut s = u[i + j] + v[i] + carry;
                    carry = u32::from(s >= BASE as u32);
                    if carry == 1 {
                        s -= BASE as u32;
                    }
                    u[i + j] = s;
                }
                // The carry out of the top limb cancels the borrow taken above.
                u[j + n] = (u[j + n] + carry) % BASE as u32;
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in 0..BASE
                {
                    u[j + n] = t as u32;
                }
            }
            #[allow(clippy::cast_possible_truncation)] // below BASE
            {
                q[j] = qhat as u32;
            }
        }
        let mut quotient = BigUint { limbs: q };
        quotient.trim();
        u.truncate(n);
        let mut rem = BigUint { limbs: u };
        rem.trim();
        (quotient, rem.divrem_small(factor).0)
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs.len().cmp(&other.limbs.len()).then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(digits: &str) -> BigUint {
        BigUint::from_digits(digits.as_bytes())
    }

    fn s(n: &BigUint) -> String {
        let mut out = String::new();
        n.write_digits(&mut out);
        out
    }

    #[test]
    fn digits_in_and_out() {
        for text in ["0", "7", "999999999", "1000000000", "123456789012345678901234567890", "100000000000000000000"] {
            assert_eq!(s(&n(text)), text);
        }
        assert_eq!(s(&n("000012")), "12");
        assert_eq!((n("1000000000").digits(), n("999999999").digits(), n("0").digits()), (10, 9, 0));
        assert_eq!(
            (n("12000000000000").trailing_zeros(), n("7").trailing_zeros(), n("0").trailing_zeros()),
            (12, 0, 0)
        );
        assert_eq!(n("340282366920938463463374607431768211455").to_u128(), Some(u128::MAX));
        assert_eq!(n("340282366920938463463374607431768211456").to_u128(), None);
        assert_eq!(BigUint::from_u128(u128::MAX), n("340282366920938463463374607431768211455"));
    }

    #[test]
    fn arithmetic_against_u128() {
        // Pseudo-random operands (a linear congruential generator), compared with u128.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            x
        };
        for _ in 0..20_000 {
            let shift = next() % 64;
            let a = u128::from(next() >> shift) * u128::from(next() % 1000 + 1);
            let b = u128::from(next() >> (next() % 64)).max(1);
            let (ba, bb) = (BigUint::from_u128(a), BigUint::from_u128(b));
            assert_eq!(ba.add(&bb).to_u128(), a.checked_add(b), "{a} + {b}");
            if a >= b {
                assert_eq!(ba.sub(&bb).to_u128(), Some(a - b), "{a} - {b}");
            }
            if let Some(p) = a.checked_mul(b) {
                assert_eq!(ba.mul(&bb).to_u128(), Some(p), "{a} * {b}");
            }
            let (q, r) = ba.divrem(&bb);
            assert_eq!((q.to_u128(), r.to_u128()), (Some(a / b), Some(a % b)), "{a} / {b}");
            assert_eq!(ba.cmp(&bb), a.cmp(&b));
        }
    }

    #[test]
    fn long_division_reassembles_the_dividend() {
        // (q × d + r = n, r < d) for operands of many limbs, including the rare add-back step
        // of algorithm D (divisors with a top limb just above half the base).
        let cases = [
            ("123456789012345678901234567890123456789012345678901234567890", "987654321098765432109876543210"),
            ("100000000000000000000000000000000000000000000000000000000000000000", "500000000000000000000000000001"),
            ("999999999999999999999999999999999999999999999999999999", "500000000999999999999999999"),
            ("4611686018427387904000000000000000000000000000000000000000", "500000001000000000000000001"),
            ("1000000000000000000000000000000000000000000000000000000000000", "999999999999999999999999999999"),
            ("170141183460469231731687303715884105728", "18446744073709551616"),
        ];
        for (num, den) in cases {
            let (a, b) = (n(num), n(den));
            let (q, r) = a.divrem(&b);
            assert!(r < b, "{num} / {den}");
            assert_eq!(q.mul(&b).add(&r), a, "{num} / {den}");
        }
        assert_eq!(s(&n("123456789123456789").mul_pow10(20)), "12345678912345678900000000000000000000");
        assert_eq!(s(&n("12345678912345678900000000000000000000").div_pow10(25)), "1234567891234");
        assert_eq!(s(&n("12345").div_pow10(30)), "0");
    }

    #[test]
    fn many_limb_arithmetic_is_consistent() {
        // Random numbers of 1 to 300 digits (many limbs, top limbs of every size, so that
        // algorithm D's estimates and its add-back step are exercised): a + b - b = a,
        // a × b ÷ b = a remainder 0, and q × d + r = n with r < d.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let number = |next: &mut dyn FnMut() -> u64| {
            let len = 1 + next() % 300;
            let mut digits: Vec<u8> = (0..len).map(|_| b'0' + u8::try_from(next() % 10).expect("a digit")).collect();
            // Runs of nines and zeros make limbs at the edges of the base.
            if next().is_multiple_of(3) {
                let at = usize::try_from(next() % len).expect("small");
                let fill = if next().is_multiple_of(2) { b'9' } else { b'0' };
                digits[at..].iter_mut().for_each(|d| *d = fill);
            }
            digits[0] = digits[0].max(b'1');
            BigUint::from_digits(&digits)
        };
        for _ in 0..3_000 {
            let (a, b) = (number(&mut next), number(&mut next));
            assert_eq!(a.add(&b).sub(&b), a, "{} {}", s(&a), s(&b));
            let (q, r) = a.mul(&b).divrem(&b);
            assert!(q == a && r.is_zero(), "{} {}", s(&a), s(&b));
            let (q, r) = a.divrem(&b);
            assert!(r < b, "{} {}", s(&a), s(&b));
            assert_eq!(q.mul(&b).add(&r), a, "{} {}", s(&a), s(&b));
        }
    }
}
