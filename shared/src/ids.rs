//! Identity numbers of people and organisations, parsed once at the edge: a `Cccd` or a
//! `TaxCode` value is always well-formed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identity number was refused. The messages tell a person how to fix the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("Enter the 12 digits of the citizen ID number")]
    CccdLength,
    #[error("The first 3 digits of a citizen ID number are a province code; {0} is not one")]
    CccdProvince(String),
    #[error("Enter the tax code as 10 digits, or 10 digits, a dash and 3 digits for a branch")]
    TaxCodeFormat,
    #[error("This tax code's check digit does not match: check the number")]
    TaxCodeCheckDigit,
}

/// The province codes that open a citizen ID number (Circular 59/2021/TT-BCA, annex).
const CCCD_PROVINCES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

/// CCCD: the 12-digit citizen identification number. Digits 1-3 are the province of birth
/// registration, digit 4 encodes century and sex, digits 5-6 the year of birth.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cccd(String);

impl Cccd {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::CccdLength);
        }
        let province: u16 = digits[..3].parse().map_err(|_| IdError::CccdLength)?;
        if !CCCD_PROVINCES.contains(&province) {
            return Err(IdError::CccdProvince(digits[..3].to_string()));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last 4 digits hidden, for logs and lists.
    pub fn masked(&self) -> String {
        format!("********{}", &self.0[8..])
    }
}

/// Debug never prints the full number: it is personal data and Debug output ends in logs.
impl fmt::Debug for Cccd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cccd({})", self.masked())
    }
}

impl fmt::Display for Cccd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// MST: a Vietnamese tax code, 10 digits with a check digit, or 13 for a branch
/// (written `0100109106-001`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaxCode(String);

/// Weights of the first nine digits in the tax code's check digit.
const TAX_CODE_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

impl TaxCode {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let trimmed = input.trim();
        let (main, branch) = match trimmed.len() {
            10 => (trimmed, None),
            13 => (&trimmed[..10], Some(&trimmed[10..])),
            14 if trimmed.as_bytes()[10] == b'-' => (&trimmed[..10], Some(&trimmed[11..])),
            _ => return Err(IdError::TaxCodeFormat),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(main) || !branch.is_none_or(all_digits) {
            return Err(IdError::TaxCodeFormat);
        }
        let digits: Vec<u32> = main.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits[..9]
            .iter()
            .zip(TAX_CODE_WEIGHTS)
            .map(|(d, w)| d * w)
            .sum();
        if 10 - (sum % 11) != digits[9] {
            return Err(IdError::TaxCodeCheckDigit);
        }
        Ok(Self(match branch {
            Some(b) => format!("{main}-{b}"),
            None => main.to_string(),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! serde_as_parsed_string {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                <$ty>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_parsed_string!(Cccd);
serde_as_parsed_string!(TaxCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twelve_digit_number_with_a_province_code_is_a_cccd() {
        let id = Cccd::parse("001 099 012 345").expect("valid");
        assert_eq!(id.as_str(), "001099012345");
        assert_eq!(format!("{id:?}"), "Cccd(********2345)");
    }

    #[test]
    fn wrong_lengths_letters_and_unknown_provinces_are_not_cccds() {
        assert_eq!(Cccd::parse("00109901234"), Err(IdError::CccdLength));
        assert_eq!(Cccd::parse("0010990123456"), Err(IdError::CccdLength));
        assert_eq!(Cccd::parse("00109901234a"), Err(IdError::CccdLength));
        assert_eq!(Cccd::parse("٠٠١٠٩٩٠١٢٣٤٥"), Err(IdError::CccdLength));
        assert_eq!(
            Cccd::parse("003099012345"),
            Err(IdError::CccdProvince("003".into()))
        );
    }

    #[test]
    fn tax_codes_are_checked_by_their_check_digit() {
        assert_eq!(
            TaxCode::parse("0100109106").expect("valid").as_str(),
            "0100109106"
        );
        assert_eq!(
            TaxCode::parse("0101243150").expect("valid").as_str(),
            "0101243150"
        );
        assert_eq!(
            TaxCode::parse("0100109107"),
            Err(IdError::TaxCodeCheckDigit)
        );
    }

    #[test]
    fn branch_tax_codes_take_a_dash_or_none() {
        assert_eq!(
            TaxCode::parse("0100109106-001").expect("valid").as_str(),
            "0100109106-001"
        );
        assert_eq!(
            TaxCode::parse("0100109106001").expect("valid").as_str(),
            "0100109106-001"
        );
        assert_eq!(
            TaxCode::parse("0100109106_001"),
            Err(IdError::TaxCodeFormat)
        );
        assert_eq!(TaxCode::parse("01001091"), Err(IdError::TaxCodeFormat));
        assert_eq!(TaxCode::parse("01001091é6"), Err(IdError::TaxCodeFormat));
    }

    #[test]
    fn json_input_is_parsed_not_trusted() {
        let ok: Cccd = serde_json::from_str("\"079203000123\"").expect("valid");
        assert_eq!(ok.as_str(), "079203000123");
        assert!(serde_json::from_str::<Cccd>("\"12\"").is_err());
        assert!(serde_json::from_str::<TaxCode>("\"0100109107\"").is_err());
    }
}
