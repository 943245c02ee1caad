//! The WHERE and ORDER BY of a notification query, written once for both SQL dialects from the
//! typed filter tree: only known columns appear, every value is a bind.

use convene_core::notification::query::{Field, Filter, Op, SortKey, Value};

/// How a dialect matches `column` against the `LIKE` pattern bound at placeholder `p`, case
/// sensitive or not: the SQL, and the pattern to bind.
pub type Like = fn(column: &str, p: &str, pattern: &str, insensitive: bool) -> (String, String);

/// A value to bind, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Text(String),
    Bool(bool),
    Time(convene_core::Timestamp),
}

fn column(field: Field) -> &'static str {
    match field {
        Field::Id => "id",
        Field::User => "user_id",
        Field::Kind => "kind",
        Field::Title => "title",
        Field::Message => "message",
        Field::ReceivedAt => "received_at",
        Field::Accept => "accept",
        Field::IsRead => "is_read",
    }
}

/// Renders filters with `$n` placeholders numbered after `binds` already holds.
pub struct SqlWriter {
    /// The dialect's `LIKE`.
    pub like: Like,
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl SqlWriter {
    pub fn new(like: Like) -> Self {
        Self {
            like,
            sql: String::new(),
            binds: Vec::new(),
        }
    }

    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    fn value(&mut self, v: &Value) -> String {
        match v {
            Value::Null => "NULL".to_owned(),
            Value::Int(i) => self.bind(Bind::Int(*i)),
            Value::Text(s) => self.bind(Bind::Text(s.clone())),
            Value::Bool(b) => self.bind(Bind::Bool(*b)),
            Value::Time(t) => self.bind(Bind::Time(*t)),
        }
    }

    /// Appends `sql` for the equality of a column and a value.
    pub fn push_eq(&mut self, col: &str, b: Bind) {
        let p = self.bind(b);
        self.sql.push_str(&format!("{col} = {p}"));
    }

    pub fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    pub fn filter(&mut self, f: &Filter) {
        let sql = self.render(f);
        self.sql.push_str(&sql);
    }

    fn render(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(parts) if parts.is_empty() => "TRUE".into(),
            Filter::Or(parts) if parts.is_empty() => "FALSE".into(),
            Filter::And(parts) => self.join(parts, " AND "),
            Filter::Or(parts) => self.join(parts, " OR "),
            Filter::Not(inner) => format!("NOT ({})", self.render(inner)),
            Filter::Compare { field, op, values } => self.compare(*field, *op, values),
        }
    }

    fn join(&mut self, parts: &[Filter], sep: &str) -> String {
        let rendered: Vec<String> = parts
            .iter()
            .map(|p| format!("({})", self.render(p)))
            .collect();
        rendered.join(sep)
    }

    fn compare(&mut self, field: Field, op: Op, values: &[Value]) -> String {
        let col = column(field);
        let first = values.first().unwrap_or(&Value::Null);
        match op {
            Op::Eq if *first == Value::Null => format!("{col} IS NULL"),
            Op::Ne if *first == Value::Null => format!("{col} IS NOT NULL"),
            // SQL's `<>` drops NULLs; `ne` in OES's users' eyes keeps them.
            Op::Ne => {
                let p = self.value(first);
                format!("({col} IS NULL OR {col} <> {p})")
            }
            Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let sym = match op {
                    Op::Eq => "=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    _ => ">=",
                };
                let p = self.value(first);
                format!("{col} {sym} {p}")
            }
            Op::In | Op::NotIn => {
                let has_null = values.contains(&Value::Null);
                let items: Vec<String> = values
                    .iter()
                    .filter(|v| **v != Value::Null)
                    .map(|v| self.value(v))
                    .collect();
                let list = if items.is_empty() {
                    "FALSE".to_owned()
                } else {
                    format!("{col} IN ({})", items.join(", "))
                };
                let positive = if has_null {
                    format!("({list} OR {col} IS NULL)")
                } else {
                    list
                };
                if op == Op::In {
                    positive
                } else {
                    format!("NOT COALESCE({positive}, FALSE)")
                }
            }
            Op::Like | Op::ILike | Op::NotLike | Op::NotILike => {
                let Value::Text(pattern) = first else {
                    return "FALSE".into();
                };
                let insensitive = matches!(op, Op::ILike | Op::NotILike);
                let matched = self.like(col, pattern, insensitive);
                if matches!(op, Op::NotLike | Op::NotILike) {
                    format!("NOT COALESCE({matched}, FALSE)")
                } else {
                    matched
                }
            }
        }
    }

    fn like(&mut self, col: &str, pattern: &str, insensitive: bool) -> String {
        let p = format!("${}", self.binds.len() + 1);
        let (sql, bound) = (self.like)(col, &p, pattern, insensitive);
        self.binds.push(Bind::Text(bound));
        sql
    }

    /// `ORDER BY` the keys, then id descending so pages never overlap.
    pub fn order_by(&mut self, keys: &[SortKey]) {
        let mut parts: Vec<String> = keys
            .iter()
            .map(|k| {
                format!(
                    "{} {}",
                    column(k.field),
                    if k.descending { "DESC" } else { "ASC" }
                )
            })
            .collect();
        if !keys.iter().any(|k| k.field == Field::Id) {
            parts.push("id DESC".into());
        }
        self.sql.push_str(" ORDER BY ");
        self.sql.push_str(&parts.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use convene_core::notification::query::parse_filter;

    #[test]
    fn like_patterns_become_globs() {
        assert_eq!(crate::sqlite::dialect::like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(
            crate::sqlite::dialect::like_to_glob("50\\%*?["),
            "50%[*][?][[]"
        );
    }

    #[test]
    fn filters_render_with_numbered_binds() {
        let f = parse_filter(
            r#"[{"name":"is-read","op":"eq","val":false},{"or":[{"name":"id","op":"in_","val":[1,2]},{"name":"accept","op":"ne","val":"x"}]}]"#,
        )
        .unwrap();
        let mut w = SqlWriter::new(crate::postgres::dialect::like);
        w.push_eq("user_id", Bind::Text("u".into()));
        w.push(" AND ");
        w.filter(&f);
        assert_eq!(
            w.sql,
            "user_id = $1 AND (is_read = $2) AND ((id IN ($3, $4)) OR ((accept IS NULL OR accept <> $5)))"
        );
        assert_eq!(w.binds.len(), 5);
    }
}
