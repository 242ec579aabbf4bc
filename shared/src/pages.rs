//! Which pages the PWA's public bundle holds. The server answers those paths with the public
//! shell (a small first load for visitors and verifiers) and every other page with the full app.

/// `/`, `/procedures`, `/procedures/{code}` and `/verify` (with anything below it).
pub fn is_public_page(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    matches!(
        segments.as_slice(),
        [] | [""] | ["procedures"] | ["procedures", _] | ["verify", ..]
    )
}

#[cfg(test)]
mod tests {
    use super::is_public_page;

    #[test]
    fn public_pages_are_the_catalogue_and_verification() {
        for path in [
            "/",
            "/procedures",
            "/procedures/1.002804",
            "/verify",
            "/verify/abc",
        ] {
            assert!(is_public_page(path), "{path}");
        }
        for path in [
            "/account",
            "/dossiers",
            "/dossiers/1",
            "/procedures/1.002804/file",
            "/office",
            "/wallet",
        ] {
            assert!(!is_public_page(path), "{path}");
        }
    }
}
