//! Who sees what under one masking policy: the rules now and after a change, the roles and tag
//! values to show, and the view the masking matrix app draws (`ui://altr/masking-matrix`). The
//! grid itself is [`super::masking_matrix`], the one computation preview_masking's JSON and the
//! app's picture both come from, so the two cannot disagree.

use serde_json::{json, Map, Value};

use super::{level_meaning, masking_matrix, rule_triple, NO_RULE_LEVEL, PERMISSIVE_FIRST};

/// The masking matrix app.
pub const MATRIX_APP: &str = "ui://altr/masking-matrix";
/// The key of the result `_meta` entry the app draws.
pub const MATRIX_META: &str = "io.altr/masking-matrix";

/// One rule as the matrix reads it: role, tag value, level.
pub type Rule = (String, String, i64);

/// A change to one existing rule.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub rule_id: String,
    pub level: Option<i64>,
    pub role: Option<String>,
    pub tag_value: Option<String>,
}

/// A proposed change to a policy's rules: preview_masking's, or what one write does.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub adds: Vec<Rule>,
    pub edits: Vec<Edit>,
    pub deletes: Vec<String>,
    /// The policy itself goes (delete_policy): ALTR masks nothing of the tag any more.
    pub drop_policy: bool,
}

/// The rules after `change`, from the policy's current rule objects.
pub fn after(current: &[Value], change: &Change) -> Vec<Rule> {
    if change.drop_policy {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in current {
        let Some(id) = r.get("rule_id").and_then(Value::as_str) else {
            continue;
        };
        if change.deletes.iter().any(|d| d == id) {
            continue;
        }
        let Some((mut role, mut tag_value, mut level)) = rule_triple(r) else {
            continue;
        };
        for e in change.edits.iter().filter(|e| e.rule_id == id) {
            if let Some(l) = e.level {
                level = l;
            }
            if let Some(x) = &e.role {
                role = x.clone();
            }
            if let Some(x) = &e.tag_value {
                tag_value = x.clone();
            }
        }
        out.push((role, tag_value, level));
    }
    out.extend(change.adds.iter().cloned());
    out
}

/// The roles (rows) and tag values (columns) to show, each sorted: every role the rules name
/// (letter case ignored) and every `extra` role; every `listed` tag value and every one the rules
/// name.
pub fn axes(rules: &[&[Rule]], listed: &[String], extra: &[String]) -> (Vec<String>, Vec<String>) {
    let mut roles: Vec<String> = Vec::new();
    let mut values: Vec<String> = listed.to_vec();
    for (role, tv, _) in rules.iter().flat_map(|r| r.iter()) {
        if !roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
            roles.push(role.clone());
        }
        if !values.contains(tv) {
            values.push(tv.clone());
        }
    }
    for role in extra {
        if !role.trim().is_empty() && !roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
            roles.push(role.clone());
        }
    }
    roles.sort();
    values.sort();
    values.dedup();
    (roles, values)
}

/// A level in a few words, as the app's cells show it.
pub fn level_word(level: i64) -> &'static str {
    match level {
        10000 => "clear",
        10001 => "full mask",
        10002 => "email domain",
        10003 => "last four",
        10004 => "constant",
        10005 => "NULL",
        10006 => "full mask hash",
        10007 => "email hash",
        10008 => "last four (hashed)",
        10009 => "constant date",
        _ => "unknown level",
    }
}

/// How much a level shows: 0 the most (clear); `None` for a level ALTR does not define.
fn rank(level: i64) -> Option<usize> {
    PERMISSIVE_FIRST.iter().position(|l| *l == level)
}

/// The grid of `rules` over the axes: (tag value -> role -> level, tag value -> roles no rule
/// matched). Without a policy every role sees every value in clear.
pub fn grid(rules: Option<&[Rule]>, roles: &[String], values: &[String]) -> (Value, Value) {
    match rules {
        Some(r) => masking_matrix(r, roles, values),
        None => {
            let clear: Vec<Rule> = values
                .iter()
                .flat_map(|v| roles.iter().map(move |r| (r.clone(), v.clone(), 10000)))
                .collect();
            masking_matrix(&clear, roles, values)
        }
    }
}

/// What the masking matrix app draws: rows are roles, columns tag values, each cell the level
/// seen now (and after, in diff mode), which side fell to NULL for want of a rule, every level
/// from most to least permissive, and how many role/value pairs gain or lose visibility.
#[allow(clippy::too_many_arguments)]
pub fn app_view(
    policy_id: &str,
    tag: Option<&str>,
    title: &str,
    roles: &[String],
    values: &[String],
    now: &(Value, Value),
    after: Option<&(Value, Value)>,
) -> Value {
    let level_at = |m: &Value, tv: &str, role: &str| {
        m.get(tv)
            .and_then(|r| r.get(role))
            .and_then(Value::as_i64)
            .unwrap_or(NO_RULE_LEVEL)
    };
    let unmatched = |n: &Value, tv: &str, role: &str| {
        n.get(tv)
            .and_then(Value::as_array)
            .is_some_and(|rs| rs.iter().any(|r| r.as_str() == Some(role)))
    };
    let (mut changed, mut gain, mut lose) = (0usize, 0usize, 0usize);
    let cells: Vec<Value> = roles
        .iter()
        .map(|role| {
            let row: Vec<Value> = values
                .iter()
                .map(|tv| {
                    let mut cell = Map::new();
                    let before = level_at(&now.0, tv, role);
                    cell.insert("now".into(), json!(before));
                    let mut no_rule = Vec::new();
                    if unmatched(&now.1, tv, role) {
                        no_rule.push("now");
                    }
                    if let Some(a) = after {
                        let later = level_at(&a.0, tv, role);
                        cell.insert("after".into(), json!(later));
                        if unmatched(&a.1, tv, role) {
                            no_rule.push("after");
                        }
                        if later != before {
                            changed += 1;
                            match (rank(before), rank(later)) {
                                (Some(b), Some(l)) if l < b => gain += 1,
                                (Some(b), Some(l)) if l > b => lose += 1,
                                _ => {}
                            }
                        }
                    }
                    if !no_rule.is_empty() {
                        cell.insert("no_rule".into(), json!(no_rule));
                    }
                    Value::Object(cell)
                })
                .collect();
            Value::Array(row)
        })
        .collect();
    let levels: Vec<Value> = PERMISSIVE_FIRST
        .iter()
        .map(|l| json!({"level": l, "name": level_word(*l), "meaning": level_meaning(*l)}))
        .collect();
    json!({
        "policy_id": policy_id,
        "tag": tag,
        "mode": if after.is_some() { "diff" } else { "current" },
        "title": title,
        "roles": roles,
        "tag_values": values,
        "cells": cells,
        "levels": levels,
        "summary": {"pairs": roles.len() * values.len(), "changed": changed, "gain": gain, "lose": lose},
    })
}

/// The view of `current` rules (rule objects) and, for a change, the rules after it.
pub fn view_of(
    policy_id: &str,
    tag: Option<&(String, Vec<String>)>,
    current: &[Value],
    change: Option<&Change>,
    title: &str,
) -> Value {
    let now: Vec<Rule> = current.iter().filter_map(rule_triple).collect();
    let later = change.map(|c| after(current, c));
    let listed: &[String] = tag.map_or(&[], |(_, v)| v.as_slice());
    let sides: Vec<&[Rule]> = [Some(now.as_slice()), later.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let (roles, values) = axes(&sides, listed, &[]);
    let before = grid(Some(&now), &roles, &values);
    let after_grid = change.map(|c| {
        let rules = (!c.drop_policy).then_some(later.as_deref().unwrap_or_default());
        grid(rules, &roles, &values)
    });
    app_view(
        policy_id,
        tag.map(|(t, _)| t.as_str()),
        title,
        &roles,
        &values,
        &before,
        after_grid.as_ref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, role: &str, tv: &str, level: i64) -> Value {
        json!({"rule_id": id, "role": role, "tag_value": tv, "masking_policy": level})
    }

    fn cell<'a>(view: &'a Value, role: &str, tv: &str) -> &'a Value {
        let r = view["roles"]
            .as_array()
            .unwrap()
            .iter()
            .position(|x| x == role)
            .unwrap();
        let v = view["tag_values"]
            .as_array()
            .unwrap()
            .iter()
            .position(|x| x == tv)
            .unwrap();
        &view["cells"][r][v]
    }

    #[test]
    fn the_most_permissive_matching_rule_wins() {
        let current = [
            rule("1", "ANALYST", "EMAIL", 10001),
            rule("2", "analyst", "EMAIL", 10003),
            rule("3", "ANALYST", "EMAIL", 10005),
        ];
        let v = view_of("TAG#p", None, &current, None, "Current rules");
        assert_eq!(v["mode"], "current");
        assert_eq!(v["roles"], json!(["ANALYST"]), "roles match ignoring case");
        assert_eq!(cell(&v, "ANALYST", "EMAIL"), &json!({"now": 10003}));
    }

    #[test]
    fn a_role_or_value_without_a_rule_sees_null() {
        let current = [
            rule("1", "ANALYST", "EMAIL", 10000),
            rule("2", "HR", "SSN", 10003),
        ];
        let tag = ("PII".to_string(), vec!["PHONE".to_string()]);
        let v = view_of("TAG#p", Some(&tag), &current, None, "Current rules");
        assert_eq!(v["tag_values"], json!(["EMAIL", "PHONE", "SSN"]));
        // A role no rule names for a value; a value no rule names at all.
        assert_eq!(
            cell(&v, "HR", "EMAIL"),
            &json!({"now": 10005, "no_rule": ["now"]})
        );
        assert_eq!(
            cell(&v, "ANALYST", "PHONE"),
            &json!({"now": 10005, "no_rule": ["now"]})
        );
        assert_eq!(
            v["summary"],
            json!({"pairs": 6, "changed": 0, "gain": 0, "lose": 0})
        );
        assert_eq!(v["levels"][0]["level"], 10000);
        assert_eq!(
            v["levels"][9],
            json!({"level": 10005, "name": "NULL", "meaning": "NULL"})
        );
    }

    #[test]
    fn a_change_that_loses_and_one_that_gains_visibility() {
        let current = [
            rule("1", "ANALYST", "EMAIL", 10003),
            rule("2", "HR", "EMAIL", 10001),
        ];
        let change = Change {
            edits: vec![Edit {
                rule_id: "2".into(),
                level: Some(10000),
                ..Edit::default()
            }],
            deletes: vec!["1".into()],
            adds: vec![("AUDITOR".into(), "EMAIL".into(), 10002)],
            ..Change::default()
        };
        let v = view_of("TAG#p", None, &current, Some(&change), "Preview");
        assert_eq!(v["mode"], "diff");
        // ANALYST loses its rule: last four -> NULL.
        assert_eq!(
            cell(&v, "ANALYST", "EMAIL"),
            &json!({"now": 10003, "after": 10005, "no_rule": ["after"]})
        );
        // HR: full mask -> clear; AUDITOR: NULL (no rule) -> email domain.
        assert_eq!(
            cell(&v, "HR", "EMAIL"),
            &json!({"now": 10001, "after": 10000})
        );
        assert_eq!(
            cell(&v, "AUDITOR", "EMAIL"),
            &json!({"now": 10005, "after": 10002, "no_rule": ["now"]})
        );
        assert_eq!(
            v["summary"],
            json!({"pairs": 3, "changed": 3, "gain": 2, "lose": 1})
        );
    }

    #[test]
    fn without_the_policy_nothing_is_masked() {
        let current = [rule("1", "ANALYST", "EMAIL", 10005)];
        let change = Change {
            drop_policy: true,
            ..Change::default()
        };
        let v = view_of("TAG#p", None, &current, Some(&change), "Delete");
        assert_eq!(
            cell(&v, "ANALYST", "EMAIL"),
            &json!({"now": 10005, "after": 10000})
        );
        assert_eq!(v["summary"]["gain"], 1);
    }
}
