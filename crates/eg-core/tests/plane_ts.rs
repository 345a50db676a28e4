//! ts/core/generated.ts must be exactly what the core generates (the one source of every constant
//! shared across the Rust/TypeScript line). `EG_REGEN=1` rewrites it.

use std::path::Path;

#[test]
fn generated_typescript_module_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ts/core/generated.ts");
    let want = eg_core::plane::gen_ts::typescript();
    if std::env::var("EG_REGEN").as_deref() == Ok("1") {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run `EG_REGEN=1 cargo test -p etherguard-core --test plane_ts`",
        path.display()
    );
}
