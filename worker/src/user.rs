//! Who is running skillopt: the name recorded as `created_by` / `contributor`.

/// `SKILLOPT_USER`, else `USER`, else `LOGNAME`, else `unknown`.
pub(crate) fn current_user() -> String {
    ["SKILLOPT_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
