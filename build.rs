//! Compresses the page's assets (`static/`) with brotli at build time, so that browsers that accept
//! brotli get them precompressed (at the best ratio) from a server that carries no brotli encoder.
//! Pages and JSON are compressed as they are sent (gzip); see `src/http/mod.rs`.

use std::io::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=static");
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
