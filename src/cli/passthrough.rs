//! `br backup full|db|table ... --export-parquet`: run the real BR, then export what it wrote.
//!
//! BR's own flags are unknown to this program's clap definition, so the command line is split
//! before clap ([`split_br_args`]): every argument that is not ours goes to BR unchanged and in
//! order; ours (`--export-parquet`, `--br-binary`, the `--parquet-*` flags, `--no-verify`) go to the
//! export only; the flags naming the same backup on both (`-s/--storage`, `--crypter.*`,
//! `--ratelimit`, `-f/--filter`, `--case-sensitive`) go to both. BR is found by [`find_br`].
//! See docs/architecture.md and README.md ("Commands").

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use super::flags::{Flag, Spelling};

/// The environment variable naming the BR executable (after `--br-binary`).
pub const BR_BINARY_ENV: &str = "BR_BINARY";

/// How to get BR, for the error when none is found.
pub const HOW_TO_GET_BR: &str = "install BR with `tiup install br` (it is then at \
     ~/.tiup/components/br/<version>/br), or take `br` from the TiDB release tarball \
     (tidb-community-toolkit-<version>-linux-amd64.tar.gz), then pass --br-binary PATH, set \
     BR_BINARY, or put it on PATH";

/// A `br backup ... --export-parquet` command line, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// BR's arguments, `backup` first, then every argument that is not ours, unchanged and in
    /// order (shared flags included).
    pub br_args: Vec<OsString>,
    /// The export's arguments, each `--long=VALUE` or `--long` in `br`'s spelling: the
    /// `--parquet-*` flags, `--no-verify` and the shared flags, in order.
    pub export_args: Vec<OsString>,
    /// `--br-binary`, if given.
    pub br_binary: Option<PathBuf>,
}

/// Who gets an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// `--export-parquet`: the request itself, given to neither.
    Request,
    /// `--br-binary`.
    BrBinary,
    /// The export only.
    Export,
    /// BR and the export.
    Both,
}

/// One flag the splitter knows: its long name in `br`'s spelling, its short name, whether it
/// takes a value, and who gets it.
#[derive(Debug, Clone)]
struct Known {
    long: String,
    short: Option<char>,
    takes_value: bool,
    owner: Owner,
}

fn known_flags() -> Vec<Known> {
    let mut known = vec![
        Known {
            long: "export-parquet".into(),
            short: None,
            takes_value: false,
            owner: Owner::Request,
        },
        Known {
            long: "br-binary".into(),
            short: None,
            takes_value: true,
            owner: Owner::BrBinary,
        },
        Known {
            long: "storage".into(),
            short: Some('s'),
            takes_value: true,
            owner: Owner::Both,
        },
    ];
    known.extend(Flag::ALL.iter().map(|flag| Known {
        long: flag.long(Spelling::Br),
        short: flag.short(Spelling::Br),
        takes_value: flag.takes_value(),
        owner: if flag.passed_to_br() {
            Owner::Both
        } else {
            Owner::Export
        },
    }));
    known
}

/// One argument recognised as a known flag: the flag, and the value given with `=` (or, for a
/// short flag, attached: `-fshop.*`).
fn recognise<'k>(known: &'k [Known], arg: &str) -> Option<(&'k Known, Option<String>)> {
    if let Some(body) = arg.strip_prefix("--") {
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        return known.iter().find(|k| k.long == name).map(|k| (k, value));
    }
    let mut chars = arg.strip_prefix('-')?.chars();
    let letter = chars.next()?;
    let rest = chars.as_str();
    let flag = known.iter().find(|k| k.short == Some(letter))?;
    let value = match rest.strip_prefix('=') {
        Some(value) => Some(value.to_string()),
        None if rest.is_empty() => None,
        // `-fshop.*`: the value attached; a switch never has one.
        None if flag.takes_value => Some(rest.to_string()),
        None => return None,
    };
    Some((flag, value))
}

/// Whether a switch given as `--switch=VALUE` is on (BR's flag parser accepts `=true`/`=false`).
fn switch_value(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "" | "true" | "t" | "1" => Some(true),
        "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// Splits the arguments after `br backup` into BR's and the export's (see [`Split`]).
/// Everything after `--` goes to BR. An argument that is not valid UTF-8 is not ours.
///
/// # Errors
/// A usage message: one of our flags lacks its value, or a switch has a value that is not a
/// boolean.
pub fn split_br_args<I>(args: I) -> Result<Split, String>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let known = known_flags();
    let mut split = Split {
        br_args: vec![OsString::from("backup")],
        export_args: Vec::new(),
        br_binary: None,
    };
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        if arg == "--" {
            split.br_args.push(arg);
            split.br_args.extend(args.by_ref());
            break;
        }
        let Some((flag, attached)) = arg.to_str().and_then(|text| recognise(&known, text)) else {
            split.br_args.push(arg);
            continue;
        };
        let spelled = format!("--{}", flag.long);
        let mut raw = vec![arg.clone()];
        let value: Option<OsString> = if flag.takes_value {
            match attached {
                Some(value) => Some(value.into()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| format!("{spelled} needs a value"))?;
                    raw.push(value.clone());
                    Some(value)
                }
            }
        } else {
            match attached.as_deref().map(switch_value) {
                None | Some(Some(true)) => None,
                Some(Some(false)) => {
                    // Off: BR still gets it as written; the export gets nothing.
                    if flag.owner == Owner::Both {
                        split.br_args.extend(raw);
                    }
                    continue;
                }
                Some(None) => {
                    return Err(format!(
                        "{spelled} is a switch; it takes no value (or true/false)"
                    ))
                }
            }
        };
        let export_arg = || {
            let mut export_arg = OsString::from(&spelled);
            if let Some(value) = &value {
                export_arg.push("=");
                export_arg.push(value);
            }
            export_arg
        };
        match flag.owner {
            Owner::Request => {}
            Owner::BrBinary => split.br_binary = value.map(PathBuf::from),
            Owner::Export => split.export_args.push(export_arg()),
            Owner::Both => {
                split.export_args.push(export_arg());
                split.br_args.extend(raw);
            }
        }
    }
    Ok(split)
}

/// Where BR was found, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBr {
    /// The executable.
    pub path: PathBuf,
    /// `--br-binary`, `$BR_BINARY` or `PATH`.
    pub source: &'static str,
}

/// Finds BR: `--br-binary`, else `$BR_BINARY` (if set and not empty), else the first executable
/// `br` on `path_var` that is not `this_program` (compared as canonical paths: this program is
/// installed as `br` too).
///
/// # Errors
/// No BR was found: the message says where it looked and how to get one.
pub fn find_br(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    path_var: Option<&OsStr>,
    this_program: Option<&Path>,
) -> Result<FoundBr, String> {
    if let Some(path) = flag {
        return Ok(FoundBr {
            path: path.to_path_buf(),
            source: "--br-binary",
        });
    }
    if let Some(path) = env.filter(|p| !p.is_empty()) {
        return Ok(FoundBr {
            path: PathBuf::from(path),
            source: "$BR_BINARY",
        });
    }
    let this = this_program.and_then(|p| p.canonicalize().ok());
    let found = path_var
        .into_iter()
        .flat_map(std::env::split_paths)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join("br"))
        .find(|candidate| {
            is_executable(candidate) && candidate.canonicalize().ok().as_ref() != this.as_ref()
        });
    match found {
        Some(path) => Ok(FoundBr {
            path,
            source: "PATH",
        }),
        None => Err(format!(
            "--export-parquet runs BR to take the backup, and no BR was found (no --br-binary, \
             no ${BR_BINARY_ENV}, and no `br` on PATH other than this program); {HOW_TO_GET_BR}. \
             To export a backup that already exists, use --parquet-only instead"
        )),
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// How BR ended, in words, when it failed: `exited with status 3`, `was killed by SIGKILL`.
pub fn describe_failure(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by {}", signal_name(signal));
        }
    }
    format!("ended with {status}")
}

/// The exit status this program takes over from a failed BR: BR's own, or 1 if it has none
/// (killed by a signal) or one outside 1..=255.
pub fn exit_status_of(status: ExitStatus) -> u8 {
    status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .filter(|&code| code != 0)
        .unwrap_or(1)
}

/// The name of a signal number (Linux numbering for the common ones).
fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    format!("{name} (signal {signal})")
}

/// Runs BR with `args`, its stdout and stderr inherited (its output streams through).
///
/// # Errors
/// BR could not be started.
pub fn run_br(br: &FoundBr, args: &[OsString]) -> Result<ExitStatus, String> {
    Command::new(&br.path).args(args).status().map_err(|e| {
        format!(
            "cannot run BR at {} (from {}): {e}; {HOW_TO_GET_BR}",
            br.path.display(),
            br.source
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(args: &[&str]) -> Split {
        split_br_args(args.iter().copied()).unwrap()
    }

    fn strings(args: &[OsString]) -> Vec<&str> {
        args.iter().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn ours_are_taken_out_and_the_rest_passes_in_order() {
        let s = split(&[
            "full",
            "--pd",
            "127.0.0.1:2379",
            "-s",
            "local:///b",
            "-f",
            "shop.*",
            "--concurrency",
            "8",
            "--export-parquet",
            "--parquet-output",
            "/out",
            "--br-binary",
            "/opt/br",
            "--compression",
            "zstd",
            "--parquet-compression",
            "snappy",
            "--lastbackupts",
            "42",
        ]);
        assert_eq!(
            strings(&s.br_args),
            [
                "backup",
                "full",
                "--pd",
                "127.0.0.1:2379",
                "-s",
                "local:///b",
                "-f",
                "shop.*",
                "--concurrency",
                "8",
                "--compression",
                "zstd",
                "--lastbackupts",
                "42"
            ]
        );
        assert_eq!(
            strings(&s.export_args),
            [
                "--storage=local:///b",
                "--filter=shop.*",
                "--parquet-output=/out",
                "--parquet-compression=snappy"
            ]
        );
        assert_eq!(s.br_binary.as_deref(), Some(Path::new("/opt/br")));
    }

    #[test]
    fn equals_and_attached_values() {
        let s = split(&[
            "db",
            "--db=shop",
            "--storage=s3://b/p?region=x",
            "--parquet-output=/o=1",
            "--br-binary=/x/br",
            "-fshop.*",
            "-f=!shop.t",
            "-s/b2",
        ]);
        assert_eq!(
            strings(&s.br_args),
            [
                "backup",
                "db",
                "--db=shop",
                "--storage=s3://b/p?region=x",
                "-fshop.*",
                "-f=!shop.t",
                "-s/b2"
            ]
        );
        assert_eq!(
            strings(&s.export_args),
            [
                "--storage=s3://b/p?region=x",
                "--parquet-output=/o=1",
                "--filter=shop.*",
                "--filter=!shop.t",
                "--storage=/b2"
            ]
        );
        assert_eq!(s.br_binary.as_deref(), Some(Path::new("/x/br")));
    }

    #[test]
    fn shared_flags_go_to_both() {
        let s = split(&[
            "table",
            "--crypter.method",
            "aes128-ctr",
            "--crypter.key=0123456789abcdef0123456789abcdef",
            "--crypter.key-file",
            "/k",
            "--ratelimit",
            "64",
            "--case-sensitive",
            "--no-verify",
            "--parquet-compression-level",
            "-1",
        ]);
        assert_eq!(
            strings(&s.br_args),
            [
                "backup",
                "table",
                "--crypter.method",
                "aes128-ctr",
                "--crypter.key=0123456789abcdef0123456789abcdef",
                "--crypter.key-file",
                "/k",
                "--ratelimit",
                "64",
                "--case-sensitive"
            ],
            "--no-verify and --parquet-* are the export's alone"
        );
        assert_eq!(
            strings(&s.export_args),
            [
                "--crypter.method=aes128-ctr",
                "--crypter.key=0123456789abcdef0123456789abcdef",
                "--crypter.key-file=/k",
                "--ratelimit=64",
                "--case-sensitive",
                "--no-verify",
                // A value that looks like a flag is still the value.
                "--parquet-compression-level=-1"
            ]
        );
        assert_eq!(s.br_binary, None);
    }

    #[test]
    fn repeated_filters_keep_their_order() {
        let s = split(&["full", "-f", "a.*", "--filter", "!a.b", "-f", "c.d"]);
        assert_eq!(
            strings(&s.br_args),
            ["backup", "full", "-f", "a.*", "--filter", "!a.b", "-f", "c.d"]
        );
        assert_eq!(
            strings(&s.export_args),
            ["--filter=a.*", "--filter=!a.b", "--filter=c.d"]
        );
    }

    #[test]
    fn switches_with_values_and_the_terminator() {
        let s = split(&[
            "full",
            "--case-sensitive=false",
            "--parquet-quiet=true",
            "--",
            "--parquet-output",
            "x",
        ]);
        assert_eq!(
            strings(&s.br_args),
            [
                "backup",
                "full",
                "--case-sensitive=false",
                "--",
                "--parquet-output",
                "x"
            ]
        );
        assert_eq!(strings(&s.export_args), ["--parquet-quiet"]);
        let err = split_br_args(["--parquet-quiet=maybe"]).unwrap_err();
        assert_eq!(
            err,
            "--parquet-quiet is a switch; it takes no value (or true/false)"
        );
    }

    #[test]
    fn unknown_lookalikes_are_brs() {
        // No prefix matching, and the tikv-ctl spellings are not `br` flags.
        let s = split(&[
            "full",
            "--parquet-out",
            "x",
            "--output",
            "y",
            "--filters",
            "z",
        ]);
        assert_eq!(
            strings(&s.br_args),
            [
                "backup",
                "full",
                "--parquet-out",
                "x",
                "--output",
                "y",
                "--filters",
                "z"
            ]
        );
        assert!(s.export_args.is_empty());
    }

    #[test]
    fn a_missing_value_is_named() {
        assert_eq!(
            split_br_args(["full", "--parquet-output"]).unwrap_err(),
            "--parquet-output needs a value"
        );
        assert_eq!(
            split_br_args(["full", "-s"]).unwrap_err(),
            "--storage needs a value"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_pass_to_br() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'-', b'-', 0xff]);
        let s = split_br_args([OsString::from("full"), odd.clone()]).unwrap();
        assert_eq!(s.br_args, [OsString::from("backup"), "full".into(), odd]);
    }

    #[cfg(unix)]
    #[test]
    fn finding_br() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        for d in [&first, &second] {
            std::fs::create_dir(d).unwrap();
            let br = d.join("br");
            std::fs::write(&br, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&br, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = std::env::join_paths([&first, &second]).unwrap();
        let flag = Path::new("/flag/br");
        assert_eq!(
            find_br(Some(flag), Some(OsStr::new("/env/br")), Some(&path), None),
            Ok(FoundBr {
                path: flag.into(),
                source: "--br-binary"
            })
        );
        assert_eq!(
            find_br(None, Some(OsStr::new("/env/br")), Some(&path), None),
            Ok(FoundBr {
                path: "/env/br".into(),
                source: "$BR_BINARY"
            })
        );
        // An empty BR_BINARY is unset; the first `br` on PATH is taken.
        assert_eq!(
            find_br(None, Some(OsStr::new("")), Some(&path), None)
                .unwrap()
                .path,
            first.join("br")
        );
        // ... unless it is this program.
        assert_eq!(
            find_br(None, None, Some(&path), Some(&first.join("br")))
                .unwrap()
                .path,
            second.join("br")
        );
        // A file without the execute bit is not BR.
        std::fs::set_permissions(second.join("br"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let err = find_br(None, None, Some(&path), Some(&first.join("br"))).unwrap_err();
        assert!(err.contains("tiup install br"), "{err}");
        assert!(err.contains("--br-binary"), "{err}");
        assert!(err.contains("--parquet-only"), "{err}");
        assert!(find_br(None, None, None, None).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn failures_in_words() {
        use std::os::unix::process::ExitStatusExt;
        let exited = ExitStatus::from_raw(3 << 8);
        assert_eq!(describe_failure(exited), "exited with status 3");
        assert_eq!(exit_status_of(exited), 3);
        let killed = ExitStatus::from_raw(9);
        assert_eq!(describe_failure(killed), "was killed by SIGKILL (signal 9)");
        assert_eq!(exit_status_of(killed), 1);
        assert_eq!(
            describe_failure(ExitStatus::from_raw(10)),
            "was killed by signal 10"
        );
    }
}
