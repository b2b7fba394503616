//! Embeds every file of `migrations/<engine>/` so the binary carries its own schema.
use std::{env, fs, path::Path};

fn main() {
    // Read at run time, not with env!(): a compiled build script may be reused from another
    // checkout sharing the target dir, and must look in this checkout's folder.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("../../migrations");
    let mut out = String::new();
    for engine in ["sqlite", "postgres"] {
        let dir = root.join(engine);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<String> = fs::read_dir(&dir)
            .expect("migrations folder")
            .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        out.push_str(&format!("pub const {}: &[(&str, &str)] = &[\n", engine.to_uppercase()));
        for n in names {
            let path = dir.join(&n).canonicalize().expect("migration path");
            println!("cargo:rerun-if-changed={}", path.display());
            out.push_str(&format!("    ({n:?}, include_str!({:?})),\n", path.display().to_string()));
        }
        out.push_str("];\n");
    }
    fs::write(Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs"), out).expect("write");
}
