//! `bench-credentials`: how fast a credential is verified (decode, inflate, CBOR, COSE,
//! Ed25519, checks) against raw Ed25519 verifications of the same bytes, measured in the same
//! run; and the QR version (level Q) of each kind of credential, with the licence also encoded
//! the EU DCC way (text keys and string values) for comparison.

use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey, Verifier};
use motcua_server::wallet::issue::{self, Holder};
use motcua_shared::{
    Localized,
    calendar::Day,
    credential::{self, Credential, StatusRef, TrustedKey, qr_svg},
};
use serde_json::{Map, Value, json};

/// Runs `f` repeatedly for about `for_how_long`; returns calls per second.
fn rate(for_how_long: Duration, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < for_how_long {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let keys = [TrustedKey {
        kid: "a1b2".into(),
        agency: "CA-PCSGT".into(),
        agency_name: "Phòng Cảnh sát giao thông".into(),
        public_key: credential::public_hex(&key),
        valid_from: 0,
        valid_until: None,
        withdrawn: false,
    }];
    let today = Day::of_instant(motcua_server::store::now_ms());
    let holder = Holder {
        name: "Nguyễn Văn An",
        cccd: "001088012345",
    };
    let answers: Map<String, Value> = serde_json::from_value(json!({
        "licence_number": "010123456789",
        "licence_classes": "B",
        "residence": { "province": "01", "district": "002", "commune": "00070", "street": "Số 12 phố Hàng Bông" },
        "child_name": "Nguyễn Thị Mai",
        "child_birth_date": "2026-10-01",
    }))
    .unwrap_or_default();
    let title = |vi: &str| Localized {
        vi: vi.into(),
        en: vi.into(),
    };
    // The status list at a production-length address.
    let sign = |draft: &issue::Draft| {
        let c = Credential {
            kind: draft.kind,
            id: "a1b2c3d4e5f6".into(),
            issuer: String::new(),
            issued_on: draft.issued_on.clone(),
            valid_until: draft.valid_until.clone(),
            status: Some(StatusRef {
                idx: 98_765,
                uri: "https://dichvucong.gov.vn/s/1".into(),
            }),
            fields: draft.fields.clone(),
        };
        credential::issue(&c, &[0xa1, 0xb2], &key)
    };
    let kinds = [
        ("driving-licence", "Giấy phép lái xe"),
        ("birth-certificate", "Giấy khai sinh"),
        (
            "permanent-residence-confirmation",
            "Xác nhận đăng ký thường trú",
        ),
        ("health-insurance-card", "Thẻ bảo hiểm y tế"),
        ("judicial-record", "Phiếu lý lịch tư pháp số 1"),
        (
            "marital-status-confirmation",
            "Giấy xác nhận tình trạng hôn nhân",
        ),
        ("construction-permit", "Giấy phép xây dựng"),
    ];
    println!("| credential | QR characters | QR version (level Q) |");
    println!("| --- | ---: | ---: |");
    let mut licence_text = String::new();
    for (code, name) in kinds {
        let draft = issue::draft(
            code,
            &title(name),
            &answers,
            &holder,
            "CA-PCSGT-20261129-0001",
            today,
        );
        let text = sign(&draft);
        let version = qr_svg(&text).map_or(0, |(_, v)| v);
        println!("| {name} | {} | {version} |", text.len());
        if code == "driving-licence" {
            if let Some(proof) = issue::licence_proof(&draft, Some(1988)) {
                let proof_text = sign(&proof);
                let v = qr_svg(&proof_text).map_or(0, |(_, v)| v);
                println!(
                    "| Licence proof (classes, name, birth year) | {} | {v} |",
                    proof_text.len()
                );
            }
            licence_text = text;
        }
    }
    // A health-insurance card from the social-insurance register, as "add my card" signs it.
    let card = motcua_server::wallet::registers::insurance_card_draft(
        &holder,
        Some("1988-03-14"),
        motcua_shared::registry::HealthInsuranceCard {
            code: "GD4010112345678".into(),
            holder_cccd: holder.cccd.into(),
            facility: "Bệnh viện Đa khoa Xanh Pôn (01-011)".into(),
            valid_from: "2026-01-01".into(),
            valid_until: Some("2027-12-31".into()),
        },
        "2026-11-29".into(),
    );
    let card_text = sign(&card);
    println!(
        "| Thẻ bảo hiểm y tế from the register (birth date, card code, facility) | {} | {} |",
        card_text.len(),
        qr_svg(&card_text).map_or(0, |(_, v)| v)
    );
    // The same licence the EU DCC way: claims as text keys and string values, in COSE_Sign1,
    // zlib and base45 as the DCC does.
    let dcc = json!({
        "ver": "1.0.0", "iss": "VN", "iat": 1_795_000_000, "exp": 2_110_000_000,
        "vn": { "nam": { "fn": "Nguyễn", "gn": "Văn An", "fnt": "NGUYEN", "gnt": "VAN<AN" },
                "cccd": "001088012345", "dob": "1988-03-14",
                "dl": { "no": "010123456789", "cl": ["B"], "vu": "2036-11-29",
                        "adr": { "co": "00070", "st": "Số 12 phố Hàng Bông", "di": "002", "pr": "01" } },
                "st": { "status_list": { "idx": 98765, "uri": "https://dichvucong.gov.vn/s/1" } } }
    });
    let mut payload = Vec::new();
    let _ = ciborium::into_writer(&dcc, &mut payload);
    let cose = {
        use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder};
        CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(coset::iana::Algorithm::EdDSA)
                    .key_id(vec![0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x08])
                    .build(),
            )
            .payload(payload)
            .create_signature(b"", |tbs| key.sign(tbs).to_bytes().to_vec())
            .build()
            .to_vec()
            .unwrap_or_default()
    };
    let zipped = miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9);
    let dcc_text = format!("HC1:{}", base45::encode(shorter(&zipped, &cose)));
    let dcc_version = qr_svg(&dcc_text).map_or(0, |(_, v)| v);
    println!(
        "| Driving licence, EU DCC style (text keys, string values) | {} | {dcc_version} |",
        dcc_text.len()
    );

    // Verification rate against raw Ed25519 on the same message, in the same run.
    let unverified = credential::decode(&licence_text).expect("decodes");
    let now = motcua_server::store::now_ms() / 1000;
    let message = vec![0x5a; licence_text.len() * 2 / 3];
    let raw_signature = key.sign(&message);
    let public = key.verifying_key();
    let window = Duration::from_secs(3);
    let raw = rate(window, || {
        let _ = std::hint::black_box(public.verify(&message, &raw_signature));
    });
    let full = rate(window, || {
        let _ = std::hint::black_box(credential::verify(&licence_text, &keys, now));
    });
    drop(unverified);
    println!(
        "\ncredential verifications: {full:.0}/s (decode, inflate, CBOR, COSE, Ed25519, checks); raw Ed25519 verifications of a message of the same size: {raw:.0}/s; ratio {:.2} (target at least 0.7)",
        full / raw
    );
}

/// The shorter of two encodings.
fn shorter<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    if a.len() < b.len() { a } else { b }
}
