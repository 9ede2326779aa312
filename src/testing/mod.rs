//! Policy tests: cases that pin what a policy decides, kept beside the
//! policies (`tests/*.toml` in the policy directory) and run by `rpl test`.
//!
//! A test file is TOML: an optional `[base]` request, then `[[case]]`
//! tables, each with a `name`, a `request` (a request file, or a table
//! merged over `[base]`), an optional `unset` list of fields to remove, and
//! `[case.expect]`: any subset of the decision's fields, or an error code.
//! This module reads test files ([`parse`]), decides their requests and
//! compares ([`run`]), and measures what the cases exercised
//! ([`coverage`]); reading files and printing results is the CLI's.

pub mod coverage;
mod error;
pub mod mutate;
mod rng;
mod run;

use std::collections::HashMap;
use std::ops::Range;

use serde_json::{Map, Value as Json};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

pub use error::SuiteError;
pub use rng::SplitMix64;
pub use run::{CaseRun, Input, Mismatch, compare, decide};

use crate::compile::{Cmp, CompiledPolicy, Node, NodeId};
use crate::eval::output::format_amount;
use crate::schema::FieldId;
use crate::source::Source;
use crate::value::Value;

/// One test file, read.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The file's text and how reports name it.
    pub source: Source,
    pub cases: Vec<Case>,
    /// Whether the file has a `case` key at all (a TOML request file kept
    /// beside the tests has none).
    pub declares_cases: bool,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Where the case's `name` value is written.
    pub span: Range<usize>,
    pub request: CaseRequest,
    pub expect: Vec<Expected>,
}

#[derive(Debug, Clone)]
pub enum CaseRequest {
    /// A request file, relative to the test file's folder.
    File { path: String, span: Range<usize> },
    /// A request written in the test file (merged over `[base]`, with the
    /// `unset` fields removed).
    Inline(Json),
}

/// One expected field, its value in the canonical text [`run`] compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub field: Field,
    pub value: String,
    pub span: Range<usize>,
}

/// What a case can expect: the decision's fields, or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Decision,
    Rule,
    Amount,
    Currency,
    Route,
    Installments,
    ReturnShipping,
    Settlement,
    Documents,
    Offers,
    Message,
    Policy,
    PolicyVersion,
    Error,
    ErrorPath,
}

impl Field {
    pub const ALL: [Field; 15] = [
        Field::Decision,
        Field::Rule,
        Field::Amount,
        Field::Currency,
        Field::Route,
        Field::Installments,
        Field::ReturnShipping,
        Field::Settlement,
        Field::Documents,
        Field::Offers,
        Field::Message,
        Field::Policy,
        Field::PolicyVersion,
        Field::Error,
        Field::ErrorPath,
    ];

    /// The key in `[case.expect]`.
    pub fn key(self) -> &'static str {
        match self {
            Field::Decision => "decision",
            Field::Rule => "rule",
            Field::Amount => "amount",
            Field::Currency => "currency",
            Field::Route => "route",
            Field::Installments => "installments",
            Field::ReturnShipping => "return_shipping",
            Field::Settlement => "settlement",
            Field::Documents => "documents",
            Field::Offers => "offers",
            Field::Message => "message",
            Field::Policy => "policy",
            Field::PolicyVersion => "policy_version",
            Field::Error => "error",
            Field::ErrorPath => "error_path",
        }
    }

    /// Fields that only a decision has.
    fn of_decision(self) -> bool {
        !matches!(
            self,
            Field::Error | Field::ErrorPath | Field::Policy | Field::PolicyVersion
        )
    }
}

/// What a run of test files produced, file by file.
#[derive(Debug)]
pub struct RunReport {
    pub files: Vec<FileRun>,
    /// Cases left out by a filter.
    pub filtered_out: usize,
}

#[derive(Debug)]
pub struct FileRun {
    /// How reports name the test file.
    pub name: String,
    /// What made the file or some of its cases unreadable.
    pub errors: Vec<SuiteError>,
    pub cases: Vec<CaseResult>,
}

#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    /// 1-based line of the case's name in the test file.
    pub line: usize,
    pub run: CaseRun,
}

impl RunReport {
    pub fn cases(&self) -> impl Iterator<Item = (&FileRun, &CaseResult)> {
        self.files
            .iter()
            .flat_map(|f| f.cases.iter().map(move |c| (f, c)))
    }

    pub fn passed(&self) -> usize {
        self.cases().filter(|(_, c)| c.run.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.cases().filter(|(_, c)| !c.run.passed()).count()
    }

    pub fn errors(&self) -> usize {
        self.files.iter().map(|f| f.errors.len()).sum()
    }

    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.errors() == 0
    }
}

/// How absent values (`null` in the decision object) are written.
pub const NONE: &str = "none";

const TOP_KEYS: [&str; 2] = ["base", "case"];
const CASE_KEYS: [&str; 4] = ["name", "request", "unset", "expect"];

/// Reads a test file. Cases with a mistake are left out and reported; the
/// others are returned, so one typo does not hide the rest of the file.
pub fn parse(name: &str, text: &str) -> (Suite, Vec<SuiteError>) {
    let cx = Cx {
        src: Source::new(name, text),
        errors: Vec::new(),
    };
    cx.suite()
}

struct Cx {
    src: Source,
    errors: Vec<SuiteError>,
}

impl Cx {
    fn suite(mut self) -> (Suite, Vec<SuiteError>) {
        let text = self.src.text().clone();
        let mut cases = Vec::new();
        let mut declares_cases = false;
        match DeTable::parse(&text) {
            Err(e) => {
                self.errors.push(SuiteError::Syntax {
                    message: e.message().lines().next().unwrap_or_default().to_owned(),
                    src: self.src.clone(),
                    span: e.span().unwrap_or(0..0).into(),
                });
            }
            Ok(doc) => {
                let doc = doc.into_inner();
                let mut base = None;
                let mut raw_cases = Vec::new();
                for (key, value) in doc {
                    match key.get_ref().as_ref() {
                        "base" => match value.get_ref() {
                            DeValue::Table(t) => base = Some(to_json_table(t)),
                            _ => self.wrong_type("base", "is a request table", &value, "write `[base]` followed by the fields every case's request starts from"),
                        },
                        "case" => {
                            declares_cases = true;
                            match value.into_inner() {
                                DeValue::Array(items) => raw_cases = items.into_iter().collect(),
                                _ => self.wrong_type_at(
                                    "case",
                                    "is a list of tables",
                                    key.span(),
                                    "start each case with `[[case]]` (two brackets)",
                                ),
                            }
                        }
                        _ => self.unknown_key(&key, "a test file", &TOP_KEYS),
                    }
                }
                let mut names: HashMap<String, Range<usize>> = HashMap::new();
                for item in raw_cases {
                    let span = item.span();
                    let DeValue::Table(table) = item.into_inner() else {
                        self.wrong_type_at(
                            "case",
                            "is a list of tables",
                            span,
                            "start each case with `[[case]]`",
                        );
                        continue;
                    };
                    if let Some(case) = self.case(table, span, base.as_ref()) {
                        if let Some(first) = names.get(&case.name) {
                            self.errors.push(SuiteError::DuplicateCase {
                                name: case.name.clone(),
                                src: self.src.clone(),
                                span: case.span.clone().into(),
                                first: first.clone().into(),
                            });
                            continue;
                        }
                        names.insert(case.name.clone(), case.span.clone());
                        cases.push(case);
                    }
                }
            }
        }
        let suite = Suite {
            source: self.src,
            cases,
            declares_cases,
        };
        (suite, self.errors)
    }

    fn case(
        &mut self,
        table: DeTable<'_>,
        span: Range<usize>,
        base: Option<&Map<String, Json>>,
    ) -> Option<Case> {
        let before = self.errors.len();
        let mut name = None;
        let mut request = None;
        let mut unset = Vec::new();
        let mut expect = None;
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "name" => match value.get_ref() {
                    DeValue::String(s) if !s.trim().is_empty() => {
                        name = Some((s.to_string(), value.span()));
                    }
                    _ => self.wrong_type(
                        "name",
                        "is the case's name, a non-empty string",
                        &value,
                        "e.g. `name = \"no-reason return on day 7\"`",
                    ),
                },
                "request" => match value.get_ref() {
                    DeValue::String(s) => {
                        request = Some(CaseRequest::File {
                            path: s.to_string(),
                            span: value.span(),
                        });
                    }
                    DeValue::Table(t) => {
                        let mut merged = base.cloned().unwrap_or_default();
                        merge(&mut merged, to_json_table(t));
                        request = Some(CaseRequest::Inline(Json::Object(merged)));
                    }
                    _ => self.wrong_type(
                        "request",
                        "is a request file's path or a request table",
                        &value,
                        "write `request = \"../requests/order.json\"`, or `[case.request]` with the request's fields",
                    ),
                },
                "unset" => match value.get_ref() {
                    DeValue::Array(items) => {
                        for item in items {
                            match item.get_ref() {
                                DeValue::String(s) => unset.push((s.to_string(), item.span())),
                                _ => self.wrong_type(
                                    "unset",
                                    "lists field paths as strings",
                                    item,
                                    "e.g. `unset = [\"order.delivered_at\"]`",
                                ),
                            }
                        }
                    }
                    _ => self.wrong_type(
                        "unset",
                        "is a list of field paths",
                        &value,
                        "e.g. `unset = [\"order.delivered_at\"]`",
                    ),
                },
                "expect" => match value.get_ref() {
                    DeValue::Table(t) => expect = Some(self.expect(t)),
                    _ => self.wrong_type(
                        "expect",
                        "is a table of expected fields",
                        &value,
                        "write `[case.expect]` followed by e.g. `decision = \"approve\"`",
                    ),
                },
                _ => self.unknown_key(&key, "a case", &CASE_KEYS),
            }
        }
        let missing = |what: &str, help: &str, cx: &mut Cx| {
            cx.errors.push(SuiteError::MissingKey {
                what: what.to_owned(),
                src: cx.src.clone(),
                span: (span.start..span.start).into(),
                help: help.to_owned(),
            });
        };
        if name.is_none() {
            missing(
                "a case has no `name`",
                "name every case: failures are reported by name",
                self,
            );
        }
        match (&mut request, expect.as_ref()) {
            (None, _) => missing(
                "a case has no `request`",
                "give a request file (`request = \"order.json\"`) or a `[case.request]` table",
                self,
            ),
            (Some(CaseRequest::Inline(req)), _) => {
                for (path, at) in &unset {
                    if !remove(req, path) {
                        self.errors.push(SuiteError::BadValue {
                            message: format!("`unset` names `{path}`, which the request does not have"),
                            src: self.src.clone(),
                            span: at.clone().into(),
                            help: "name a field of the request (or of `[base]`) by its dotted path, e.g. `order.delivered_at`".to_owned(),
                        });
                    }
                }
            }
            (Some(CaseRequest::File { .. }), _) if !unset.is_empty() => {
                let at = unset.first().map(|(_, s)| s.clone()).unwrap_or_default();
                self.errors.push(SuiteError::BadValue {
                    message: "`unset` applies to a request written in the test file, not to a request file".to_owned(),
                    src: self.src.clone(),
                    span: at.into(),
                    help: "remove the field from the request file, or write the request as `[case.request]`".to_owned(),
                });
            }
            _ => {}
        }
        match &expect {
            None => missing(
                "a case has no `[case.expect]`",
                "say what the decision must be, e.g. `expect = { decision = \"approve\", rule = \"seven_day_no_reason\" }`",
                self,
            ),
            // Unless each of its keys was wrong, and already reported.
            Some(e) if e.is_empty() && self.errors.len() == before => missing(
                "a case expects nothing, so it tests nothing",
                "expect at least one field, e.g. `decision = \"approve\"`",
                self,
            ),
            Some(_) => {}
        }
        if self.errors.len() > before {
            return None;
        }
        let (name, name_span) = name?;
        Some(Case {
            name,
            span: name_span,
            request: request?,
            expect: expect?,
        })
    }

    fn expect(&mut self, table: &DeTable<'_>) -> Vec<Expected> {
        let keys: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
        let mut out = Vec::new();
        for (key, value) in table {
            let Some(field) = Field::ALL
                .iter()
                .copied()
                .find(|f| f.key() == key.get_ref().as_ref())
            else {
                self.unknown_key(key, "`[case.expect]`", &keys);
                continue;
            };
            if let Some(text) = self.expected_value(field, value) {
                out.push(Expected {
                    field,
                    value: text,
                    span: value.span(),
                });
            }
        }
        let error = out.iter().find(|e| e.field == Field::Error);
        let decision = out.iter().find(|e| e.field.of_decision());
        if let (Some(_), Some(d)) = (error, decision) {
            self.errors.push(SuiteError::BadValue {
                message: format!(
                    "a case expects an error and also the decision's `{}`",
                    d.field.key()
                ),
                src: self.src.clone(),
                span: d.span.clone().into(),
                help: "a request either gets a decision or an error: keep one of them".to_owned(),
            });
        }
        out
    }

    /// An expected value in the text [`run::actual`] renders.
    fn expected_value(&mut self, field: Field, value: &Spanned<DeValue<'_>>) -> Option<String> {
        let key = field.key();
        match field {
            Field::Documents | Field::Offers => {
                let DeValue::Array(items) = value.get_ref() else {
                    self.wrong_type(
                        key,
                        "is a list of names",
                        value,
                        "e.g. `documents = [\"order_number\", \"payment_proof\"]`; `[]` for none",
                    );
                    return None;
                };
                let mut names = Vec::new();
                for item in items {
                    match item.get_ref() {
                        // A name each: `["a, b"]` would read like `["a", "b"]`.
                        DeValue::String(s) if is_name(s) => names.push(s.to_string()),
                        DeValue::String(s) => {
                            self.bad_value(
                                &format!("`{s}` is not a name"),
                                item,
                                "write each name as a string of its own: `[\"order_number\", \"payment_proof\"]`",
                            );
                            return None;
                        }
                        _ => {
                            self.wrong_type(
                                key,
                                "lists names as strings",
                                item,
                                "write each name in quotes",
                            );
                            return None;
                        }
                    }
                }
                Some(list_text(names.iter().map(String::as_str)))
            }
            Field::Settlement => match value.get_ref() {
                DeValue::String(s) if s.as_ref() == NONE => Some(NONE.to_owned()),
                DeValue::Array(items) => {
                    let dates: Vec<_> = items
                        .iter()
                        .filter_map(|i| match i.get_ref() {
                            DeValue::String(s) => s.parse::<jiff::civil::Date>().ok(),
                            _ => None,
                        })
                        .collect();
                    match dates.as_slice() {
                        [a, b] if items.len() == 2 => Some(settlement_text(*a, *b)),
                        _ => {
                            self.bad_value(
                                "`settlement` is two dates, the earliest and the latest",
                                value,
                                "e.g. `settlement = [\"2025-01-08\", \"2025-01-24\"]`, or `\"none\"`",
                            );
                            None
                        }
                    }
                }
                _ => {
                    self.wrong_type(
                        key,
                        "is two dates or \"none\"",
                        value,
                        "e.g. `settlement = [\"2025-01-08\", \"2025-01-24\"]`",
                    );
                    None
                }
            },
            Field::Amount => match value.get_ref() {
                DeValue::String(s) if s.as_ref() == NONE => Some(NONE.to_owned()),
                DeValue::String(s) => match s.parse::<rust_decimal::Decimal>() {
                    Ok(d) if d.scale() <= 2 => Some(format_amount(&d)),
                    _ => {
                        self.bad_value(
                            &format!("`{s}` is not an amount with at most two decimal places"),
                            value,
                            "write the amount as a decimal string, e.g. `amount = \"4999.00\"`",
                        );
                        None
                    }
                },
                DeValue::Integer(_) | DeValue::Float(_) => {
                    self.wrong_type(
                        key,
                        "is a decimal string",
                        value,
                        "quote the amount, e.g. `amount = \"4999.00\"`: a float may lose cents",
                    );
                    None
                }
                _ => {
                    self.wrong_type(
                        key,
                        "is a decimal string",
                        value,
                        "e.g. `amount = \"4999.00\"`, or `\"none\"`",
                    );
                    None
                }
            },
            _ => match value.get_ref() {
                DeValue::String(s) => {
                    if field == Field::Error && !s.starts_with("rpl::") {
                        self.bad_value(
                            &format!("`{s}` is not an error code"),
                            value,
                            "an error code reads `rpl::<stage>::<name>`, e.g. `rpl::request::missing_field`; a case that expects a decision names its fields instead",
                        );
                        return None;
                    }
                    if field == Field::Decision
                        && !["approve", "deny", "review"].contains(&s.as_ref())
                    {
                        self.bad_value(
                            &format!("`{s}` is not a decision"),
                            value,
                            "a decision is `approve`, `deny` or `review`; to expect an error write `error = \"rpl::…\"`",
                        );
                        return None;
                    }
                    Some(s.to_string())
                }
                _ => {
                    self.wrong_type(
                        key,
                        "is a string",
                        value,
                        "write the expected value in quotes; `\"none\"` for null",
                    );
                    None
                }
            },
        }
    }

    fn unknown_key(&mut self, key: &Spanned<DeString<'_>>, place: &'static str, known: &[&str]) {
        let k: &str = key.get_ref();
        let help = match crate::check::error::did_you_mean(k, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "{place} takes {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.errors.push(SuiteError::UnknownKey {
            key: k.to_owned(),
            place,
            src: self.src.clone(),
            span: key.span().into(),
            help,
        });
    }

    fn wrong_type(
        &mut self,
        key: &str,
        expected: &'static str,
        value: &Spanned<DeValue<'_>>,
        help: &str,
    ) {
        self.wrong_type_at(key, expected, value.span(), help);
    }

    fn wrong_type_at(&mut self, key: &str, expected: &'static str, span: Range<usize>, help: &str) {
        self.errors.push(SuiteError::WrongType {
            key: key.to_owned(),
            expected,
            src: self.src.clone(),
            span: span.into(),
            help: help.to_owned(),
        });
    }

    fn bad_value(&mut self, message: &str, value: &Spanned<DeValue<'_>>, help: &str) {
        self.errors.push(SuiteError::BadValue {
            message: message.to_owned(),
            src: self.src.clone(),
            span: value.span().into(),
            help: help.to_owned(),
        });
    }
}

/// The enum values a condition holds for, when it is exactly a test of
/// enum fields against values (`f == v`, `f in [..]`, joined by `or`);
/// empty when it is anything else.
pub(crate) fn enum_tests(policy: &CompiledPolicy, cond: NodeId) -> Vec<(FieldId, u128)> {
    let field = |id: &NodeId| match policy.node(*id) {
        Some(Node::Field(f)) => Some(*f),
        _ => None,
    };
    let value = |id: &NodeId| match policy.node(*id) {
        Some(Node::Const(Value::Enum(i))) if *i < 128 => Some(1u128 << i),
        _ => None,
    };
    let mut out = Vec::new();
    let mut stack = vec![cond];
    while let Some(id) = stack.pop() {
        let test = match policy.node(id) {
            Some(Node::Or(a, b)) => {
                stack.extend([*a, *b]);
                continue;
            }
            Some(Node::Named { body, .. }) => {
                stack.push(*body);
                continue;
            }
            Some(Node::Cmp(Cmp::Eq, a, b)) => {
                field(a).zip(value(b)).or_else(|| field(b).zip(value(a)))
            }
            Some(Node::InSet {
                value: v,
                set,
                negated: false,
            }) => field(v).map(|f| (f, *set)),
            _ => None,
        };
        match test {
            Some(t) => out.push(t),
            None => return Vec::new(),
        }
    }
    out
}

/// A name of a vocabulary (a document, an offer): letters, digits, `_`.
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A list as expectations and actual values both write it.
pub fn list_text<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

pub fn settlement_text(earliest: jiff::civil::Date, latest: jiff::civil::Date) -> String {
    format!("{earliest} .. {latest}")
}

/// A TOML table as the JSON the request decoder reads. TOML dates and
/// times become their RFC 3339 text; the decoder judges everything else.
fn to_json_table(t: &DeTable<'_>) -> Map<String, Json> {
    t.iter()
        .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
        .collect()
}

fn to_json(v: &DeValue<'_>) -> Json {
    match v {
        DeValue::String(s) => Json::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map_or_else(|_| Json::String(i.as_str().to_owned()), Json::from),
        // `nan` and `inf` have no JSON number: kept as text, the decoder
        // turns them away as it would any other wrong value (never `null`,
        // which would read as a field left out).
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Json::String(f.as_str().to_owned()), Json::Number),
        DeValue::Boolean(b) => Json::Bool(*b),
        DeValue::Datetime(d) => Json::String(d.to_string()),
        DeValue::Array(a) => Json::Array(a.iter().map(|i| to_json(i.get_ref())).collect()),
        DeValue::Table(t) => Json::Object(to_json_table(t)),
    }
}

/// `over` written onto `into`: tables merge key by key, anything else
/// replaces.
fn merge(into: &mut Map<String, Json>, over: Map<String, Json>) {
    for (k, v) in over {
        match (into.get_mut(&k), v) {
            (Some(Json::Object(a)), Json::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Removes the field at a dotted path; whether it was there.
fn remove(request: &mut Json, path: &str) -> bool {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let mut node = request;
    for segment in parent.into_iter().flat_map(|p| p.split('.')) {
        match node.get_mut(segment) {
            Some(n) => node = n,
            None => return false,
        }
    }
    node.as_object_mut()
        .is_some_and(|o| o.remove(last).is_some())
}

#[cfg(test)]
mod tests;
