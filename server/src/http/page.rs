//! Keyset pagination of lists: `?limit=N&after=CURSOR`. A page holds at most [`MAX_PAGE`] items
//! ([`DEFAULT_PAGE`] when `limit` is not given), and a list's `next` is the cursor of the page
//! after it, absent on the last page. A cursor names the last item shown by its sort key and id,
//! so a page is read from the index where the previous one stopped, however deep, and items
//! added meanwhile neither repeat nor shift the pages.

use motcua_shared::ErrorCode;
use serde::Deserialize;

use crate::error::ApiError;

/// Items in a page when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 50;
/// The largest `limit` a list accepts.
pub const MAX_PAGE: u32 = 200;

/// The query parameters of a paginated list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many items (1 to 200; 50 when not given).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next` of the previous page; the first page without it.
    #[param(max_length = 120)]
    pub after: Option<String>,
}

/// A checked page request.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub limit: u32,
    /// The sort key and id of the last item already shown.
    pub after: Option<(i64, String)>,
}

impl PageQuery {
    /// The page asked for; 400 `invalid_page_size` or `invalid_cursor` otherwise.
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(
                ApiError::bad_request(ErrorCode::InvalidPageSize).with("max", MAX_PAGE.to_string())
            );
        }
        let after = match &self.after {
            None => None,
            Some(text) => Some(
                read_cursor(text).ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidCursor))?,
            ),
        };
        Ok(Page { limit, after })
    }
}

/// `KEY_ID`: a decimal key, then the id (letters, digits, `-`, `_`, `:`; at most 100).
fn read_cursor(text: &str) -> Option<(i64, String)> {
    let (key, id) = text.split_once('_')?;
    let key: i64 = key.parse().ok()?;
    let id_ok = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'));
    id_ok.then(|| (key, id.to_owned()))
}

fn cursor(key: i64, id: &str) -> String {
    format!("{key}_{id}")
}

impl Page {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Page {
        Page { limit, after: None }
    }

    /// How many rows to read: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The cursor as bind values for a list newest first (`key desc, id`): `key < $k or (key =
    /// $k and id > $id)`; above every real key on the first page.
    pub fn below(&self) -> (i64, &str) {
        match &self.after {
            Some((key, id)) => (*key, id),
            None => (i64::MAX, ""),
        }
    }

    /// The cursor as bind values for a list in ascending order (`key, id`): `key > $k or (key =
    /// $k and id > $id)`.
    pub fn above(&self) -> (i64, &str) {
        match &self.after {
            Some((key, id)) => (*key, id),
            None => (i64::MIN, ""),
        }
    }

    /// The page of `rows` (read with [`Page::fetch`]) and the cursor of the next, if any.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (i64, &str),
    ) -> (Vec<T>, Option<String>) {
        let limit = self.limit as usize;
        if rows.len() <= limit {
            return (rows, None);
        }
        rows.truncate(limit);
        let next = rows.last().map(|last| {
            let (k, id) = key(last);
            cursor(k, id)
        });
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(limit: Option<u32>, after: Option<&str>) -> Result<Page, ApiError> {
        PageQuery {
            limit,
            after: after.map(str::to_owned),
        }
        .page()
    }

    #[test]
    fn a_page_is_between_one_and_the_maximum() {
        assert_eq!(asked(None, None).expect("a page").limit, DEFAULT_PAGE);
        assert_eq!(asked(Some(1), None).expect("a page").limit, 1);
        assert_eq!(asked(Some(MAX_PAGE), None).expect("a page").limit, MAX_PAGE);
        for bad in [0, MAX_PAGE + 1, u32::MAX] {
            let e = asked(Some(bad), None).expect_err("refused");
            assert_eq!(e.problem().code, ErrorCode::InvalidPageSize, "{bad}");
        }
    }

    #[test]
    fn a_cursor_reads_back_and_nothing_else_does() {
        let page = Page::first(2);
        let (rows, next) = page.finish(vec![(5, "a"), (4, "b_c"), (3, "d")], |r| (r.0, r.1));
        assert_eq!(rows.len(), 2);
        let next = next.expect("a third row follows");
        assert_eq!(next, "4_b_c");
        assert_eq!(
            asked(None, Some(&next)).expect("a page").after,
            Some((4, "b_c".into()))
        );
        assert_eq!(
            asked(None, Some("-7_x")).expect("a page").after,
            Some((-7, "x".into()))
        );
        for bad in [
            "",
            "4",
            "4_",
            "x_a",
            "4_a b",
            "4_a'",
            "99999999999999999999_a",
            &format!("1_{}", "a".repeat(101)),
        ] {
            let e = asked(None, Some(bad)).expect_err("refused");
            assert_eq!(e.problem().code, ErrorCode::InvalidCursor, "{bad:?}");
        }
    }

    #[test]
    fn the_last_page_has_no_next() {
        let page = Page::first(3);
        let (rows, next) = page.finish(vec![1, 2, 3], |r| (*r, "x"));
        assert_eq!((rows.len(), next), (3, None));
        assert_eq!(page.below(), (i64::MAX, ""));
        assert_eq!(page.above(), (i64::MIN, ""));
        assert_eq!(page.fetch(), 4);
    }
}
