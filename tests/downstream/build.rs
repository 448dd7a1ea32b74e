//! Extracts the README's examples into `$OUT_DIR`, so this crate compiles exactly what the README
//! shows: the first ```rust block under a heading becomes a file, with rustdoc's hidden lines
//! (`# …`) shown.

use std::{env, fs, path::Path};

/// (heading the example sits under, file it is written to)
const EXAMPLES: [(&str, &str); 2] = [
    ("## A first store", "first_store.rs"),
    ("## Backends, layers and features", "backends.rs"),
];

fn main() {
    // Read at run time, not baked in with `env!`: the build directory is shared between checkouts,
    // and cargo reuses a build script compiled in another one.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let readme = Path::new(&manifest_dir).join("../../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = fs::read_to_string(&readme).expect("the workspace README");
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    for (heading, file) in EXAMPLES {
        let code = example_under(&text, heading)
            .unwrap_or_else(|| panic!("README.md has no ```rust block under `{heading}`"));
        fs::write(Path::new(&out).join(file), code).expect("write the example");
    }
}

/// The first ```rust block after `heading`, hidden lines included.
fn example_under(text: &str, heading: &str) -> Option<String> {
    let start = text.find(heading)?;
    let mut lines = text[start..].lines().skip_while(|l| !l.starts_with("```rust"));
    lines.next()?;
    let mut code = String::new();
    for line in lines.take_while(|l| !l.starts_with("```")) {
        let line = match line {
            "#" => "",
            l => l.strip_prefix("# ").unwrap_or(l),
        };
        code.push_str(line);
        code.push('\n');
    }
    Some(code)
}
