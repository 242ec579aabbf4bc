//! Interface languages and texts kept in both of them.

use serde::{Deserialize, Serialize};

/// A language the platform speaks. Vietnamese first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// The BCP 47 tag, as used in `<html lang>` and resource file names.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Reads a tag such as `en`, `en-GB` or `vi-VN`; anything else is `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A text given in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Localized {
    pub vi: String,
    pub en: String,
}

impl Localized {
    /// The text in `lang`, falling back to Vietnamese (the authoritative language) when the
    /// English one is missing.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En if !self.en.is_empty() => &self.en,
            _ => &self.vi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_regions_are_read_by_their_primary_language() {
        assert_eq!(Lang::from_tag("vi-VN"), Some(Lang::Vi));
        assert_eq!(Lang::from_tag("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::from_tag(""), None);
    }

    #[test]
    fn a_missing_english_text_falls_back_to_vietnamese() {
        let text = Localized {
            vi: "Khai sinh".into(),
            en: String::new(),
        };
        assert_eq!(text.get(Lang::En), "Khai sinh");
    }
}
