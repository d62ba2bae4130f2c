import Foundation

/// Ready-to-use snippets that run `drctl drill run` on the plan's schedule: a crontab entry, a
/// Kubernetes CronJob, and an EventBridge Scheduler schedule that starts an ECS Fargate task.
/// Pure text; placeholders in capitals (ACCOUNT_ID, SUBNET_ID …) are the reader's to fill in.
/// No secret is ever embedded: the state store URL comes from a Secret / Secrets Manager.
public struct DrillDeployment: Sendable {
    public var planName: String
    public var schedule: CronSchedule
    /// `drills.max_runtime`: the drill's step timeouts add up to at most this.
    public var maxRuntimeSeconds: Double
    /// The environment variables holding database URLs the drill reads
    /// (`DRPlan.Drill.urlEnvironmentVariables`), provided from the secret `drillSecretName`.
    public var urlEnvironmentVariables: [String]
    public var drRegion: String
    /// Absolute path of the plan on the cron host.
    public var planPath: String
    /// The plan's text, shipped to Kubernetes in a ConfigMap.
    public var planText: String
    public var image: String
    public var namespace: String
    public var serviceAccount: String

    public init(planName: String, schedule: CronSchedule, maxRuntimeSeconds: Double, urlEnvironmentVariables: [String] = [],
                drRegion: String, planPath: String, planText: String, image: String, namespace: String = "drctl",
                serviceAccount: String = "drctl-drill") {
        self.planName = planName
        self.schedule = schedule
        self.maxRuntimeSeconds = maxRuntimeSeconds
        self.urlEnvironmentVariables = urlEnvironmentVariables
        self.drRegion = drRegion
        self.planPath = planPath
        self.planText = planText
        self.image = image
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    /// When the scheduler stops a drill: `drills.max_runtime` + a margin of half of it, at least
    /// 30 minutes. The steps' timeouts share max_runtime, but a drill that fails late still runs
    /// its compensations (deleting the copy and the snapshot: about a quarter of max_runtime by
    /// the generator's split) and starts up first; a job killed mid-teardown leaves a copy that
    /// costs money until `drctl drill cleanup`. Not the RTO budget: a drill may legitimately take
    /// longer than the plan's RTO (and then its evidence says so).
    public var deadlineSeconds: Int { Int(saturating: maxRuntimeSeconds + Self.deadlineMargin(maxRuntimeSeconds)) }

    public static func deadlineMargin(_ maxRuntime: Double) -> Double { max(30 * 60, maxRuntime / 2) }

    /// The Kubernetes Secret / Secrets Manager secret holding the URLs, one key per variable.
    public var drillSecretName: String { "drctl-drill-\(planName)" }

    // MARK: crontab

    /// A crontab(5) entry. cron reads the schedule in the host's zone, and only cronie honours
    /// `CRON_TZ`: so the job itself refuses (and logs why) on a host whose zone is not UTC, where
    /// it would run at the wrong hour — `--print systemd` gives a timer with an explicit UTC
    /// calendar for such hosts. cron gives jobs no environment file: the job reads
    /// `hostEnvironmentFile` itself. `flock -n` skips a run while the previous one is still going;
    /// drctl's own plan lock guards across hosts. No `%` (cron would cut the line there).
    public func crontab() -> String {
        let lock = "/var/lock/drctl-drill-\(planName).lock"
        let log = "/var/log/drctl/drill-\(planName).log"
        let command = "date -R | grep -q '+0000$' || { echo \"drctl drill: this host's time zone is not UTC; the schedule \(schedule.expression) is in UTC: "
            + "run cron in UTC or use drctl drill schedule --print systemd\" >&2; exit 1; }; set -a; . \(Self.hostEnvironmentFile); set +a; "
            + "exec drctl drill run --plan \(shellQuoted(planPath)) --yes --output json"
        return """
        # drctl drill for plan '\(planName)': \(schedule.expression) in UTC (the plan's drills.schedule).
        # Install with `crontab -e` as the drill's user (or as /etc/cron.d/drctl-drill-\(planName) with that user after the schedule).
        # cron reads the schedule in the host's time zone: the job refuses on a host not in UTC (see the log);
        # there, use `drctl drill schedule --print systemd` instead.
        # \(Self.hostEnvironmentFile) (mode 600, owned by that user) holds DRCTL_STATE_URL\(urlEnvironmentVariables.isEmpty ? "" : " and " + urlEnvironmentVariables.joined(separator: ", ")) as NAME=value lines;
        # the job reads it itself. Create /var/log/drctl, writable by that user.
        \(schedule.expression) flock -n \(lock) sh -c \(shellQuoted(command)) >> \(log) 2>&1

        """
    }

    // MARK: Kubernetes

    /// A CronJob (with its ConfigMap and IRSA ServiceAccount). `concurrencyPolicy: Forbid`, no
    /// retries of a failed drill (its teardown already ran; the next schedule tries again), and
    /// the schedule in UTC (`timeZone`, Kubernetes 1.27+).
    public func kubernetes() -> String {
        let planLines = planText.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "    \($0)" }.joined(separator: "\n")
        return """
        # drctl drill for plan '\(planName)' — `kubectl apply -f` after filling in ACCOUNT_ID.
        # The state store URL lives in the Secret 'drctl-state' (key: url), created separately:
        #   kubectl -n \(namespace) create secret generic drctl-state --from-literal=url='postgres://…'
        \(kubernetesDrillSecretComment)apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: \(serviceAccount)
          namespace: \(namespace)
          annotations:
            # IRSA: the IAM role with the drill's least-privilege policy (deploy/terraform/iam.tf).
            eks.amazonaws.com/role-arn: arn:aws:iam::ACCOUNT_ID:role/drctl-drill
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: drctl-plan-\(planName)
          namespace: \(namespace)
        data:
          drplan.yaml: |
        \(planLines)
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: drctl-drill-\(planName)
          namespace: \(namespace)
          labels: { app.kubernetes.io/name: drctl, app.kubernetes.io/component: drill }
        spec:
          schedule: "\(schedule.expression)"
          timeZone: Etc/UTC
          concurrencyPolicy: Forbid
          startingDeadlineSeconds: 3600
          successfulJobsHistoryLimit: 4
          failedJobsHistoryLimit: 4
          jobTemplate:
            spec:
              backoffLimit: 0
              activeDeadlineSeconds: \(deadlineSeconds)
              template:
                metadata:
                  labels: { app.kubernetes.io/name: drctl, app.kubernetes.io/component: drill }
                spec:
                  serviceAccountName: \(serviceAccount)
                  restartPolicy: Never
                  securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 }
                  containers:
                    - name: drctl
                      image: \(image)
                      args: [drill, run, --plan, /etc/drctl/drplan.yaml, --yes, --output, json]
                      env:
                        - name: DRCTL_STATE_URL
                          valueFrom: { secretKeyRef: { name: drctl-state, key: url } }
        \(kubernetesDrillSecretEnv)                - name: AWS_REGION
                          value: \(drRegion)
                        - name: HOME
                          value: /tmp
                      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
                      resources:
                        requests: { cpu: 100m, memory: 128Mi }
                        limits: { memory: 512Mi }
                      volumeMounts:
                        - { name: plan, mountPath: /etc/drctl, readOnly: true }
                        - { name: tmp, mountPath: /tmp }
                  volumes:
                    - name: plan
                      configMap: { name: drctl-plan-\(planName) }
                    - name: tmp
                      emptyDir: {}

        """
    }

    /// The header lines that tell how to create the drill's URL secret; empty when the drill reads none.
    var kubernetesDrillSecretComment: String {
        guard !urlEnvironmentVariables.isEmpty else { return "" }
        let literals = urlEnvironmentVariables.map { "--from-literal=\($0)='\($0 == "PGPASSWORD" ? "…" : "postgres://…")'" }.joined(separator: " ")
        return "# The drill's database URLs (the plan's drills section) live in the Secret '\(drillSecretName)', one key per variable:\n"
            + "#   kubectl -n \(namespace) create secret generic \(drillSecretName) \(literals)\n"
    }

    /// One `env` entry per URL variable, read from the drill's Secret (indented for the container).
    var kubernetesDrillSecretEnv: String {
        urlEnvironmentVariables.map {
            "                - name: \($0)\n                  valueFrom: { secretKeyRef: { name: \(drillSecretName), key: \($0) } }\n"
        }.joined()
    }

    func shellQuoted(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) } ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Why a cron expression has no EventBridge equivalent.
public struct ScheduleConversionError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension CronSchedule {
    /// The schedule in EventBridge's cron dialect: `cron(min hour dom month dow year)` with `?`
    /// in the unrestricted day field and weekdays by name (EventBridge numbers them 1–7 from SUN).
    /// Vixie's either-day rule has no EventBridge form; such schedules are refused.
    public func eventBridgeExpression() throws -> String {
        let allDays = Set(1...31), allWeekdays = Set(0...6)
        let dayOfMonth: String, dayOfWeek: String
        if dayOfMonthRestricted && dayOfWeekRestricted {
            throw ScheduleConversionError(message: "'\(expression)' runs when either the day of month or the weekday matches; EventBridge cannot express that in one schedule: use two schedules, one per day field")
        } else if daysOfWeek == allWeekdays {
            (dayOfMonth, dayOfWeek) = (Self.compact(daysOfMonth, full: allDays), "?")
        } else if daysOfMonth == allDays {
            let names = CronSchedule.Field.dayOfWeek.names
            (dayOfMonth, dayOfWeek) = ("?", Self.compact(daysOfWeek, full: allWeekdays) { names[$0] })
        } else {
            throw ScheduleConversionError(message: "'\(expression)' restricts both the day of month and the weekday; EventBridge needs '?' in one of them")
        }
        let fields = [Self.compact(minutes, full: Set(0...59)), Self.compact(hours, full: Set(0...23)), dayOfMonth,
                      Self.compact(months, full: Set(1...12)), dayOfWeek, "*"]
        return "cron(\(fields.joined(separator: " ")))"
    }

    /// `*` for the whole field, else a list of values and ranges (`0,15-17,30`).
    static func compact(_ values: Set<Int>, full: Set<Int>, range: String = "-", name: (Int) -> String = { String($0) }) -> String {
        if values == full { return "*" }
        var parts: [String] = []
        var runStart: Int?, previous: Int?
        func close() {
            guard let start = runStart, let end = previous else { return }
            parts.append(start == end ? name(start) : "\(name(start))\(range)\(name(end))")
        }
        for value in values.sorted() {
            if let last = previous, value == last + 1 {
                previous = value
            } else {
                close()
                (runStart, previous) = (value, value)
            }
        }
        close()
        return parts.joined(separator: ",")
    }
}
