//! Compresses the page's assets (`static/`) with brotli at build time, so that browsers that accept
//! brotli get them precompressed (at the best ratio) from a server that carries no brotli encoder.
//! Pages and JSON are compressed as they are sent (gzip); see `src/http/mod.rs`.
//!
//! Release builds for x86-64 Linux, which rustc links with its own lld, also get a code layout for
//! a small footprint: the functions a running server uses first and together
//! (`scripts/hot-functions.txt`, written by `scripts/hot-functions.sh`), and relative relocations
//! packed (DT_RELR) where the C library knows them (glibc 2.36 and later), so the loader reads
//! kilobytes of them at start instead of 600 KB.

use std::io::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=static");
    // `sqlx::migrate!` embeds these; a proc macro cannot ask to be rebuilt when they change.
    println!("cargo:rerun-if-changed=migrations");
    lay_out_code();
    let out = Path::new(&env::var("OUT_DIR").expect("set by cargo")).join("static-br");
    fs::create_dir_all(&out).expect("OUT_DIR is writable");
    let mut files: Vec<_> = fs::read_dir("static")
        .expect("static/ exists")
        .map(|entry| entry.expect("static/ is readable").path())
        .collect();
    files.sort();
    let mut index = String::from("match name {\n");
    for path in files {
        let name = path.file_name().unwrap().to_str().expect("UTF-8 names");
        let data = fs::read(&path).expect("static files are readable");
        let mut compressed = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut compressed, 4096, 11, 22);
            writer.write_all(&data).expect("in memory");
        }
        if compressed.len() >= data.len() {
            continue;
        }
        let file = out.join(format!("{name}.br"));
        fs::write(&file, &compressed).expect("OUT_DIR is writable");
        index += &format!(
            "    {name:?} => Some(include_bytes!({:?})),\n",
            file.display().to_string()
        );
    }
    index += "    _ => None,\n}\n";
    fs::write(out.join("index.rs"), index).expect("OUT_DIR is writable");
}

fn lay_out_code() {
    println!("cargo:rerun-if-changed=scripts/hot-functions.txt");
    let release = env::var("PROFILE").as_deref() == Ok("release");
    if !release || env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-gnu") {
        return;
    }
    // Another linker chosen (config or flags): it may not know lld's options.
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if env::var_os("RUSTC_LINKER").is_some()
        || flags.contains("linker")
        || flags.contains("fuse-ld")
    {
        return;
    }
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("scripts/hot-functions.txt");
    if order.exists() {
        // Names the binary no longer has are skipped.
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    if glibc_knows_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc (the one the binary will load) is 2.36 or later.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "the C library's version has no safe binding")]
fn glibc_knows_relr() -> bool {
    // SAFETY: returns a static NUL-terminated string such as "2.36".
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version.to_str().unwrap_or("").split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (2, 36)
}

/// A build machine without glibc (cross-compiling to x86-64 Linux): relocations as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_knows_relr() -> bool {
    false
}
