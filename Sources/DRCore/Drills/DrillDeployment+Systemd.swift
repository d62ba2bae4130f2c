import Foundation

extension DrillDeployment {
    /// The environment file a host's drill job reads itself (cron reads no such file): the state
    /// store's URL and the drill's URL variables, `NAME=value` lines, readable by the job's user only.
    public static let hostEnvironmentFile = "/etc/drctl/drill.env"

    /// A systemd service + timer pair: the timer's calendar names its zone (UTC), so the host's
    /// own zone does not matter, and `Persistent=true` runs a drill the host was down for at boot.
    public func systemd() -> String {
        let calendars = schedule.systemdCalendars().map { "OnCalendar=\($0)" }.joined(separator: "\n")
        return """
        # drctl drill for plan '\(planName)': \(schedule.expression) in UTC (the plan's drills.schedule).
        # Two units: save the first part as /etc/systemd/system/drctl-drill-\(planName).service, the second as
        # /etc/systemd/system/drctl-drill-\(planName).timer, then `systemctl daemon-reload && systemctl enable --now drctl-drill-\(planName).timer`.
        # \(Self.hostEnvironmentFile) (mode 600, owner drctl) holds DRCTL_STATE_URL\(urlEnvironmentVariables.isEmpty ? "" : " and " + urlEnvironmentVariables.joined(separator: ", ")) as NAME=value lines.

        [Unit]
        Description=drctl drill of plan \(planName)
        Wants=network-online.target
        After=network-online.target

        [Service]
        Type=oneshot
        User=drctl
        EnvironmentFile=\(Self.hostEnvironmentFile)
        ExecStart=/usr/local/bin/drctl drill run --plan \(shellQuoted(planPath)) --yes --output json
        # drills.max_runtime plus the margin a late failure needs to tear down.
        TimeoutStartSec=\(deadlineSeconds)

        # --- drctl-drill-\(planName).timer ---
        [Unit]
        Description=drctl drill of plan \(planName) on its schedule

        [Timer]
        \(calendars)
        Persistent=true

        [Install]
        WantedBy=timers.target

        """
    }
}

extension CronSchedule {
    /// The schedule as systemd.time(7) calendar events in UTC. Vixie cron runs when *either* day
    /// field matches when both are restricted: two events, which a timer's OnCalendar= lines join.
    public func systemdCalendars() -> [String] {
        let allDays = Set(1...31), allWeekdays = Set(0...6)
        let time = "\(Self.compact(hours, full: Set(0...23), range: "..")):\(Self.compact(minutes, full: Set(0...59), range: "..")):00 UTC"
        let month = Self.compact(months, full: Set(1...12), range: "..")
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let byDay = "*-\(month)-\(Self.compact(daysOfMonth, full: allDays, range: "..")) \(time)"
        let byWeekday = "\(Self.compact(daysOfWeek, full: allWeekdays, range: "..") { names[$0] }) *-\(month)-* \(time)"
        switch (dayOfMonthRestricted && daysOfMonth != allDays, dayOfWeekRestricted && daysOfWeek != allWeekdays) {
        case (true, true): return [byDay, byWeekday]
        case (false, true): return [byWeekday]
        default: return [byDay]
        }
    }
}
