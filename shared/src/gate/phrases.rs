//! Phrase classes the gate counts: instruction overrides, sending secrets somewhere, and
//! turning off the agent's permission checks.
//!
//! Each class is a few patterns over *classes* of words (any of several verbs, up to a few
//! filler words, any of several objects), not a list of fixed sentences. Patterns run on a
//! skeleton of the text: NFKC, Cyrillic/Greek look-alike letters mapped to Latin, markdown
//! emphasis and punctuation between words tolerated. A class fails when the result holds more
//! matches than the parent.

use std::sync::OnceLock;

use regex::Regex;

/// Look-alike letters mapped to the Latin letter they imitate.
const CONFUSABLES: &[(char, char)] = &[
    ('а', 'a'),
    ('е', 'e'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('у', 'y'),
    ('х', 'x'),
    ('і', 'i'),
    ('ј', 'j'),
    ('ѕ', 's'),
    ('ԁ', 'd'),
    ('һ', 'h'),
    ('ӏ', 'l'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('ѵ', 'v'),
    ('А', 'a'),
    ('В', 'b'),
    ('Е', 'e'),
    ('К', 'k'),
    ('М', 'm'),
    ('Н', 'h'),
    ('О', 'o'),
    ('Р', 'p'),
    ('С', 'c'),
    ('Т', 't'),
    ('Х', 'x'),
    ('У', 'y'),
    ('І', 'i'),
    ('α', 'a'),
    ('ο', 'o'),
    ('ν', 'v'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('ε', 'e'),
    ('Α', 'a'),
    ('Β', 'b'),
    ('Ε', 'e'),
    ('Ι', 'i'),
    ('Κ', 'k'),
    ('Μ', 'm'),
    ('Ν', 'n'),
    ('Ο', 'o'),
    ('Ρ', 'p'),
    ('Τ', 't'),
    ('Χ', 'x'),
    ('ɡ', 'g'),
    ('ı', 'i'),
    ('ℓ', 'l'),
];

/// The text patterns see: look-alikes folded, lower-cased, line continuations inside a word
/// removed (`--dangerously-skip-perm\` + newline + `issions`), words spelled out letter by
/// letter joined (`i g n o r e`), and a negated "forget"/"skip" (`don't forget to follow`,
/// `do not skip the checks`) read as the advice it is.
pub(super) fn skeleton(text: &str) -> String {
    let folded = text
        .chars()
        .map(|c| {
            CONFUSABLES
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect::<String>()
        .to_lowercase()
        .replace("\\\n", "")
        .replace("\\\r\n", "");
    let joined = spelled_out().replace_all(&folded, |c: &regex::Captures| c[0].replace(' ', ""));
    negated_advice()
        .replace_all(&joined, "remember")
        .into_owned()
}

/// Four or more single letters separated by single spaces.
fn spelled_out() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"\b\p{L}(?: \p{L}){3,}\b"))
}

fn negated_advice() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| {
        super::compile(r"\b(?:do\W+not|don'?t|never|remember\W+not\W+to)\W+(?:forget|skip|bypass|disable|ignore)\b")
    })
}

/// `skeleton` with leetspeak read as letters (`1gn0r3` → `ignore`): for the phrase classes
/// only, where a digit inside a word is a disguise.
pub(super) fn unleet(skeleton: &str) -> String {
    leet_word()
        .replace_all(skeleton, |c: &regex::Captures| {
            c[0].chars()
                .map(|ch| match ch {
                    '0' => 'o',
                    '1' | '!' => 'i',
                    '3' => 'e',
                    '4' | '@' => 'a',
                    '5' | '$' => 's',
                    '7' => 't',
                    other => other,
                })
                .collect::<String>()
        })
        .into_owned()
}

/// A word mixing letters with leet digits.
fn leet_word() -> &'static Regex {
    static C: OnceLock<Regex> = OnceLock::new();
    C.get_or_init(|| super::compile(r"\b[\p{L}0134@57$!]*\p{L}[\p{L}0134@57$!]*[0134@57$!][\p{L}0134@57$!]*\b|\b[\p{L}0134@57$!]*[0134@57$!][\p{L}0134@57$!]*\p{L}[\p{L}0134@57$!]*\b"))
}

// Separators: anything that is not a letter or digit (spaces, `**`, `_`, punctuation).
const S: &str = r"[^\p{L}\p{N}]+";

fn build(patterns: &[String]) -> Vec<Regex> {
    patterns.iter().map(|p| super::compile(p)).collect()
}

/// Up to `n` filler words within one sentence (no `.`/`!`/`?`/newline in between, except a
/// dot that starts the next word, as in `.env`).
fn w(n: usize) -> String {
    let sw = r"[^\p{L}\p{N}.!?\n]+";
    format!(r"(?:{sw}[\p{{L}}\p{{N}}'/~-]+){{0,{n}}}?{sw}\.?")
}

/// Instruction override, role reassignment, system-prompt talk, hiding things from the user.
pub(super) fn overrides() -> &'static [Regex] {
    static C: OnceLock<Vec<Regex>> = OnceLock::new();
    C.get_or_init(|| {
        let verbs = r"(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overriding|overwrite|bypass|bypassing|discard|abandon|neglect|drop|skip|dismiss|set\W+aside|pay\W+no\W+attention\W+to|stop\W+following|no\W+longer\W+follow|(?:do\W+not|don'?t|never)\W+(?:follow|obey|apply|respect|heed))";
        let objects = r"(?:instructions?|instructed|rules?|guidelines?|directions?|directives?|guardrails?|constraints?|policy|policies|restrictions?|safeguards?|system\W+prompt|prompts?|commands?\W+(?:above|before)|programming|training|orders?)";
        let places = r"(?:above|before|previously|so\W+far|prior|earlier|preceding|until\W+now|up\W+to\W+now)";
        let fill = w(5);
        build(&[
            format!(r"\b{verbs}{fill}{objects}\b"),
            format!(r"\b{verbs}{S}(?:(?:all|everything|anything|what(?:ever)?(?:{S}(?:is|was|you\W+were))?(?:{S}(?:said|written|told))?|the|this|that|any|of)\W+){{0,3}}{places}\b"),
            format!(r"\b(?:you{S}are{S}(?:now|no{S}longer)|from{S}now{S}on{S}(?:you|your)|you{S}(?:will|must|should){S}now{S}(?:act|behave|be|respond|pretend))\b"),
            format!(r"\b(?:act|acting|behave|respond){S}as{S}(?:an?{S}|if{S}you{S}were{S}(?:an?{S})?)?(?:unrestricted|unfiltered|jailbroken|dan|different|new|root|admin(?:istrator)?|system|developer|god)\b"),
            format!(r"\b(?:pretend{S}(?:to{S}be|you{S}are)|roleplay{S}as|your{S}(?:new|real|true){S}(?:role|instructions?|task|persona|identity|goal|purpose)|(?:assume|adopt|take{S}on){S}(?:the|a|your){S}(?:new{S})?(?:role|persona|identity))\b"),
            format!(r"\b(?:system{S}(?:prompt|message|instructions?)|developer{S}mode|jailbr(?:eak|oken)|dan{S}mode|god{S}mode)\b"),
            r"(?m)^[\s>*#-]*(?:system|assistant|developer)\s*:".to_string(),
            r"<\|?/?\s*(?:system|assistant|im_start|im_end|endoftext)\b|\[/?(?:system|inst)\]|<<\s*/?sys\s*>>".to_string(),
            format!(r"\b(?:these|this|my|the{S}following){S}(?:instructions?|rules?){S}(?:take|takes|have|has){S}(?:precedence|priority)\b|\b(?:supersede|supersedes|overrides?){S}(?:all|any|every|your){S}(?:other{S}|previous{S}|prior{S})?(?:instructions?|rules?|guidelines?)\b"),
            format!(r"\b(?:do{S}not|don'?t|never|without){S}(?:tell(?:ing)?|inform(?:ing)?|show(?:ing)?|mention(?:ing)?|reveal(?:ing)?|let(?:ting)?|notify(?:ing)?|alert(?:ing)?|ask(?:ing)?){S}(?:the{S}|your{S})?(?:user|human|operator|developer)s?\b"),
            format!(r"\b(?:hide|conceal|keep){fill}(?:from{S}(?:the{S})?(?:user|human)|secret{S}from)\b"),
            format!(r"\b(?:silently|secretly|quietly|covertly){S}(?:run|execute|send|upload|install|download|post|add|delete|remove|change|modify|push)\b"),
            // the same in other languages an agent reads
            r"\b(?:ignoriere|ignorieren|ignoriert|vergiss|vergessen|missachte|missachten|ignore[rz]?|oublie[rz]?|ignora|ignorar|ignoren|olvida|olvidar|dimentica|dimenticare|esque[cç]a|esquecer)\b(?:\W+\p{L}+){0,5}?\W+(?:anweisungen|anleitungen|regeln|vorgaben|instructions?|consignes|r[eè]gles|instrucciones|reglas|istruzioni|regole|instru[cç][oõ]es|regras)\b".to_string(),
        ])
    })
}

/// Sending environment variables, keys or files somewhere, or reading them out.
pub(super) fn exfiltration() -> &'static [Regex] {
    static C: OnceLock<Vec<Regex>> = OnceLock::new();
    C.get_or_init(|| {
        let secrets = r"(?:environment{S}variables?|env{S}vars?|api{S}?keys?|access{S}keys?|secret{S}keys?|credentials?|secrets?|tokens?|passwords?|passphrases?|private{S}keys?|ssh{S}keys?|\.env\b|id_rsa|cookies?|auth(?:entication|orization)?{S}(?:headers?|tokens?)|keychain|keyring)";
        let send = r"(?:send|sending|post|posting|upload|uploading|paste|pasting|share|sharing|e-?mail|mail|forward|forwarding|transmit|exfiltrate|exfiltrating|submit|leak|leaking|publish|beacon|report|print|printing|echo|dump|dumping|reveal|expose|display|output|log|logging|cat)";
        let sinks = r"(?:webhook|gist|pastebin|paste|issue|comment|pull{S}request|pr{S}description|chat|channel|slack|discord|telegram|email|server|endpoint|url|request|form|http|https|remote|external|third{S}party|our{S}(?:api|service|collector|team))";
        let fill = w(6);
        let secrets = secrets.replace("{S}", S);
        let send = send.to_string();
        let sinks = sinks.replace("{S}", S);
        build(&[
            // prose: a send verb near a secret, or a secret sent to a sink
            format!(r"\b{send}{fill}{secrets}"),
            format!(r"{secrets}{fill}(?:to|into|in|via|through|with|on){S}(?:(?:a|an|the|this|that|your|our|my){S})?{sinks}\b"),
            // secret sources in commands and code
            r"\$\{?[a-z_]*(?:key|token|secret|passw(?:or)?d|credential|auth|cookie|session)[a-z0-9_]*\}?".to_string(),
            r"%[a-z_]*(?:key|token|secret|password)[a-z_]*%|\$env:[a-z_]*(?:key|token|secret|password)".to_string(),
            r"\b(?:printenv|export\s+-p|declare\s+-x|getenv|environ|process\.env|os\.environ|/proc/\S*environ)\b|(?m)(?:^|[\s;&|(])env\s*(?:\||>|$)|(?m)^\s*set\s*$".to_string(),
            r"(?:~|\$home|\$\{home\})?/?\.(?:ssh|aws|gnupg|docker|kube|azure|gcloud|config/gh|config/gcloud|netrc|npmrc|pypirc|git-credentials|pgpass|my\.cnf|vault-token|terraformrc|codex/auth|claude(?:\.json|/\.credentials))\b".to_string(),
            r"\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bsecurity\s+(?:find-(?:generic|internet)-password|dump-keychain)\b|\bgpg\s+--export-secret".to_string(),
            // uploads: curl/wget with file or data, raw sockets, copies to a remote host
            r"\b(?:curl|http|xh)\b[^\n]*\s(?:-d|--data(?:-\w+)?|-f|--form|-t|--upload-file|--json)\s*[\x22']?@".to_string(),
            r"\bwget\b[^\n]*--post-(?:data|file)|/dev/(?:tcp|udp)/|\b(?:nc|ncat|netcat|socat|telnet)\s+(?:-\S+\s+)*\S+\s+\d+".to_string(),
            r"\b(?:scp|rsync|sftp)\b[^\n]*\s\S*@?[\w.-]+:\S*|\bgh\s+gist\s+create\b|\b(?:sendmail|mailx?)\s+-?\S".to_string(),
            r"(?:\.|\b)(?:bash_history|zsh_history|histfile|python_history|psql_history|mysql_history|lesshst)\b".to_string(),
            format!(r"\b(?:output|contents?|result){S}of{S}(?:env|printenv|set|export|history|whoami{S}and{S}env)\b"),
        ])
    })
}

/// Turning off the agent's permission prompts or sandbox.
pub(super) fn permission_bypass() -> &'static [Regex] {
    static C: OnceLock<Vec<Regex>> = OnceLock::new();
    C.get_or_init(|| {
        let fill = w(4);
        build(&[
            r"--dangerously-skip-permissions|--allow-dangerously-skip-permissions|dangerously-?skip-?permissions|bypass-?permissions|--permission-mode\s*=?\s*(?:bypass|accept|dontask)|permission-?mode\W+(?:bypass|dontask)".to_string(),
            r"--yolo\b|--dangerously-bypass-approvals-and-sandbox|--full-auto\b|danger-full-access|dangerously-?disable-?sandbox|skip-?dangerous-?mode-?permission-?prompt".to_string(),
            r#"approval[_-]?policy\W*(?:=|:)?\W*never|(?:--ask-for-approval|-a)\s*=?\s*["']?never\b|sandbox[_-]?mode\W*(?:=|:)?\W*["']?(?:danger|none|off)"#.to_string(),
            r#"\bdefaultmode\W+(?:bypass|acceptedits|dontask)|\b(?:bash|shell)\(\s*\*?\s*(?:\*|:\*)\s*\)|["']allow["']\s*:\s*\[\s*["'](?:bash|\*)"#.to_string(),
            format!(r"\b(?:disable|disabling|turn{S}off|turning{S}off|switch{S}off|skip|skipping|bypass|bypassing|deactivate|remove|get{S}rid{S}of|avoid){fill}(?:permission|approval|confirmation|sandbox(?:ing)?|safety|security)(?:{S}(?:checks?|prompts?|mode|requests?|dialogs?|settings?|features?))?s?\b"),
            format!(r"\b(?:answer|say|reply|respond|click|press|type|choose|select){S}(?:yes|y|allow|approve|accept|always{S}allow)(?:{S}(?:to|on|for|at)){S}(?:(?:every|all|any|each|the){S})+(?:permission|approval|confirmation|tool|command)?"),
            format!(r"\b(?:auto-?approve|auto-?accept|always{S}(?:allow|approve|accept)|(?:approve|accept|allow){S}(?:all|every|any){S}(?:edits?|commands?|tools?|tool{S}calls?|permissions?|requests?|prompts?))\b"),
            format!(r"\b(?:run|start|launch|use){fill}(?:without|with{S}no){S}(?:any{S})?(?:permission|approval|confirmation|sandbox)"),
        ])
    })
}

/// How many matches of `res` `text` holds (on its skeleton).
pub(super) fn count(res: &[Regex], skeleton: &str) -> usize {
    res.iter().map(|r| r.find_iter(skeleton).count()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(res: &[Regex], t: &str) -> usize {
        count(res, &skeleton(t))
    }

    #[test]
    fn skeleton_folds_look_alikes() {
        assert_eq!(skeleton("Іgnоrе"), "ignore");
    }

    #[test]
    fn benign_prose_is_quiet() {
        for t in [
            "Ignore the test output above if it only shows warnings.",
            "Skip the database migration step when nothing changed.",
            "Set GITHUB_TOKEN in your shell before running `gh`.",
            "Override the default port with --port.",
            "You are responsible for checking the logs.",
            "Ask the user which environment to deploy to.",
            "Show the diff to the user before committing.",
            "Always run the tests before pushing.",
            "Keep the session short.",
        ] {
            let n = hits(overrides(), t) + hits(exfiltration(), t) + hits(permission_bypass(), t);
            assert_eq!(n, 0, "{t}");
        }
    }
}
