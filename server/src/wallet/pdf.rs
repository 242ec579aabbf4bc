//! The printable form of a credential: one A4 page in Vietnamese with the national heading,
//! the result's title, issuer, fields, dates and status, and its QR, which any phone verifies
//! (the paper is only as good as the QR on it). Written by krilla with DejaVu Sans embedded
//! (subset), which has every Vietnamese letter; text is measured with ttf-parser to centre and
//! wrap it.

use krilla::{
    Document,
    color::rgb,
    geom::{PathBuilder, Point, Rect},
    metadata::Metadata,
    page::PageSettings,
    paint::Fill,
    text::{Font, TextDirection},
};
use motcua_shared::{
    Lang,
    credential::{claim_rows, qr_modules, status::Status},
    time::{format_vn_date, format_vn_datetime},
    wallet_api::WalletCredential,
};
use unicode_normalization::UnicodeNormalization;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const QR_SIDE: f32 = 190.0;

/// A font for drawing and the same font's metrics for measuring.
struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

impl Face {
    fn load(bytes: &'static [u8]) -> anyhow::Result<Face> {
        Ok(Face {
            font: Font::new(bytes.into(), 0).ok_or_else(|| anyhow::anyhow!("the font reads"))?,
            metrics: ttf_parser::Face::parse(bytes, 0)?,
        })
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.metrics
                    .glyph_index(c)
                    .and_then(|g| self.metrics.glyph_hor_advance(g))
                    .map_or(0.0, f32::from)
            })
            .sum();
        units * size / f32::from(self.metrics.units_per_em())
    }

    /// `text` broken into lines no wider than `max` at `size` (at spaces; a word longer than a
    /// line, such as a hash, at characters).
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                if self.width(&format!("{line}{c}"), size) > max && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

fn text(key: &str, params: &[(&str, String)]) -> String {
    crate::i18n::text(Lang::Vi, key, params).unwrap_or_else(|| key.to_owned())
}

fn status_text(status: Status) -> String {
    text(
        match status {
            Status::Valid => "wallet.status.valid",
            Status::Revoked => "wallet.status.revoked",
            Status::Suspended => "wallet.status.suspended",
            Status::Replaced => "wallet.status.replaced",
        },
        &[],
    )
}

/// The PDF of `credential` as its holder downloads it at `now_ms`; `verify_url` is where a
/// phone checks the QR.
pub fn render(
    credential: &WalletCredential,
    verify_url: &str,
    now_ms: i64,
) -> anyhow::Result<Vec<u8>> {
    let regular = Face::load(dejavu::sans::regular())?;
    let bold = Face::load(dejavu::sans::bold())?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(credential.title.vi.clone())
            .language("vi".into())
            .creator("motcua".into()),
    );
    let mut page = document.start_page_with(
        PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| anyhow::anyhow!("an A4 page"))?,
    );
    let mut surface = page.surface();
    let ink = |grey: u8| Fill {
        paint: rgb::Color::new(grey, grey, grey).into(),
        ..Fill::default()
    };
    let usable = WIDTH - 2.0 * MARGIN;
    let mut y = MARGIN;

    // Draws `line` (NFC, so precomposed Vietnamese letters are used) at `y`, centred or not.
    let line_at = |surface: &mut krilla::surface::Surface<'_>,
                   face: &Face,
                   size: f32,
                   line: &str,
                   y: f32,
                   centred: bool| {
        let line: String = line.nfc().collect();
        let x = if centred {
            (WIDTH - face.width(&line, size)) / 2.0
        } else {
            MARGIN
        };
        surface.draw_text(
            Point::from_xy(x, y),
            face.font.clone(),
            size,
            &line,
            false,
            TextDirection::Auto,
        );
    };

    // The national heading, underlined as official papers are.
    surface.set_fill(Some(ink(0)));
    y += 12.0;
    line_at(&mut surface, &bold, 12.0, &text("pdf.nation", &[]), y, true);
    y += 17.0;
    let motto = text("pdf.motto", &[]);
    line_at(&mut surface, &bold, 12.0, &motto, y, true);
    let motto_width = bold.width(&motto, 12.0);
    let mut rule = PathBuilder::new();
    if let Some(r) = Rect::from_xywh((WIDTH - motto_width) / 2.0, y + 4.0, motto_width, 0.8) {
        rule.push_rect(r);
    }
    if let Some(rule) = rule.finish() {
        surface.draw_path(&rule);
    }

    // The issuer, the title.
    y += 40.0;
    surface.set_fill(Some(ink(60)));
    let issuer = format!("{}: {}", text("pdf.issuer", &[]), credential.issuer.name.vi);
    for l in regular.wrap(&issuer, 11.0, usable) {
        line_at(&mut surface, &regular, 11.0, &l, y, false);
        y += 15.0;
    }
    y += 22.0;
    surface.set_fill(Some(ink(0)));
    for l in bold.wrap(&credential.title.vi.to_uppercase(), 17.0, usable) {
        line_at(&mut surface, &bold, 17.0, &l, y, true);
        y += 23.0;
    }
    y += 14.0;

    // The fields, then the dates and the status, each a label over its value.
    let mut rows: Vec<(String, String)> = claim_rows(&credential.claims.fields)
        .into_iter()
        .map(|(key, value)| (text(key, &[]), value))
        .collect();
    rows.push((
        text("wallet.issued_at", &[]),
        format_vn_date(&credential.issued_at),
    ));
    if let Some(until) = &credential.expires_at {
        rows.push((text("wallet.expires_at", &[]), format_vn_date(until)));
    }
    rows.push((text("pdf.id", &[]), credential.id.clone()));
    rows.push((text("pdf.status", &[]), status_text(credential.status)));
    for (label, value) in rows {
        surface.set_fill(Some(ink(90)));
        line_at(&mut surface, &regular, 9.5, &label, y, false);
        y += 14.0;
        surface.set_fill(Some(ink(0)));
        for l in regular.wrap(&value, 12.0, usable) {
            line_at(&mut surface, &regular, 12.0, &l, y, false);
            y += 16.0;
        }
        y += 6.0;
    }

    // The QR, as dark squares (runs of a row merged), centred, with how to check it.
    let (side, dark) = qr_modules(&credential.qr)
        .ok_or_else(|| anyhow::anyhow!("the credential's text fits no QR"))?;
    let module = QR_SIDE / side as f32;
    let left = (WIDTH - QR_SIDE) / 2.0;
    let top = (y + 24.0).min(HEIGHT - MARGIN - QR_SIDE - 90.0);
    let mut squares = PathBuilder::new();
    for row in 0..side {
        let mut col = 0;
        while col < side {
            if !dark[row * side + col] {
                col += 1;
                continue;
            }
            let start = col;
            while col < side && dark[row * side + col] {
                col += 1;
            }
            if let Some(r) = Rect::from_xywh(
                left + start as f32 * module,
                top + row as f32 * module,
                (col - start) as f32 * module,
                module,
            ) {
                squares.push_rect(r);
            }
        }
    }
    surface.set_fill(Some(ink(0)));
    if let Some(squares) = squares.finish() {
        surface.draw_path(&squares);
    }
    let mut y = top + QR_SIDE + 24.0;
    surface.set_fill(Some(ink(40)));
    let how = text(
        "pdf.how_to_verify",
        &[
            ("issuer", credential.issuer.name.vi.clone()),
            ("url", verify_url.to_owned()),
        ],
    );
    for l in regular.wrap(&how, 9.5, usable) {
        line_at(&mut surface, &regular, 9.5, &l, y, true);
        y += 13.0;
    }
    surface.set_fill(Some(ink(110)));
    line_at(
        &mut surface,
        &regular,
        8.5,
        &text("pdf.printed", &[("when", format_vn_datetime(now_ms))]),
        HEIGHT - MARGIN / 2.0,
        true,
    );
    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| anyhow::anyhow!("writing the PDF: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_within_the_width_and_keep_every_word() {
        let face = Face::load(dejavu::sans::regular()).expect("font");
        let text = "Số 12 phố Hàng Bông, Phường Hàng Trống, Quận Hoàn Kiếm, Thành phố Hà Nội";
        let lines = face.wrap(text, 12.0, 150.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(
            lines.iter().all(|l| face.width(l, 12.0) <= 150.0),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), text);
        // A hash has no spaces: it breaks anywhere.
        let hash = "a".repeat(64);
        let lines = face.wrap(&hash, 12.0, 150.0);
        assert!(lines.len() > 1 && lines.concat() == hash);
    }

    #[test]
    fn vietnamese_letters_all_have_glyphs() {
        let face = Face::load(dejavu::sans::regular()).expect("font");
        for c in "ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵĐ".chars()
        {
            assert!(face.metrics.glyph_index(c).is_some(), "{c}");
        }
    }
}
