//! Builds the PWA into `client/dist`: two wasm bundles (the public pages, and the full app),
//! release and size-optimised, with content-hashed file names, a shell page each, the service
//! worker's shell list, and `.gz`/`.br` copies of every text file.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::{proc, root, tools};

/// The files a browser downloads to show the first page, with their compressed sizes.
#[derive(Debug, Default)]
pub struct PwaSize {
    pub files: Vec<(String, u64, u64, u64)>, // name, raw, gzip, brotli
}

impl PwaSize {
    pub fn total(&self) -> (u64, u64, u64) {
        self.files
            .iter()
            .fold((0, 0, 0), |(r, g, b), f| (r + f.1, g + f.2, b + f.3))
    }
}

pub fn dist_dir() -> PathBuf {
    root().join("client/dist")
}

/// The PWA's entry bundles, as `motcua_shared::pages` defines them.
pub use motcua_shared::pages::Bundle;

/// Builds the PWA unless its inputs are unchanged since the last build; returns the first-load
/// size of each bundle.
pub fn build() -> anyhow::Result<Vec<(Bundle, PwaSize)>> {
    let root = root();
    proc::run(
        Command::new("cargo")
            .args([
                "build",
                "--package",
                "motcua-client",
                "--bins",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ])
            .current_dir(&root),
    )?;
    let wasm_dir = root.join("target/wasm32-unknown-unknown/wasm-release");
    let static_dir = root.join("client/static");
    let wasms: Vec<PathBuf> = Bundle::ALL
        .iter()
        .map(|b| wasm_dir.join(format!("{}.wasm", b.name())))
        .collect();
    let qr_decoder = wasm_dir.join(format!("{QR_DECODER}.wasm"));
    let stamp = inputs_stamp(
        &[&wasms[..], std::slice::from_ref(&qr_decoder)].concat(),
        &static_dir,
    )?;
    let dist = dist_dir();
    if fs::read_to_string(dist.join(".build-stamp"))
        .ok()
        .as_deref()
        == Some(stamp.as_str())
    {
        eprintln!("PWA unchanged: {}", dist.display());
        return measure(&dist);
    }

    let work = root.join("target/pwa");
    let _ = fs::remove_dir_all(&work);
    let out = work.join("dist");
    fs::create_dir_all(&out)?;
    let css = write_hashed(&out, "app", "css", &fs::read(static_dir.join("app.css"))?)?;
    let mut shell: Vec<String> = vec![
        css.clone(),
        "manifest.webmanifest".into(),
        "icon.svg".into(),
        "icon-192.png".into(),
    ];
    // The QR decoder, a module of its own that the verifier loads only when it needs it.
    let (qr_bindgen, qr_optimised) = bindgen_and_optimise(&work, QR_DECODER, &qr_decoder)?;
    let qr_wasm = write_hashed(
        &out,
        &format!("{QR_DECODER}_bg"),
        "wasm",
        &fs::read(&qr_optimised)?,
    )?;
    let qr_js = write_hashed(
        &out,
        QR_DECODER,
        "js",
        &fs::read(qr_bindgen.join(format!("{QR_DECODER}.js")))?,
    )?;
    shell.extend([qr_js.clone(), qr_wasm.clone()]);
    for (bundle, wasm_in) in Bundle::ALL.iter().zip(&wasms) {
        let name = bundle.name();
        let (bindgen, optimised) = bindgen_and_optimise(&work, name, wasm_in)?;
        let wasm = write_hashed(
            &out,
            &format!("{}_bg", name),
            "wasm",
            &fs::read(&optimised)?,
        )?;
        let js = write_hashed(
            &out,
            name,
            "js",
            &fs::read(bindgen.join(format!("{}.js", name)))?,
        )?;
        if bindgen.join("snippets").is_dir() {
            copy_dir(&bindgen.join("snippets"), &out.join("snippets"))?;
        }
        let fill = |text: String| {
            text.replace("{{JS}}", &js)
                .replace("{{QR_JS}}", &qr_js)
                .replace("{{QR_WASM}}", &qr_wasm)
                .replace("{{WASM}}", &wasm)
                .replace("{{CSS}}", &css)
        };
        let boot_src = fill(fs::read_to_string(static_dir.join("boot.js"))?);
        let boot = write_hashed(&out, &format!("boot-{}", name), "js", boot_src.as_bytes())?;
        let page =
            fill(fs::read_to_string(static_dir.join("index.html"))?).replace("{{BOOT}}", &boot);
        fs::write(out.join(bundle.shell()), page)?;
        shell.extend([bundle.shell().to_owned(), boot, js, wasm]);
    }

    let copied = [
        "manifest.webmanifest",
        "icon.svg",
        "icon-192.png",
        "icon-512.png",
        "icon-maskable-512.png",
        "apple-touch-icon.png",
    ];
    for name in copied {
        fs::copy(static_dir.join(name), out.join(name))
            .with_context(|| format!("copying {name}"))?;
    }
    // JS the glue imports (wasm-bindgen snippets) is part of the shell too, or the app cannot start offline.
    shell.extend(files_under(&out, "snippets")?);
    let shell: Vec<String> = shell.iter().map(|n| format!("/{n}")).collect();
    let version = &hex(&Sha256::digest(shell.join(",").as_bytes()))[..16];
    // The page → bundle map of `motcua_shared::pages`, for the worker's offline answers.
    let pages: Vec<(String, String)> = motcua_shared::pages::PAGES
        .iter()
        .map(|(pattern, bundle)| ((*pattern).to_owned(), format!("/{}", bundle.shell())))
        .collect();
    let sw = fs::read_to_string(static_dir.join("sw.js"))?
        .replace("{{PAGES}}", &serde_json::to_string(&pages)?)
        .replace("{{VERSION}}", version)
        .replace("{{SHELL}}", &serde_json::to_string(&shell)?);
    fs::write(out.join("sw.js"), sw)?;

    precompress(&out)?;
    fs::write(out.join(".build-stamp"), &stamp)?;
    let _ = fs::remove_dir_all(&dist);
    fs::rename(&out, &dist).with_context(|| format!("moving the PWA into {}", dist.display()))?;
    let sizes = measure(&dist)?;
    for (bundle, size) in &sizes {
        let (raw, gz, br) = size.total();
        eprintln!(
            "PWA {} bundle: first load {raw} B raw, {gz} B gzip, {br} B brotli",
            bundle.name()
        );
    }
    Ok(sizes)
}

/// The name of the QR decoder's module (`client/src/bin/qrdecode.rs`).
const QR_DECODER: &str = "qrdecode";

/// wasm-bindgen's JS glue for `wasm_in` and the wasm optimised for size: (glue folder, wasm).
fn bindgen_and_optimise(
    work: &Path,
    name: &str,
    wasm_in: &Path,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let bindgen = work.join(format!("bindgen-{}", name));
    proc::run(
        Command::new("wasm-bindgen")
            .arg(wasm_in)
            .args(["--target", "web", "--no-typescript", "--out-name"])
            .arg(name)
            .arg("--out-dir")
            .arg(&bindgen),
    )?;
    let optimised = work.join(format!("{}_bg.opt.wasm", name));
    proc::run(
        Command::new(tools::wasm_opt())
            .args(["-Oz", "--strip-debug", "--strip-producers"])
            .args([
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-reference-types",
                "--enable-multivalue",
                "--enable-mutable-globals",
            ])
            .arg(bindgen.join(format!("{}_bg.wasm", name)))
            .arg("-o")
            .arg(&optimised),
    )?;
    Ok((bindgen, optimised))
}

/// The first-load files of each bundle of a built PWA: its shell page, the files it names (boot
/// script, JS glue, wasm, CSS) and the snippets its glue imports, with their sizes.
pub fn measure(dist: &Path) -> anyhow::Result<Vec<(Bundle, PwaSize)>> {
    let snippets = files_under(dist, "snippets")?;
    let mut all = Vec::new();
    for bundle in Bundle::ALL {
        let page = fs::read_to_string(dist.join(bundle.shell())).context("the PWA is not built")?;
        let mut names = vec![bundle.shell().to_owned()];
        for entry in fs::read_dir(dist)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let asset = name.ends_with(".js") || name.ends_with(".wasm") || name.ends_with(".css");
            let named = page.contains(&name)
                || (name.starts_with(&format!("{}_bg-", bundle.name())) && name.ends_with(".wasm"));
            if asset && named {
                names.push(name);
            }
        }
        let glue = names
            .iter()
            .find(|n| n.starts_with(&format!("{}-", bundle.name())) && n.ends_with(".js"))
            .map(|n| fs::read_to_string(dist.join(n)))
            .transpose()?
            .unwrap_or_default();
        names.extend(
            snippets
                .iter()
                .filter(|f| f.ends_with(".js"))
                .filter(|f| glue.contains(f.as_str()))
                .cloned(),
        );
        names.sort();
        names.dedup();
        let mut size = PwaSize::default();
        for name in names {
            let raw = fs::metadata(dist.join(&name))?.len();
            let gz = fs::metadata(dist.join(format!("{name}.gz")))?.len();
            let br = fs::metadata(dist.join(format!("{name}.br")))?.len();
            size.files.push((name, raw, gz, br));
        }
        all.push((bundle, size));
    }
    Ok(all)
}

/// Paths (relative to `root`, with `/`) of the files below `root/folder`, without compressed copies.
fn files_under(root: &Path, folder: &str) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![root.join(folder)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("gz" | "br")) {
                found.push(
                    path.strip_prefix(root)?
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    found.sort();
    Ok(found)
}

fn write_hashed(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let name = format!("{stem}-{}.{ext}", &hex(&Sha256::digest(bytes))[..16]);
    fs::write(dir.join(&name), bytes)?;
    Ok(name)
}

fn precompress(dir: &Path) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            precompress(&path)?;
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(
            ext,
            "html" | "js" | "wasm" | "css" | "webmanifest" | "svg" | "json"
        ) {
            continue;
        }
        let bytes = fs::read(&path)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        fs::write(with_suffix(&path, "gz"), gz.finish()?)?;
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
        fs::write(with_suffix(&path, "br"), br)?;
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// A digest of everything the built PWA depends on beyond the cargo build.
fn inputs_stamp(wasms: &[PathBuf], static_dir: &Path) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    for wasm in wasms {
        hasher.update(fs::read(wasm).context("reading the built wasm")?);
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(static_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        hasher.update(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        hasher.update(fs::read(&path)?);
    }
    hasher.update(tools::locked_wasm_bindgen_version()?);
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
