//! `br backup --parquet-only`: see `br_parquet::cli`.
fn main() -> std::process::ExitCode {
    br_parquet::cli::br_main(std::env::args_os())
}
