import Foundation

extension DRPlan.Drill {
    /// The environment variables a drill of this plan reads database URLs from, in plan order:
    /// `drills.validation.url_env`, `drills.primary_url_env`, and every `*url_env` argument of a
    /// check (`compare_url_env`, `standby_url_env` …). Scheduled jobs must provide each of them
    /// (from a secret: the values hold passwords); one list, so a new check argument cannot be
    /// forgotten by a deploy artifact.
    public var urlEnvironmentVariables: [String] {
        var names = [validationURLEnv, primaryURLEnv].compactMap { $0 }
        for check in checks {
            for (key, value) in check.with.sorted(by: { $0.key < $1.key }) where key.hasSuffix("url_env") {
                if case .string(let name) = value { names.append(name) }
            }
        }
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    /// What a scheduled drill job is given from its secret: the URL variables, and PGPASSWORD when
    /// the copy's URL comes from `validation.url_template` (which holds no password).
    public var secretEnvironmentVariables: [String] {
        urlEnvironmentVariables + (validationURLTemplate != nil && !urlEnvironmentVariables.contains("PGPASSWORD") ? ["PGPASSWORD"] : [])
    }
}
