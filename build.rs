//! Rebuilds when a scenario file is added, removed or changed: `outage
//! explain` carries the scenario catalogue inside the binary.

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
}
