//! Embeds every committed contract artifact (`contracts/artifacts/<Name>.json`), so that the
//! deploy plan in `deploy.json` alone decides what `evm::EvmChecker` deploys: a contract added to
//! the plan by `contracts/compile.js` needs no change here or in `evm`.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

/// Written by compile.js next to the contract artifacts; embedded by name in `evm`.
const NOT_CONTRACTS: [&str; 2] = ["deploy.json", "build-info.json"];

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/artifacts");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let file = entry?.file_name();
        let Some(file) = file.to_str() else { continue };
        if let Some(name) = file.strip_suffix(".json") {
            if !NOT_CONTRACTS.contains(&file) {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    let mut table = String::from("&[\n");
    for name in &names {
        let path = dir.join(format!("{name}.json"));
        let path = path.to_str().ok_or("artifact path is not UTF-8")?;
        writeln!(table, "    ({name:?}, include_str!({path:?})),")?;
    }
    table.push(']');
    let out = Path::new(&std::env::var("OUT_DIR")?).join("artifacts.rs");
    std::fs::write(out, table)?;
    Ok(())
}
