//! TiDB table filters (`-f` / `--filter`), parsed and matched the way BR does.
//!
//! Syntax, semantics and what was checked against pingcap/tidb (`pkg/util/table-filter/`) are in
//! `docs/table-filter.md`. In short: a filter is an ordered list of `SCHEMA.TABLE` rules, each
//! part a literal, an fnmatch wildcard (`*`, `?`, `[a-z]`, `[!a-z]`), a quoted name (`"…"` or
//! `` `…` ``) or a `/regex/`; `!` makes a rule an exclusion, `@file` reads one rule per line. The
//! **last** rule that matches a table decides; a table that matches no rule is left out.
//!
//! ```text
//!  TableFilter::parse(["employees.*", "!*.dep*"]) ──▶ rules, compiled once
//!                                                         │
//!  decide("employees", "dept_emp") ◀──────────────────────┘
//!      └─▶ Decision { included: false, reason: Rule(#1 "!*.dep*") }
//! ```
//!
//! On top of TiDB's matching, system schemas and BR's temporary databases are exported only when
//! the deciding rule names the schema literally (`mysql.*`, not `*.*`), and
//! [`TableFilter::br_default`] (no `-f`) leaves them out; see `docs/table-filter.md` for what BR
//! itself does. Nothing here performs I/O except reading `@file` rule files while parsing.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::meta::schema::TEMPORARY_DB_PREFIX;

/// Schemas that hold no user data (compared lower-cased): TiDB's system and in-memory schemas,
/// the list Dumpling and BR's restore default leave out.
pub const SYSTEM_SCHEMAS: [&str; 6] = [
    "mysql",
    "sys",
    "information_schema",
    "performance_schema",
    "metrics_schema",
    "inspection_schema",
];

/// A rule that could not be parsed, or an `@file` that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// `position` counts the characters (Unicode scalar values) of `rule` before the offending
    /// one, so `position 3` in `"db."` points just past the dot.
    #[error("rule {rule:?}{origin}: position {position}: expected {expected}")]
    Syntax {
        rule: String,
        origin: ErrorOrigin,
        position: usize,
        expected: String,
    },
    #[error("rule {rule:?}{origin}: cannot read filter file `{}`: {source}", .path.display())]
    ReadFile {
        rule: String,
        origin: ErrorOrigin,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where a rule came from: the position of its `-f` argument, or a line of an `@file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOrigin {
    /// The rule is `rules[index]` of [`TableFilter::parse`] (0-based).
    Argument { index: usize },
    /// Line `line` (1-based) of the file imported by `rules[argument]`.
    File {
        argument: usize,
        path: PathBuf,
        line: usize,
    },
}

/// The location part of a [`FilterError`] message: empty for a command-line rule (the rule text
/// says enough), `` in `rules.txt` line 4`` for a line of a filter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorOrigin(pub RuleOrigin);

impl fmt::Display for ErrorOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            RuleOrigin::Argument { .. } => Ok(()),
            RuleOrigin::File { path, line, .. } => {
                write!(f, " in `{}` line {line}", path.display())
            }
        }
    }
}

/// One parsed rule.
#[derive(Debug, Clone)]
pub struct Rule {
    index: usize,
    text: String,
    origin: RuleOrigin,
    exclusion: bool,
    schema: NamePattern,
    table: NamePattern,
}

impl Rule {
    /// Position among all rules, after `@file` expansion (0-based).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The rule as written, without surrounding blanks.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn origin(&self) -> &RuleOrigin {
        &self.origin
    }

    /// `true` for a `!` rule.
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    fn matches(&self, schema: &str, table: &str) -> bool {
        self.schema.matches(schema) && self.table.matches(table)
    }
}

/// Rules are equal when they are the same rule of the same filter (patterns are derived).
impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.text == other.text && self.origin == other.origin
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {} {:?}", self.index + 1, self.text)?;
        if let RuleOrigin::File { path, line, .. } = &self.origin {
            write!(f, " (`{}` line {line})", path.display())?;
        }
        Ok(())
    }
}

/// Whether a table is exported, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision<'f> {
    pub included: bool,
    pub reason: Reason<'f>,
}

/// Why a [`Decision`] went the way it did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason<'f> {
    /// The last rule matching the table decided (included unless it is an exclusion).
    Rule(&'f Rule),
    /// No rule matches the table, so it is left out.
    NoRuleMatched,
    /// A system schema ([`SYSTEM_SCHEMAS`]) that no rule names literally; `matched_by` is the
    /// wildcard or regex rule that would otherwise have included it.
    SystemSchema { matched_by: Option<&'f Rule> },
    /// A database named `__TiDB_BR_Temporary_…` that is not a system schema's backup copy.
    BrTemporaryDatabase { matched_by: Option<&'f Rule> },
    /// [`TableFilter::br_default`]: a user table.
    UserTable,
}

impl fmt::Display for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.included {
            "included"
        } else {
            "excluded"
        };
        match self.reason {
            Reason::Rule(rule) => write!(f, "{verdict} by {rule}"),
            Reason::NoRuleMatched => write!(f, "{verdict}: no rule matches it"),
            Reason::UserTable => write!(f, "{verdict}: not a system schema"),
            Reason::SystemSchema { matched_by } => {
                write!(f, "{verdict}: system schema")?;
                not_named_suffix(f, matched_by)
            }
            Reason::BrTemporaryDatabase { matched_by } => {
                write!(f, "{verdict}: BR temporary database")?;
                not_named_suffix(f, matched_by)
            }
        }
    }
}

fn not_named_suffix(f: &mut fmt::Formatter<'_>, matched_by: Option<&Rule>) -> fmt::Result {
    match matched_by {
        Some(rule) => write!(
            f,
            " ({rule} matches it only by pattern; name the schema in a rule to export it)"
        ),
        None => Ok(()),
    }
}

/// A parsed table filter; see the module documentation.
#[derive(Debug, Clone)]
pub struct TableFilter {
    /// Empty for [`TableFilter::br_default`].
    rules: Vec<Rule>,
    case_sensitive: bool,
    br_default: bool,
}

impl TableFilter {
    /// Parses `-f` rules in order. `@path` arguments are read here (relative to the working
    /// directory, as BR does); a rule inside such a file may not import another file.
    pub fn parse(rules: &[String], case_sensitive: bool) -> Result<TableFilter, FilterError> {
        let mut parser = RuleParser {
            case_sensitive,
            rules: Vec::with_capacity(rules.len()),
        };
        for (index, text) in rules.iter().enumerate() {
            parser.parse_line(text, RuleOrigin::Argument { index })?;
        }
        Ok(TableFilter {
            rules: parser.rules,
            case_sensitive,
            br_default: false,
        })
    }

    /// The filter without `-f`: every table except those in system schemas and BR's
    /// temporary databases.
    pub fn br_default() -> TableFilter {
        TableFilter {
            rules: Vec::new(),
            case_sensitive: false,
            br_default: true,
        }
    }

    /// The rules in order, after `@file` expansion (empty for [`TableFilter::br_default`]).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn is_case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// Decides whether `db.table` is exported. `db` is the database name as stored in the
    /// backup: BR stores `mysql` as `__TiDB_BR_Temporary_mysql`, and rules are matched against
    /// the system schema's own name, as BR's restore does. Passing the plain name works too.
    pub fn decide(&self, db: &str, table: &str) -> Decision<'_> {
        let (schema, kind) = classify_schema(db);
        if self.br_default {
            let reason = match kind {
                SchemaKind::System => Reason::SystemSchema { matched_by: None },
                SchemaKind::BrTemporary => Reason::BrTemporaryDatabase { matched_by: None },
                SchemaKind::User => Reason::UserTable,
            };
            return Decision {
                included: kind == SchemaKind::User,
                reason,
            };
        }
        let (schema, table) = (self.fold(schema), self.fold(table));
        let Some(rule) = self.rules.iter().rev().find(|r| r.matches(&schema, &table)) else {
            return Decision {
                included: false,
                reason: Reason::NoRuleMatched,
            };
        };
        let names_schema = matches!(rule.schema, NamePattern::Literal { .. });
        if rule.exclusion || kind == SchemaKind::User || names_schema {
            return Decision {
                included: !rule.exclusion,
                reason: Reason::Rule(rule),
            };
        }
        let reason = match kind {
            SchemaKind::System => Reason::SystemSchema {
                matched_by: Some(rule),
            },
            _ => Reason::BrTemporaryDatabase {
                matched_by: Some(rule),
            },
        };
        Decision {
            included: false,
            reason,
        }
    }

    /// The `n` qualified names `db.table` closest to what the rules spell, nearest first, for
    /// "the filter selects no table; closest: …". The distance to a rule is the edit distance
    /// (with transpositions) of each lower-cased part to the rule's part with wildcards and
    /// regex syntax removed; a part that is only a wildcard counts as 0.
    pub fn closest_names<'a>(
        &self,
        candidates: impl IntoIterator<Item = (&'a str, &'a str)>,
        n: usize,
    ) -> Vec<String> {
        let inclusive: Vec<&Rule> = self.rules.iter().filter(|r| !r.exclusion).collect();
        let hints: Vec<&Rule> = if inclusive.is_empty() {
            self.rules.iter().collect()
        } else {
            inclusive
        };
        let mut scored: Vec<(usize, String)> = candidates
            .into_iter()
            .map(|(db, table)| {
                let (db_folded, table_folded) = (simple_lowercase(db), simple_lowercase(table));
                let distance = hints
                    .iter()
                    .map(|rule| {
                        hint_distance(rule.schema.hint(), &db_folded)
                            + hint_distance(rule.table.hint(), &table_folded)
                    })
                    .min()
                    .unwrap_or(0);
                (distance, format!("{db}.{table}"))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(n).map(|(_, name)| name).collect()
    }

    fn fold<'s>(&self, name: &'s str) -> Cow<'s, str> {
        if self.case_sensitive {
            Cow::Borrowed(name)
        } else {
            simple_lowercase(name)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemaKind {
    User,
    System,
    BrTemporary,
}

/// The name rules see, and what kind of schema it is. BR's prefix test is case-sensitive
/// (`strings.HasPrefix` on the original name); system names compare lower-cased.
fn classify_schema(db: &str) -> (&str, SchemaKind) {
    let is_system = |name: &str| SYSTEM_SCHEMAS.contains(&&*simple_lowercase(name));
    match db.strip_prefix(TEMPORARY_DB_PREFIX) {
        Some(stripped) if is_system(stripped) => (stripped, SchemaKind::System),
        Some(_) => (db, SchemaKind::BrTemporary),
        None if is_system(db) => (db, SchemaKind::System),
        None => (db, SchemaKind::User),
    }
}

/// Go's `strings.ToLower`: each code point through its simple (one-to-one) lower-case mapping.
/// `str::to_lowercase` differs in two places that matter for names: `İ` becomes two code points,
/// and a final `Σ` becomes `ς`.
fn simple_lowercase(name: &str) -> Cow<'_, str> {
    let lower_char = |c: char| c.to_lowercase().next().unwrap_or(c);
    if name.chars().all(|c| lower_char(c) == c) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(name.chars().map(lower_char).collect())
    }
}

/// How one part of a rule matches a name (already case-folded when the filter is not
/// case-sensitive).
#[derive(Debug, Clone)]
enum NamePattern {
    /// A plain, escaped or quoted name: equality.
    Literal { name: String },
    /// A lone `*`.
    Any,
    /// A wildcard pattern compiled to an anchored regex, or a user `/regex/` (substring search).
    Regex { regex: Regex, hint: String },
}

impl NamePattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Literal { name: literal } => literal == name,
            NamePattern::Any => true,
            NamePattern::Regex { regex, .. } => regex.is_match(name),
        }
    }

    /// The plain characters of the pattern, lower-cased, for [`TableFilter::closest_names`].
    fn hint(&self) -> &str {
        match self {
            NamePattern::Literal { name } => name,
            NamePattern::Any => "",
            NamePattern::Regex { hint, .. } => hint,
        }
    }
}

fn hint_distance(hint: &str, name: &str) -> usize {
    if hint.is_empty() {
        0
    } else {
        edit_distance(&simple_lowercase(hint), name)
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions) on code points.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: the row two back is needed for transpositions.
    let mut two_back = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(two_back[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut two_back, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Which part of a rule is being parsed, for error messages.
#[derive(Debug, Clone, Copy)]
enum Part {
    Schema,
    Table,
}

impl Part {
    fn noun(self) -> &'static str {
        match self {
            Part::Schema => "a schema pattern",
            Part::Table => "a table pattern",
        }
    }
}

struct RuleParser {
    case_sensitive: bool,
    rules: Vec<Rule>,
}

impl RuleParser {
    /// Parses one command-line rule or one line of a filter file; blank lines and `#` comments
    /// add nothing. TiDB trims only spaces and tabs.
    fn parse_line(&mut self, text: &str, origin: RuleOrigin) -> Result<(), FilterError> {
        let leading = text.len() - text.trim_start_matches([' ', '\t']).len();
        let trimmed = text.trim_matches([' ', '\t']);
        let chars: Vec<char> = trimmed.chars().collect();
        let mut cursor = Cursor {
            text,
            origin: &origin,
            chars: &chars,
            offset: text[..leading].chars().count(),
            at: 0,
        };
        let exclusion = match chars.first() {
            None | Some('#') => return Ok(()),
            Some('@') => return self.import(text, &trimmed[1..], origin),
            Some('!') => {
                cursor.at = 1;
                true
            }
            Some(_) => false,
        };
        let schema = cursor.pattern(Part::Schema, self.case_sensitive)?;
        match cursor.peek() {
            Some('.') => cursor.at += 1,
            None => return Err(cursor.error("`.` followed by a table pattern")),
            Some(c) => {
                return Err(cursor.error(&format!(
                    "`.` between the schema and table patterns, found `{c}`"
                )))
            }
        }
        let table = cursor.pattern(Part::Table, self.case_sensitive)?;
        if let Some(c) = cursor.peek() {
            return Err(cursor.error(&format!(
                "the end of the rule after the table pattern, found `{c}`"
            )));
        }
        self.rules.push(Rule {
            index: self.rules.len(),
            text: trimmed.to_owned(),
            origin,
            exclusion,
            schema,
            table,
        });
        Ok(())
    }

    /// `@path`: one rule per line. The path is taken verbatim after `@` (TiDB does not trim it
    /// further); a filter file may not import another one.
    fn import(&mut self, text: &str, path: &str, origin: RuleOrigin) -> Result<(), FilterError> {
        let argument = match origin {
            RuleOrigin::Argument { index } => index,
            RuleOrigin::File { .. } => {
                let leading = text.len() - text.trim_start_matches([' ', '\t']).len();
                return Err(FilterError::Syntax {
                    rule: text.to_owned(),
                    position: text[..leading].chars().count(),
                    expected: "a rule (a filter file cannot import another file with `@`)"
                        .to_owned(),
                    origin: ErrorOrigin(origin),
                });
            }
        };
        let contents = std::fs::read_to_string(path).map_err(|source| FilterError::ReadFile {
            rule: text.to_owned(),
            origin: ErrorOrigin(origin.clone()),
            path: PathBuf::from(path),
            source,
        })?;
        // Go's `bufio.ScanLines`: split on `\n`, drop one trailing `\r`.
        for (number, line) in contents.lines().enumerate() {
            let file_origin = RuleOrigin::File {
                argument,
                path: Path::new(path).to_path_buf(),
                line: number + 1,
            };
            self.parse_line(line, file_origin)?;
        }
        Ok(())
    }
}

/// Reads one rule; positions are reported relative to the rule as given (`offset` counts the
/// blanks trimmed off its start).
struct Cursor<'t> {
    text: &'t str,
    origin: &'t RuleOrigin,
    chars: &'t [char],
    offset: usize,
    at: usize,
}

/// One element of a wildcard pattern.
enum Glob {
    Literal(char),
    AnyRun,
    AnyOne,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn error(&self, expected: &str) -> FilterError {
        self.error_at(self.at, expected)
    }

    fn error_at(&self, at: usize, expected: &str) -> FilterError {
        FilterError::Syntax {
            rule: self.text.to_owned(),
            origin: ErrorOrigin(self.origin.clone()),
            position: self.offset + at,
            expected: expected.to_owned(),
        }
    }

    fn pattern(&mut self, part: Part, case_sensitive: bool) -> Result<NamePattern, FilterError> {
        let fold = |name: String| {
            if case_sensitive {
                name
            } else {
                simple_lowercase(&name).into_owned()
            }
        };
        match self.peek() {
            None => Err(self.error(part.noun())),
            Some('/') => self.regex(case_sensitive),
            Some(quote @ ('"' | '`')) => Ok(NamePattern::Literal {
                name: fold(self.quoted(quote)?),
            }),
            Some(_) => {
                let globs = self.globs()?;
                let literal: Option<String> = globs
                    .iter()
                    .map(|g| match g {
                        Glob::Literal(c) => Some(*c),
                        _ => None,
                    })
                    .collect();
                if let Some(name) = literal {
                    // Includes the empty name of `.tbl`, which TiDB accepts too.
                    return Ok(NamePattern::Literal { name: fold(name) });
                }
                if let [Glob::AnyRun] = globs.as_slice() {
                    return Ok(NamePattern::Any);
                }
                let hint = globs
                    .iter()
                    .filter_map(|g| match g {
                        Glob::Literal(c) => Some(*c),
                        _ => None,
                    })
                    .collect();
                let source = glob_regex(&globs, case_sensitive);
                let regex = Regex::new(&source).map_err(|e| {
                    self.error(&format!("a valid pattern ({})", regex_error_summary(&e)))
                })?;
                Ok(NamePattern::Regex { regex, hint })
            }
        }
    }

    /// `/…/`: a Go RE2 regular expression, matched as a substring search; `\/` is a slash.
    fn regex(&mut self, case_sensitive: bool) -> Result<NamePattern, FilterError> {
        let start = self.at;
        let mut end = start + 1;
        loop {
            match self.chars.get(end) {
                None => {
                    return Err(self.error_at(
                        start,
                        "a regular expression closed by `/` (write `\\/` for a slash inside it)",
                    ))
                }
                Some('\\') if end + 1 < self.chars.len() => end += 2,
                Some('/') => break,
                Some(_) => end += 1,
            }
        }
        if end == start + 1 {
            return Err(self.error_at(start, "a non-empty regular expression between `/`"));
        }
        let body: String = self.chars[start + 1..end].iter().collect();
        let flags = if case_sensitive { "" } else { "(?i)" };
        let source = format!("{flags}{}", go_regex_to_rust(&body));
        let regex = Regex::new(&source).map_err(|e| {
            self.error_at(
                start,
                &format!("a valid regular expression ({})", regex_error_summary(&e)),
            )
        })?;
        self.at = end + 1;
        let hint = body
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        Ok(NamePattern::Regex { regex, hint })
    }

    /// `"…"` or `` `…` ``: the whole part is one name; the quote doubled stands for itself.
    fn quoted(&mut self, quote: char) -> Result<String, FilterError> {
        let start = self.at;
        let mut name = String::new();
        let mut at = start + 1;
        loop {
            match self.chars.get(at) {
                None => {
                    return Err(
                        self.error_at(start, &format!("a name closed by `{quote}` on this line"))
                    )
                }
                Some(&c) if c == quote => {
                    if self.chars.get(at + 1) == Some(&quote) {
                        name.push(quote);
                        at += 2;
                    } else {
                        break;
                    }
                }
                Some(&c) => {
                    name.push(c);
                    at += 1;
                }
            }
        }
        if name.is_empty() {
            return Err(self.error_at(start, "a non-empty quoted name"));
        }
        self.at = at + 1;
        Ok(name)
    }

    /// A wildcard or literal part, up to the `.` or the end of the rule.
    fn globs(&mut self) -> Result<Vec<Glob>, FilterError> {
        let mut globs = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '.' => break,
                '\\' => {
                    let escaped = self.escaped(
                        "a character after `\\` (a rule cannot end with `\\`)",
                        |c| !c.is_ascii_alphanumeric(),
                    )?;
                    globs.push(Glob::Literal(escaped));
                }
                '*' => {
                    globs.push(Glob::AnyRun);
                    self.at += 1;
                }
                '?' => {
                    globs.push(Glob::AnyOne);
                    self.at += 1;
                }
                '[' => globs.push(self.class()?),
                c if c == '$' || c == '_' || c.is_ascii_alphanumeric() || !c.is_ascii() => {
                    globs.push(Glob::Literal(c));
                    self.at += 1;
                }
                c => {
                    return Err(self.error(&format!(
                        "a name character, wildcard or `.`, found `{c}` (escape it as `\\{c}` or quote the name)"
                    )))
                }
            }
        }
        Ok(globs)
    }

    /// `\x` at the cursor: returns `x` when `allowed`. Letters and digits are reserved by TiDB.
    fn escaped(
        &mut self,
        missing: &str,
        allowed: impl Fn(char) -> bool,
    ) -> Result<char, FilterError> {
        let Some(&c) = self.chars.get(self.at + 1) else {
            return Err(self.error(missing));
        };
        if !allowed(c) {
            let what = if c.is_ascii_alphanumeric() {
                format!("`\\{c}` is reserved: only punctuation can be escaped")
            } else {
                format!("`\\{c}` cannot be escaped inside `[...]`")
            };
            return Err(self.error(&format!("an escapable character ({what})")));
        }
        self.at += 2;
        Ok(c)
    }

    /// `[…]` / `[!…]`. Inside, `a-z` is a range unless `-` is last; `\` escapes ASCII
    /// punctuation; `]` ends the class and must be escaped to be a member.
    fn class(&mut self) -> Result<Glob, FilterError> {
        let start = self.at;
        self.at += 1;
        let negated = self.peek() == Some('!');
        if negated {
            self.at += 1;
        }
        // (character, is an unescaped `-`)
        let mut members: Vec<(char, bool)> = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error_at(start, "a character class closed by `]`")),
                Some(']') if members.is_empty() => {
                    return Err(self.error_at(start, "a non-empty character class"))
                }
                Some(']') => {
                    self.at += 1;
                    break;
                }
                Some('\\') => {
                    let c = self.escaped(
                        "a character after `\\` (a rule cannot end with `\\`)",
                        |c| c.is_ascii() && !c.is_ascii_alphanumeric(),
                    )?;
                    members.push((c, false));
                }
                Some(c) => {
                    members.push((c, c == '-'));
                    self.at += 1;
                }
            }
        }
        let mut items = Vec::with_capacity(members.len());
        let mut i = 0;
        while i < members.len() {
            let low = members[i].0;
            match (members.get(i + 1), members.get(i + 2)) {
                (Some(&(_, true)), Some(&(high, _))) => {
                    if high < low {
                        return Err(self.error_at(
                            start,
                            &format!("a character range in order (`{low}-{high}` is reversed)"),
                        ));
                    }
                    items.push((low, high));
                    i += 3;
                }
                _ => {
                    items.push((low, low));
                    i += 1;
                }
            }
        }
        Ok(Glob::Class { negated, items })
    }
}

/// The anchored regex TiDB builds from a wildcard pattern: `(?s)^…$`, with `(?i)` in front when
/// matching case-insensitively.
fn glob_regex(globs: &[Glob], case_sensitive: bool) -> String {
    let mut source = String::from(if case_sensitive { "(?s)^" } else { "(?i)(?s)^" });
    for glob in globs {
        match glob {
            Glob::Literal(c) => push_escaped(&mut source, *c),
            Glob::AnyRun => source.push_str(".*"),
            Glob::AnyOne => source.push('.'),
            Glob::Class { negated, items } => {
                source.push_str(if *negated { "[^" } else { "[" });
                for &(low, high) in items {
                    push_escaped(&mut source, low);
                    if high != low {
                        source.push('-');
                        push_escaped(&mut source, high);
                    }
                }
                source.push(']');
            }
        }
    }
    source.push('$');
    source
}

/// Escaped so it is literal both outside and inside a Rust regex class (where `[`, `&`, `-`
/// and `~` have meanings that Go's classes do not give them).
fn push_escaped(source: &mut String, c: char) {
    let mut buffer = [0; 4];
    source.push_str(&regex::escape(c.encode_utf8(&mut buffer)));
}

/// Rewrites the Perl classes whose meaning differs between Go RE2 and the `regex` crate: in Go,
/// `\d`, `\s`, `\w` and `\b` are ASCII-only; in Rust they are Unicode-aware. Everything else is
/// passed through.
fn go_regex_to_rust(go: &str) -> String {
    let mut rust = String::with_capacity(go.len());
    let mut chars = go.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            rust.push(c);
            continue;
        }
        let Some(escaped) = chars.next() else {
            rust.push(c);
            break;
        };
        match escaped {
            'd' => rust.push_str("[0-9]"),
            'D' => rust.push_str("[^0-9]"),
            's' => rust.push_str(r"[\t\n\f\r ]"),
            'S' => rust.push_str(r"[^\t\n\f\r ]"),
            'w' => rust.push_str("[0-9A-Za-z_]"),
            'W' => rust.push_str("[^0-9A-Za-z_]"),
            'b' => rust.push_str(r"(?-u:\b)"),
            'B' => rust.push_str(r"(?-u:\B)"),
            other => {
                rust.push('\\');
                rust.push(other);
            }
        }
    }
    rust
}

/// The one-line cause of a regex error (the crate's syntax errors span several lines).
fn regex_error_summary(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .find_map(|line| line.strip_prefix("error: "))
        .unwrap_or(&text)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn filter(rules: &[&str]) -> TableFilter {
        filter_with_case(rules, false)
    }

    fn filter_with_case(rules: &[&str], case_sensitive: bool) -> TableFilter {
        let rules: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
        match TableFilter::parse(&rules, case_sensitive) {
            Ok(f) => f,
            Err(e) => panic!("{rules:?} should parse: {e}"),
        }
    }

    fn syntax_error(rule: &str) -> (usize, String, String) {
        match TableFilter::parse(&[rule.to_string()], false) {
            Err(e @ FilterError::Syntax { .. }) => {
                let FilterError::Syntax {
                    position, expected, ..
                } = &e
                else {
                    unreachable!()
                };
                (*position, expected.clone(), e.to_string())
            }
            other => panic!("{rule:?} should be a syntax error, got {other:?}"),
        }
    }

    /// (db, table, included, index of the deciding rule or None for "no rule matched").
    type Case<'a> = (&'a str, &'a str, bool, Option<usize>);

    fn check(f: &TableFilter, cases: &[Case<'_>]) {
        for &(db, table, included, rule) in cases {
            let decision = f.decide(db, table);
            assert_eq!(decision.included, included, "{db}.{table}: {decision}");
            match (rule, decision.reason) {
                (Some(index), Reason::Rule(r)) => assert_eq!(r.index(), index, "{db}.{table}"),
                (None, Reason::NoRuleMatched) => {}
                (_, reason) => panic!("{db}.{table}: expected rule {rule:?}, got {reason:?}"),
            }
        }
    }

    #[test]
    fn worked_example_last_matching_rule_decides() {
        let f = filter(&["employees.*", "!*.dep*", "*.departments"]);
        check(
            &f,
            &[
                ("irrelevant", "table", false, None),
                ("employees", "employees", true, Some(0)),
                ("employees", "dept_emp", false, Some(1)),
                ("employees", "departments", true, Some(2)),
                ("else", "departments", true, Some(2)),
            ],
        );
    }

    #[test]
    fn exclusions_need_an_inclusion_before_them() {
        check(
            &filter(&["!db.secret"]),
            &[
                ("db", "secret", false, Some(0)),
                ("db", "public", false, None),
            ],
        );
        check(
            &filter(&["*.*", "!db.secret"]),
            &[
                ("db", "secret", false, Some(1)),
                ("db", "public", true, Some(0)),
                ("other", "secret", true, Some(0)),
            ],
        );
        // Order matters: a later inclusion wins over an earlier exclusion.
        check(
            &filter(&["!db.secret", "*.*"]),
            &[("db", "secret", true, Some(1))],
        );
    }

    #[test]
    fn wildcards_per_part() {
        let f = filter(&["db?.t*_[a-c]", "x[!0-9].*", "w.*x*y"]);
        check(
            &f,
            &[
                ("db1", "t_a", true, Some(0)),
                ("db1", "tables_c", true, Some(0)),
                ("db", "t_a", false, None),
                ("db12", "t_a", false, None),
                ("db1", "t_d", false, None),
                ("xa", "anything", true, Some(1)),
                ("x1", "anything", false, None),
                ("xab", "anything", false, None),
                ("w", "x", false, None),
                ("w", "axby", true, Some(2)),
                ("w", "xy", true, Some(2)),
            ],
        );
    }

    #[test]
    fn a_character_is_a_code_point() {
        // U+0065 U+0301 is two characters; precomposed U+00E9 is one.
        let f = filter_with_case(&["d.caf?", "d.caf??"], true);
        check(
            &f,
            &[
                ("d", "caf\u{e9}", true, Some(0)),
                ("d", "cafe\u{301}", true, Some(1)),
            ],
        );
    }

    #[test]
    fn character_classes() {
        let f = filter_with_case(
            &[
                "a.[a-]",
                "b.[^x]",
                r"c.[\]\-]",
                "d.[--/]",
                "e.[a-c-e]",
                "f.[a&&b]",
                "g.[!!]",
                "h.[[]",
            ],
            true,
        );
        check(
            &f,
            &[
                ("a", "a", true, Some(0)),
                ("a", "-", true, Some(0)),
                ("a", "b", false, None),
                // `[^x]` is not a negation in a glob: it holds `^` and `x`.
                ("b", "^", true, Some(1)),
                ("b", "x", true, Some(1)),
                ("b", "y", false, None),
                ("c", "]", true, Some(2)),
                ("c", "-", true, Some(2)),
                ("d", ".", true, Some(3)),
                ("d", "/", true, Some(3)),
                ("d", "0", false, None),
                ("e", "b", true, Some(4)),
                ("e", "-", true, Some(4)),
                ("e", "e", true, Some(4)),
                ("e", "d", false, None),
                // Go's classes have no set operations: `&` is a member.
                ("f", "&", true, Some(5)),
                ("f", "a", true, Some(5)),
                ("g", "!", false, None),
                ("g", "a", true, Some(6)),
                ("h", "[", true, Some(7)),
            ],
        );
    }

    #[test]
    fn regex_parts_search_substrings_unless_anchored() {
        let f = filter_with_case(&["/b/.*", "/^exact$/.t", r"s./a\/b/", "n./^\\d+$/"], true);
        check(
            &f,
            &[
                ("db01", "x", true, Some(0)),
                ("a", "x", false, None),
                ("exact", "t", true, Some(1)),
                ("inexact", "t", false, None),
                ("s", "xa/by", true, Some(2)),
                ("s", "ab", false, None),
                ("n", "123", true, Some(3)),
                // Go's `\d` is ASCII-only; Arabic-Indic digits are not digits to TiDB.
                ("n", "\u{661}\u{662}", false, None),
            ],
        );
    }

    #[test]
    fn go_perl_classes_are_ascii() {
        let f = filter_with_case(&[r"w./^\w+$/", r"s./\s/", r"b./\bx/"], true);
        check(
            &f,
            &[
                ("w", "abc_1", true, Some(0)),
                ("w", "caf\u{e9}", false, None),
                ("s", "a b", true, Some(1)),
                ("s", "a\u{a0}b", false, None),
                ("b", "a.x", true, Some(2)),
                // `é` is not an ASCII word character, so there is a boundary before `x`.
                ("b", "\u{e9}x", true, Some(2)),
                ("b", "ax", false, None),
            ],
        );
    }

    #[test]
    fn escapes_make_characters_literal() {
        let f = filter_with_case(&[r"db\.1.t\*", r"a\-b.\ c", "\\\u{e9}.x"], true);
        check(
            &f,
            &[
                ("db.1", "t*", true, Some(0)),
                ("db.1", "tx", false, None),
                ("db", "1", false, None),
                ("a-b", " c", true, Some(1)),
                ("\u{e9}", "x", true, Some(2)),
            ],
        );
        assert!(matches!(
            f.rules()[0].schema,
            NamePattern::Literal { ref name } if name == "db.1"
        ));
    }

    #[test]
    fn quoted_names() {
        let f = filter_with_case(
            &[
                r#""AdventureWorks.Person".Person"#,
                "`a``b`.`*`",
                r#""x""y"."!""#,
            ],
            true,
        );
        check(
            &f,
            &[
                ("AdventureWorks.Person", "Person", true, Some(0)),
                ("AdventureWorks", "Person", false, None),
                ("a`b", "*", true, Some(1)),
                ("a`b", "t", false, None),
                ("x\"y", "!", true, Some(2)),
            ],
        );
    }

    #[test]
    fn comments_blank_rules_and_the_empty_schema() {
        let f = filter(&["", "  \t", "# not a rule", "  db.t  ", ".t"]);
        assert_eq!(f.rules().len(), 2);
        assert_eq!(f.rules()[0].text(), "db.t");
        assert_eq!(f.rules()[0].origin(), &RuleOrigin::Argument { index: 3 });
        check(&f, &[("db", "t", true, Some(0)), ("", "t", true, Some(1))]);
    }

    #[test]
    fn case_insensitive_by_default() {
        let f = filter(&["Sales.Orders*", "/^HR$/.*", "\"Mixed\".T[A-C]"]);
        check(
            &f,
            &[
                ("sales", "ORDERS_2024", true, Some(0)),
                ("SALES", "orders", true, Some(0)),
                ("hr", "x", true, Some(1)),
                ("Hr", "x", true, Some(1)),
                ("MIXED", "tb", true, Some(2)),
            ],
        );
        let sensitive = filter_with_case(&["Sales.Orders*", "/^HR$/.*"], true);
        check(
            &sensitive,
            &[
                ("Sales", "Orders_2024", true, Some(0)),
                ("sales", "Orders_2024", false, None),
                ("Sales", "orders", false, None),
                ("HR", "x", true, Some(1)),
                ("hr", "x", false, None),
            ],
        );
        assert!(sensitive.is_case_sensitive());
    }

    #[test]
    fn unicode_names_fold_like_go() {
        let f = filter(&["数据库.表*", "ÜBER.ΣΟΦΟΣ", "İ.x"]);
        check(
            &f,
            &[
                ("数据库", "表一", true, Some(0)),
                ("数据", "表一", false, None),
                ("über", "σοφοσ", true, Some(1)),
                // Go lower-cases each code point: a final `Σ` is `σ`, not `ς`.
                ("Über", "ΣΟΦΟΣ", true, Some(1)),
                ("über", "σοφος", false, None),
                // Go maps `İ` to `i` (one code point).
                ("i", "x", true, Some(2)),
                ("İ", "X", true, Some(2)),
            ],
        );
        assert_eq!(simple_lowercase("İΣ"), "iσ");
        assert!(matches!(simple_lowercase("abc"), Cow::Borrowed(_)));
    }

    #[test]
    fn malformed_rules_name_position_and_expectation() {
        let cases: &[(&str, usize, &str)] = &[
            ("db.", 3, "a table pattern"),
            ("db", 2, "`.` followed by a table pattern"),
            ("!", 1, "a schema pattern"),
            ("  db.", 5, "a table pattern"),
            (
                "a.b.c",
                3,
                "the end of the rule after the table pattern, found `.`",
            ),
            ("db.t x", 4, "a name character, wildcard or `.`, found ` `"),
            (r"db.t\", 4, "a character after `\\`"),
            (r"db.\n", 3, "`\\n` is reserved"),
            (r"db.\0", 3, "`\\0` is reserved"),
            ("db-1.t", 2, "found `-`"),
            ("db.t#", 4, "found `#`"),
            ("!@file", 1, "found `@`"),
            (
                r#""abc"def*.x"#,
                5,
                "`.` between the schema and table patterns, found `d`",
            ),
            (
                r#"db."abc"def"#,
                8,
                "the end of the rule after the table pattern, found `d`",
            ),
            (r#""abc.x"#, 0, "a name closed by `\"`"),
            ("db.``", 3, "a non-empty quoted name"),
            ("/abc.x", 0, "a regular expression closed by `/`"),
            (r"db./a\/", 3, "a regular expression closed by `/`"),
            ("//.x", 0, "a non-empty regular expression"),
            ("/(/.x", 0, "a valid regular expression"),
            ("db.[a-", 3, "a character class closed by `]`"),
            ("db.[]", 3, "a non-empty character class"),
            ("db.[!]", 3, "a non-empty character class"),
            ("db.[z-a]", 3, "`z-a` is reversed"),
            (r"db.[\d]", 4, "`\\d` is reserved"),
            ("db.[\\\u{e9}]", 4, "cannot be escaped inside"),
            ("数据.表 x", 4, "found ` `"),
        ];
        for &(rule, position, expected) in cases {
            let (got_position, got_expected, _) = syntax_error(rule);
            assert_eq!(got_position, position, "{rule:?}: {got_expected}");
            assert!(
                got_expected.contains(expected),
                "{rule:?}: {got_expected:?} should contain {expected:?}"
            );
        }
        assert_eq!(
            syntax_error("db.").2,
            r#"rule "db.": position 3: expected a table pattern"#
        );
    }

    #[test]
    fn rule_files() {
        let mut file = match tempfile::NamedTempFile::new() {
            Ok(file) => file,
            Err(e) => panic!("temp file: {e}"),
        };
        let text = "# exported tables\r\n\r\n  employees.*  \r\n!*.dep*\n\n*.departments";
        assert!(file.write_all(text.as_bytes()).is_ok());
        let path = file.path().to_path_buf();
        let at = format!("@{}", path.display());
        let f = filter(&["other.x", at.as_str(), "!employees.titles"]);
        let texts: Vec<&str> = f.rules().iter().map(Rule::text).collect();
        assert_eq!(
            texts,
            [
                "other.x",
                "employees.*",
                "!*.dep*",
                "*.departments",
                "!employees.titles"
            ]
        );
        assert_eq!(
            f.rules()[2].origin(),
            &RuleOrigin::File {
                argument: 1,
                path: path.clone(),
                line: 4
            }
        );
        assert_eq!(f.rules()[4].origin(), &RuleOrigin::Argument { index: 2 });
        check(
            &f,
            &[
                ("other", "x", true, Some(0)),
                ("employees", "employees", true, Some(1)),
                ("employees", "dept_emp", false, Some(2)),
                ("else", "departments", true, Some(3)),
                ("employees", "titles", false, Some(4)),
            ],
        );
        let decision = f.decide("employees", "dept_emp");
        assert_eq!(
            decision.to_string(),
            format!(
                "excluded by rule 3 \"!*.dep*\" (`{}` line 4)",
                path.display()
            )
        );
    }

    #[test]
    fn rule_file_errors() {
        let mut nested = match tempfile::NamedTempFile::new() {
            Ok(file) => file,
            Err(e) => panic!("temp file: {e}"),
        };
        assert!(nested.write_all(b"db.t\n  @other.txt\n").is_ok());
        let at = format!("@{}", nested.path().display());
        match TableFilter::parse(&[at], false) {
            Err(e @ FilterError::Syntax { .. }) => {
                let FilterError::Syntax {
                    position, origin, ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!(*position, 2);
                assert_eq!(
                    origin.0,
                    RuleOrigin::File {
                        argument: 0,
                        path: nested.path().to_path_buf(),
                        line: 2
                    }
                );
                assert_eq!(
                    e.to_string(),
                    format!(
                        "rule \"  @other.txt\" in `{}` line 2: position 2: expected a rule \
                         (a filter file cannot import another file with `@`)",
                        nested.path().display()
                    )
                );
            }
            other => panic!("nested import should fail, got {other:?}"),
        }

        let mut bad_line = match tempfile::NamedTempFile::new() {
            Ok(file) => file,
            Err(e) => panic!("temp file: {e}"),
        };
        assert!(bad_line.write_all(b"db.t\n# ok\ndb.\n").is_ok());
        let at = format!("@{}", bad_line.path().display());
        match TableFilter::parse(&["a.b".to_string(), at], false) {
            Err(FilterError::Syntax {
                rule,
                origin,
                position,
                ..
            }) => {
                assert_eq!(rule, "db.");
                assert_eq!(position, 3);
                assert!(
                    matches!(
                        origin.0,
                        RuleOrigin::File {
                            argument: 1,
                            line: 3,
                            ..
                        }
                    ),
                    "{origin:?}"
                );
            }
            other => panic!("bad line should fail, got {other:?}"),
        }

        let missing = "@/nonexistent/br-parquet-filter-rules.txt".to_string();
        match TableFilter::parse(std::slice::from_ref(&missing), false) {
            Err(e @ FilterError::ReadFile { .. }) => {
                let message = e.to_string();
                assert!(
                    message.starts_with(
                        "rule \"@/nonexistent/br-parquet-filter-rules.txt\": cannot read filter file `/nonexistent/br-parquet-filter-rules.txt`: "
                    ),
                    "{message}"
                );
            }
            other => panic!("missing file should fail, got {other:?}"),
        }
    }

    #[test]
    fn br_default_leaves_out_system_schemas_and_temporary_databases() {
        let f = TableFilter::br_default();
        assert!(f.rules().is_empty());
        let cases: &[(&str, bool, Reason<'_>)] = &[
            ("shop", true, Reason::UserTable),
            ("mysql", false, Reason::SystemSchema { matched_by: None }),
            ("MySQL", false, Reason::SystemSchema { matched_by: None }),
            ("sys", false, Reason::SystemSchema { matched_by: None }),
            (
                "INFORMATION_SCHEMA",
                false,
                Reason::SystemSchema { matched_by: None },
            ),
            (
                "performance_schema",
                false,
                Reason::SystemSchema { matched_by: None },
            ),
            (
                "Metrics_Schema",
                false,
                Reason::SystemSchema { matched_by: None },
            ),
            (
                "INSPECTION_SCHEMA",
                false,
                Reason::SystemSchema { matched_by: None },
            ),
            (
                "__TiDB_BR_Temporary_mysql",
                false,
                Reason::SystemSchema { matched_by: None },
            ),
            (
                "__TiDB_BR_Temporary_shop",
                false,
                Reason::BrTemporaryDatabase { matched_by: None },
            ),
            // BR's prefix test is case-sensitive.
            ("__tidb_br_temporary_shop", true, Reason::UserTable),
            ("mysql_archive", true, Reason::UserTable),
        ];
        for &(db, included, reason) in cases {
            let decision = f.decide(db, "t");
            assert_eq!(decision, Decision { included, reason }, "{db}");
        }
        assert_eq!(
            f.decide("mysql", "user").to_string(),
            "excluded: system schema"
        );
        assert_eq!(
            f.decide("__TiDB_BR_Temporary_x", "t").to_string(),
            "excluded: BR temporary database"
        );
        assert_eq!(
            f.decide("shop", "t").to_string(),
            "included: not a system schema"
        );
    }

    #[test]
    fn system_schemas_need_a_rule_that_names_them() {
        let f = filter(&["*.*", "MYSQL.user", "\"sys\".*", "!mysql.user"]);
        let everything = &f.rules()[0];
        assert_eq!(
            f.decide("mysql", "db"),
            Decision {
                included: false,
                reason: Reason::SystemSchema {
                    matched_by: Some(everything)
                }
            }
        );
        // The backup stores `mysql` as `__TiDB_BR_Temporary_mysql`; rules see `mysql`.
        check(
            &f,
            &[
                ("mysql", "user", false, Some(3)),
                ("sys", "schema_unused_indexes", true, Some(2)),
                ("__TiDB_BR_Temporary_sys", "x", true, Some(2)),
                ("shop", "orders", true, Some(0)),
            ],
        );
        let names = filter(&[
            "mysql.user",
            "mysq?.db",
            "/^__/.*",
            "__TiDB_BR_Temporary_x.*",
        ]);
        check(
            &names,
            &[
                ("__TiDB_BR_Temporary_mysql", "user", true, Some(0)),
                ("__TiDB_BR_Temporary_x", "t", true, Some(3)),
            ],
        );
        let by_pattern = names.decide("mysql", "db");
        assert_eq!(
            by_pattern.to_string(),
            "excluded: system schema (rule 2 \"mysq?.db\" matches it only by pattern; \
             name the schema in a rule to export it)"
        );
        assert_eq!(
            names.decide("__TiDB_BR_Temporary_y", "t").reason,
            Reason::BrTemporaryDatabase {
                matched_by: Some(&names.rules()[2])
            }
        );
    }

    #[test]
    fn decisions_explain_themselves() {
        let f = filter(&["employees.*", "!*.dep*"]);
        assert_eq!(
            f.decide("employees", "salaries").to_string(),
            "included by rule 1 \"employees.*\""
        );
        assert_eq!(
            f.decide("employees", "dept_emp").to_string(),
            "excluded by rule 2 \"!*.dep*\""
        );
        assert_eq!(
            f.decide("x", "y").to_string(),
            "excluded: no rule matches it"
        );
    }

    #[test]
    fn closest_names_for_an_empty_selection() {
        let tables = [
            ("employees", "salaries"),
            ("employees", "titles"),
            ("inventory", "items"),
            ("employee_archive", "salaries_2019"),
            ("shop", "orders"),
        ];
        let f = filter(&["employes.salary"]);
        assert_eq!(
            f.closest_names(tables.iter().copied(), 2),
            ["employees.salaries", "employees.titles"]
        );
        let f = filter(&["Invetnory.*", "!x.y"]);
        assert_eq!(
            f.closest_names(tables.iter().copied(), 1),
            ["inventory.items"]
        );
        let f = filter(&["/^shp$/.ordes"]);
        assert_eq!(f.closest_names(tables.iter().copied(), 1), ["shop.orders"]);
        assert!(f.closest_names(tables.iter().copied(), 0).is_empty());
        assert_eq!(f.closest_names(tables.iter().copied(), 10).len(), 5);
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("invetnory", "inventory"), 1);
        assert_eq!(edit_distance("表一", "表二"), 1);
    }
}
