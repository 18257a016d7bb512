//! Writes the bundled sample backup: `cargo run --example make_sample_backup -- examples/sample-backup`.
//!
//! The output is deterministic; `tests/e2e.rs` checks that the committed copy matches it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/sample-backup".to_string());
    let dir = std::path::Path::new(&dir);
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let writer = br_parquet::testkit::BackupWriter {
        rows_per_range: 16,
        ..Default::default()
    };
    let written = writer.write(dir, &br_parquet::testkit::sample::sample_tables())?;
    println!(
        "wrote {} write-CF and {} default-CF SSTs to {}",
        written.write_ssts.len(),
        written.default_ssts.len(),
        dir.display()
    );
    Ok(())
}
