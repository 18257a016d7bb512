//! The command lines: `tikv-ctl br parquet-export` (also `tikv-ctl br-parquet-export`, the spelling
//! of tikv/tikv PR #19321), `br backup --parquet-only` and `br backup ... --export-parquet`
//! ([`passthrough`]: the real BR takes the backup, then it is exported).
//!
//! Both take the export flags of [`flags`], defined once and spelled for each command line;
//! they are settled into an [`crate::export::ExportOptions`] and handed to
//! [`crate::export::run`]. This is the only place that names flags in messages and maps errors
//! to exit codes.
// Flag docs are `--help` texts, where `<db>`, `<prefix>` and `v<N>` are placeholders, not HTML.
#![allow(rustdoc::invalid_html_tags)]

pub mod flags;
pub mod passthrough;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::export;
use crate::storage::url;
use crate::{Error, Result};

use flags::{BrSpelling, ExportFlags, Flag, Resolved, Spelling, TikvCtlSpelling};

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
    #[command(flatten)]
    flags: ExportFlags<TikvCtlSpelling>,
}

impl ExportArgs {
    fn resolve(self) -> Result<Resolved> {
        let input = match (&self.input, &self.input_storage_base64) {
            (Some(u), None) => url::parse_url(u)?,
            (None, Some(b)) => url::parse_base64(b)?,
            _ => {
                return Err(Error::Usage(
                    "give exactly one of --input and --input-storage-base64".into(),
                ))
            }
        };
        self.flags.resolve(input)
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
    /// Back up a cluster with BR, then export it as Parquet (--export-parquet); or export a
    /// backup that already exists (--parquet-only).
    ///
    /// With --export-parquet, the real BR (--br-binary, else $BR_BINARY, else `br` on PATH) runs
    /// `br backup <KIND> ...` with every argument that is not an export flag, unchanged and in
    /// order; its output streams through, and its failure is this command's (its exit status,
    /// nothing exported). Then the backup it wrote to -s/--storage is exported. The export flags
    /// are those of `tikv-ctl br parquet-export`, prefixed with --parquet-; BR's own -s,
    /// -f/--filter, --case-sensitive, --ratelimit and --crypter.* keep their names and are given
    /// to both BR and the export.
    Backup(BrBackupArgs),
}

#[derive(Debug, Args)]
struct BrBackupArgs {
    /// The backup kind BR takes (full, db, table); ignored with --parquet-only.
    #[arg(value_name = "KIND")]
    kind: Option<String>,
    /// The backup storage URL (BR's -s/--storage).
    #[arg(short = 's', long = "storage", value_name = "URL")]
    storage: String,
    /// Skip the backup; export the existing backup at --storage as Parquet.
    #[arg(long)]
    parquet_only: bool,
    /// Take the backup with the real BR (every argument that is not an export flag is passed
    /// to it: --pd, --db, --table, --lastbackupts, --concurrency, ...), then export it.
    #[arg(long, conflicts_with = "parquet_only")]
    export_parquet: bool,
    /// The BR executable for --export-parquet [default: $BR_BINARY, else the first `br` on PATH
    /// that is not this program].
    #[arg(long, value_name = "PATH", requires = "export_parquet")]
    br_binary: Option<std::path::PathBuf>,
    #[command(flatten)]
    flags: ExportFlags<BrSpelling>,
}

impl BrBackupArgs {
    fn resolve(self) -> Result<Resolved> {
        if !self.parquet_only {
            return Err(Error::Usage(
                "this `br` takes backups through BR itself: add --export-parquet to run BR and \
                 then export the backup, or --parquet-only to export a backup that exists"
                    .into(),
            ));
        }
        let input = url::parse_url(&self.storage)?;
        self.flags.resolve(input)
    }
}

fn run(request: Resolved) -> Result<()> {
    if request.dry_run {
        let plan = export::dry_run(&request.options)?;
        return present(&request, &plan);
    }
    let report = export::run(&request.options)?;
    present(&request, &report)
}

/// Writes the JSON report (`--report`) and prints the summary (unless `--quiet`).
fn present<R: serde::Serialize + std::fmt::Display>(request: &Resolved, report: &R) -> Result<()> {
    if let Some(path) = &request.report {
        // Streamed: the report of 100 k tables is hundreds of megabytes of JSON.
        let fail = |e: std::io::Error| Error::io(path.display().to_string(), e);
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
        serde_json::to_writer_pretty(&mut out, report).map_err(|e| fail(e.into()))?;
        out.flush().map_err(fail)?;
    }
    if !request.quiet {
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
    finish(
        "tikv-ctl",
        Spelling::TikvCtl,
        export_args.resolve().and_then(run),
    )
}

/// Entry point of the `br` binary.
pub fn br_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    if let Some(rest) = backup_then_export_args(&args) {
        return backup_then_export(rest);
    }
    let cli = match Br::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let BrTopCommand::Backup(args) = cli.command;
    finish("br", Spelling::Br, args.resolve().and_then(run))
}

/// The arguments after `br backup` when they ask for `--export-parquet` (and not for help).
fn backup_then_export_args(args: &[OsString]) -> Option<&[OsString]> {
    let rest = match args {
        [_, backup, rest @ ..] if backup == "backup" => rest,
        _ => return None,
    };
    let before_terminator = rest.iter().take_while(|a| *a != "--");
    let mut export = false;
    for arg in before_terminator {
        if arg == "-h" || arg == "--help" {
            return None;
        }
        export |= arg == "--export-parquet";
    }
    export.then_some(rest)
}

/// `br backup ... --export-parquet`: checks the export flags, runs BR, and exports what it wrote.
/// BR's failure is this command's: its exit status (1 if a signal killed it), nothing exported.
fn backup_then_export(rest: &[OsString]) -> ExitCode {
    let usage = |message: String| finish("br", Spelling::Br, Err(Error::Usage(message)));
    let split = match passthrough::split_br_args(rest.iter().cloned()) {
        Ok(split) => split,
        Err(message) => return usage(message),
    };
    if !split
        .export_args
        .iter()
        .any(|a| a.to_str().is_some_and(|a| a.starts_with("--storage=")))
    {
        return usage(
            "--export-parquet needs -s/--storage: BR writes the backup there, and the export \
             reads it from there"
                .into(),
        );
    }
    // The export flags are checked before BR runs, so that a typo does not cost a backup.
    let export_argv = ["br", "backup", "--parquet-only"]
        .into_iter()
        .map(OsString::from)
        .chain(split.export_args.iter().cloned());
    let args = match Br::try_parse_from(export_argv) {
        Ok(Br {
            command: BrTopCommand::Backup(args),
        }) => args,
        Err(e) => return clap_exit(e),
    };
    let request = match args.resolve() {
        Ok(request) => request,
        Err(error) => return finish("br", Spelling::Br, Err(error)),
    };
    let this_program = std::env::current_exe().ok();
    let br = match passthrough::find_br(
        split.br_binary.as_deref(),
        std::env::var_os(passthrough::BR_BINARY_ENV).as_deref(),
        std::env::var_os("PATH").as_deref(),
        this_program.as_deref(),
    ) {
        Ok(br) => br,
        Err(message) => {
            eprintln!("br: error: {message}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match passthrough::run_br(&br, &split.br_args) {
        Ok(status) if status.success() => finish("br", Spelling::Br, run(request)),
        Ok(status) => {
            eprintln!(
                "br: error: BR ({}) {}; nothing was exported",
                br.path.display(),
                passthrough::describe_failure(status)
            );
            ExitCode::from(passthrough::exit_status_of(status))
        }
        Err(message) => {
            eprintln!("br: error: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn clap_exit(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::SUCCESS
    }
}

/// The error as this command line tells it: settings named by their flags, with what to do.
fn message(error: &Error, spelling: Spelling) -> String {
    match error {
        Error::InvalidSetting { setting, message } => {
            format!(
                "{}: {message}",
                Flag::of_setting(*setting).spelled(spelling)
            )
        }
        Error::NotABackup { location } => format!(
            "{location}: no `backupmeta` here; point {} at the directory BR wrote the backup to \
             (a backup without `backupmeta` did not finish)",
            match spelling {
                Spelling::TikvCtl => "--input",
                Spelling::Br => "-s/--storage",
            }
        ),
        Error::Integrity { message, .. } if message.contains("mismatch") => format!(
            "{error} (pass {} to export anyway)",
            Flag::NoVerify.spelled(spelling)
        ),
        other => other.to_string(),
    }
}

/// The exit code of an error: 2 for what the command line got wrong, 1 for everything else.
fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Usage(_) | Error::InvalidSetting { .. } | Error::NotABackup { .. } => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// Prints the error with its causes once, prefixed by the program name, and picks the exit code.
fn finish(program: &str, spelling: Spelling, result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut text = format!("{program}: error: {}", message(&error, spelling));
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !text.contains(&cause_text) {
                    text.push_str(&format!("\n  caused by: {cause_text}"));
                }
                source = cause.source();
            }
            eprintln!("{text}");
            ExitCode::from(exit_code(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Shard;
    use crate::sink::parquet::DEFAULT_ROW_GROUP_ROWS;
    use clap::CommandFactory;

    fn tikv_ctl(args: &[&str]) -> std::result::Result<TikvCtl, clap::Error> {
        TikvCtl::try_parse_from(std::iter::once("tikv-ctl").chain(args.iter().copied()))
    }

    fn job(args: &[&str]) -> Result<Resolved> {
        let cli = tikv_ctl(args).map_err(|e| Error::Usage(e.to_string()))?;
        match cli.command {
            TikvCtlCommand::Br {
                command: BrCommand::ParquetExport(a),
            }
            | TikvCtlCommand::BrParquetExport(a) => a.resolve(),
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
        assert_eq!(
            sharded.options.shard,
            Some(Shard {
                index: 2,
                count: 4,
                last_publishes: false
            })
        );
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
            args.resolve().unwrap().options.shard,
            Some(Shard {
                index: 1,
                count: 2,
                last_publishes: false
            })
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
        assert!(!args.resolve().unwrap().options.resume);
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
        let both = args.resolve().unwrap();
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
        let limiter = args.resolve().unwrap().options.storage.ratelimit.unwrap();
        assert_eq!(limiter.bytes_per_second(), 8 * 1024 * 1024);
        assert!(Br::try_parse_from(["br", "backup", "-s", "/b", "--ratelimit", "0"]).is_err());
    }

    #[test]
    fn sizes() {
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
        let job = args.resolve().unwrap();
        assert_eq!(
            job.options.output, job.options.input,
            "output defaults to the backup storage"
        );
        assert_eq!(job.options.compression_name, "snappy");
        assert!(job.options.resume);

        let cli = Br::try_parse_from(["br", "backup", "-s", "/b"]).unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        let err = args.resolve().err().unwrap().to_string();
        assert!(err.contains("--parquet-only"), "{err}");
    }

    #[test]
    fn every_export_flag_exists_on_both_commands() {
        let br_backup = Br::command().find_subcommand("backup").cloned().unwrap();
        let tikv_export = TikvCtl::command()
            .find_subcommand("br")
            .and_then(|c| c.find_subcommand("parquet-export"))
            .cloned()
            .unwrap();
        for flag in flags::Flag::ALL {
            for (command, spelling) in [
                (&tikv_export, Spelling::TikvCtl),
                (&br_backup, Spelling::Br),
            ] {
                let long = flag.long(spelling);
                assert!(
                    command
                        .get_arguments()
                        .any(|a| a.get_long() == Some(long.as_str())),
                    "{} lacks --{long}",
                    command.get_name()
                );
            }
        }
        // The flags `br` lacked before they were defined once.
        let cli = Br::try_parse_from([
            "br",
            "backup",
            "-s",
            "/b",
            "--parquet-only",
            "--parquet-concurrency",
            "3",
            "--parquet-lenient",
            "--parquet-target-file-size",
            "1GiB",
            "--parquet-quiet",
        ])
        .unwrap();
        let BrTopCommand::Backup(args) = cli.command;
        let resolved = args.resolve().unwrap();
        assert_eq!(resolved.options.concurrency, 3);
        assert!(resolved.options.lenient);
        assert_eq!(resolved.options.target_file_size, Some(1 << 30));
        assert!(resolved.quiet);
    }

    #[test]
    fn filter_flags_on_both_command_lines() {
        let cli = tikv_ctl(&[
            "br",
            "parquet-export",
            "--input",
            "/b",
            "--output",
            "/o",
            "-f",
            "shop.*",
            "--filter",
            "!shop.t",
            "--case-sensitive",
        ])
        .unwrap();
        let TikvCtlCommand::Br {
            command: BrCommand::ParquetExport(args),
        } = cli.command
        else {
            panic!("parsed as another command");
        };
        assert_eq!(args.flags.filter, ["shop.*", "!shop.t"]);
        assert!(args.flags.case_sensitive);

        // `br backup --export-parquet`: the split gives the export BR's -f and -s.
        let split = passthrough::split_br_args([
            "full", "--pd", "pd:2379", "-s", "/b", "-f", "a.*", "-f", "!a.b",
        ])
        .unwrap();
        let argv = ["br", "backup", "--parquet-only"]
            .into_iter()
            .map(OsString::from)
            .chain(split.export_args);
        let BrTopCommand::Backup(args) = Br::try_parse_from(argv).unwrap().command;
        assert_eq!(args.storage, "/b");
        assert_eq!(args.flags.filter, ["a.*", "!a.b"]);
        assert!(!args.flags.case_sensitive);
    }

    #[test]
    fn export_parquet_is_taken_apart_before_clap() {
        let argv = |args: &[&str]| -> Vec<OsString> {
            std::iter::once("br")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect()
        };
        let args = argv(&["backup", "full", "-s", "/b", "--export-parquet"]);
        assert_eq!(
            backup_then_export_args(&args),
            Some(&args[2..]),
            "everything after `backup`"
        );
        // Help is this program's; after `--` nothing is ours; --parquet-only is clap's.
        for args in [
            &["backup", "full", "--export-parquet", "--help"][..],
            &["backup", "full", "-s", "/b", "--", "--export-parquet"],
            &["backup", "-s", "/b", "--parquet-only"],
            &["restore", "--export-parquet"],
        ] {
            assert_eq!(backup_then_export_args(&argv(args)), None, "{args:?}");
        }
    }

    #[test]
    fn settings_are_named_by_each_command_lines_flag() {
        let err = job(&[
            "br",
            "parquet-export",
            "--input",
            "/i",
            "--output",
            "/o",
            "--compression",
            "zstd",
            "--compression-level",
            "99",
        ])
        .unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { .. }), "{err}");
        assert_eq!(
            message(&err, Spelling::TikvCtl),
            "--compression-level: zstd takes levels 1..=22"
        );
        assert_eq!(
            message(&err, Spelling::Br),
            "--parquet-compression-level: zstd takes levels 1..=22"
        );
        assert_eq!(exit_code(&err), EXIT_USAGE);
        // The library itself never names a flag.
        assert!(!err.to_string().contains("--"), "{err}");
    }

    #[test]
    fn exit_codes() {
        let conflict = Error::OutputConflict {
            object: "p/db/t/metadata/v2.metadata.json".into(),
            message: "appeared while this export ran".into(),
        };
        assert_eq!(exit_code(&conflict), EXIT_FAILURE);
        let not_a_backup = Error::NotABackup {
            location: "local:///tmp/x".into(),
        };
        assert_eq!(exit_code(&not_a_backup), EXIT_USAGE);
        assert!(message(&not_a_backup, Spelling::Br).contains("point -s/--storage at"));
        assert!(message(&not_a_backup, Spelling::TikvCtl).contains("point --input at"));
        let mismatch = Error::Integrity {
            object: "1/5_write.sst".into(),
            message: "checksum mismatch: backupmeta says a, the SST holds b".into(),
        };
        assert!(
            message(&mismatch, Spelling::TikvCtl).ends_with("(pass --no-verify to export anyway)")
        );
        assert_eq!(exit_code(&mismatch), EXIT_FAILURE);
    }
}
