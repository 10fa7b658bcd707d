//! The dashboard's HTML: plain server-rendered markup with one small stylesheet, no scripts.
//! Every string that comes from the registry (names, authors, users, bodies, reasons, diffs)
//! passes through [`esc`]; numbers are formatted here.

use std::fmt::Write as _;

use super::{ChangesetView, Overview, SkillView};
use crate::registry::{SkillVersion, VersionStats, VersionStatus};

/// HTML-escapes `s` for text and for double- or single-quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#222}\
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:1.6rem}\
header{display:flex;justify-content:space-between;align-items:baseline}\
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;vertical-align:top}\
th{font-weight:600;color:#555}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.skill{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;margin:.8rem 0}\
.skill h3{margin:.1rem 0;font-size:1.05rem}.chip{display:inline-block;border-radius:3px;padding:0 .4rem;font-size:.85em;margin-left:.3rem;background:#eef}\
.active{background:#dfd}.candidate{background:#ffd}.proposed{background:#def}.reverted{background:#eee;color:#777}.frozen{background:#fdd}\
.row{display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap}.row table{flex:1;min-width:520px;width:auto}\
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;font-size:12px;max-height:28rem}\
.muted{color:#777}.err{color:#a00}form input{font:inherit;padding:.3rem;width:36rem;max-width:90%}";

/// A diff shown is cut at this many bytes (the page stays small; `skillopt diff` has it all).
const MAX_DIFF_BYTES: usize = 32 * 1024;

/// `s` cut to at most `max` bytes on a character boundary, saying so when it was cut.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} more bytes: skillopt diff)",
        &s[..end],
        s.len() - end
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// The sign-in form, with why the last attempt failed.
pub(crate) fn login(problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p class=\"err\" id=\"problem\">{}</p>", esc(p)))
        .unwrap_or_default();
    page(
        "skillopt — sign in",
        &format!(
            "<h1>skillopt registry</h1><h2 id=\"login\">Sign in</h2>{problem}\
             <form method=\"post\" action=\"/login\"><p><label for=\"token\">Token</label><br>\
             <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" \
             placeholder=\"so_…\" required></p><p><button type=\"submit\">Sign in</button></p></form>\
             <p class=\"muted\">A token comes from <code>skillopt serve token create</code> on the \
             server's box; any role may sign in.</p>"
        ),
    )
}

/// A page for a failure that is not the caller's (the database down, say).
pub(crate) fn error_page(message: &str) -> String {
    page(
        "skillopt — error",
        &format!(
            "<h1>skillopt registry</h1><p class=\"err\">{}</p>",
            esc(message)
        ),
    )
}

fn status_chip(s: VersionStatus) -> String {
    format!("<span class=\"chip {0}\">{0}</span>", s.as_str())
}

/// The failure rate as text: `33% (1/3)`, or `—` with no judged use.
fn rate_text(st: Option<&VersionStats>) -> String {
    match st {
        Some(s) if s.judged > 0 => format!(
            "{:.0}% ({}/{})",
            s.failure_rate().unwrap_or(0.0) * 100.0,
            s.skill_failures,
            s.judged
        ),
        _ => "—".to_string(),
    }
}

/// A small bar chart: one bar per version (oldest left), its height the skill-at-fault failure
/// rate; versions without judged uses get a dotted baseline.
fn rate_chart(view: &SkillView) -> String {
    const BAR: usize = 26;
    const GAP: usize = 8;
    const H: usize = 60;
    let mut versions: Vec<&SkillVersion> = view.versions.iter().take(12).collect();
    versions.reverse();
    if versions.is_empty() {
        return String::new();
    }
    let w = versions.len() * (BAR + GAP) + GAP;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\">\
         <title>skill-at-fault failure rate per version</title>\
         <line x1=\"0\" y1=\"{H}\" x2=\"{w}\" y2=\"{H}\" stroke=\"#999\"/>",
        H + 30,
        H + 30
    );
    for (i, v) in versions.iter().enumerate() {
        let x = GAP + i * (BAR + GAP);
        let st = view.stats.get(&v.version);
        match st.and_then(|s| s.failure_rate()) {
            Some(rate) => {
                let h = ((rate * H as f64).round() as usize).max(1);
                let colour = if rate >= 0.5 {
                    "#d55"
                } else if rate > 0.0 {
                    "#e9a23b"
                } else {
                    "#5a5"
                };
                let _ = write!(
                    svg,
                    "<rect x=\"{x}\" y=\"{}\" width=\"{BAR}\" height=\"{h}\" fill=\"{colour}\">\
                     <title>v{} {}</title></rect>\
                     <text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{:.0}%</text>",
                    H - h,
                    v.version,
                    esc(&rate_text(st)),
                    x + BAR / 2,
                    (H - h).saturating_sub(2).max(8),
                    rate * 100.0
                );
            }
            None => {
                let _ = write!(
                    svg,
                    "<line x1=\"{x}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#bbb\" \
                     stroke-dasharray=\"2 2\"><title>v{} no judged uses</title></line>",
                    H - 1,
                    x + BAR,
                    H - 1,
                    v.version
                );
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">v{}</text>",
            x + BAR / 2,
            H + 14,
            v.version
        );
    }
    svg.push_str("</svg>");
    svg
}

fn skill_section(view: &SkillView) -> String {
    let id = format!("{}--{}", view.name, view.author);
    let f = &view.flags;
    let frozen = if f.frozen {
        let why = if f.frozen_reason.is_empty() {
            String::new()
        } else {
            format!(": {}", esc(&f.frozen_reason))
        };
        format!("<span class=\"chip frozen\">frozen{why}</span>")
    } else {
        String::new()
    };
    let pick = |s: VersionStatus| {
        let v: Vec<String> = view
            .versions
            .iter()
            .filter(|v| v.status == s)
            .map(|v| format!("v{}", v.version))
            .collect();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut out = format!(
        "<section class=\"skill\" id=\"skill-{}\"><h3>{} <span class=\"muted\">by {}</span>\
         <span class=\"chip\">policy {}</span>{frozen}</h3>\
         <p>active <b class=\"active-versions\">{}</b> · candidate <b>{}</b> · \
         canary {}% · promote after {} judged uses · revert at {} skill-at-fault failures</p>",
        esc(&id),
        esc(&view.name),
        esc(&view.author),
        f.policy.as_str(),
        pick(VersionStatus::Active),
        pick(VersionStatus::Candidate),
        f.canary_percent,
        f.promote_min_uses,
        f.revert_min_failures,
    );
    for v in view
        .versions
        .iter()
        .filter(|v| v.status == VersionStatus::Candidate)
    {
        let st = view.stats.get(&v.version);
        let _ = write!(
            out,
            "<p class=\"progress\">candidate v{}: {} of {} judged uses to be promoted, {} of {} \
             skill-at-fault failures to be reverted</p>",
            v.version,
            st.map_or(0, |s| s.judged),
            f.promote_min_uses,
            st.map_or(0, |s| s.skill_failures),
            f.revert_min_failures,
        );
    }
    out.push_str(
        "<div class=\"row\"><table><thead><tr><th>version</th><th>status</th><th>source</th>\
         <th>by</th><th>created</th><th>sessions</th><th>judged uses</th>\
         <th>skill-at-fault failure rate</th></tr></thead><tbody>",
    );
    for v in &view.versions {
        let st = view.stats.get(&v.version);
        let _ = write!(
            out,
            "<tr class=\"version\"><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n judged\">{}</td><td class=\"n rate\">{}</td></tr>",
            v.version,
            status_chip(v.status),
            v.source.as_str(),
            esc(&v.created_by),
            esc(&v.created_at),
            st.map_or(0, |s| s.sessions),
            st.map_or(0, |s| s.judged),
            rate_text(st),
        );
    }
    let _ = write!(out, "</tbody></table>{}</div>", rate_chart(view));
    if !view.events.is_empty() {
        out.push_str("<p class=\"events muted\">latest events: ");
        let shown: Vec<String> = view
            .events
            .iter()
            .map(|e| {
                let what = if e.version > 0 {
                    format!("v{} {}", e.version, e.kind.as_str())
                } else {
                    e.kind.as_str().to_string()
                };
                format!(
                    "{what} by {} <span title=\"{}\">({})</span>",
                    esc(&e.actor),
                    esc(&e.figures.to_string()),
                    esc(&e.created_at)
                )
            })
            .collect();
        out.push_str(&shown.join(" · "));
        out.push_str("</p>");
    }
    out.push_str("</section>");
    out
}

fn review_section(o: &Overview) -> String {
    if o.review.is_empty() {
        return "<p class=\"muted\" id=\"review-empty\">Nothing waits for review.</p>".into();
    }
    let mut out = String::from(
        "<table id=\"review\"><thead><tr><th>skill</th><th>version</th><th>by</th>\
         <th>proposed</th><th>reason</th></tr></thead><tbody>",
    );
    for (v, reason) in &o.review {
        let _ = write!(
            out,
            "<tr><td>{} <span class=\"muted\">by {}</span></td><td>v{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            esc(&v.name),
            esc(&v.author),
            v.version,
            esc(&v.created_by),
            esc(&v.created_at),
            esc(reason)
        );
    }
    out.push_str(
        "</tbody></table><p class=\"muted\">Review with <code>skillopt review approve|reject \
         SKILL VERSION</code> (maintainer).</p>",
    );
    out
}

fn changeset_section(o: &Overview) -> String {
    if o.changesets.is_empty() {
        return "<p class=\"muted\">No changesets yet.</p>".into();
    }
    let mut out = String::new();
    for ChangesetView {
        changeset: c,
        status,
    } in &o.changesets
    {
        let _ = write!(
            out,
            "<details class=\"changeset\"><summary><b>{}</b> <span class=\"muted\">by {}</span> \
             v{} ← v{} {} — {} <span class=\"muted\">({}, {})</span></summary>\
             <p>{}</p><pre>{}</pre></details>",
            esc(&c.name),
            esc(&c.author),
            c.version,
            c.parent_version,
            status.map(status_chip).unwrap_or_default(),
            esc(&c.reason),
            esc(&c.contributor),
            esc(&c.created_at),
            if c.evidence.is_empty() {
                String::new()
            } else {
                format!("evidence: {}", esc(&c.evidence))
            },
            esc(&clip(&c.diff, MAX_DIFF_BYTES)),
        );
    }
    out
}

/// The whole dashboard.
pub(crate) fn dashboard(o: &Overview) -> String {
    let skills = if o.skills.is_empty() {
        "<p class=\"muted\">No skills yet: <code>skillopt push DIR</code>.</p>".to_string()
    } else {
        o.skills.iter().map(skill_section).collect()
    };
    let frozen = o.skills.iter().filter(|s| s.flags.frozen).count();
    page(
        "skillopt registry",
        &format!(
            "<header><h1>skillopt registry</h1><span>signed in as <b>{}</b> ({}) · \
             <a href=\"/logout\">sign out</a></span></header>\
             <p>{} skills · {} waiting for review · {} frozen</p>\
             <h2 id=\"review-queue\">Review queue</h2>{}\
             <h2 id=\"skills\">Skills</h2>{skills}\
             <h2 id=\"changesets\">Latest changesets</h2>{}",
            esc(&o.user),
            esc(&o.role),
            o.skills.len(),
            o.review.len(),
            frozen,
            review_section(o),
            changeset_section(o),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{SkillFlags, VersionSource};

    #[test]
    fn escapes_markup_quotes_and_ampersands() {
        assert_eq!(
            esc("<script>alert(\"x\")</script>"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(esc("a & b's"), "a &amp; b&#39;s");
        assert_eq!(esc("&amp;"), "&amp;amp;");
        assert_eq!(esc("plain ü"), "plain ü");
    }

    #[test]
    fn registry_strings_never_become_markup() {
        let bad = "<script>alert(1)</script>\"'&";
        let v = SkillVersion {
            name: bad.into(),
            author: bad.into(),
            version: 1,
            body: bad.into(),
            sha256: String::new(),
            status: VersionStatus::Proposed,
            parent_version: None,
            source: VersionSource::Push,
            created_by: bad.into(),
            created_at: bad.into(),
        };
        let o = Overview {
            user: bad.into(),
            role: "reader".into(),
            skills: vec![SkillView {
                name: bad.into(),
                author: bad.into(),
                flags: SkillFlags {
                    frozen: true,
                    frozen_reason: bad.into(),
                    ..SkillFlags::default()
                },
                versions: vec![v.clone()],
                stats: Default::default(),
                events: vec![crate::registry::Event {
                    id: bad.into(),
                    name: bad.into(),
                    author: bad.into(),
                    version: 0,
                    kind: crate::registry::EventKind::Frozen,
                    actor: bad.into(),
                    figures: serde_json::json!({ "why": bad }),
                    created_at: bad.into(),
                }],
            }],
            changesets: vec![],
            review: vec![(v, bad.into())],
        };
        let html = dashboard(&o);
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_rate_reads_as_a_share_of_judged_uses() {
        let st = VersionStats {
            name: "a".into(),
            author: "b".into(),
            version: 1,
            sessions: 4,
            judged: 3,
            failures: 2,
            skill_failures: 1,
        };
        assert_eq!(rate_text(Some(&st)), "33% (1/3)");
        assert_eq!(rate_text(None), "—");
    }

    #[test]
    fn long_diffs_are_clipped_on_a_char_boundary() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("aüb", 2), "a\n… (3 more bytes: skillopt diff)");
    }
}
