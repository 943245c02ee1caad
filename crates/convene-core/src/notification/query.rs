//! The query language of the notification resource, as Open Event Server's JSON:API engine
//! reads it: `filter` is a JSON array of `{name, op, val}` nodes and `and`/`or`/`not`
//! combinators, `sort` a comma list with `-` for descending. Parsed here into typed trees, so
//! storage renders only known columns and typed values.

use crate::Timestamp;
use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime};

/// A member of the resource that may be filtered or sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    /// Reached only through the `user` relationship (`{"name":"user","op":"has",…}`).
    User,
    Kind,
    Title,
    Message,
    ReceivedAt,
    Accept,
    IsRead,
}

impl Field {
    /// Dashes and underscores are the same (`is-read`, `is_read`), as in OES.
    fn parse(name: &str) -> Option<Self> {
        Some(match name.replace('-', "_").as_str() {
            "id" => Field::Id,
            "kind" => Field::Kind,
            "title" => Field::Title,
            "message" => Field::Message,
            "received_at" => Field::ReceivedAt,
            "accept" => Field::Accept,
            "is_read" => Field::IsRead,
            _ => return None,
        })
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            Field::Title | Field::Message | Field::Accept | Field::Kind | Field::User
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Time(Timestamp),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    /// SQL `LIKE`: `%` and `_` are wildcards, `\` escapes; case-sensitive.
    Like,
    ILike,
    NotLike,
    NotILike,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `values` holds one value, or the list of `In`/`NotIn`. A `Null` value with `Eq`/`Ne`
    /// means `IS [NOT] NULL`.
    Compare {
        field: Field,
        op: Op,
        values: Vec<Value>,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: Field,
    pub descending: bool,
}

/// Why a `filter` or `sort` parameter was refused (400 with the parameter named).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct QueryError {
    pub detail: String,
}

fn bad(detail: impl Into<String>) -> QueryError {
    QueryError {
        detail: detail.into(),
    }
}

/// Parses the `filter` parameter: a JSON array (its nodes are and-ed) or a single node.
pub fn parse_filter(raw: &str) -> Result<Filter, QueryError> {
    let json: Json =
        serde_json::from_str(raw).map_err(|e| bad(format!("filter is not JSON: {e}")))?;
    let filter = match json {
        Json::Array(nodes) => Filter::And(nodes.iter().map(node).collect::<Result<_, _>>()?),
        other => node(&other)?,
    };
    let terms = filter.terms();
    if terms > MAX_TERMS {
        return Err(bad(format!(
            "filter has {terms} nodes and values; at most {MAX_TERMS} are allowed"
        )));
    }
    Ok(filter)
}

const MAX_DEPTH: usize = 16;
/// Nodes and values a filter may hold: enough for any screen, too few to cost much to run.
pub const MAX_TERMS: usize = 500;

impl Filter {
    /// Its nodes and the values they compare with, counted.
    fn terms(&self) -> usize {
        match self {
            Filter::Compare { values, .. } => 1 + values.len(),
            Filter::And(all) | Filter::Or(all) => 1 + all.iter().map(Filter::terms).sum::<usize>(),
            Filter::Not(inner) => 1 + inner.terms(),
        }
    }
}

fn node(json: &Json) -> Result<Filter, QueryError> {
    node_at(json, 0)
}

fn node_at(json: &Json, depth: usize) -> Result<Filter, QueryError> {
    if depth > MAX_DEPTH {
        return Err(bad("filter is nested too deeply"));
    }
    let obj = json
        .as_object()
        .ok_or_else(|| bad("each filter node must be an object"))?;
    let list = |v: &Json| -> Result<Vec<Filter>, QueryError> {
        v.as_array()
            .ok_or_else(|| bad("and/or take an array of filters"))?
            .iter()
            .map(|n| node_at(n, depth + 1))
            .collect()
    };
    if let Some(v) = obj.get("and") {
        return Ok(Filter::And(list(v)?));
    }
    if let Some(v) = obj.get("or") {
        return Ok(Filter::Or(list(v)?));
    }
    if let Some(v) = obj.get("not") {
        return Ok(Filter::Not(Box::new(node_at(v, depth + 1)?)));
    }
    let name = obj
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| bad("a filter node needs a name"))?;
    let op = obj
        .get("op")
        .and_then(Json::as_str)
        .ok_or_else(|| bad(format!("the filter on {name} needs an op")))?;
    if obj.contains_key("field") {
        return Err(bad("comparing two fields is not supported"));
    }
    let val = obj
        .get("val")
        .ok_or_else(|| bad(format!("the filter on {name} needs a val")))?;
    if name == "user" {
        return user_filter(op, val);
    }
    let field = Field::parse(name).ok_or_else(|| bad(format!("{name} has no such attribute")))?;
    compare(field, op, val)
}

/// `{"name":"user","op":"has","val":{"name":"id","op":"eq","val":"…"}}`.
fn user_filter(op: &str, val: &Json) -> Result<Filter, QueryError> {
    if !matches!(op, "has" | "any") {
        return Err(bad("the user relationship is filtered with has"));
    }
    let inner = val
        .as_object()
        .ok_or_else(|| bad("has takes a filter object"))?;
    if inner.get("name").and_then(Json::as_str) != Some("id") {
        return Err(bad("only the user's id can be filtered on"));
    }
    let op = inner.get("op").and_then(Json::as_str).unwrap_or_default();
    let val = inner
        .get("val")
        .ok_or_else(|| bad("the filter on user id needs a val"))?;
    compare(Field::User, op, val)
}

fn compare(field: Field, op: &str, val: &Json) -> Result<Filter, QueryError> {
    let one = |v: &Json| value(field, v);
    let (op, values) = match op.trim_end_matches('_').trim_start_matches("__") {
        "eq" | "==" => (Op::Eq, vec![one(val)?]),
        "ne" | "!=" => (Op::Ne, vec![one(val)?]),
        "is" => (Op::Eq, vec![one(val)?]),
        "isnot" | "is_not" => (Op::Ne, vec![one(val)?]),
        "lt" => (Op::Lt, vec![ordered(one(val)?)?]),
        "le" => (Op::Le, vec![ordered(one(val)?)?]),
        "gt" => (Op::Gt, vec![ordered(one(val)?)?]),
        "ge" => (Op::Ge, vec![ordered(one(val)?)?]),
        "in" | "notin" | "not_in" => {
            let items = val
                .as_array()
                .ok_or_else(|| bad("in_ takes an array"))?
                .iter()
                .map(one)
                .collect::<Result<Vec<_>, _>>()?;
            let op = if op.starts_with("in") {
                Op::In
            } else {
                Op::NotIn
            };
            (op, items)
        }
        "like" | "ilike" | "notlike" | "notilike" | "not_like" | "not_ilike" => {
            let op = match op.trim_end_matches('_').replace("not_", "not").as_str() {
                "like" => Op::Like,
                "ilike" => Op::ILike,
                "notlike" => Op::NotLike,
                _ => Op::NotILike,
            };
            (op, vec![pattern(field, val, |s| s.to_owned())?])
        }
        "startswith" => (
            Op::Like,
            vec![pattern(field, val, |s| format!("{}%", escape(s)))?],
        ),
        "endswith" => (
            Op::Like,
            vec![pattern(field, val, |s| format!("%{}", escape(s)))?],
        ),
        "contains" => (
            Op::Like,
            vec![pattern(field, val, |s| format!("%{}%", escape(s)))?],
        ),
        other => return Err(bad(format!("{other} is not a filter operator"))),
    };
    Ok(Filter::Compare { field, op, values })
}

fn ordered(v: Value) -> Result<Value, QueryError> {
    match v {
        Value::Null => Err(bad("null cannot be ordered")),
        v => Ok(v),
    }
}

fn pattern(field: Field, val: &Json, shape: impl Fn(&str) -> String) -> Result<Value, QueryError> {
    if !field.is_text() {
        return Err(bad("like works on text attributes only"));
    }
    let s = val
        .as_str()
        .ok_or_else(|| bad("a like pattern must be a string"))?;
    Ok(Value::Text(shape(s)))
}

/// Makes `s` match itself only inside a `LIKE` pattern.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn value(field: Field, v: &Json) -> Result<Value, QueryError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let wrong = || bad(format!("{v} is not a valid value here"));
    Ok(match field {
        Field::Id => match v {
            Json::Number(n) => Value::Int(n.as_i64().ok_or_else(wrong)?),
            Json::String(s) => Value::Int(s.parse().map_err(|_| wrong())?),
            _ => return Err(wrong()),
        },
        Field::IsRead => Value::Bool(lenient_bool(v).ok_or_else(wrong)?),
        Field::ReceivedAt => {
            Value::Time(parse_time(v.as_str().ok_or_else(wrong)?).ok_or_else(wrong)?)
        }
        _ => Value::Text(v.as_str().ok_or_else(wrong)?.to_owned()),
    })
}

/// What OES's marshmallow (2.x) Boolean accepts, and nothing more: `true`/`false`, `1`/`0`
/// (as numbers or strings), and the strings `t`, `true`, `f`, `false` in the capitalisations
/// its `truthy`/`falsy` sets list. `"yes"` or `"on"` are not booleans there.
pub fn lenient_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Json::String(s) => match s.as_str() {
            "t" | "T" | "true" | "True" | "TRUE" | "1" => Some(true),
            "f" | "F" | "false" | "False" | "FALSE" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// RFC 3339, or a date-time without offset (UTC), or a bare date (midnight UTC).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    if let Ok(t) = Timestamp::parse(s, &Rfc3339) {
        return Some(t.to_offset(time::UtcOffset::UTC));
    }
    let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(t) = PrimitiveDateTime::parse(s.split('.').next().unwrap_or(s), naive) {
        return Some(t.assume_utc());
    }
    let day = format_description!("[year]-[month]-[day]");
    Date::parse(s, day).ok().map(|d| d.midnight().assume_utc())
}

/// Parses `sort`: `-received-at,title`. Relationships cannot be sorted on.
pub fn parse_sort(raw: &str) -> Result<Vec<SortKey>, QueryError> {
    raw.split(',')
        .map(str::trim)
        .map(|part| {
            let (descending, name) = match part.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let field =
                Field::parse(name).ok_or_else(|| bad(format!("{name} cannot be sorted on")))?;
            Ok(SortKey { field, descending })
        })
        .collect()
}

/// Newest first, then the highest id: the order OES left undefined.
pub const DEFAULT_SORT: [SortKey; 1] = [SortKey {
    field: Field::ReceivedAt,
    descending: true,
}];

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: Field, op: Op, values: Vec<Value>) -> Filter {
        Filter::Compare { field, op, values }
    }

    #[test]
    fn the_frontends_unread_filter_parses() {
        let f = parse_filter(r#"[{"name":"is-read","op":"eq","val":false}]"#).unwrap();
        assert_eq!(
            f,
            Filter::And(vec![cmp(Field::IsRead, Op::Eq, vec![Value::Bool(false)])])
        );
    }

    #[test]
    fn combinators_ops_and_values_are_typed() {
        let f = parse_filter(
            r#"{"or":[{"name":"id","op":"in_","val":["1",2]},{"not":{"name":"title","op":"ilike","val":"%x%"}},
                {"name":"received_at","op":"ge","val":"2026-11-23"},{"name":"accept","op":"eq","val":null},
                {"name":"user","op":"has","val":{"name":"id","op":"eq","val":"u"}}]}"#,
        )
        .unwrap();
        let Filter::Or(parts) = f else { panic!() };
        assert_eq!(
            parts[0],
            cmp(Field::Id, Op::In, vec![Value::Int(1), Value::Int(2)])
        );
        assert!(matches!(&parts[1], Filter::Not(_)));
        assert!(
            matches!(&parts[2], Filter::Compare { values, .. } if matches!(values[0], Value::Time(_)))
        );
        assert_eq!(parts[3], cmp(Field::Accept, Op::Eq, vec![Value::Null]));
        assert_eq!(
            parts[4],
            cmp(Field::User, Op::Eq, vec![Value::Text("u".into())])
        );
        let s = parse_filter(r#"[{"name":"title","op":"startswith","val":"50%_"}]"#).unwrap();
        assert_eq!(
            s,
            Filter::And(vec![cmp(
                Field::Title,
                Op::Like,
                vec![Value::Text("50\\%\\_%".into())]
            )])
        );
    }

    #[test]
    fn bad_filters_are_refused() {
        for raw in [
            "nope",
            r#"[{"name":"secret","op":"eq","val":1}]"#,
            r#"[{"name":"title","op":"explode","val":1}]"#,
            r#"[{"name":"title","val":"x"}]"#,
            r#"[{"name":"title","op":"eq"}]"#,
            r#"[{"name":"id","op":"eq","val":"abc"}]"#,
            r#"[{"name":"is-read","op":"eq","val":"maybe"}]"#,
            r#"[{"name":"is-read","op":"like","val":"x"}]"#,
            r#"[{"name":"received-at","op":"gt","val":"yesterday"}]"#,
            r#"[{"name":"id","op":"lt","val":null}]"#,
            r#"[{"name":"user","op":"eq","val":"1"}]"#,
            r#"[{"name":"title","op":"eq","field":"message"}]"#,
        ] {
            assert!(parse_filter(raw).is_err(), "{raw}");
        }
        let ids = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let many = format!(r#"[{{"name":"id","op":"in_","val":[{}]}}]"#, ids(498));
        assert!(
            parse_filter(&many).is_ok(),
            "498 values, one node, the list: 500"
        );
        let too_many = format!(r#"[{{"name":"id","op":"in_","val":[{}]}}]"#, ids(32_700));
        let err = parse_filter(&too_many).unwrap_err();
        assert!(err.detail.contains("at most 500"), "{}", err.detail);
    }

    #[test]
    fn sort_reads_dashes_and_directions() {
        assert_eq!(
            parse_sort("-received-at,title").unwrap(),
            vec![
                SortKey {
                    field: Field::ReceivedAt,
                    descending: true
                },
                SortKey {
                    field: Field::Title,
                    descending: false
                }
            ]
        );
        assert!(parse_sort("user").is_err());
        assert!(parse_sort("").is_err());
    }

    #[test]
    fn booleans_are_as_lenient_as_marshmallow() {
        assert_eq!(lenient_bool(&Json::from("True")), Some(true));
        assert_eq!(lenient_bool(&Json::from(0)), Some(false));
        assert_eq!(lenient_bool(&Json::from("maybe")), None);
        assert_eq!(lenient_bool(&Json::from("TRUE")), Some(true));
        assert_eq!(lenient_bool(&Json::from("f")), Some(false));
        assert_eq!(lenient_bool(&Json::from(1.0)), Some(true));
        for not_marshmallow in ["yes", "on", "Y", "no", "off", "tRUE", " true", "2"] {
            assert_eq!(
                lenient_bool(&Json::from(not_marshmallow)),
                None,
                "{not_marshmallow}"
            );
        }
        assert_eq!(lenient_bool(&Json::from(2)), None);
    }
}
