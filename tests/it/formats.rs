//! `docs/formats.md` is the one description of requests, decisions and
//! errors a fresh clone has: it must name every field and value of
//! `policies/schema.toml`, and every code a request can get, as others
//! change them.

use crate::util;

fn doc() -> String {
    std::fs::read_to_string(util::manifest_dir().join("docs/formats.md")).unwrap()
}

/// `value` written as code or as a JSON string.
fn names(doc: &str, value: &str) -> bool {
    doc.contains(&format!("`{value}`")) || doc.contains(&format!("\"{value}\""))
}

fn strings(v: &toml::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn every_schema_field_and_value_is_documented() {
    let doc = doc();
    let schema: toml::Table = std::fs::read_to_string(util::frozen_policies().join("schema.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let mut missing = Vec::new();
    for (path, field) in schema["fields"].as_table().unwrap() {
        let kind = field["type"].as_str().unwrap();
        let row = format!("| `{path}` | {kind} |");
        if !doc.contains(&row) {
            missing.push(row);
        }
        for value in field.get("values").map(strings).unwrap_or_default() {
            if !names(&doc, value) {
                missing.push(format!("{path}: `{value}`"));
            }
        }
    }
    for (list, values) in schema["decision"].as_table().unwrap() {
        for value in strings(values) {
            if !names(&doc, value) {
                missing.push(format!("decision.{list}: `{value}`"));
            }
        }
    }
    for rule in schema["chronology"].as_array().unwrap() {
        for end in ["earlier", "later"] {
            let field = rule[end].as_str().unwrap();
            if !doc.contains(&format!("`{field}`")) {
                missing.push(format!("chronology: `{field}`"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/formats.md lacks: {missing:#?}");
}

#[test]
fn every_code_a_request_can_get_is_documented() {
    let doc = doc();
    let missing: Vec<&&str> = rpl::codes::ALL
        .iter()
        .filter(|c| c.starts_with("rpl::request::") || c.starts_with("rpl::eval::"))
        .filter(|c| !doc.contains(&format!("`{c}`")))
        .collect();
    assert!(missing.is_empty(), "docs/formats.md lacks: {missing:?}");
}
