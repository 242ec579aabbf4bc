//! Small security primitives used across capabilities: random tokens, hashing of stored
//! secrets, constant-time comparison.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes from the operating system, base64url-encoded (no padding).
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS random source failing is not recoverable; a predictable token would be worse.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buffer).expect("the operating system's random source is unavailable");
    URL_SAFE_NO_PAD.encode(buffer)
}

/// Hex SHA-256 of `text`: what the database keeps of cookie secrets and OAuth states.
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// Hex SHA-256 of `bytes`: also the name of a stored document.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of `bytes`, base64url-encoded: the PKCE S256 transform (RFC 7636).
pub fn sha256_b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// Writes a new file (never an existing one) readable and writable by this user only: keys.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    #[cfg(unix)]
    {
        use std::{io::Write, os::unix::fs::OpenOptionsExt};
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, bytes).with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// Compares two secrets without leaking where they differ through timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Text from outside (a query parameter, a header) made safe to put in a log line: control
/// characters (a newline that would start a forged line, terminal escapes) are written escaped,
/// and the text is cut at `max` characters.
pub fn log_safe(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_from_outside_cannot_start_a_new_log_line() {
        let forged =
            "access_denied\n2026-11-30T00:00:00Z INFO signed in person=001088012345\u{1b}[2J";
        let safe = super::log_safe(forged, 200);
        assert!(!safe.chars().any(char::is_control), "{safe}");
        assert!(safe.starts_with("access_denied\\n2026"), "{safe}");
        assert_eq!(super::log_safe("Xin chào", 200), "Xin chào");
        assert_eq!(super::log_safe("abcdef", 3), "abc");
    }

    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token(32);
        let b = random_token(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            sha256_b64url(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_compare_by_value() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
