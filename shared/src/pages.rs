//! The PWA's entry bundles and which pages each holds. Every bundle is its own small first load:
//! the public pages (a visitor, a verifier), filing and following dossiers, the account, and the
//! officers' back office. The server answers a page's path with its bundle's shell; moving to a
//! page of another bundle is a page load (from the service worker's cache after the first visit).

/// One entry bundle of the PWA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    /// Home, the catalogue, one procedure, and "not found".
    Public,
    /// Filing a procedure, my dossiers, one dossier.
    Citizen,
    /// Sign-in, profile, passkeys, devices, who read my data.
    Account,
    /// The one-stop back office.
    Office,
    /// Checking a credential's QR: for anyone, no account, works offline after one visit.
    Verifier,
}

impl Bundle {
    pub const ALL: [Bundle; 5] = [
        Bundle::Public,
        Bundle::Citizen,
        Bundle::Account,
        Bundle::Office,
        Bundle::Verifier,
    ];

    /// Its name: the client binary, the JS and wasm files, the shell page (`{name}.html`, and
    /// `index.html` for the public bundle).
    pub fn name(self) -> &'static str {
        match self {
            Bundle::Public => "public",
            Bundle::Citizen => "citizen",
            Bundle::Account => "account",
            Bundle::Office => "office",
            Bundle::Verifier => "verifier",
        }
    }

    /// The HTML page that loads it.
    pub fn shell(self) -> &'static str {
        match self {
            Bundle::Public => "index.html",
            Bundle::Citizen => "citizen.html",
            Bundle::Account => "account.html",
            Bundle::Office => "office.html",
            Bundle::Verifier => "verifier.html",
        }
    }
}

/// Which bundle holds which pages, as path patterns: `*` is one segment, `**` one or more.
/// The one map: the server answers pages by it, and the service worker's copy is generated from
/// it when the PWA is built. Paths that match none belong to the public bundle.
pub const PAGES: &[(&str, Bundle)] = &[
    ("/procedures/*/file", Bundle::Citizen),
    ("/dossiers", Bundle::Citizen),
    ("/dossiers/**", Bundle::Citizen),
    ("/wallet", Bundle::Citizen),
    ("/payments/**", Bundle::Citizen),
    ("/business", Bundle::Citizen),
    ("/feedback", Bundle::Citizen),
    ("/account", Bundle::Account),
    ("/office", Bundle::Office),
    ("/office/**", Bundle::Office),
    ("/verify", Bundle::Verifier),
];

/// Whether `path` (without a trailing slash) matches `pattern` of [`PAGES`].
fn matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/').skip(1);
    let mut have = path.split('/').skip(1);
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some("**"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

/// The bundle holding the page at `path`; unknown paths belong to the public bundle (which says
/// "not found").
pub fn bundle_of(path: &str) -> Bundle {
    let path = path.trim_end_matches('/');
    PAGES
        .iter()
        .find(|(pattern, _)| matches(pattern, path))
        .map_or(Bundle::Public, |(_, bundle)| *bundle)
}

#[cfg(test)]
mod tests {
    use super::{Bundle, bundle_of};

    #[test]
    fn each_page_belongs_to_one_bundle() {
        let expected = [
            ("/", Bundle::Public),
            ("/procedures", Bundle::Public),
            ("/procedures/1.002804", Bundle::Public),
            ("/verify", Bundle::Verifier),
            ("/no/such/page", Bundle::Public),
            ("/procedures/1.002804/file", Bundle::Citizen),
            ("/dossiers", Bundle::Citizen),
            ("/dossiers/abc", Bundle::Citizen),
            ("/wallet", Bundle::Citizen),
            ("/account", Bundle::Account),
            ("/account/", Bundle::Account),
            ("/office", Bundle::Office),
            ("/office/abc", Bundle::Office),
            ("/procedures/1.002804/file/x", Bundle::Public),
            ("/walletx", Bundle::Public),
        ];
        for (path, bundle) in expected {
            assert_eq!(bundle_of(path), bundle, "{path}");
        }
    }
}
