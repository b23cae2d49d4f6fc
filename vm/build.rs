//! `vm_threaded`: the interpreter's threaded fast path, whose handlers end in tail calls. Only an
//! optimizing build turns those into jumps; without optimization every op would take a native
//! stack frame, so such builds run the plain loop instead.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(vm_threaded)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("OPT_LEVEL").is_ok_and(|level| level != "0") {
        println!("cargo::rustc-cfg=vm_threaded");
    }
}
