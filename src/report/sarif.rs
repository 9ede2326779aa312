//! SARIF 2.1.0, the format code scanning reads (GitHub's
//! `upload-sarif`, editors' SARIF viewers): one log with one run of `rpl`.
//!
//! A subcommand turns what it found into [`SarifResult`]s (a diagnostic
//! with [`SarifResult::from_diagnostic`]) and writes [`sarif_log`] of them.
//! Columns are counted in UTF-16 code units, SARIF's default `columnKind`,
//! which the log also states: a viewer that ignores `columnKind` reads them
//! right too. A file named by a relative path is given relative to
//! `%SRCROOT%`, the folder `rpl` ran in (the checkout, in CI).

use miette::{Diagnostic, Severity};
use serde_json::{Map, Value, json};

use super::diagnostics::{Extent, extent, file_name, first_label};

/// The schema of the log, as published by OASIS (errata 01).
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// One thing found: what went wrong, under which rule, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifResult {
    /// The rule broken: a diagnostic code, `rpl::check::unknown_field`.
    pub rule_id: String,
    /// What the rule is about, for the run's list of rules; the rule id in
    /// words (`unknown field`) when not given.
    pub rule_description: Option<String>,
    pub level: SarifLevel,
    pub message: String,
    pub location: Option<SarifLocation>,
    /// Other places that explain it.
    pub related: Vec<SarifLocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SarifLevel {
    Error,
    Warning,
    Note,
}

/// A place in a file, with what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifLocation {
    /// The file's name as `rpl` shows it: relative to the working
    /// directory, or absolute.
    pub file: String,
    pub region: Option<SarifRegion>,
    pub message: Option<String>,
}

impl SarifLocation {
    /// A whole line of a file.
    pub fn at_line(file: &str, line: usize) -> SarifLocation {
        SarifLocation {
            file: file.to_owned(),
            region: Some(SarifRegion {
                start_line: line,
                start_column: None,
                end_line: None,
                end_column: None,
            }),
            message: None,
        }
    }
}

/// Lines and columns are 1-based, columns in UTF-16 code units; the end
/// column is that of the character after the region. A region of whole
/// lines gives no columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SarifRegion {
    pub start_line: usize,
    pub start_column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
}

impl From<Extent> for SarifRegion {
    fn from(e: Extent) -> Self {
        SarifRegion {
            start_line: e.start.line,
            start_column: Some(e.start.column_utf16),
            end_line: Some(e.end.line),
            end_column: Some(e.end.column_utf16),
        }
    }
}

impl SarifResult {
    /// The diagnostic's code as the rule, its help after the message, its
    /// first label as the location; its other labels, and the diagnostics
    /// related to it (where a constant is defined), as related locations.
    pub fn from_diagnostic(d: &dyn Diagnostic) -> SarifResult {
        let mut message = d.to_string();
        if let Some(help) = d.help() {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let file = file_name(d);
        let labels: Vec<SarifLocation> = file
            .iter()
            .flat_map(|file| {
                d.labels().into_iter().flatten().map(|l| SarifLocation {
                    file: file.clone(),
                    region: d
                        .source_code()
                        .and_then(|src| extent(src, l.inner()))
                        .map(SarifRegion::from),
                    message: l.label().map(str::to_string),
                })
            })
            .collect();
        let mut labels = labels.into_iter();
        // A diagnostic about a whole file (one that could not be read) is
        // placed at the file.
        let location = labels.next().or_else(|| {
            file.map(|file| SarifLocation {
                file,
                region: None,
                message: None,
            })
        });
        let related = labels
            .chain(d.related().into_iter().flatten().filter_map(related))
            .collect();
        SarifResult {
            rule_id: d.code().map(|c| c.to_string()).unwrap_or_default(),
            rule_description: None,
            level: match d.severity().unwrap_or(Severity::Error) {
                Severity::Error => SarifLevel::Error,
                Severity::Warning => SarifLevel::Warning,
                Severity::Advice => SarifLevel::Note,
            },
            message,
            location,
            related,
        }
    }
}

/// A related diagnostic as a place: its message, and its label's after it.
fn related(d: &dyn Diagnostic) -> Option<SarifLocation> {
    let label = first_label(d);
    let mut message = d.to_string();
    if let Some(text) = label.as_ref().and_then(|l| l.label()) {
        message.push_str(&format!(": {text}"));
    }
    Some(SarifLocation {
        file: file_name(d)?,
        region: d
            .source_code()
            .zip(label)
            .and_then(|(src, l)| extent(src, l.inner()))
            .map(SarifRegion::from),
        message: Some(message),
    })
}

/// One SARIF log of `results`, in their order, by `rpl`; its rules are the
/// rules the results name, in the order they first occur.
pub fn sarif_log(results: impl IntoIterator<Item = SarifResult>) -> Value {
    let mut rules: Vec<(String, String)> = Vec::new();
    let results: Vec<Value> = results
        .into_iter()
        .map(|r| {
            let index = match rules.iter().position(|(id, _)| *id == r.rule_id) {
                Some(i) => i,
                None => {
                    let description = r
                        .rule_description
                        .clone()
                        .unwrap_or_else(|| in_words(&r.rule_id));
                    rules.push((r.rule_id.clone(), description));
                    rules.len() - 1
                }
            };
            result(r, index)
        })
        .collect();
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(id, description)| json!({ "id": id, "shortDescription": { "text": description } }))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "rpl",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

fn result(r: SarifResult, rule_index: usize) -> Value {
    let level = match r.level {
        SarifLevel::Error => "error",
        SarifLevel::Warning => "warning",
        SarifLevel::Note => "note",
    };
    let mut out = Map::new();
    out.insert("ruleId".into(), json!(r.rule_id));
    out.insert("ruleIndex".into(), json!(rule_index));
    out.insert("level".into(), json!(level));
    out.insert("message".into(), json!({ "text": r.message }));
    if let Some(location) = r.location {
        out.insert("locations".into(), json!([location_json(location, None)]));
    }
    if !r.related.is_empty() {
        let related = r.related.into_iter().enumerate();
        out.insert(
            "relatedLocations".into(),
            related.map(|(id, l)| location_json(l, Some(id))).collect(),
        );
    }
    Value::Object(out)
}

fn location_json(l: SarifLocation, id: Option<usize>) -> Value {
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), artifact(&l.file));
    if let Some(r) = l.region {
        let mut region = Map::new();
        region.insert("startLine".into(), json!(r.start_line));
        for (key, value) in [
            ("startColumn", r.start_column),
            ("endLine", r.end_line),
            ("endColumn", r.end_column),
        ] {
            if let Some(v) = value {
                region.insert(key.into(), json!(v));
            }
        }
        physical.insert("region".into(), Value::Object(region));
    }
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("id".into(), json!(id));
    }
    out.insert("physicalLocation".into(), Value::Object(physical));
    if let Some(text) = l.message {
        out.insert("message".into(), json!({ "text": text }));
    }
    Value::Object(out)
}

/// A file as SARIF names it: a relative path as a URI reference against
/// `%SRCROOT%`, an absolute one as a `file:` URI.
fn artifact(file: &str) -> Value {
    let path = if std::path::MAIN_SEPARATOR == '\\' {
        file.replace('\\', "/")
    } else {
        file.to_string()
    };
    if std::path::Path::new(file).is_absolute() {
        let path = encode_path(&path);
        // A Windows path starts with its drive, `C:/`, not a slash.
        let slash = if path.starts_with('/') { "" } else { "/" };
        json!({ "uri": format!("file://{slash}{path}") })
    } else {
        json!({ "uri": encode_path(&path), "uriBaseId": "%SRCROOT%" })
    }
}

/// `path` with every byte but the unreserved characters of RFC 3986, `/`
/// and a Windows drive's `:` percent-encoded: a name may hold spaces, `#`,
/// `%` or any character at all.
fn encode_path(path: &str) -> String {
    let drive = path.len() >= 2
        && path.as_bytes().get(1) == Some(&b':')
        && path.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || (drive && i == 1) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `rpl::check::unknown_field` in words: `unknown field`.
fn in_words(rule_id: &str) -> String {
    rule_id
        .rsplit("::")
        .next()
        .unwrap_or(rule_id)
        .replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_uri_references() {
        assert_eq!(
            artifact("policies/common.rpl"),
            json!({ "uri": "policies/common.rpl", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact("政策/a b#%.rpl")["uri"],
            "%E6%94%BF%E7%AD%96/a%20b%23%25.rpl"
        );
        if cfg!(unix) {
            assert_eq!(
                artifact("/srv/p/x.rpl"),
                json!({ "uri": "file:///srv/p/x.rpl" })
            );
            // A backslash is part of a name on Unix, not a separator.
            assert_eq!(artifact("a\\b.rpl")["uri"], "a%5Cb.rpl");
        }
    }

    #[test]
    fn rules_are_listed_once_in_order_of_first_use() {
        let result = |id: &str| SarifResult {
            rule_id: id.into(),
            rule_description: None,
            level: SarifLevel::Warning,
            message: "m".into(),
            location: None,
            related: Vec::new(),
        };
        let log = sarif_log([
            result("rpl::check::b_rule"),
            result("rpl::check::a_rule"),
            result("rpl::check::b_rule"),
        ]);
        let run = &log["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"],
            json!([
                { "id": "rpl::check::b_rule", "shortDescription": { "text": "b rule" } },
                { "id": "rpl::check::a_rule", "shortDescription": { "text": "a rule" } },
            ])
        );
        let indices: Vec<&Value> = run["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| &r["ruleIndex"])
            .collect();
        assert_eq!(indices, [&json!(0), &json!(1), &json!(0)]);
    }
}
