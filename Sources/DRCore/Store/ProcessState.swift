import Foundation

/// What Linux says about a process in `/proc/PID/stat` (https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html):
/// its state letter and when it started. Nil elsewhere, or when the process is gone.
struct ProcessState: Sendable {
    /// `R`, `S`, `D`, `Z` (zombie: exited, not yet reaped by its parent), `X` (dead) …
    let state: Character
    /// Wall-clock start time: boot time plus the start in clock ticks since boot.
    let startedAt: Date?

    /// Exited: a zombie still has a pid (so `kill(pid, 0)` succeeds) but will never renew a lease.
    var hasExited: Bool { state == "Z" || state == "X" }

    static func read(_ pid: Int32) -> ProcessState? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let commandEnd = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm)" — comm may hold spaces and parentheses, hence the last ")" — come
        // fields 3, 4, …: the state, then starttime as field 22.
        let fields = text[text.index(after: commandEnd)...].split(separator: " ")
        guard let state = fields.first?.first else { return nil }
        var startedAt: Date?
        if fields.count > 19, let ticks = Double(fields[19]), let boot = bootTime {
            startedAt = boot.addingTimeInterval(ticks / Double(sysconf(Int32(_SC_CLK_TCK))))
        }
        return ProcessState(state: state, startedAt: startedAt)
    }

    /// `btime` of /proc/stat: when the system booted, in unix seconds.
    private static var bootTime: Date? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let seconds = Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }
}
