//! The export flags, defined once for both command lines.
//!
//! Each flag has one id and two spellings: `tikv-ctl br parquet-export` spells it plainly
//! (`--row-group-size`), `br backup` with BR's `--parquet-` prefix (`--parquet-row-group-size`),
//! except the flags BR itself has (`--ratelimit`, `--crypter.*`, `-f/--filter`,
//! `--case-sensitive`) and `--no-verify`, spelled the same on both. Like ripgrep's low-level and high-level arguments, parsing gives [`ExportFlags`]
//! (the values as typed, each checked alone by clap), and [`ExportFlags::resolve`] turns them once
//! into the settled [`ExportOptions`], checking how they combine.

use std::marker::PhantomData;
use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::crypter::{CipherMethod, Crypter};
use crate::error::Setting;
use crate::export::{ExportOptions, ProgressMode, Shard, DEFAULT_OUTPUT_PREFIX};
use crate::meta::filter::TableFilter;
use crate::proto::backup::StorageBackend;
use crate::sink::iceberg::{CatalogOptions, CatalogUri};
use crate::sink::parquet::{Codec, ParquetOptions, DEFAULT_ROW_GROUP_ROWS};
use crate::storage::{url, StorageOptions};
use crate::{Error, Result};

/// [`DEFAULT_ROW_GROUP_ROWS`] as `--help` shows it.
const DEFAULT_ROW_GROUP_ROWS_TEXT: &str = "1048576";

/// Which command line a flag is spelled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `tikv-ctl br parquet-export`.
    TikvCtl,
    /// `br backup`.
    Br,
}

/// A command line's spelling, as a type, so that clap's derive can flatten [`ExportFlags`].
pub trait SpelledAs {
    /// The spelling.
    const SPELLING: Spelling;
}

/// `tikv-ctl`'s spelling.
#[derive(Debug, Clone, Copy)]
pub struct TikvCtlSpelling;
impl SpelledAs for TikvCtlSpelling {
    const SPELLING: Spelling = Spelling::TikvCtl;
}

/// `br`'s spelling.
#[derive(Debug, Clone, Copy)]
pub struct BrSpelling;
impl SpelledAs for BrSpelling {
    const SPELLING: Spelling = Spelling::Br;
}

/// One export flag: its id and its two spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Filter,
    CaseSensitive,
    DryRun,
    Output,
    OutputStorageBase64,
    OutputPrefix,
    Compression,
    CompressionLevel,
    RowGroupSize,
    DictionaryPageSize,
    TargetFileSize,
    Concurrency,
    Report,
    WriteIcebergTable,
    WriteIcebergManifest,
    IcebergCatalog,
    IcebergCatalogName,
    IcebergNamespace,
    Progress,
    Strict,
    Lenient,
    NoResume,
    Shard,
    Shards,
    ShardIndexEnv,
    ShardLease,
    Quiet,
    Ratelimit,
    NoVerify,
    CrypterMethod,
    CrypterKey,
    CrypterKeyFile,
}

impl Flag {
    /// Every export flag, in `--help` order.
    pub(crate) const ALL: [Flag; 32] = [
        Flag::Filter,
        Flag::CaseSensitive,
        Flag::DryRun,
        Flag::Output,
        Flag::OutputStorageBase64,
        Flag::OutputPrefix,
        Flag::Compression,
        Flag::CompressionLevel,
        Flag::RowGroupSize,
        Flag::DictionaryPageSize,
        Flag::TargetFileSize,
        Flag::Concurrency,
        Flag::Report,
        Flag::WriteIcebergTable,
        Flag::WriteIcebergManifest,
        Flag::IcebergCatalog,
        Flag::IcebergCatalogName,
        Flag::IcebergNamespace,
        Flag::Progress,
        Flag::Strict,
        Flag::Lenient,
        Flag::NoResume,
        Flag::Shard,
        Flag::Shards,
        Flag::ShardIndexEnv,
        Flag::ShardLease,
        Flag::Quiet,
        Flag::Ratelimit,
        Flag::NoVerify,
        Flag::CrypterMethod,
        Flag::CrypterKey,
        Flag::CrypterKeyFile,
    ];

    /// The clap id: the `tikv-ctl` spelling.
    fn id(self) -> &'static str {
        match self {
            Flag::Filter => "filter",
            Flag::CaseSensitive => "case-sensitive",
            Flag::DryRun => "dry-run",
            Flag::Output => "output",
            Flag::OutputStorageBase64 => "output-storage-base64",
            Flag::OutputPrefix => "output-prefix",
            Flag::Compression => "compression",
            Flag::CompressionLevel => "compression-level",
            Flag::RowGroupSize => "row-group-size",
            Flag::DictionaryPageSize => "dictionary-page-size",
            Flag::TargetFileSize => "target-file-size",
            Flag::Concurrency => "concurrency",
            Flag::Report => "report",
            Flag::WriteIcebergTable => "write-iceberg-table",
            Flag::WriteIcebergManifest => "write-iceberg-manifest",
            Flag::IcebergCatalog => "iceberg-catalog",
            Flag::IcebergCatalogName => "iceberg-catalog-name",
            Flag::IcebergNamespace => "iceberg-namespace",
            Flag::Progress => "progress",
            Flag::Strict => "strict",
            Flag::Lenient => "lenient",
            Flag::NoResume => "no-resume",
            Flag::Shard => "shard",
            Flag::Shards => "shards",
            Flag::ShardIndexEnv => "shard-index-env",
            Flag::ShardLease => "shard-lease",
            Flag::Quiet => "quiet",
            Flag::Ratelimit => "ratelimit",
            Flag::NoVerify => "no-verify",
            Flag::CrypterMethod => "crypter.method",
            Flag::CrypterKey => "crypter.key",
            Flag::CrypterKeyFile => "crypter.key-file",
        }
    }

    /// Whether `br` spells it without the `--parquet-` prefix: BR's own flags (the table
    /// filter, the rate limit, encryption), and `--no-verify` and `--dry-run`.
    fn shared_with_br(self) -> bool {
        matches!(
            self,
            Flag::Filter
                | Flag::CaseSensitive
                | Flag::DryRun
                | Flag::Ratelimit
                | Flag::NoVerify
                | Flag::CrypterMethod
                | Flag::CrypterKey
                | Flag::CrypterKeyFile
        )
    }

    /// Whether `br backup --export-parquet` also hands it to BR: BR's own flags, which mean the
    /// same backup to both (`--no-verify` and `--dry-run` are the export's alone). See
    /// docs/architecture.md.
    pub(crate) fn passed_to_br(self) -> bool {
        self.shared_with_br() && !matches!(self, Flag::NoVerify | Flag::DryRun)
    }

    /// Whether it takes a value (`--flag VALUE`), rather than being a switch.
    pub(crate) fn takes_value(self) -> bool {
        self.arg(Spelling::Br).get_action().takes_values()
    }

    /// Its one-letter spelling on `spelling`'s command line, if any.
    pub(crate) fn short(self, spelling: Spelling) -> Option<char> {
        self.arg(spelling).get_short()
    }

    /// The long name in `spelling`, without `--`.
    pub fn long(self, spelling: Spelling) -> String {
        match spelling {
            Spelling::Br if !self.shared_with_br() => format!("parquet-{}", self.id()),
            _ => self.id().to_string(),
        }
    }

    /// `--<long>` in `spelling`, for messages.
    pub fn spelled(self, spelling: Spelling) -> String {
        format!("--{}", self.long(spelling))
    }

    /// The flag a library setting is given with.
    pub fn of_setting(setting: Setting) -> Flag {
        match setting {
            Setting::CompressionLevel => Flag::CompressionLevel,
            Setting::DictionaryPageSize => Flag::DictionaryPageSize,
            Setting::Shard => Flag::Shard,
            Setting::CrypterMethod => Flag::CrypterMethod,
            Setting::CrypterKey => Flag::CrypterKey,
            Setting::CrypterKeyFile => Flag::CrypterKeyFile,
            Setting::IcebergCatalog => Flag::IcebergCatalog,
            Setting::IcebergNamespace => Flag::IcebergNamespace,
        }
    }

    /// The clap argument in `spelling`.
    fn arg(self, spelling: Spelling) -> Arg {
        let arg = Arg::new(self.id()).long(self.long(spelling));
        let value = |arg: Arg, name: &'static str| arg.value_name(name).action(ArgAction::Set);
        let switch = |arg: Arg| arg.action(ArgAction::SetTrue);
        match self {
            Flag::Filter => arg
                .short('f')
                .value_name("RULE")
                .action(ArgAction::Append)
                .help(
                    "Export only the tables these rules select, in TiDB's table-filter syntax \
                     (`db.*`, `!db.secret`, `/regex/.t`, `@rules-file`); the last matching rule \
                     decides [default: every table but the system schemas] (docs/table-filter.md)",
                ),
            Flag::CaseSensitive => {
                switch(arg).help("Match table-filter rules case-sensitively (BR's --case-sensitive)")
            }
            Flag::DryRun => switch(arg).help(
                "Print the plan (tables selected and left out, ranges, SST bytes, estimated \
                 rows, files, shards, what resume would reuse) and stop: only metadata is read, \
                 nothing is written (--report gets it as JSON)",
            ),
            Flag::Output => value(arg, "URL").help(match spelling {
                Spelling::TikvCtl => {
                    "Output storage URL: a path, local://, s3://, gcs://, azure:// or noop:// with \
                     BR's query options (docs/storage.md)"
                }
                Spelling::Br => "Where the Parquet files go [default: the backup storage itself]",
            }),
            Flag::OutputStorageBase64 => value(arg, "B64")
                .conflicts_with(Flag::Output.id())
                .help("Output storage as a base64 StorageBackend (`br operator base64ify`)"),
            Flag::OutputPrefix => value(arg, "PREFIX")
                .default_value(DEFAULT_OUTPUT_PREFIX)
                .help("Object-name prefix of everything written to the output"),
            Flag::Compression => value(arg, "CODEC")
                .default_value("zstd")
                .value_parser(value_parser!(Codec))
                .help("Column compression: snappy, zstd, gzip, brotli, lz4raw or none"),
            Flag::CompressionLevel => value(arg, "N")
                .allow_negative_numbers(true)
                .value_parser(value_parser!(i32))
                .help(
                    "Compression level (zstd 1..=22, default 1; gzip 0..=9, default 6; brotli \
                     0..=11, default 1)",
                ),
            Flag::RowGroupSize => value(arg, "ROWS")
                .default_value(DEFAULT_ROW_GROUP_ROWS_TEXT)
                .value_parser(parse_positive)
                .help("Maximum rows per Parquet row group (a group also closes at 128 MiB encoded)"),
            Flag::DictionaryPageSize => value(arg, "SIZE").value_parser(parse_size).help(
                "A column chunk stops dictionary encoding once its dictionary reaches this size; \
                 a column whose first 8192 values show it would get none at all [default: 1MiB]",
            ),
            Flag::TargetFileSize => value(arg, "SIZE").value_parser(parse_size).help(
                "Combine a table's small ranges into files of about this size, and split larger \
                 files (e.g. 512MiB, 1GiB) [default: one file per table per backed-up range]",
            ),
            Flag::Concurrency => value(arg, "N")
                .value_parser(value_parser!(u32).range(1..=1024))
                .help("Backed-up ranges exported at once [default: number of cores]"),
            Flag::Report => value(arg, "FILE")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Write a JSON report of the run (files with rows, sizes and SHA-256; skipped \
                     keys) here",
                ),
            Flag::WriteIcebergTable => switch(arg)
                .help("Also make each table an Iceberg v2 table (metadata under <db>/<table>/metadata/)")
                .long_help(
                    "Also make each table an Iceberg v2 table (metadata under \
                     <db>/<table>/metadata/).\n\nWrites manifests, a manifest list and \
                     v<N>.metadata.json (plus version-hint.text) next to the table's Parquet \
                     files, with per-file column statistics. A later export into the same place \
                     adds a new snapshot and keeps the old ones. See docs/iceberg.md.",
                ),
            Flag::WriteIcebergManifest => switch(arg).help(
                "Also write a JSON manifest of the run: every file with rows, size, SHA-256 and \
                 column statistics (<prefix>/iceberg-manifest-<end_version>.json)",
            ),
            Flag::IcebergCatalog => value(arg, "URI")
                .help(
                    "Register every table in this Iceberg catalog (implies \
                     --write-iceberg-table): sqlite:///ABSOLUTE/PATH.db, \
                     postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or glue://?region=REGION",
                )
                .long_help(
                    "Register every table in this Iceberg catalog (implies \
                     --write-iceberg-table): sqlite:///ABSOLUTE/PATH.db (created when missing) or \
                     postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, the SQL catalog layout \
                     PyIceberg's SqlCatalog and Java's JdbcCatalog read; or AWS Glue (in builds with \
                     the `glue` feature), \
                     glue://?region=REGION[&endpoint=URL][&catalog-id=ACCOUNT][&profile=NAME] \
                     with credentials from the environment as for S3.\n\nThe first export \
                     registers each table; an export of a newer backup commits one overwrite \
                     snapshot (earlier snapshots stay for time travel); re-running an export \
                     that already committed changes nothing. Commits are compare-and-swap (Glue: \
                     UpdateTable with the table's VersionId): a \
                     writer that loses a race reloads the table and commits again. The password \
                     is never printed. See docs/iceberg.md.",
                ),
            Flag::IcebergCatalogName => value(arg, "NAME")
                .default_value(crate::sink::iceberg::catalog::DEFAULT_CATALOG_NAME)
                .requires(Flag::IcebergCatalog.id())
                .help("The catalog name the tables are registered under (SqlCatalog's name)"),
            Flag::IcebergNamespace => value(arg, "TEMPLATE")
                .default_value(crate::sink::iceberg::catalog::DEFAULT_NAMESPACE)
                .requires(Flag::IcebergCatalog.id())
                .help(
                    "The namespace of each table in the catalog: {db} is its TiDB database, `.` \
                     separates levels (`lake.{db}`, `tidb_{db}`, `analytics`)",
                ),
            Flag::Progress => value(arg, "MODE")
                .default_value("auto")
                .value_parser(value_parser!(ProgressMode))
                .help(
                    "Progress on stderr: auto (a live line on a terminal, JSON lines every 10 s \
                     otherwise), bar, json or none",
                ),
            Flag::Strict => switch(arg)
                .conflicts_with(Flag::Lenient.id())
                .help("Stop at the first row that cannot be decoded (the default)"),
            Flag::Lenient => switch(arg).help(
                "Skip rows that cannot be decoded, count them, and list the first keys in the \
                 report",
            ),
            Flag::NoResume => switch(arg).help(
                "Export every range, even those a failed or killed run of the same export already \
                 finished and staged (by default a re-run reuses them; any change of backup, \
                 options or version makes it export them again anyway)",
            ),
            Flag::Shard => value(arg, "I/N")
                .value_parser(value_parser!(Shard))
                .conflicts_with(Flag::NoResume.id())
                .help(
                    "Export on several machines: this one exports shard I of N (`2/4`) into the \
                     shared output and publishes nothing. When all N are done, a run without the \
                     shard flag (on any machine, same options) checks every table and publishes; \
                     it exports what a failed shard left undone",
                ),
            Flag::Shards => value(arg, "N")
                .value_parser(value_parser!(u32).range(1..))
                .conflicts_with_all([Flag::Shard.id(), Flag::NoResume.id()])
                .help(
                    "Export on N machines that run the same command line, each taking its 0-based \
                     index from the environment (JOB_COMPLETION_INDEX of a Kubernetes Indexed \
                     Job, AWS_BATCH_JOB_ARRAY_INDEX, or --shard-index-env). The shard that \
                     finishes last checks every table and publishes, exactly once; no final run \
                     is needed (docs/scale-out.md)",
                ),
            Flag::ShardIndexEnv => value(arg, "VAR")
                .requires(Flag::Shards.id())
                .help(
                    "The environment variable holding this machine's 0-based shard index for \
                     --shards (e.g. SLURM_ARRAY_TASK_ID; a 1-based index must be made 0-based)",
                ),
            Flag::ShardLease => value(arg, "SECONDS")
                .value_parser(value_parser!(u32))
                .requires(Flag::Shards.id())
                .help(
                    "With --shards: a shard renews a lease on each job it runs every third of \
                     this period; a shard out of jobs takes over the jobs whose lease went \
                     unrenewed (or that nobody started) for one whole period, so a dead or slow \
                     machine delays the export by about this long. 0: each shard runs only its \
                     own share (for schedulers that run the shards one after another) \
                     [default: 60]",
                ),
            Flag::Quiet => {
                let arg = switch(arg).help("Print nothing on success (and no progress)");
                match spelling {
                    Spelling::TikvCtl => arg.short('q'),
                    Spelling::Br => arg,
                }
            }
            Flag::Ratelimit => value(arg, "N")
                .value_parser(value_parser!(u64).range(1..))
                .help(
                    "Limit storage traffic (SST downloads, uploads, metadata reads) to N MiB/s in \
                     total (BR's --ratelimit)",
                ),
            Flag::NoVerify => switch(arg).help(
                "Skip verifying each SST's SHA-256 and BR checksums and each table's checksum \
                 against backupmeta (the report then says verification was off)",
            ),
            Flag::CrypterMethod => value(arg, "METHOD")
                .default_value("plaintext")
                .value_parser(value_parser!(CipherMethod))
                .help(
                    "Encryption of the backup, as given to `br backup --crypter.method`: \
                     plaintext, aes128-ctr, aes192-ctr or aes256-ctr",
                ),
            Flag::CrypterKey => value(arg, "HEX")
                .conflicts_with(Flag::CrypterKeyFile.id())
                .help("The backup's key, in hex (16, 24 or 32 bytes for AES-128/192/256)"),
            Flag::CrypterKeyFile => value(arg, "FILE")
                .value_parser(value_parser!(PathBuf))
                .help("A file holding the backup's key in hex"),
        }
    }
}

/// The export flags as given on a command line spelled `S`, each checked alone.
#[derive(Debug, Clone)]
pub struct ExportFlags<S> {
    pub filter: Vec<String>,
    pub case_sensitive: bool,
    pub dry_run: bool,
    pub output: Option<String>,
    pub output_storage_base64: Option<String>,
    pub output_prefix: String,
    pub compression: Codec,
    pub compression_level: Option<i32>,
    pub row_group_size: usize,
    pub dictionary_page_size: Option<u64>,
    pub target_file_size: Option<u64>,
    pub concurrency: Option<u32>,
    pub report: Option<PathBuf>,
    pub write_iceberg_table: bool,
    pub write_iceberg_manifest: bool,
    pub iceberg_catalog: Option<String>,
    pub iceberg_catalog_name: String,
    pub iceberg_namespace: String,
    pub progress: ProgressMode,
    pub lenient: bool,
    pub no_resume: bool,
    pub shard: Option<Shard>,
    pub shards: Option<usize>,
    pub shard_index_env: Option<String>,
    pub shard_lease: Option<u32>,
    pub quiet: bool,
    pub ratelimit: Option<u64>,
    pub no_verify: bool,
    pub crypter_method: CipherMethod,
    pub crypter_key: Option<String>,
    pub crypter_key_file: Option<PathBuf>,
    spelling: PhantomData<S>,
}

impl<S: SpelledAs> Args for ExportFlags<S> {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(Flag::ALL.iter().map(|flag| flag.arg(S::SPELLING)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<S: SpelledAs> FromArgMatches for ExportFlags<S> {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let one = |flag: Flag| m.get_one::<String>(flag.id()).cloned();
        let switch = |flag: Flag| m.get_flag(flag.id());
        Ok(ExportFlags {
            filter: m
                .get_many::<String>(Flag::Filter.id())
                .map(|rules| rules.cloned().collect())
                .unwrap_or_default(),
            case_sensitive: switch(Flag::CaseSensitive),
            dry_run: switch(Flag::DryRun),
            output: one(Flag::Output),
            output_storage_base64: one(Flag::OutputStorageBase64),
            output_prefix: one(Flag::OutputPrefix).unwrap_or_default(),
            compression: m
                .get_one::<Codec>(Flag::Compression.id())
                .copied()
                .unwrap_or(Codec::Zstd),
            compression_level: m.get_one::<i32>(Flag::CompressionLevel.id()).copied(),
            row_group_size: m
                .get_one::<usize>(Flag::RowGroupSize.id())
                .copied()
                .unwrap_or(DEFAULT_ROW_GROUP_ROWS),
            dictionary_page_size: m.get_one::<u64>(Flag::DictionaryPageSize.id()).copied(),
            target_file_size: m.get_one::<u64>(Flag::TargetFileSize.id()).copied(),
            concurrency: m.get_one::<u32>(Flag::Concurrency.id()).copied(),
            report: m.get_one::<PathBuf>(Flag::Report.id()).cloned(),
            write_iceberg_table: switch(Flag::WriteIcebergTable),
            write_iceberg_manifest: switch(Flag::WriteIcebergManifest),
            iceberg_catalog: one(Flag::IcebergCatalog),
            iceberg_catalog_name: one(Flag::IcebergCatalogName).unwrap_or_default(),
            iceberg_namespace: one(Flag::IcebergNamespace).unwrap_or_default(),
            progress: m
                .get_one::<ProgressMode>(Flag::Progress.id())
                .copied()
                .unwrap_or_default(),
            lenient: switch(Flag::Lenient) && !switch(Flag::Strict),
            no_resume: switch(Flag::NoResume),
            shard: m.get_one::<Shard>(Flag::Shard.id()).copied(),
            shards: m.get_one::<u32>(Flag::Shards.id()).map(|&n| n as usize),
            shard_index_env: one(Flag::ShardIndexEnv),
            shard_lease: m.get_one::<u32>(Flag::ShardLease.id()).copied(),
            quiet: switch(Flag::Quiet),
            ratelimit: m.get_one::<u64>(Flag::Ratelimit.id()).copied(),
            no_verify: switch(Flag::NoVerify),
            crypter_method: m
                .get_one::<CipherMethod>(Flag::CrypterMethod.id())
                .copied()
                .unwrap_or(CipherMethod::Plaintext),
            crypter_key: one(Flag::CrypterKey),
            crypter_key_file: m.get_one::<PathBuf>(Flag::CrypterKeyFile.id()).cloned(),
            spelling: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// A settled request: the export's options and what the command line does around it.
#[derive(Debug)]
pub struct Resolved {
    /// The export.
    pub options: ExportOptions,
    /// Where the JSON report goes.
    pub report: Option<PathBuf>,
    /// Print nothing on success.
    pub quiet: bool,
    /// Print the plan instead of exporting.
    pub dry_run: bool,
}

impl<S: SpelledAs> ExportFlags<S> {
    /// Settles the flags into an export of the backup at `input`. Without an output, `br` writes
    /// into the backup storage; `tikv-ctl` needs one.
    ///
    /// # Errors
    /// A usage error naming the flags, in this command line's spelling.
    pub fn resolve(self, input: StorageBackend) -> Result<Resolved> {
        let spelled = |flag: Flag| flag.spelled(S::SPELLING);
        let output = match (&self.output, &self.output_storage_base64, S::SPELLING) {
            (Some(u), None, _) => url::parse_url(u)?,
            (None, Some(b), _) => url::parse_base64(b)?,
            (None, None, Spelling::Br) => input.clone(),
            _ => {
                return Err(Error::Usage(format!(
                    "give exactly one of {} and {}",
                    spelled(Flag::Output),
                    spelled(Flag::OutputStorageBase64)
                )))
            }
        };
        let mut options = ExportOptions::new(input, output);
        options.output_prefix = self.output_prefix;
        let defaults = ParquetOptions::default();
        options.parquet = ParquetOptions {
            compression: self.compression.with_level(self.compression_level)?,
            row_group_rows: self.row_group_size,
            dictionary_page_bytes: match self.dictionary_page_size {
                Some(size) => usize::try_from(size).map_err(|_| {
                    Error::setting(Setting::DictionaryPageSize, format!("{size} is too large"))
                })?,
                None => defaults.dictionary_page_bytes,
            },
            ..defaults
        };
        options.compression_name = codec_name(self.compression, self.compression_level);
        if let Some(n) = self.concurrency {
            options.concurrency = n as usize;
        }
        options.lenient = self.lenient;
        options.target_file_size = self.target_file_size;
        options.resume = !self.no_resume;
        options.shard = match self.shards {
            Some(count) => Some(
                Shard::from_env(count, self.shard_index_env.as_deref(), |name| {
                    std::env::var(name).ok()
                })
                .map_err(|e| Error::Usage(format!("{}: {e}", spelled(Flag::Shards))))?,
            ),
            None => self.shard,
        };
        if let Some(seconds) = self.shard_lease {
            options.shard_lease = std::time::Duration::from_secs(seconds.into());
        }
        options.verify = !self.no_verify;
        options.crypter = Crypter::from_flags(
            self.crypter_method,
            self.crypter_key.as_deref(),
            self.crypter_key_file.as_deref(),
        )?;
        options.progress = if self.quiet {
            ProgressMode::None
        } else {
            self.progress
        };
        options.write_iceberg_table = self.write_iceberg_table;
        options.write_iceberg_manifest = self.write_iceberg_manifest;
        if let Some(uri) = &self.iceberg_catalog {
            options.iceberg_catalog = Some(CatalogOptions {
                uri: CatalogUri::parse(uri)?,
                name: self.iceberg_catalog_name,
                namespace: self.iceberg_namespace,
            });
        }
        options.storage = StorageOptions::with_ratelimit_mib(self.ratelimit);
        options.filter = if self.filter.is_empty() {
            TableFilter::br_default()
        } else {
            TableFilter::parse(&self.filter, self.case_sensitive)
                .map_err(|e| Error::Usage(format!("{}: {e}", spelled(Flag::Filter))))?
        };
        options.validate()?;
        Ok(Resolved {
            options,
            report: self.report,
            quiet: self.quiet,
            dry_run: self.dry_run,
        })
    }
}

fn codec_name(codec: Codec, level: Option<i32>) -> String {
    match (codec, level) {
        (Codec::Zstd, None) => "zstd(1)".into(),
        (_, Some(level)) => format!("{codec}({level})"),
        (_, None) => codec.to_string(),
    }
}

/// Parses `512MiB`, `1GiB`, `64MB`, `1000000` (bytes).
pub(crate) fn parse_size(s: &str) -> std::result::Result<u64, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_default_is_the_writer_default() {
        assert_eq!(
            DEFAULT_ROW_GROUP_ROWS_TEXT.parse::<usize>(),
            Ok(DEFAULT_ROW_GROUP_ROWS)
        );
    }

    #[test]
    fn spellings() {
        assert_eq!(
            Flag::RowGroupSize.spelled(Spelling::TikvCtl),
            "--row-group-size"
        );
        assert_eq!(
            Flag::RowGroupSize.spelled(Spelling::Br),
            "--parquet-row-group-size"
        );
        assert_eq!(Flag::Ratelimit.spelled(Spelling::Br), "--ratelimit");
        assert_eq!(Flag::CrypterKey.spelled(Spelling::Br), "--crypter.key");
        // Every flag has a spelling of its own on each command line.
        for spelling in [Spelling::TikvCtl, Spelling::Br] {
            let mut names: Vec<String> = Flag::ALL.iter().map(|f| f.long(spelling)).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), Flag::ALL.len());
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2 mb"), Ok(2 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1PB").unwrap_err().contains("unknown size unit"));
    }
}
