//! Every statement in the store's sources is prepared on a migrated database of each backend
//! that runs it, so an unknown column, a missing table or a dialect slip fails here, not in
//! production. Statements are read from the sources as text; `format!` arguments are filled in
//! with the backend's own `dialect` functions and the sources' `const` column lists.

use convene_store::Admin;
use convene_testkit::TestDb;
use sqlx::{Connection, Executor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One statement as written: where, its text, and the `format!` arguments after it.
struct Written {
    at: String,
    text: String,
    args: Vec<String>,
}

const STARTS: [&str; 5] = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"];

fn sources(dirs: &[&str]) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

/// The end of the string literal whose text starts at `from` (just after its opening quote).
fn literal_end(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    while bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}

/// The top-level, comma-separated arguments from `from` up to the closing parenthesis.
fn arguments(text: &str, from: usize) -> Vec<String> {
    let (mut depth, mut args, mut current, mut quoted) = (0, Vec::new(), String::new(), false);
    let mut chars = text[from..].chars().peekable();
    while let Some(c) = chars.next() {
        if !quoted && c == '/' && chars.peek() == Some(&'/') {
            // A line comment between the arguments.
            chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
            continue;
        }
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth == 0 => break,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                args.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    args.push(current.trim().to_owned());
    args.retain(|a| !a.is_empty());
    args
}

fn written(files: &[(PathBuf, String)]) -> Vec<Written> {
    let mut found = Vec::new();
    for (path, text) in files {
        let text = text.split("#[cfg(test)]").next().unwrap();
        let mut i = 0;
        while let Some(q) = text[i..].find('"') {
            let start = i + q + 1;
            let end = literal_end(text, start);
            i = end + 1;
            let body = &text[start..end];
            if !STARTS.iter().any(|s| body.starts_with(s)) || body.len() <= 25 {
                continue;
            }
            let before = text[..start - 1].trim_end();
            let args = if before.ends_with("format!(") {
                arguments(text, end + 1)
            } else {
                Vec::new()
            };
            let line = text[..start].lines().count();
            found.push(Written {
                at: format!("{}:{line}", path.file_name().unwrap().to_string_lossy()),
                text: body.replace("\\n", " ").replace("\\\"", "\""),
                args,
            });
        }
    }
    found
}

/// `const NAME: &str = "…";` in the sources, per file and overall.
fn constants(files: &[(PathBuf, String)]) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    for (path, text) in files {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for (n, _) in text.match_indices("const ") {
            let rest = &text[n + 6..];
            let Some(colon) = rest.find(": &str =") else {
                continue;
            };
            let name = &rest[..colon];
            let after = &rest[colon + ": &str =".len()..];
            let value_at = after.len() - after.trim_start().len();
            if name.contains(char::is_whitespace) || !after.trim_start().starts_with('"') {
                continue;
            }
            let start = n + 6 + colon + ": &str =".len() + value_at + 1;
            let value = text[start..literal_end(text, start)].to_owned();
            out.insert((file.clone(), name.to_owned()), value.clone());
            out.insert((String::new(), name.to_owned()), value);
        }
    }
    out
}

/// The backend's answers for the dialect's names and functions.
struct Dialect {
    for_update: &'static str,
    skip_locked: &'static str,
    no_limit: &'static str,
    in_list: fn(&str, u8) -> String,
    json_texts: fn(u8) -> String,
    json_rows: fn(u8) -> String,
    epoch_seconds: fn(&str) -> String,
    json_time: fn(&str) -> String,
}

fn quoted(arg: &str) -> String {
    arg.split('"').nth(1).unwrap_or_default().to_owned()
}

fn number(arg: &str) -> u8 {
    arg.split(',')
        .next_back()
        .unwrap()
        .trim()
        .trim_end_matches(')')
        .parse()
        .unwrap()
}

/// A `format!` argument's value, or `None` if this test does not know it.
fn value(arg: &str, d: &Dialect) -> Option<String> {
    let inner = arg.split_once('(').map(|(_, r)| r).unwrap_or_default();
    Some(match arg.split('(').next().unwrap().trim() {
        "in_list" => (d.in_list)(&quoted(inner), number(inner)),
        "json_texts" => (d.json_texts)(number(inner)),
        "json_rows" => (d.json_rows)(number(inner)),
        "epoch_seconds" => (d.epoch_seconds)(&quoted(inner)),
        "json_time" => (d.json_time)(&quoted(inner)),
        // The notification filter's WHERE: empty is one valid rendering.
        "w.sql" => String::new(),
        "query.offset" => "0".to_owned(),
        _ => return None,
    })
}

/// The statement as the backend runs it, or why it cannot be rendered.
fn render(
    w: &Written,
    consts: &HashMap<(String, String), String>,
    d: &Dialect,
) -> Result<String, String> {
    let file = w.at.split(':').next().unwrap().to_owned();
    let (mut out, mut rest, mut positional) = (String::new(), w.text.as_str(), w.args.iter());
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        if rest[open..].starts_with("{{") {
            out.push('{');
            rest = &rest[open + 2..];
            continue;
        }
        let close = open + rest[open..].find('}').ok_or("unclosed {")?;
        let name = &rest[open + 1..close];
        let filled = match name {
            "" => {
                let arg = positional.next().ok_or("too few arguments")?;
                value(arg, d).ok_or_else(|| format!("unknown argument {arg}"))?
            }
            "FOR_UPDATE" => d.for_update.to_owned(),
            "SKIP_LOCKED" => d.skip_locked.to_owned(),
            "NO_LIMIT" => d.no_limit.to_owned(),
            // Numbers and the one table name the sources put in text.
            "limit" | "offset" | "per_endpoint" => "10".to_owned(),
            "table" => "organizers".to_owned(),
            _ => consts
                .get(&(file.clone(), name.to_owned()))
                .or_else(|| consts.get(&(String::new(), name.to_owned())))
                .cloned()
                .ok_or_else(|| format!("unknown name {{{name}}}"))?,
        };
        out.push_str(&filled);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

const SQLITE: Dialect = {
    use convene_store_sql::sqlite::dialect as d;
    Dialect {
        for_update: d::FOR_UPDATE,
        skip_locked: d::SKIP_LOCKED,
        no_limit: d::NO_LIMIT,
        in_list: d::in_list,
        json_texts: d::json_texts,
        json_rows: d::json_rows,
        epoch_seconds: d::epoch_seconds,
        json_time: d::json_time,
    }
};

const POSTGRES: Dialect = {
    use convene_store_sql::postgres::dialect as d;
    Dialect {
        for_update: d::FOR_UPDATE,
        skip_locked: d::SKIP_LOCKED,
        no_limit: d::NO_LIMIT,
        in_list: d::in_list,
        json_texts: d::json_texts,
        json_rows: d::json_rows,
        epoch_seconds: d::epoch_seconds,
        json_time: d::json_time,
    }
};

/// Every statement of `dirs` as one backend runs it: where it is written, and its text or why
/// it cannot be rendered.
fn rendered(dirs: &[&str], d: &Dialect) -> Vec<(String, Result<String, String>)> {
    let consts = constants(&sources(&["shared", "sqlite", "postgres"]));
    let statements = written(&sources(dirs));
    assert!(
        statements.len() > 150,
        "{} statements: the reader finds them",
        statements.len()
    );
    statements
        .iter()
        .map(|w| (w.at.clone(), render(w, &consts, d)))
        .collect()
}

/// Prepares every statement of `dirs` on `conn`; panics with every failure at once. `excused`
/// says which database errors are not failures.
async fn prepare_all<C>(conn: &mut C, dirs: &[&str], d: &Dialect, excused: fn(&sqlx::Error) -> bool)
where
    C: Connection,
    for<'c> &'c mut C: Executor<'c>,
{
    let mut failures = Vec::new();
    for (at, sql) in rendered(dirs, d) {
        let checked = match sql {
            Ok(sql) => match conn
                .prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(
                    sql.clone(),
                )))
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if excused(&e) => Ok(()),
                Err(e) => Err(format!("{e}\n    {sql}")),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            failures.push(format!("{at}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} statements fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_statement_prepares_on_sqlite() {
    let db = TestDb::sqlite();
    let store = convene_store_sql::SqliteStore::connect(&db.url, 1)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    prepare_all(&mut conn, &["shared", "sqlite"], &SQLITE, |_| false).await;
}

#[tokio::test]
async fn every_statement_prepares_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = convene_store_sql::PgStore::connect(&db.url, 1)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // Without the binds' types (the store sends them) PostgreSQL cannot type a lone
    // `$n IS NULL`; it resolved every table and column before it got there.
    prepare_all(&mut conn, &["shared", "postgres"], &POSTGRES, |e| {
        matches!(e, sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("42P18" | "42P08")))
    })
    .await;
}
