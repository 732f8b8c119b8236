//! Records the git revision the binary was built from and the wgpu version it links (for
//! results rows and timing reports).
fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let wgpu = std::fs::read_to_string("Cargo.lock").ok().and_then(|lock| {
        let at = lock.find("name = \"wgpu\"\nversion = \"")? + "name = \"wgpu\"\nversion = \"".len();
        lock[at..].split('"').next().map(str::to_string)
    });
    println!("cargo:rustc-env=CLWE_BENCH_WGPU_VERSION={}", wgpu.unwrap_or_else(|| "unknown".into()));
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(rev) = revision {
        println!("cargo:rustc-env=CLWE_BENCH_GIT_REVISION={rev}");
    }
}
