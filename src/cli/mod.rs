//! The command lines: `tikv-ctl br parquet-export` (also `tikv-ctl br-parquet-export`, the spelling of
//! tikv/tikv PR #19321) and `br backup --parquet-only`.
//!
//! Flags are parsed and validated here (clap), turned into [`ExportOptions`], and handed to
//! [`crate::export::run`]. This is the only place that maps errors to exit codes.
// Flag docs are `--help` texts, where `<db>`, `<prefix>` and `v<N>` are placeholders, not HTML.
#![allow(rustdoc::invalid_html_tags)]

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::batch::BatchLimits;
use crate::crypter::{CipherMethod, Crypter};
use crate::export::{self, ExportOptions, ProgressMode, Shard, DEFAULT_OUTPUT_PREFIX};
use crate::proto::backup::StorageBackend;
use crate::sink::parquet::{Codec, ParquetOptions, DEFAULT_ROW_GROUP_ROWS};
use crate::storage::{url, StorageOptions};
use crate::{Error, Result};

/// Exit code for a failed export.
const EXIT_FAILURE: u8 = 1;
/// Exit code for bad flags (clap's own convention).
const EXIT_USAGE: u8 = 2;

/// `tikv-ctl`: the subset of TiKV's control tool that br-parquet provides.
#[derive(Debug, Parser)]
#[command(
    name = "tikv-ctl",
    version,
    about = "TiKV control tool: BR backup → Parquet export"
)]
pub struct TikvCtl {
    #[command(subcommand)]
    command: TikvCtlCommand,
}

#[derive(Debug, Subcommand)]
enum TikvCtlCommand {
    /// Commands on BR backups.
    Br {
        #[command(subcommand)]
        command: BrCommand,
    },
    /// Same as `tikv-ctl br parquet-export` (the spelling of tikv/tikv PR #19321).
    #[command(name = "br-parquet-export")]
    BrParquetExport(ExportArgs),
}

#[derive(Debug, Subcommand)]
enum BrCommand {
    /// Export a BR backup's tables as Parquet files, offline.
    ///
    /// Reads `backupmeta` and the SST files from the backup storage, decodes every row of every
    /// table, and writes one Parquet file per table per backed-up range to
    /// <output>/<output-prefix>/<db>/<table>/<sst-stem>.parquet.
    #[command(name = "parquet-export")]
    ParquetExport(ExportArgs),
}

/// Flags of `tikv-ctl br parquet-export`.
#[derive(Debug, Args)]
#[command(next_line_help = false)]
pub struct ExportArgs {
    /// Backup storage URL: a path, local://, file://, s3://, gcs:// or azure:// with BR's query
    /// options (docs/storage.md).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "input_storage_base64"
    )]
    input: Option<String>,
    /// Backup storage as printed by `br operator base64ify` (a base64 StorageBackend).
    #[arg(long, value_name = "B64", conflicts_with = "input")]
    input_storage_base64: Option<String>,
    /// Output storage URL (same forms as --input).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "output_storage_base64"
    )]
    output: Option<String>,
    /// Output storage as a base64 StorageBackend.
    #[arg(long, value_name = "B64", conflicts_with = "output")]
    output_storage_base64: Option<String>,
    /// Object-name prefix of everything written to the output.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_OUTPUT_PREFIX)]
    output_prefix: String,
    #[command(flatten)]
    parquet: ParquetArgs,
    #[command(flatten)]
    integrity: IntegrityArgs,
    /// Write a JSON report of the run (files with rows, sizes and SHA-256; skipped keys) here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Combine a table's small ranges into files of about this size, and split larger files
    /// (e.g. 512MiB, 1GiB) [default: one file per table per backed-up range].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    target_file_size: Option<u64>,
    /// Backed-up ranges exported at once [default: number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: Option<u32>,
    /// Limit storage traffic (SST downloads, uploads, metadata reads) to N MiB/s in total.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    ratelimit: Option<u64>,
    /// Also make each table an Iceberg v2 table (metadata under <db>/<table>/metadata/).
    ///
    /// Writes manifests, a manifest list and v<N>.metadata.json (plus version-hint.text) next
    /// to the table's Parquet files, with per-file column statistics. A later export into the
    /// same place adds a new snapshot and keeps the old ones. See docs/iceberg.md.
    #[arg(long)]
    write_iceberg_table: bool,
    /// Also write a JSON manifest of the run: every file with rows, size, SHA-256 and column
    /// statistics (<prefix>/iceberg-manifest-<end_version>.json).
    #[arg(long)]
    write_iceberg_manifest: bool,
    /// Progress on stderr: auto (a live line on a terminal, JSON lines every 10 s otherwise),
    /// bar, json or none.
    #[arg(long, value_name = "MODE", default_value = "auto")]
    progress: ProgressMode,
    /// Stop at the first row that cannot be decoded (the default).
    #[arg(long, conflicts_with = "lenient")]
    strict: bool,
    /// Skip rows that cannot be decoded, count them, and list the first keys in the report.
    #[arg(long)]
    lenient: bool,
    /// Export every range, even those a failed or killed run of the same export already
    /// finished and staged (by default a re-run reuses them; any change of backup, options or
    /// version makes it export them again anyway).
    #[arg(long)]
    no_resume: bool,
    /// Export on several machines: this one exports shard I of N (`2/4`) into the shared
    /// --output and publishes nothing. When all N are done, a run without --shard (on any
    /// machine, same options) checks every table and publishes; it exports what a failed shard
    /// left undone.
    #[arg(long, value_name = "I/N", conflicts_with = "no_resume")]
    shard: Option<Shard>,
    /// Print nothing on success (and no progress).
    #[arg(long, short)]
    quiet: bool,
}

/// Parquet writer flags, shared by both command lines.
#[derive(Debug, Args)]
struct ParquetArgs {
    /// Column compression: snappy, zstd, gzip, brotli, lz4raw or none.
    #[arg(long, value_name = "CODEC", default_value = "zstd")]
    compression: Codec,
    /// Compression level (zstd 1..=22, default 1; gzip 0..=9, default 6; brotli 0..=11, default 1).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    compression_level: Option<i32>,
    /// Maximum rows per Parquet row group (a group also closes at 128 MiB encoded).
    #[arg(long, value_name = "ROWS", default_value_t = DEFAULT_ROW_GROUP_ROWS,
          value_parser = parse_positive)]
    row_group_size: usize,
    /// A column chunk stops dictionary encoding once its dictionary reaches this size; a column
    /// whose first 8192 values show it would get none at all [default: 1MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    dictionary_page_size: Option<u64>,
}

/// Integrity and encryption flags, shared by both command lines (BR's own spellings).
#[derive(Debug, Args)]
struct IntegrityArgs {
    /// Skip verifying each SST's SHA-256 and BR checksums and each table's checksum against
    /// backupmeta (the report then says verification was off).
    #[arg(long)]
    no_verify: bool,
    /// Encryption of the backup, as given to `br backup --crypter.method`: plaintext,
    /// aes128-ctr, aes192-ctr or aes256-ctr.
    #[arg(
        long = "crypter.method",
        value_name = "METHOD",
        default_value = "plaintext"
    )]
    crypter_method: CipherMethod,
    /// The backup's key, in hex (16, 24 or 32 bytes for AES-128/192/256).
    #[arg(
        long = "crypter.key",
        value_name = "HEX",
        conflicts_with = "crypter_key_file"
    )]
    crypter_key: Option<String>,
    /// A file holding the backup's key in hex.
    #[arg(long = "crypter.key-file", value_name = "FILE")]
    crypter_key_file: Option<PathBuf>,
}

impl IntegrityArgs {
    fn apply(&self, options: &mut ExportOptions) -> Result<()> {
        options.verify = !self.no_verify;
        options.crypter = Crypter::from_flags(
            self.crypter_method,
            self.crypter_key.as_deref(),
            self.crypter_key_file.as_deref(),
        )?;
        Ok(())
    }
}

/// `br`: the BR subset br-parquet provides.
#[derive(Debug, Parser)]
#[command(
    name = "br",
    version,
    about = "BR (TiDB Backup & Restore): Parquet export of backups"
)]
pub struct Br {
    #[command(subcommand)]
    command: BrTopCommand,
}

#[derive(Debug, Subcommand)]
enum BrTopCommand {
    /// Back up a cluster; with --parquet-only, export an existing backup as Parquet instead.
    ///
    /// This build cannot take backups (that needs a running cluster and BR itself); it runs the
    /// Parquet export on the backup already at --storage. `br backup --export-parquet`, which
    /// would back up and then export, is not available yet.
    Backup(BrBackupArgs),
}

#[derive(Debug, Args)]
struct BrBackupArgs {
    /// The backup kind BR would take (full, db, table); ignored with --parquet-only.
    #[arg(value_name = "KIND")]
    kind: Option<String>,
    /// The backup storage URL (BR's -s/--storage).
    #[arg(short = 's', long = "storage", value_name = "URL")]
    storage: String,
    /// Skip the backup; export the existing backup at --storage as Parquet.
    #[arg(long)]
    parquet_only: bool,
    /// Back up, then export as Parquet (needs a cluster; not available in this build).
    #[arg(long, conflicts_with = "parquet_only")]
    export_parquet: bool,
    /// Where the Parquet files go [default: the backup storage itself].
    #[arg(long, value_name = "URL")]
    parquet_output: Option<String>,
    /// Object-name prefix of the Parquet output.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_OUTPUT_PREFIX)]
    parquet_output_prefix: String,
    /// Column compression: snappy, zstd, gzip, brotli, lz4raw or none.
    #[arg(long, value_name = "CODEC", default_value = "zstd")]
    parquet_compression: Codec,
    /// Compression level (zstd 1..=22; gzip 0..=9; brotli 0..=11).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    parquet_compression_level: Option<i32>,
    /// Maximum rows per Parquet row group.
    #[arg(long, value_name = "ROWS", default_value_t = DEFAULT_ROW_GROUP_ROWS,
          value_parser = parse_positive)]
    parquet_row_group_size: usize,
    /// Dictionary size at which a column chunk stops dictionary encoding [default: 1MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    parquet_dictionary_page_size: Option<u64>,
    /// Write a JSON report of the run here.
    #[arg(long, value_name = "FILE")]
    parquet_report: Option<PathBuf>,
    #[command(flatten)]
    integrity: IntegrityArgs,
    /// Also make each table an Iceberg v2 table (metadata under <db>/<table>/metadata/).
    #[arg(long)]
    parquet_write_iceberg_table: bool,
    /// Also write a JSON manifest of the run (<prefix>/iceberg-manifest-<end_version>.json).
    #[arg(long)]
    parquet_write_iceberg_manifest: bool,
    /// Limit the export's storage traffic to N MiB/s in total (BR's --ratelimit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    ratelimit: Option<u64>,
    /// Export every range, even those a failed or killed run of the same export already
    /// finished and staged.
    #[arg(long)]
    parquet_no_resume: bool,
    /// Export shard I of N (`2/4`) on this machine and publish nothing; a run without it
    /// publishes every shard's files (see `tikv-ctl br parquet-export --help`).
    #[arg(long, value_name = "I/N", conflicts_with = "parquet_no_resume")]
    parquet_shard: Option<Shard>,
}

/// Parses `512MiB`, `1GiB`, `64MB`, `1000000` (bytes).
fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512MiB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit {other:?}; use KiB, MiB, GiB or TiB"
            ))
        }
    };
    match number.checked_mul(multiplier) {
        Some(0) => Err("a size must be at least 1 byte".into()),
        Some(n) => Ok(n),
        None => Err(format!("{s:?} is too large")),
    }
}

fn parse_positive(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A validated request, ready to run.
struct Job {
    options: ExportOptions,
    report: Option<PathBuf>,
    quiet: bool,
}

fn storage(url_arg: Option<&str>, base64: Option<&str>, flag: &str) -> Result<StorageBackend> {
    match (url_arg, base64) {
        (Some(u), None) => url::parse_url(u),
        (None, Some(b)) => url::parse_base64(b),
        _ => Err(Error::Usage(format!(
            "give exactly one of --{flag} and --{flag}-storage-base64"
        ))),
    }
}

fn parquet_options(
    codec: Codec,
    level: Option<i32>,
    rows: usize,
    dictionary_page_size: Option<u64>,
) -> Result<ParquetOptions> {
    let defaults = ParquetOptions::default();
    let dictionary_page_bytes = match dictionary_page_size {
        Some(size) => usize::try_from(size)
            .map_err(|_| Error::Usage(format!("--dictionary-page-size {size} is too large")))?,
        None => defaults.dictionary_page_bytes,
    };
    Ok(ParquetOptions {
        compression: codec.with_level(level)?,
        row_group_rows: rows,
        dictionary_page_bytes,
        ..defaults
    })
}

fn codec_name(codec: Codec, level: Option<i32>) -> String {
    match (codec, level) {
        (Codec::Zstd, None) => "zstd(1)".into(),
        (_, Some(level)) => format!("{codec}({level})"),
        (_, None) => codec.to_string(),
    }
}

impl ExportArgs {
    fn into_job(self) -> Result<Job> {
        let input = storage(
            self.input.as_deref(),
            self.input_storage_base64.as_deref(),
            "input",
        )?;
        let output = storage(
            self.output.as_deref(),
            self.output_storage_base64.as_deref(),
            "output",
        )?;
        let p = &self.parquet;
        let mut options = ExportOptions::new(input, output);
        options.output_prefix = self.output_prefix;
        options.parquet = parquet_options(
            p.compression,
            p.compression_level,
            p.row_group_size,
            p.dictionary_page_size,
        )?;
        options.compression_name = codec_name(p.compression, p.compression_level);
        options.batch = BatchLimits::default();
        if let Some(n) = self.concurrency {
            options.concurrency = n as usize;
        }
        options.lenient = self.lenient && !self.strict;
        options.target_file_size = self.target_file_size;
        options.resume = !self.no_resume;
        options.shard = self.shard;
        self.integrity.apply(&mut options)?;
        options.progress = if self.quiet {
            ProgressMode::None
        } else {
            self.progress
        };
        options.write_iceberg_table = self.write_iceberg_table;
        options.write_iceberg_manifest = self.write_iceberg_manifest;
        options.storage = StorageOptions::with_ratelimit_mib(self.ratelimit);
        Ok(Job {
            options,
            report: self.report,
            quiet: self.quiet,
        })
    }
}

impl BrBackupArgs {
    fn into_job(self) -> Result<Job> {
        if self.export_parquet || !self.parquet_only {
            return Err(Error::Unsupported(
                "taking a backup needs a TiDB cluster and BR itself; this build exports existing \
                 backups only: run `br backup --parquet-only -s <backup URL>`"
                    .into(),
            ));
        }
        let input = url::parse_url(&self.storage)?;
        let output = match &self.parquet_output {
            Some(u) => url::parse_url(u)?,
            None => input.clone(),
        };
        let mut options = ExportOptions::new(input, output);
        self.integrity.apply(&mut options)?;
        options.output_prefix = self.parquet_output_prefix;
        options.parquet = parquet_options(
            self.parquet_compression,
            self.parquet_compression_level,
            self.parquet_row_group_size,
            self.parquet_dictionary_page_size,
        )?;
        options.compression_name =
            codec_name(self.parquet_compression, self.parquet_compression_level);
        options.write_iceberg_table = self.parquet_write_iceberg_table;
        options.write_iceberg_manifest = self.parquet_write_iceberg_manifest;
        options.storage = StorageOptions::with_ratelimit_mib(self.ratelimit);
        options.resume = !self.parquet_no_resume;
        options.shard = self.parquet_shard;
        Ok(Job {
            options,
            report: self.parquet_report,
            quiet: false,
        })
    }
}

fn run_job(job: Job) -> Result<()> {
    let report = export::run(&job.options)?;
    if let Some(path) = &job.report {
        let json =
            serde_json::to_vec_pretty(&report).map_err(|e| Error::Usage(format!("report: {e}")))?;
        std::fs::write(path, json).map_err(|e| Error::io(path.display().to_string(), e))?;
    }
    if !job.quiet {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`| head`) is not a failure of the export.
        let _ = write!(stdout, "{report}");
    }
    Ok(())
}

/// Entry point of the `tikv-ctl` binary.
pub fn tikv_ctl_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let cli = match TikvCtl::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let export_args = match cli.command {
        TikvCtlCommand::Br {
            command: BrCommand::ParquetExport(args),
        }
        | TikvCtlCommand::BrParquetExport(args) => args,
    };
    finish("tikv-ctl", export_args.into_job().and_then(run_job))
}

/// Entry point of the `br` binary.
pub fn br_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let cli = match Br::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let BrTopCommand::Backup(args) = cli.command;
    finish("br", args.into_job().and_then(run_job))
}

fn clap_exit(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the error with its causes once, prefixed by the program name, and picks the exit code.
fn finish(program: &str, result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("{program}: error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(&format!("\n  caused by: {text}"));
                }
                source = cause.source();
            }
            eprintln!("{message}");
            match error {
                Error::Usage(_) => ExitCode::from(EXIT_USAGE),
                _ => ExitCode::from(EXIT_FAILURE),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tikv_ctl(args: &[&str]) -> std::result::Result<TikvCtl, clap::Error> {
        TikvCtl::try_parse_from(std::iter::once("tikv-ctl").chain(args.iter().copied()))
    }

    fn job(args: &[&str]) -> Result<Job> {
        let cli = tikv_ctl(args).map_err(|e| Error::Usage(e.to_string()))?;
        match cli.command {
            TikvCtlCommand::Br {
                command: BrCommand::ParquetExport(a),
            }
            | TikvCtlCommand::BrParquetExport(a) => a.into_job(),
        }
    }

    #[test]
    fn both_spellings_parse() {
        for prefix in [&["br", "parquet-export"][..], &["br-parquet-export"][..]] {
            let mut args = prefix.to_vec();
            args.extend(["--input", "/b", "--output", "/o"]);
            let job = job(&args).unwrap();
            assert_eq!(job.options.output_prefix, "parquet");
            assert_eq!(job.options.parquet.row_group_rows, DEFAULT_ROW_GROUP_ROWS);
            assert_eq!(job.options.compression_name, "zstd(1)");
            assert!(job.options.resume, "re-runs resume by default");
        }
    }

    #[test]
    fn shard_flag() {
        let args = ["br", "parquet-export", "--input", "/b", "--output", "/o"];
        let sharded = job(&[&args[..], &["--shard", "2/4"]].concat()).unwrap();
        assert_eq!(sharded.options.shard, Some(Shard { index: 2, count: 4 }));
        assert_eq!(sharded.options.shard.unwrap().to_string(), "2/4");
        assert!(job(&args).unwrap().options.shard.is_none());
        let err = job(&[&args[..], &["--shard", "5/4"]].concat())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("the shard must be 1 to N"), "{err}");
        // The final run finds the shards' work through their markers, which --no-resume deletes.
        let err = job(&[&args[..], &["--shard", "1/2", "--no-resume"]].concat())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("cannot be used with"), "{err}");
        let cli = Br::try_parse_from([
            "br",
            "backup",
            "-s",
            "/b",
            "--parquet-only",
            "--parquet-shard",
            "1/2",
        ])
        .unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        assert_eq!(
            args.into_job().unwrap().options.shard,
            Some(Shard { index: 1, count: 2 })
        );
    }

    #[test]
    fn no_resume_flag() {
        let job = job(&[
            "br",
            "parquet-export",
            "--input",
            "/b",
            "--output",
            "/o",
            "--no-resume",
        ])
        .unwrap();
        assert!(!job.options.resume);
        let cli = Br::try_parse_from([
            "br",
            "backup",
            "-s",
            "/b",
            "--parquet-only",
            "--parquet-no-resume",
        ])
        .unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        assert!(!args.into_job().unwrap().options.resume);
    }

    #[test]
    fn flags_are_applied() {
        let b64 = url::to_base64(&url::parse_url("/backup").unwrap());
        let job = job(&[
            "br",
            "parquet-export",
            "--input-storage-base64",
            &b64,
            "--output",
            "local:///o",
            "--output-prefix",
            "/x/y/",
            "--compression",
            "gzip",
            "--compression-level",
            "9",
            "--row-group-size",
            "1000",
            "--concurrency",
            "3",
            "--report",
            "/tmp/r.json",
            "-q",
        ])
        .unwrap();
        assert_eq!(job.options.output_prefix, "/x/y/");
        assert_eq!(job.options.parquet.row_group_rows, 1000);
        assert_eq!(job.options.concurrency, 3);
        assert_eq!(job.options.compression_name, "gzip(9)");
        assert_eq!(
            job.report.as_deref(),
            Some(std::path::Path::new("/tmp/r.json"))
        );
        assert!(job.quiet);
        assert_eq!(job.options.input, url::parse_url("/backup").unwrap());
        assert!(!job.options.write_iceberg_table && !job.options.write_iceberg_manifest);
    }

    #[test]
    fn iceberg_flags() {
        let table_only = job(&[
            "br",
            "parquet-export",
            "--input",
            "/b",
            "--output",
            "/o",
            "--write-iceberg-table",
        ])
        .unwrap();
        assert!(table_only.options.write_iceberg_table);
        assert!(!table_only.options.write_iceberg_manifest);
        let manifest_only = job(&[
            "br-parquet-export",
            "--input",
            "/b",
            "--output",
            "/o",
            "--write-iceberg-manifest",
        ])
        .unwrap();
        assert!(!manifest_only.options.write_iceberg_table);
        assert!(manifest_only.options.write_iceberg_manifest);

        let cli = Br::try_parse_from([
            "br",
            "backup",
            "-s",
            "/b",
            "--parquet-only",
            "--parquet-write-iceberg-table",
            "--parquet-write-iceberg-manifest",
        ])
        .unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        let both = args.into_job().unwrap();
        assert!(both.options.write_iceberg_table && both.options.write_iceberg_manifest);
        // The tikv-ctl spelling is not a `br` flag.
        assert!(Br::try_parse_from([
            "br",
            "backup",
            "-s",
            "/b",
            "--parquet-only",
            "--write-iceberg-table"
        ])
        .is_err());
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        assert!(tikv_ctl(&["br", "parquet-export", "--output", "/o"]).is_err());
        assert!(tikv_ctl(&[
            "br",
            "parquet-export",
            "--input",
            "/i",
            "--output",
            "/o",
            "--compression",
            "lzo"
        ])
        .is_err());
        assert!(tikv_ctl(&[
            "br",
            "parquet-export",
            "--input",
            "/i",
            "--output",
            "/o",
            "--row-group-size",
            "0"
        ])
        .is_err());
        let err = job(&[
            "br",
            "parquet-export",
            "--input",
            "/i",
            "--output",
            "/o",
            "--compression",
            "snappy",
            "--compression-level",
            "3",
        ])
        .err()
        .unwrap();
        assert!(err.to_string().contains("not accepted by snappy"), "{err}");
        // Object-store URLs parse (storage issue #4); a half-given key pair is a usage error
        // that does not echo the secret.
        let ok = job(&[
            "br",
            "parquet-export",
            "--input",
            "s3://b/p",
            "--output",
            "/o",
        ])
        .unwrap();
        assert_eq!(url::describe(&ok.options.input), "s3://b/p");
        let err = job(&[
            "br",
            "parquet-export",
            "--input",
            "s3://b/p?secret-access-key=TOPSECRET",
            "--output",
            "/o",
        ])
        .err()
        .unwrap();
        assert!(matches!(err, Error::Usage(_)), "{err}");
        assert!(!err.to_string().contains("TOPSECRET"), "{err}");
    }

    #[test]
    fn ratelimit_flag() {
        let base = ["br", "parquet-export", "--input", "/i", "--output", "/o"];
        let job_without = job(&base).unwrap();
        assert!(job_without.options.storage.ratelimit.is_none());
        let mut args = base.to_vec();
        args.extend(["--ratelimit", "64"]);
        let limiter = job(&args).unwrap().options.storage.ratelimit.unwrap();
        assert_eq!(limiter.bytes_per_second(), 64 * 1024 * 1024);
        for bad in ["0", "-1", "fast"] {
            let mut args = base.to_vec();
            args.extend(["--ratelimit", bad]);
            assert!(tikv_ctl(&args).is_err(), "--ratelimit {bad} accepted");
        }

        let cli = Br::try_parse_from([
            "br",
            "backup",
            "-s",
            "/b",
            "--parquet-only",
            "--ratelimit",
            "8",
        ])
        .unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        let limiter = args.into_job().unwrap().options.storage.ratelimit.unwrap();
        assert_eq!(limiter.bytes_per_second(), 8 * 1024 * 1024);
        assert!(Br::try_parse_from(["br", "backup", "-s", "/b", "--ratelimit", "0"]).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2 mb"), Ok(2 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1PB").unwrap_err().contains("unknown size unit"));
        let sized = job(&[
            "br",
            "parquet-export",
            "--input",
            "/i",
            "--output",
            "/o",
            "--target-file-size",
            "64MiB",
        ])
        .unwrap();
        assert_eq!(sized.options.target_file_size, Some(64 << 20));
        assert_eq!(
            sized.options.parquet.dictionary_page_bytes,
            crate::sink::parquet::DEFAULT_DICTIONARY_PAGE_BYTES
        );
        let smaller = job(&[
            "br",
            "parquet-export",
            "--input",
            "/i",
            "--output",
            "/o",
            "--dictionary-page-size",
            "64KiB",
        ])
        .unwrap();
        assert_eq!(smaller.options.parquet.dictionary_page_bytes, 64 << 10);
    }

    #[test]
    fn br_backup_parquet_only() {
        let cli = Br::try_parse_from([
            "br",
            "backup",
            "full",
            "-s",
            "local:///b",
            "--parquet-only",
            "--parquet-compression",
            "snappy",
        ])
        .unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        let job = args.into_job().unwrap();
        assert_eq!(
            job.options.output, job.options.input,
            "output defaults to the backup storage"
        );
        assert_eq!(job.options.compression_name, "snappy");
        assert!(job.options.resume);

        let cli = Br::try_parse_from(["br", "backup", "-s", "/b"]).unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        let err = args.into_job().err().unwrap().to_string();
        assert!(err.contains("--parquet-only"), "{err}");
    }
}
