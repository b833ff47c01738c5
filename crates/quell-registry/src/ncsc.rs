//! Importers of the Dutch (NCSC-NL) list: the Markdown tables, and the CSV and JSON releases.
//!
//! All three share one row reader ([`RowReader`]): the header names the columns (matched by name,
//! never by position), and each row becomes one [`Entry`].
//!
//! # Reading a row
//! - `Supplier`, `Product`: trimmed text. No supplier: `missing_supplier`, the row is skipped (and
//!   reported); no product: `missing_product`, imported with an empty product.
//! - `Status CVE-…` columns (any number, any CVE): the standard labels are `Vulnerable`, `Fix`,
//!   `Workaround`, `Not vuln`, `Investigation`; an empty cell is no information. Other spellings are
//!   `non_standard_status` problems, mapped as [`map_status`] documents; a cell that cannot be mapped
//!   (e.g. `x`) is an `unknown_status` problem: that CVE has no information and the raw text is
//!   appended to the notes as `Status CVE-…: <raw>`, so nothing is lost.
//! - `Version (see Status)`: split into versions at each `, ` outside parentheses and brackets
//!   (`1.15.0, 1.14.2` is two versions, `AU Models (DxC700AU, AU480)` one, `Linux 1,2` one); the parts
//!   are otherwise kept as written (cells are prose as often as lists). Following the list's README it belongs to the row's leading status class: the first fixed
//!   version when any CVE says `Fix`; else the affected versions of the `Vulnerable`, `Workaround`
//!   and `Investigation` CVEs; else the unaffected versions of the `Not vuln` CVEs. `Fix` needs a
//!   released version: a `Fix` with an empty Version cell is imported as `workaround`
//!   (`fix_without_version`). A Version with no status at all is kept in the notes as
//!   `Version: <text>` (`version_without_status`).
//! - `Notes`: text (`<br>` becomes a line break). `Links`: every `http(s)://` URL in the cell (the
//!   link texts are dropped); none is a `missing_link` problem.
//! - A row with no status at all is a `no_status` problem and still an entry (with no information).
//!
//! # The release formats accepted
//! What the list's own parser (`tools/log4shell_softwarelist`) published:
//! - **CSV**: a header row `Supplier,Product,Version,Status CVE-2021-4104,…,Notes,Links` (columns
//!   found by name, any order, further `Status CVE-…` columns allowed, optional `purl` and `cpe`),
//!   RFC 4180 quoting, UTF-8 (a BOM is skipped). The `Links` cell holds the URLs in any form (the
//!   parser wrote a Python list, `['https://a', 'https://b']`): every URL in it is taken.
//! - **JSON**: an array of objects with the same keys; `Links` is an object `{text: url}` (what the
//!   parser wrote), an array of URLs, or a string. Values that are not strings are `malformed_row`.
//!   There is no line in JSON (the release is one line): `line` is the item's 1-based index.

use std::collections::BTreeMap;

use crate::limits::{MAX_FILE_BYTES, MAX_ROWS_PER_FILE};
use crate::model::{Entry, ImportOutcome, ProblemKind, SourceRef, Status, VulnStatus, normalise_cve_id};
use crate::problems::Problems;

/// The name of the Dutch list in [`SourceRef::list`].
pub const LIST_NAME: &str = "ncsc-nl";

/// What one header column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    Supplier,
    Product,
    Version,
    Status(String),
    Notes,
    Links,
    Purl,
    Cpe,
    Ignored,
}

/// Reads a header cell. `None` for a column that is not understood.
pub(crate) fn column_of(header: &str) -> Option<Column> {
    let h = header.trim().trim_matches('*').trim().to_lowercase();
    let column = match h.as_str() {
        "supplier" | "vendor" | "leverancier" => Column::Supplier,
        "product" | "products" => Column::Product,
        "notes" | "note" | "remarks" => Column::Notes,
        "links" | "link" | "source" | "sources" | "references" => Column::Links,
        "purl" => Column::Purl,
        "cpe" => Column::Cpe,
        _ if h.starts_with("version") => Column::Version,
        _ => {
            let cve = h.strip_prefix("status").unwrap_or(&h).trim();
            return normalise_cve_id(cve).map(Column::Status);
        }
    };
    Some(column)
}

/// The columns of a table, from its header cells.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub columns: Vec<Column>,
}

impl Header {
    /// Reads header cells; unknown columns are reported and ignored. `None` when Supplier or Product is missing.
    pub(crate) fn read(cells: &[String], problems: &mut Problems, line: u64, raw: &str) -> Option<Header> {
        if !Header::looks_like_header(cells) {
            return None;
        }
        let mut columns = Vec::with_capacity(cells.len());
        for cell in cells {
            match column_of(cell) {
                Some(column) => columns.push(column),
                None => {
                    if !cell.trim().is_empty() {
                        problems.push(
                            line,
                            ProblemKind::UnknownColumn,
                            format!("column {:?} is not understood; its cells are ignored", cell.trim()),
                            raw,
                        );
                    }
                    columns.push(Column::Ignored);
                }
            }
        }
        let has = |c: &Column| columns.contains(c);
        (has(&Column::Supplier) && has(&Column::Product)).then_some(Header { columns })
    }

    /// The standard 9-column layout of the list.
    pub(crate) fn standard() -> Header {
        Header {
            columns: vec![
                Column::Supplier,
                Column::Product,
                Column::Version,
                Column::Status("CVE-2021-4104".into()),
                Column::Status("CVE-2021-44228".into()),
                Column::Status("CVE-2021-45046".into()),
                Column::Status("CVE-2021-45105".into()),
                Column::Notes,
                Column::Links,
            ],
        }
    }

    /// Whether this is the header of a table of the list (at least Supplier and Product).
    pub(crate) fn looks_like_header(cells: &[String]) -> bool {
        let mut supplier = false;
        let mut product = false;
        for cell in cells {
            match column_of(cell) {
                Some(Column::Supplier) => supplier = true,
                Some(Column::Product) => product = true,
                _ => {}
            }
        }
        supplier && product
    }
}

/// How a status cell was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusReading {
    /// An empty cell: no information.
    Empty,
    /// A standard label.
    Standard(Status),
    /// A non-standard spelling mapped to a status; the text says why.
    Mapped(Status, &'static str),
    /// A non-standard spelling meaning "no information".
    MappedToNothing(&'static str),
    /// Cannot be mapped.
    Unknown,
}

/// Reads one status cell of the Dutch list.
///
/// Standard: `Vulnerable`, `Fix`, `Workaround`, `Not vuln`, `Investigation` (exact spelling).
/// Mapped (any case, surrounding spaces and `*` ignored):
/// `not vuln`/`not vulnerable`/`not affected`/`unaffected`/`no` → not_vulnerable;
/// `vulnerable`/`affected`/`yes` → vulnerable; `fix`/`fixed`/`patched` → fix;
/// `workaround`/`mitigation` → workaround;
/// `fix/workaround` → workaround (a fix for some versions and a workaround for others: not every
/// affected version has a fixed release, and the row's Version cell lists affected versions);
/// `investigation`/`under investigation`/`investigating` → under_investigation;
/// `unknown`/`n/a`/`-`/`?` → no information.
/// Anything else (e.g. `x`, whose meaning the list never defined) is unknown.
pub fn map_status(cell: &str) -> StatusReading {
    let text = cell.trim();
    if text.is_empty() {
        return StatusReading::Empty;
    }
    for status in Status::ALL {
        if text == status.ncsc_label() {
            return StatusReading::Standard(status);
        }
    }
    let lower = text.trim_matches('*').trim().to_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    match lower.as_str() {
        "not vuln" | "not vuln." | "not vulnerable" | "not affected" | "unaffected" | "no" => {
            StatusReading::Mapped(Status::NotVulnerable, "read as not_vulnerable")
        }
        "vulnerable" | "vuln" | "affected" | "yes" => StatusReading::Mapped(Status::Vulnerable, "read as vulnerable"),
        "fix" | "fixed" | "patched" => StatusReading::Mapped(Status::Fix, "read as fix"),
        "workaround" | "mitigation" | "mitigated" => StatusReading::Mapped(Status::Workaround, "read as workaround"),
        "fix/workaround" | "workaround/fix" | "fix / workaround" => StatusReading::Mapped(
            Status::Workaround,
            "read as workaround: a fix for some versions, a workaround for others (the Version cell lists affected versions)",
        ),
        "investigation" | "under investigation" | "investigating" => {
            StatusReading::Mapped(Status::UnderInvestigation, "read as under_investigation")
        }
        "unknown" | "n/a" | "na" | "-" | "?" => StatusReading::MappedToNothing("read as no information"),
        _ => StatusReading::Unknown,
    }
}

/// Builds entries from rows of text cells, for the three NCSC formats.
pub(crate) struct RowReader<'a> {
    pub file: &'a str,
    pub problems: Problems,
    pub entries: Vec<Entry>,
    rows: usize,
}

/// The cells of one row by role, before interpretation.
#[derive(Debug, Default)]
pub(crate) struct RawRow {
    pub supplier: String,
    pub product: String,
    pub version: String,
    /// (CVE id, cell text), in column order.
    pub statuses: Vec<(String, String)>,
    pub notes: String,
    pub links: Vec<String>,
    /// Markdown link targets that are not URLs (the Dutch list has paths inside its repository).
    pub relative_links: Vec<String>,
    pub purl: String,
    pub cpe: String,
}

impl RawRow {
    /// Sorts text cells into roles by the header. `links_text` turns a Links cell into URLs.
    pub(crate) fn from_cells(header: &Header, cells: &[String]) -> RawRow {
        let mut row = RawRow::default();
        for (column, cell) in header.columns.iter().zip(cells) {
            match column {
                Column::Supplier => row.supplier = cell.trim().to_string(),
                Column::Product => row.product = cell.trim().to_string(),
                Column::Version => row.version = cell.trim().to_string(),
                Column::Status(cve) => row.statuses.push((cve.clone(), cell.clone())),
                Column::Notes => row.notes = cell.trim().to_string(),
                Column::Links => {
                    row.links.extend(extract_urls(cell));
                    row.relative_links.extend(relative_link_targets(cell));
                }
                Column::Purl => row.purl = cell.trim().to_string(),
                Column::Cpe => row.cpe = cell.trim().to_string(),
                Column::Ignored => {}
            }
        }
        row
    }
}

impl<'a> RowReader<'a> {
    pub(crate) fn new(file: &'a str) -> RowReader<'a> {
        RowReader { file, problems: Problems::new(file), entries: Vec::new(), rows: 0 }
    }

    /// Counts a row; false (and one problem) once past [`MAX_ROWS_PER_FILE`].
    pub(crate) fn admit(&mut self, line: u64) -> bool {
        self.rows += 1;
        if self.rows == MAX_ROWS_PER_FILE + 1 {
            self.problems.push(
                line,
                ProblemKind::InvalidFile,
                format!("more than {MAX_ROWS_PER_FILE} rows: the rest of the file is skipped"),
                "",
            );
        }
        self.rows <= MAX_ROWS_PER_FILE
    }

    /// Interprets one row (see the module docs) and keeps its entry.
    pub(crate) fn row(&mut self, row: RawRow, line: u64, raw: &str) {
        if row.supplier.is_empty() {
            self.problems.push(line, ProblemKind::MissingSupplier, "row without a supplier: skipped".to_string(), raw);
            return;
        }
        if row.product.is_empty() {
            self.problems.push(
                line,
                ProblemKind::MissingProduct,
                "row without a product: imported with an empty product".to_string(),
                raw,
            );
        }
        let mut entry = Entry::new(row.supplier, row.product);
        entry.notes = row.notes;
        entry.links = dedup(row.links);
        entry.purl = Some(row.purl).filter(|s| !s.is_empty());
        entry.cpe = Some(row.cpe).filter(|s| !s.is_empty());
        entry.sources.push(SourceRef { list: LIST_NAME.to_string(), file: self.file.to_string(), line });

        let mut read: Vec<(String, Status)> = Vec::new();
        let mut unknown_notes: Vec<String> = Vec::new();
        for (cve, cell) in &row.statuses {
            match map_status(cell) {
                StatusReading::Empty => {}
                StatusReading::Standard(status) => read.push((cve.clone(), status)),
                StatusReading::Mapped(status, how) => {
                    self.problems.push(
                        line,
                        ProblemKind::NonStandardStatus,
                        format!("{cve}: status {:?} {how}", cell.trim()),
                        raw,
                    );
                    read.push((cve.clone(), status));
                }
                StatusReading::MappedToNothing(how) => self.problems.push(
                    line,
                    ProblemKind::NonStandardStatus,
                    format!("{cve}: status {:?} {how}", cell.trim()),
                    raw,
                ),
                StatusReading::Unknown => {
                    self.problems.push(
                        line,
                        ProblemKind::UnknownStatus,
                        format!("{cve}: status {:?} cannot be mapped: no information, kept in the notes", cell.trim()),
                        raw,
                    );
                    unknown_notes.push(format!("Status {cve}: {}", cell.trim()));
                }
            }
        }
        let version = row.version;
        let has_fix = read.iter().any(|(_, s)| *s == Status::Fix);
        if has_fix && version.is_empty() {
            for (cve, status) in read.iter_mut().filter(|(_, s)| *s == Status::Fix) {
                self.problems.push(
                    line,
                    ProblemKind::FixWithoutVersion,
                    format!("{cve}: Fix without a released version (empty Version cell): imported as workaround"),
                    raw,
                );
                *status = Status::Workaround;
            }
        }
        let class = version_class(read.iter().map(|(_, s)| *s));
        for (cve, status) in read {
            let mut vuln = VulnStatus::new(status);
            if !version.is_empty() && class == Some(status_class(status)) {
                match status_class(status) {
                    VersionClass::Fixed => vuln.fixed_versions = split_versions(&version),
                    VersionClass::Affected => vuln.affected_versions = split_versions(&version),
                    VersionClass::Unaffected => vuln.unaffected_versions = split_versions(&version),
                }
            }
            entry.statuses.insert(cve, vuln);
        }
        if entry.statuses.is_empty() {
            self.problems.push(
                line,
                ProblemKind::NoStatus,
                "no status for any CVE: imported with no information".to_string(),
                raw,
            );
            if !version.is_empty() {
                self.problems.push(
                    line,
                    ProblemKind::VersionWithoutStatus,
                    format!("Version {version:?} without a status: kept in the notes"),
                    raw,
                );
                unknown_notes.insert(0, format!("Version: {version}"));
            }
        }
        for target in &row.relative_links {
            unknown_notes.push(format!("Link: {target}"));
        }
        if entry.links.is_empty() {
            let message = if row.relative_links.is_empty() {
                "no source link (vendor statement): imported, but it does not validate".to_string()
            } else {
                format!(
                    "no source URL, only {} (a path in the list's repository, kept in the notes): imported, but it \
                     does not validate",
                    row.relative_links.join(", ")
                )
            };
            self.problems.push(line, ProblemKind::MissingLink, message, raw);
        }
        for extra in unknown_notes {
            if !entry.notes.is_empty() {
                entry.notes.push('\n');
            }
            entry.notes.push_str(&extra);
        }
        self.entries.push(entry);
    }

    pub(crate) fn finish(self) -> ImportOutcome {
        ImportOutcome { entries: self.entries, problems: self.problems.into_vec() }
    }
}

/// Which version list the Version cell of a row fills (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum VersionClass {
    Fixed,
    Affected,
    Unaffected,
}

pub(crate) fn status_class(status: Status) -> VersionClass {
    match status {
        Status::Fix => VersionClass::Fixed,
        Status::Vulnerable | Status::Workaround | Status::UnderInvestigation => VersionClass::Affected,
        Status::NotVulnerable => VersionClass::Unaffected,
    }
}

/// The leading class of a row's statuses: fixed before affected before unaffected.
pub(crate) fn version_class(statuses: impl Iterator<Item = Status>) -> Option<VersionClass> {
    statuses.map(status_class).min()
}

/// Splits a Version cell at each `, ` (a comma and white space) outside `()` and `[]`; parts trimmed,
/// empty ones dropped. The exporters join with `, `, so a split list comes back the same.
pub fn split_versions(cell: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = cell.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 0 && bytes.get(i + 1).is_some_and(|n| n.is_ascii_whitespace()) => {
                parts.push(&cell[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&cell[start..]);
    dedup(parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect())
}

pub(crate) fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Every `http://` or `https://` URL in a text: Markdown links, bare URLs, Python list literals.
///
/// A URL ends at white space, a quote, `<`, `>`, `|`, `]`, or a `)` that closes nothing opened
/// inside the URL; trailing `.`, `,` and `;` are dropped.
pub fn extract_urls(text: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = text;
    while let Some(start) = find_url_start(rest) {
        let candidate = &rest[start..];
        let mut depth = 0usize;
        let mut end = candidate.len();
        for (i, c) in candidate.char_indices() {
            let stop = match c {
                c if c.is_whitespace() => true,
                '"' | '\'' | '<' | '>' | '|' | ']' => true,
                '(' => {
                    depth += 1;
                    false
                }
                ')' => {
                    if depth == 0 {
                        true
                    } else {
                        depth -= 1;
                        false
                    }
                }
                _ => false,
            };
            if stop {
                end = i;
                break;
            }
        }
        let url = candidate[..end].trim_end_matches(['.', ',', ';']);
        if url.len() > "https://".len() {
            urls.push(url.to_string());
        }
        rest = &candidate[end.max(1)..];
    }
    urls
}

/// Targets of Markdown links `[text](target)` that are not `http(s)://` URLs (anchors `#…` excluded).
pub fn relative_link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].trim().trim_start_matches('<').trim_end_matches('>');
        if !target.is_empty()
            && !target.starts_with("http://")
            && !target.starts_with("https://")
            && !target.starts_with('#')
        {
            targets.push(target.to_string());
        }
        rest = &after[end..];
    }
    targets
}

fn find_url_start(text: &str) -> Option<usize> {
    let http = text.find("http://");
    let https = text.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Splits a Markdown table line into cells: outer pipes dropped, `\|` is a literal pipe.
fn split_markdown_row(line: &str) -> Vec<String> {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let inner = if inner.ends_with('|') && !inner.ends_with("\\|") { &inner[..inner.len() - 1] } else { inner };
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

fn is_delimiter_row(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells.iter().all(|c| {
            let c = c.trim();
            !c.is_empty() && c.contains('-') && c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))
        })
}

/// `<br>` (any spelling) becomes a line break; other Markdown is kept as written.
fn markdown_cell_text(cell: &str) -> String {
    let mut out = cell.trim().to_string();
    for br in ["<br/>", "<br />", "<BR>", "<br>"] {
        if out.contains(br) {
            out = out.replace(br, "\n");
        }
    }
    out
}

fn decode_utf8<'b>(file: &str, bytes: &'b [u8]) -> Result<std::borrow::Cow<'b, str>, ImportOutcome> {
    if bytes.len() > MAX_FILE_BYTES {
        let mut problems = Problems::new(file);
        problems.push(
            0,
            ProblemKind::InvalidFile,
            format!("{} bytes: larger than the {MAX_FILE_BYTES}-byte limit; nothing imported", bytes.len()),
            "",
        );
        return Err(ImportOutcome { entries: Vec::new(), problems: problems.into_vec() });
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // Tolerant: invalid bytes are replaced (and reported once, with their line, by `utf8_problem`).
    Ok(String::from_utf8_lossy(bytes))
}

/// The file's text (see [`decode_utf8`]) and a row reader that already holds its invalid-UTF-8
/// problem, if any: how both formats start.
fn open_text<'a, 'b>(
    file: &'a str,
    bytes: &'b [u8],
) -> Result<(std::borrow::Cow<'b, str>, RowReader<'a>), ImportOutcome> {
    let text = decode_utf8(file, bytes)?;
    let mut reader = RowReader::new(file);
    if let Some(problem) = utf8_problem(file, bytes) {
        reader.problems.push_problem(problem);
    }
    Ok((text, reader))
}

pub(crate) fn utf8_problem(file: &str, bytes: &[u8]) -> Option<crate::model::Problem> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).err().map(|err| {
        let line = bytes[..err.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        crate::model::Problem {
            file: file.to_string(),
            line,
            kind: ProblemKind::InvalidFile,
            message: "not valid UTF-8: invalid bytes replaced by U+FFFD".to_string(),
            raw: String::new(),
        }
    })
}

/// Imports the Markdown tables of the Dutch list (see the module docs).
///
/// Every table whose header has Supplier and Product columns is read; a table line before any such
/// header is `missing_header` and read with the standard 9 columns when it has 9 cells.
pub fn import_markdown(file: &str, bytes: &[u8]) -> ImportOutcome {
    let (text, mut reader) = match open_text(file, bytes) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let mut header: Option<Header> = None;
    let mut expect_delimiter = false;
    for (index, line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        if !line.trim_start().starts_with('|') {
            header = None;
            expect_delimiter = false;
            continue;
        }
        let raw_cells = split_markdown_row(line);
        if expect_delimiter {
            expect_delimiter = false;
            if is_delimiter_row(&raw_cells) {
                continue;
            }
            reader.problems.push(
                number,
                ProblemKind::MalformedRow,
                "table header not followed by a delimiter row (|---|)".to_string(),
                line,
            );
        }
        if is_delimiter_row(&raw_cells) {
            continue;
        }
        if Header::looks_like_header(&raw_cells) {
            let mut problems = std::mem::replace(&mut reader.problems, Problems::new(file));
            header = Header::read(&raw_cells, &mut problems, number, line);
            reader.problems = problems;
            expect_delimiter = true;
            continue;
        }
        if !reader.admit(number) {
            break;
        }
        let table = match &header {
            Some(header) => header.clone(),
            None => {
                let standard = raw_cells.len() == 9;
                reader.problems.push(
                    number,
                    ProblemKind::MissingHeader,
                    if standard {
                        "table row without a header: read with the standard 9 columns".to_string()
                    } else {
                        format!("table row without a header and with {} cells: skipped", raw_cells.len())
                    },
                    line,
                );
                if !standard {
                    continue;
                }
                Header::standard()
            }
        };
        let mut cells: Vec<String> = raw_cells.iter().map(|c| markdown_cell_text(c)).collect();
        let expected = table.columns.len();
        if cells.len() != expected {
            let notes_then_links = expected >= 2
                && table.columns[expected - 2] == Column::Notes
                && table.columns[expected - 1] == Column::Links;
            let how = if cells.len() < expected {
                cells.resize(expected, String::new());
                "missing cells read as empty".to_string()
            } else if notes_then_links {
                let links = cells.pop().unwrap_or_default();
                cells.truncate(expected - 2);
                cells.push(markdown_cell_text(&raw_cells[expected - 2..raw_cells.len() - 1].join("|")));
                cells.push(links);
                "the extra cells are read as part of the Notes (an unescaped |)".to_string()
            } else {
                cells.truncate(expected);
                "the extra cells are ignored".to_string()
            };
            reader.problems.push(
                number,
                ProblemKind::MalformedRow,
                format!("{} cells where the header has {expected}: {how}", raw_cells.len()),
                line,
            );
        }
        let row = RawRow::from_cells(&table, &cells);
        reader.row(row, number, line);
    }
    reader.finish()
}

/// Imports a CSV release of the Dutch list (see the module docs).
pub fn import_csv(file: &str, bytes: &[u8]) -> ImportOutcome {
    let (text, mut reader) = match open_text(file, bytes) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut header: Option<Header> = None;
    let mut record = csv::StringRecord::new();
    let (mut counted_to, mut counted_lines) = (0usize, 0u64);
    loop {
        let before = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let line = before;
                reader.problems.push(line, ProblemKind::InvalidFile, format!("CSV: {err}; the rest is skipped"), "");
                break;
            }
        }
        // The physical line where the record starts: the csv crate counts records, and a quoted
        // cell may span lines, so newlines are counted from the byte offset (incrementally).
        let mut start = record.position().map_or(counted_to, |p| p.byte() as usize).min(text.len());
        // The reader's position may sit before the previous record's `\n` (after its `\r`).
        while start < text.len() && matches!(text.as_bytes()[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > counted_to {
            counted_lines += text.as_bytes()[counted_to..start].iter().filter(|b| **b == b'\n').count() as u64;
            counted_to = start;
        }
        let line = counted_lines + 1;
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        let raw = cells.join(",");
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some(table) = header.clone() else {
            let mut problems = std::mem::replace(&mut reader.problems, Problems::new(file));
            header = Header::read(&cells, &mut problems, line, &raw);
            reader.problems = problems;
            if header.is_none() {
                reader.problems.push(
                    line,
                    ProblemKind::MissingHeader,
                    "the first row is not a header with Supplier and Product columns: nothing imported".to_string(),
                    &raw,
                );
                break;
            }
            continue;
        };
        if !reader.admit(line) {
            break;
        }
        let mut cells = cells;
        if cells.len() != table.columns.len() {
            reader.problems.push(
                line,
                ProblemKind::MalformedRow,
                format!(
                    "{} cells where the header has {}: missing cells read as empty, extra cells ignored",
                    cells.len(),
                    table.columns.len()
                ),
                &raw,
            );
            cells.resize(table.columns.len(), String::new());
        }
        let row = RawRow::from_cells(&table, &cells);
        reader.row(row, line, &raw);
    }
    if header.is_none() && reader.problems.is_empty() {
        reader.problems.push(0, ProblemKind::MissingHeader, "empty CSV: no header".to_string(), "");
    }
    reader.finish()
}

/// Imports a JSON release of the Dutch list (see the module docs).
pub fn import_json(file: &str, bytes: &[u8]) -> ImportOutcome {
    let mut reader = RowReader::new(file);
    if bytes.len() > MAX_FILE_BYTES {
        reader.problems.push(
            0,
            ProblemKind::InvalidFile,
            format!("{} bytes: larger than the {MAX_FILE_BYTES}-byte limit; nothing imported", bytes.len()),
            "",
        );
        return reader.finish();
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(err) => {
            reader.problems.push(
                err.line() as u64,
                ProblemKind::InvalidFile,
                format!("JSON: {err}; nothing imported"),
                "",
            );
            return reader.finish();
        }
    };
    let items = match value {
        serde_json::Value::Array(items) => items,
        other => {
            reader.problems.push(
                0,
                ProblemKind::InvalidFile,
                format!("JSON: expected an array of rows, found {}; nothing imported", json_kind(&other)),
                "",
            );
            return reader.finish();
        }
    };
    for (index, item) in items.into_iter().enumerate() {
        let position = index as u64 + 1;
        if !reader.admit(position) {
            break;
        }
        let raw = item.to_string();
        let serde_json::Value::Object(map) = item else {
            reader.problems.push(
                position,
                ProblemKind::MalformedRow,
                format!("item {position} is {}, not an object: skipped", json_kind(&item)),
                &raw,
            );
            continue;
        };
        let mut columns = Vec::new();
        let mut cells = Vec::new();
        for (key, value) in map {
            let Some(column) = column_of(&key) else {
                reader.problems.push(
                    position,
                    ProblemKind::UnknownColumn,
                    format!("key {key:?} is not understood: ignored"),
                    &raw,
                );
                continue;
            };
            let cell = match (&column, value) {
                (_, serde_json::Value::String(s)) => s,
                (_, serde_json::Value::Null) => String::new(),
                (Column::Links, serde_json::Value::Object(links)) => {
                    links.values().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(" ")
                }
                (Column::Links, serde_json::Value::Array(links)) => {
                    links.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(" ")
                }
                (_, other) => {
                    reader.problems.push(
                        position,
                        ProblemKind::MalformedRow,
                        format!("key {key:?} holds {}, not a string: read as empty", json_kind(&other)),
                        &raw,
                    );
                    String::new()
                }
            };
            columns.push(column);
            cells.push(cell);
        }
        let header = Header { columns };
        let row = RawRow::from_cells(&header, &cells);
        reader.row(row, position, &raw);
    }
    reader.finish()
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The default CVE columns of the list, in its order.
pub const STANDARD_CVES: [&str; 4] = ["CVE-2021-4104", "CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"];

/// The CVE columns an export needs: the four standard ones, then every other CVE in id order.
pub(crate) fn cve_columns(entries: &[Entry]) -> Vec<String> {
    let mut columns: Vec<String> = STANDARD_CVES.iter().map(|s| s.to_string()).collect();
    let mut extra: BTreeMap<&str, ()> = BTreeMap::new();
    for entry in entries {
        for cve in entry.statuses.keys() {
            if !STANDARD_CVES.contains(&cve.as_str()) {
                extra.insert(cve, ());
            }
        }
    }
    columns.extend(extra.into_keys().map(str::to_string));
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_from_every_form() {
        assert_eq!(
            extract_urls("[link](https://a.example/x_(y)) [b](http://b.example/q?a=1)."),
            vec!["https://a.example/x_(y)".to_string(), "http://b.example/q?a=1".to_string()]
        );
        assert_eq!(
            extract_urls("['https://a.example/1', 'https://b.example/2']"),
            vec!["https://a.example/1".to_string(), "https://b.example/2".to_string()]
        );
        assert!(extract_urls("no link, https:// only").is_empty());
    }

    #[test]
    fn versions_split_outside_parentheses() {
        assert_eq!(split_versions("1.15.0, 1.14.2,1.13"), ["1.15.0", "1.14.2,1.13"]);
        assert_eq!(split_versions("AU Models (DxC700AU, AU480), 2.0"), ["AU Models (DxC700AU, AU480)", "2.0"]);
        assert_eq!(split_versions(" , "), Vec::<String>::new());
    }

    #[test]
    fn markdown_cells() {
        assert_eq!(split_markdown_row("|a|b \\| c||d|"), vec!["a", "b | c", "", "d"]);
        assert!(is_delimiter_row(&split_markdown_row("|:---|:--:|---:|")));
    }

    #[test]
    fn statuses() {
        assert_eq!(map_status("Not vuln"), StatusReading::Standard(Status::NotVulnerable));
        assert!(matches!(map_status("Not Vuln"), StatusReading::Mapped(Status::NotVulnerable, _)));
        assert!(matches!(map_status("Fix/Workaround"), StatusReading::Mapped(Status::Workaround, _)));
        assert_eq!(map_status("x"), StatusReading::Unknown);
        assert_eq!(map_status("  "), StatusReading::Empty);
    }
}
