//! Which of the SQL the server sends PostgreSQL the PostgreSQL-compatible distributed engines
//! would refuse, or run only within one shard. The PostgreSQL migrations and every statement in
//! `server/src` are scanned for the constructs the engines' own documentation names; the list
//! found must be the reviewed one below, whose answers `docs/scale.md` gives. A new use of such
//! a construct fails this test until it is reviewed and listed.
//!
//! Sources:
//! - CockroachDB up to v24.2 does not support triggers ("must be implemented in your application
//!   logic"): <https://www.cockroachlabs.com/docs/v24.2/postgresql-compatibility>.
//! - Citus runs `SELECT … FOR UPDATE` and recursive CTEs in single-shard queries only, and
//!   correlated subqueries only when correlated on the distribution column:
//!   <https://docs.citusdata.com/en/stable/develop/reference_workarounds.html>.
//! - YugabyteDB reuses PostgreSQL's query layer; triggers, `FOR UPDATE` and `SKIP LOCKED` are
//!   among what it supports, so it adds no rule here.

use std::path::{Path, PathBuf};

/// A construct, the engines that refuse or restrict it, and how to find it in the source.
struct Rule {
    construct: &'static str,
    engines: &'static str,
    /// Lower-case texts whose presence in a statement (or a call building one) marks it.
    needles: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        construct: "trigger",
        engines: "CockroachDB ≤ 24.2: refused",
        needles: &["create trigger", "returns trigger"],
    },
    Rule {
        construct: "select … for update",
        engines: "Citus: one shard only",
        needles: &[" for update", ".for_update()", ".skip_locked()"],
    },
    Rule {
        construct: "recursive CTE",
        engines: "Citus: one shard only",
        needles: &["with recursive"],
    },
];

/// What was reviewed: (file, construct, how many places). `docs/scale.md` says how each runs
/// on each engine.
const REVIEWED: &[(&str, &str, usize)] = &[
    // The index's rollup keeps its classes by triggers on `dossiers`: on CockroachDB the
    // storage would write the class changes itself.
    ("migrations/postgres/0018_index_rollup.sql", "trigger", 3),
    // The outbox's claim (`for update skip locked`): the outbox lives on one node (a Citus
    // local or reference table), it is small (delivered rows are deleted).
    ("server/src/outbox.rs", "select … for update", 1),
    // A payment locked by its transaction reference: one row, so one shard when payments are
    // distributed by it.
    ("server/src/payments/storage.rs", "select … for update", 1),
    // The engine's own helpers, named in the two above.
    ("server/src/store/mod.rs", "select … for update", 2),
];

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The lines of `text` that are code or SQL, not comments (`//` in Rust, `--` in SQL).
fn code_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//") && !l.starts_with("--"))
        .map(str::to_lowercase)
}

#[test]
fn the_sql_distributed_engines_restrict_is_only_what_was_reviewed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = Vec::new();
    files(&root.join("migrations/postgres"), "sql", &mut sources);
    files(&root.join("server/src"), "rs", &mut sources);
    // The sandboxes never run in production.
    sources.retain(|p| !p.components().any(|c| c.as_os_str() == "sandbox"));
    assert!(sources.len() > 50, "the sources were not found");
    let mut found: Vec<(String, &str, usize)> = Vec::new();
    for path in &sources {
        let text = std::fs::read_to_string(path).expect("readable");
        let name = path
            .strip_prefix(&root)
            .expect("under the root")
            .display()
            .to_string();
        for rule in RULES {
            let n = code_lines(&text)
                .filter(|l| rule.needles.iter().any(|needle| l.contains(needle)))
                .count();
            if n > 0 {
                found.push((name.clone(), rule.construct, n));
            }
        }
    }
    found.sort();
    let mut reviewed: Vec<(String, &str, usize)> = REVIEWED
        .iter()
        .map(|(f, c, n)| ((*f).to_owned(), *c, *n))
        .collect();
    reviewed.sort();
    let listing = found
        .iter()
        .map(|(f, c, n)| {
            let engines = RULES
                .iter()
                .find(|r| r.construct == *c)
                .map_or("", |r| r.engines);
            format!("{f}: {c} ×{n} ({engines})")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        found, reviewed,
        "the statements distributed engines restrict changed; review them, list them here and in docs/scale.md:\n{listing}"
    );
}

#[test]
fn the_scan_finds_each_construct_where_it_is_written() {
    let sql = "-- create trigger in a comment is not one\n\
               create trigger t after insert on x for each row execute function f();\n\
               select id from outbox where due for update skip locked;\n\
               with recursive n(i) as (select 1) select * from n;";
    let hits: Vec<&str> = RULES
        .iter()
        .filter(|r| code_lines(sql).any(|l| r.needles.iter().any(|needle| l.contains(needle))))
        .map(|r| r.construct)
        .collect();
    assert_eq!(hits, ["trigger", "select … for update", "recursive CTE"]);
    assert_eq!(
        code_lines(sql)
            .filter(|l| l.contains("create trigger"))
            .count(),
        1
    );
}
