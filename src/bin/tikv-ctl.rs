//! `tikv-ctl br parquet-export`: see `br_parquet::cli`.
fn main() -> std::process::ExitCode {
    br_parquet::cli::tikv_ctl_main(std::env::args_os())
}
