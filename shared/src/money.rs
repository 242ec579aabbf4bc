//! Money: whole Vietnamese đồng, never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in VND. The đồng has no minor unit in use, so an integer is exact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Vnd(pub i64);

impl Vnd {
    pub const ZERO: Vnd = Vnd(0);

    pub fn is_free(self) -> bool {
        self.0 == 0
    }
}

/// Written the Vietnamese way, dots between thousands: `135.000 ₫`.
impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{grouped} ₫")
    }
}

#[cfg(test)]
mod tests {
    use super::Vnd;

    #[test]
    fn amounts_are_grouped_by_thousands_with_dots() {
        assert_eq!(Vnd(0).to_string(), "0 ₫");
        assert_eq!(Vnd(999).to_string(), "999 ₫");
        assert_eq!(Vnd(135_000).to_string(), "135.000 ₫");
        assert_eq!(Vnd(1_234_567_890).to_string(), "1.234.567.890 ₫");
        assert_eq!(Vnd(-20_000).to_string(), "-20.000 ₫");
    }
}
