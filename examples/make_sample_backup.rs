//! Writes the bundled sample backup and the incremental backup that follows it:
//! `cargo run --example make_sample_backup -- examples/sample-backup examples/sample-incremental`.
//!
//! The output is deterministic; `tests/e2e.rs` checks that the committed copies match it.

use br_parquet::testkit::sample::{
    sample_incremental_tables, sample_incremental_writer, sample_tables, sample_writer,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let full = args
        .next()
        .unwrap_or_else(|| "examples/sample-backup".into());
    let incremental = args
        .next()
        .unwrap_or_else(|| "examples/sample-incremental".into());
    for (dir, writer, tables) in [
        (full, sample_writer(), sample_tables()),
        (
            incremental,
            sample_incremental_writer(),
            sample_incremental_tables(),
        ),
    ] {
        let dir = std::path::Path::new(&dir);
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        let written = writer.write(dir, &tables)?;
        println!(
            "wrote {} write-CF and {} default-CF SSTs to {}",
            written.write_ssts.len(),
            written.default_ssts.len(),
            dir.display()
        );
    }
    Ok(())
}
